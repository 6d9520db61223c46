// The metric families shoal exports: name, type and help, in the order a scrape prints them.
// Names follow Prometheus conventions (shoal_ prefix, base units, _total on counters); the
// ones ../shared/DESIGN.md fixes are kept. Labels come from the configuration only (server,
// route, worker ordinal, a fixed set of outcomes), never from a request. See src/DESIGN.md,
// Metrics.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace shoal::metrics {

enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };

enum class Family : std::uint16_t {
  kRequests,
  kRequestDuration,
  kReceivedBytes,
  kSentBytes,
  kRefused,
  kBadRequests,
  kAccepted,
  kActive,
  kReading,
  kWriting,
  kIdle,
  kHelpersBusy,
  kHelpersIdle,
  kQueueDepth,
  kJobs,
  kQueueWait,
  kRunTime,
  kHelperRestarts,
  kLoopLag,
  kTlsHandshakes,
  kUpstreamRequests,
  kUpstreamErrors,
  kUpstreamUp,
  kUpstreamIdle,
  kGeneration,
  kWorkers,
  kReloads,
  kUpgrades,
  kWorkerRestarts,
  kConfigLoadTime,
  kConfigHash,
  kStartTime,
  kResidentMemory,
  kOpenFds,
  kCount
};

struct FamilyInfo {
  std::string_view name;
  Type type;
  std::string_view help;
};

inline constexpr std::array<FamilyInfo, static_cast<size_t>(Family::kCount)> kFamilies{{
    {"shoal_requests_total", Type::kCounter, "Responses sent, by server, route and status class."},
    {"shoal_request_duration_seconds", Type::kHistogram,
     "Time from a complete request head to its whole response queued, by server and route."},
    {"shoal_received_bytes_total", Type::kCounter, "Bytes read from client connections."},
    {"shoal_sent_bytes_total", Type::kCounter, "Bytes written to client connections."},
    {"shoal_requests_refused_total", Type::kCounter,
     "Requests refused by a limit (408 header timeout, 413, 414, 431), by status."},
    {"shoal_bad_requests_total", Type::kCounter, "Requests refused as malformed (400)."},
    {"shoal_connections_accepted_total", Type::kCounter, "Client connections accepted."},
    {"shoal_connections_active", Type::kGauge, "Client connections open."},
    {"shoal_connections_reading", Type::kGauge,
     "Open connections whose request head or body is arriving."},
    {"shoal_connections_writing", Type::kGauge,
     "Open connections waiting for the client to take a response."},
    {"shoal_connections_idle", Type::kGauge,
     "Open keep-alive connections with no request in progress."},
    {"shoal_helpers_busy", Type::kGauge, "Helper processes running a job."},
    {"shoal_helpers_idle", Type::kGauge, "Helper processes waiting for a job."},
    {"shoal_helper_queue_depth", Type::kGauge, "Jobs waiting for a helper."},
    {"shoal_helper_jobs_total", Type::kCounter,
     "Helper jobs ended, by outcome: ok, error (the job answered an error), queue_full (503), "
     "timeout (504), crashed (502), cancelled (the client left)."},
    {"shoal_helper_queue_wait_seconds", Type::kHistogram,
     "Time a job waited in the queue before a helper took it."},
    {"shoal_helper_run_seconds", Type::kHistogram, "Time a helper ran a job."},
    {"shoal_helper_restarts_total", Type::kCounter,
     "Helper processes started again after one died."},
    {"shoal_loop_lag_seconds", Type::kHistogram,
     "How late the worker's 100 ms timer fired: time something kept its event loop from running."},
    {"shoal_tls_handshakes_total", Type::kCounter,
     "TLS handshakes on client connections, by result (full, resumed, failed)."},
    {"shoal_upstream_requests_total", Type::kCounter,
     "Proxied requests that ended, by upstream group and server."},
    {"shoal_upstream_errors_total", Type::kCounter,
     "Proxied requests that failed, by upstream group, server and status (502, 504)."},
    {"shoal_upstream_up", Type::kGauge,
     "1 while the server is in the worker's choice (has an address, not out by health)."},
    {"shoal_upstream_idle_connections", Type::kGauge,
     "Idle keep-alive connections in the worker's pool of the upstream group."},
    {"shoal_generation", Type::kGauge, "The number of the active generation of workers."},
    {"shoal_workers", Type::kGauge, "Worker processes running, by state (serving, draining)."},
    {"shoal_reloads_total", Type::kCounter, "Configuration reloads, by result (ok, failed)."},
    {"shoal_upgrades_total", Type::kCounter,
     "Binary upgrades this master saw, by result (ok, failed)."},
    {"shoal_worker_restarts_total", Type::kCounter,
     "Workers started again after an unexpected exit, by cause (signal, exit)."},
    {"shoal_config_load_timestamp_seconds", Type::kGauge,
     "When the active configuration was loaded (Unix time)."},
    {"shoal_config_hash", Type::kGauge,
     "A 32-bit FNV-1a hash of the active configuration file's text."},
    {"shoal_start_time_seconds", Type::kGauge, "When the master started (Unix time)."},
    {"shoal_process_resident_memory_bytes", Type::kGauge,
     "Resident memory of the master, each worker, and each worker's helpers together."},
    {"shoal_process_open_fds", Type::kGauge,
     "Open file descriptors of the master, each worker, and each worker's helpers together."},
}};

inline constexpr const FamilyInfo& info(Family f) { return kFamilies[static_cast<size_t>(f)]; }

// Histogram buckets, log-linear (1, 2.5, 5 per decade) from 100 us to 60 s, in nanoseconds;
// a value above the last lands in +Inf.
inline constexpr std::array<std::uint64_t, 18> kBucketsNs{
    100'000,       250'000,       500'000,       1'000'000,      2'500'000,      5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,    250'000'000,    500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000, 25'000'000'000, 60'000'000'000};

// A histogram's cells: one count per bucket (not cumulative), +Inf's count, then the sum in
// nanoseconds. The total count is the sum of the bucket counts.
inline constexpr std::uint32_t kHistogramCells = kBucketsNs.size() + 2;
inline constexpr std::uint32_t kHistogramSumCell = kBucketsNs.size() + 1;

// The cell of `ns` within a histogram (kBucketsNs.size() for +Inf).
inline std::uint32_t bucket_of(std::uint64_t ns) {
  std::uint32_t i = 0;
  while (i < kBucketsNs.size() && ns > kBucketsNs[i]) ++i;
  return i;
}

inline constexpr std::uint32_t cells_of(Type type) {
  return type == Type::kHistogram ? kHistogramCells : 1;
}

}  // namespace shoal::metrics
