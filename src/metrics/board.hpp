// The board: what the status page needs beside the counters, kept in the metrics segment
// (see segment.hpp) so that any worker can answer the page without asking the master. Per
// worker row: which process it is (written by the master) and its recent loop lag and oldest
// running job (written by the worker); for the master: its start, configuration, last reload
// and upgrade, and five minutes of requests by status class. Every field has one writer.
// These are the values read and written; the shared layout is in segment.cpp.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shoal::metrics {

// Nanoseconds on the monotonic clock (vDSO: no system call).
inline std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

inline constexpr size_t kLagSamples = 32;       // the last 3.2 s of a worker's 100 ms ticks
inline constexpr size_t kRequestSamples = 300;  // 5 minutes at one sample per second
inline constexpr size_t kBoardTextBytes = 480;  // a reload's message, the config path

enum class RowState : std::uint32_t { kFree = 0, kStarting, kServing, kDraining };
const char* row_state_name(RowState state);

// A worker row's process, as the master knows it.
struct RowInfo {
  pid_t pid = 0;
  std::uint32_t generation = 0;
  std::uint32_t ordinal = 0;
  RowState state = RowState::kFree;
  bool ready = false;
  // The master's last /proc sample (every 5 s); 0 before the first.
  std::uint64_t rss = 0;
  std::uint64_t fds = 0;
  std::uint64_t helpers = 0;  // helper processes
  std::uint64_t helpers_rss = 0;
};

// The end of a reload or an upgrade.
struct Outcome {
  bool ok = false;
  std::uint64_t unix_time = 0;
  std::string message;
  // "ok at 2026-12-02T10:00:00Z: generation 3 (2 workers) is serving"
  std::string line() const;
};

struct MasterInfo {
  pid_t pid = 0;
  std::uint64_t start_time = 0;  // Unix seconds
  std::uint32_t generation = 0;
  bool degraded = false;
  std::string config_path;
  std::uint64_t config_time = 0;  // Unix seconds
  std::uint32_t config_hash = 0;
  std::optional<Outcome> last_reload;
  std::optional<Outcome> last_upgrade;
};

// Responses so far by status class (1xx..5xx), as of one moment.
struct RequestSample {
  std::uint64_t unix_ms = 0;
  std::array<std::uint64_t, 5> by_class{};
  std::uint64_t total() const;
};

// Responses per second over the last `seconds` samples (fewer when there are fewer), by the
// samples' own times; 0 with fewer than two.
double request_rate(const std::vector<RequestSample>& samples, size_t seconds);

struct MasterBoard {
  MasterInfo info;
  std::vector<RequestSample> samples;  // oldest first, at most kRequestSamples
};

// A worker's recent loop lag: nearest-rank percentiles of the samples in a window.
struct LagSummary {
  size_t samples = 0;
  std::uint64_t p50_ns = 0;
  std::uint64_t p99_ns = 0;
  std::uint64_t max_ns = 0;
};

// One loop-lag observation: when the tick fired (CLOCK_MONOTONIC) and how late it was.
struct LagSample {
  std::uint64_t at_ns = 0;
  std::uint64_t lag_ns = 0;
};

// The summary of the samples taken within `window_ns` before `now_ns`.
LagSummary summarize_lag(std::vector<LagSample> samples, std::uint64_t now_ns,
                         std::uint64_t window_ns);

}  // namespace shoal::metrics
