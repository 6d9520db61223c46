// The status page's data (`?format=json` on a status route): one JSON document built by the
// answering worker from the metrics segment alone (the counters, and the board the master and
// every worker keep there), so it never waits for another process. See src/DESIGN.md, Status
// page, for the fields.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/layout.hpp"
#include "metrics/segment.hpp"

namespace shoal::status {

// Who answers, and when.
struct Viewer {
  pid_t pid = 0;
  int generation = 0;
  int worker = 0;
  std::uint64_t unix_ms = 0;       // the wall clock, for the document's time
  std::uint64_t monotonic_ns = 0;  // metrics::monotonic_ns(), for ages and the lag window
  // `?since=`: the history holds only the points after this time (Unix ms), so a page that
  // polls every second gets one new point rather than five minutes of them.
  std::uint64_t since_ms = 0;
  // The serving worker's layout: gauges of upstream servers it no longer has are left out
  // (Layout::current). Null: everything in the segment.
  const metrics::Layout* layout = nullptr;
};

// What a status route's query asks: `format=json` for the data, `since=MS` for the history
// after a time. `error` is set (a 400's reason) for a `since` that is not a number.
struct Query {
  bool json = false;
  std::uint64_t since_ms = 0;
  std::string error;
};
Query parse_query(std::string_view query);

// How far back the lag percentiles look: 20 of the worker's 100 ms ticks.
inline constexpr std::uint64_t kLagWindowNs = 2'000'000'000;

// The document; nullopt when the master stopped in the middle of a write for longer than
// metrics::kFoldWaitNs (the route answers 503 with Retry-After then, as the metrics do).
std::optional<std::string> status_json(const metrics::Segment& segment, const Viewer& viewer);

// A reload's or an upgrade's outcome as both JSON documents write it (the page's and
// `shoal -s status --json`): {"result":"ok"|"failed","time":ISO,"unix_time":N,"message":S},
// or null when there was none.
std::string outcome_json(const std::optional<metrics::Outcome>& outcome);

}  // namespace shoal::status
