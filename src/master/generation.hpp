// Generation: the workers started from one configuration, and the listen sockets they use.
// The master keeps at most two: the active one and one that is starting (a reload) or
// draining (the one a reload replaced). See src/DESIGN.md, Supervision.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "master/listeners.hpp"
#include "metrics/layout.hpp"
#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"
#include "worker/site.hpp"
#include "worker/worker_start.hpp"

namespace shoal {

class Generation;
class Master;

struct WorkerSlot {
  Generation* generation = nullptr;
  int index = 0;
  pid_t pid = 0;           // 0: not running
  UniqueFd channel;        // the master's end of this worker's channel
  EventPtr channel_event;  // reads "ready" and "reopened"
  EventPtr restart_timer;  // armed while a restart waits out its backoff
  bool ready = false;      // said "ready" since it was started
  int failures = 0;        // consecutive short lives (restart backoff)
  std::string last_error;  // why its last start failed (fork, or the worker's word)
  std::chrono::steady_clock::time_point started;
  int metrics_row = -1;  // the worker's row of the metrics segment; -1: none
  // worker_max_rss: consecutive samples above the limit. A worker recycled for its memory
  // stays in its generation's slots as `retiring` (same index) until it has drained; its
  // successor's slot `replaces` it and drains it once ready.
  int over_rss = 0;
  bool retiring = false;
  WorkerSlot* replaces = nullptr;
  EventPtr drain_deadline;  // a retiring worker: SIGKILL when its drain outlives the timeout
  EventPtr ready_deadline;  // a successor: given up when not ready within kReadyTimeout
};

class Generation {
 public:
  enum class State { kStarting, kActive, kDraining };

  Generation(int number, std::shared_ptr<const Site> site,
             std::vector<std::shared_ptr<Listener>> listeners, size_t workers);
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  int number() const { return number_; }
  // Null when adopted across an upgrade whose config could not be loaded: such workers
  // serve on but are not restarted.
  const std::shared_ptr<const Site>& site() const { return site_; }
  const std::vector<std::shared_ptr<Listener>>& listeners() const { return listeners_; }
  std::vector<std::unique_ptr<WorkerSlot>>& slots() { return slots_; }
  const std::vector<std::unique_ptr<WorkerSlot>>& slots() const { return slots_; }
  State state = State::kStarting;
  Master* master = nullptr;  // for the slots' event callbacks
  EventPtr deadline;         // starting: every worker must be ready by then; draining: SIGKILL then
  // Its series in the metrics segment, registered before its first fork (null: adopted
  // across an upgrade without a configuration).
  std::shared_ptr<const metrics::Layout> layout;

  // For workers adopted across an upgrade, whose slot numbers need not be 0..n-1.
  WorkerSlot& add_slot(int index);
  size_t running() const;
  // The configured workers: slots that are not retiring.
  size_t workers() const;
  size_t ready_count() const;
  bool all_ready() const;
  WorkerSlot* find(pid_t pid);
  // The sockets worker `slot` accepts on: with one socket per address, that one; with
  // SO_REUSEPORT groups, every socket j with j % workers == slot, so none is left unserved.
  std::vector<std::pair<int, std::string>> sockets_for(int slot) const;
  // "generation 3 (2 workers)".
  std::string describe() const;
  // The shared occupancy table and hand-over sockets a worker of `slot` is given (empty for
  // a generation of one worker, or one adopted across an upgrade).
  WorkerPeers peers_for(int slot) const;

 private:
  int number_;
  std::shared_ptr<const Site> site_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<WorkerSlot>> slots_;
  // Issue 15: one occupancy table and one SOCK_SEQPACKET pair per worker, made before any
  // worker is forked, kept here so a respawned worker gets the same ones.
  void make_peers();
  std::shared_ptr<helpers::Occupancy> occupancy_;
  std::vector<UniqueFd> handoff_in_;   // worker i reads hand-overs from [i]
  std::vector<UniqueFd> handoff_out_;  // siblings send to worker i on [i]
};

// What a worker that could not be started (fork or its channel failed) means for its
// generation: a reload's new generation is abandoned at once, the active one keeps serving;
// the very first generation, or an active one, retries with the backoff (the first one
// within the ready deadline).
enum class FailedStart { kRetry, kAbandon };
FailedStart after_failed_start(Generation::State state, bool another_serves);

}  // namespace shoal
