// What the master hands a worker it forked, and the worker's entry point as the master sees
// it (nginx's ngx_spawn_process(cycle, proc, data)): the master knows this much of a worker
// and nothing of its insides, so a new Master member cannot leak into every worker.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "helpers/occupancy.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"
#include "util/unique_fd.hpp"
#include "worker/site.hpp"

namespace shoal {

// A listening socket the master bound, as a worker sees it.
struct ListenSocket {
  int fd = -1;          // owned by the master's Listener; the worker's copy after fork
  std::string address;  // ListenAddress::text, the key into Site::hosts_by_address
};

// The generation's shared helper occupancy and hand-over sockets (issue 15): empty for a
// generation of one worker.
struct WorkerPeers {
  std::shared_ptr<helpers::Occupancy> occupancy;  // mapped before the fork: shared
  int handoff_in = -1;                            // this worker's receiving end
  std::vector<int> handoff_out;                   // by slot: the sending ends (-1 for itself)
};

// The worker's part of the metrics segment: the row it alone writes, the generation's layout,
// and the segment itself, which a scrape reads. No segment: metrics are off.
struct WorkerMetrics {
  std::shared_ptr<metrics::Segment> segment;
  std::shared_ptr<const metrics::Layout> layout;
  int row = -1;  // -1: no row was free; this worker counts nothing
};

struct WorkerStart {
  std::shared_ptr<const Site> site;
  std::vector<ListenSocket> sockets;
  int index = 0;       // the slot within its generation
  int generation = 0;  // the generation's number
  pid_t master = 0;
  UniqueFd channel;  // the worker's end
  WorkerPeers peers;
  WorkerMetrics metrics;
};

// Runs in the forked child, which holds nothing but `start`'s descriptors and stdio; returns
// the process's exit status (2: could not start).
using WorkerEntry = std::function<int(WorkerStart start)>;

}  // namespace shoal
