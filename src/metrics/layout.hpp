// Layout: which cells of the metrics segment a generation's workers and the master write,
// registered by the master from the configuration before it forks the generation (the
// worker inherits the result). Recorder: a worker's (or the master's) writer of one row.
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "metrics/segment.hpp"

namespace shoal::metrics {

enum class JobOutcome : std::uint8_t { kOk, kError, kQueueFull, kTimeout, kCrashed, kCancelled };
inline constexpr size_t kJobOutcomes = 6;
inline constexpr std::array<std::string_view, kJobOutcomes> kJobOutcomeNames{
    "ok", "error", "queue_full", "timeout", "crashed", "cancelled"};

// The statuses refused by a limit, in the order of Layout::refused.
inline constexpr std::array<int, 4> kRefusedStatuses{408, 413, 414, 431};

struct RouteCells {
  std::array<std::uint32_t, 5> requests{};  // by status class 1xx..5xx
  std::uint32_t duration = kSinkCell;       // histogram
};

struct WorkerCells {
  std::uint32_t accepted = kSinkCell;
  std::uint32_t active = kSinkCell;
  std::uint32_t reading = kSinkCell;
  std::uint32_t writing = kSinkCell;
  std::uint32_t idle = kSinkCell;
  std::uint32_t helpers_busy = kSinkCell;
  std::uint32_t helpers_idle = kSinkCell;
  std::uint32_t queue_depth = kSinkCell;
  std::array<std::uint32_t, kJobOutcomes> jobs{};
  std::uint32_t queue_wait = kSinkCell;  // histogram
  std::uint32_t run_time = kSinkCell;    // histogram
  std::uint32_t helper_restarts = kSinkCell;
  std::uint32_t loop_lag = kSinkCell;  // histogram
  // Written by the master (its row): the process facts of this ordinal's worker and helpers.
  std::uint32_t worker_rss = kSinkCell;
  std::uint32_t worker_fds = kSinkCell;
  std::uint32_t helpers_rss = kSinkCell;
  std::uint32_t helpers_fds = kSinkCell;
};

// One upstream group's cells: per configured server, and the per-worker gauges.
struct UpstreamCells {
  struct Server {
    std::uint32_t requests = kSinkCell;
    std::uint32_t errors_502 = kSinkCell;
    std::uint32_t errors_504 = kSinkCell;
    std::vector<std::uint32_t> up;  // by worker ordinal
  };
  std::vector<Server> servers;      // as configured
  std::vector<std::uint32_t> idle;  // by worker ordinal
};

struct MasterCells {
  std::uint32_t generation = kSinkCell;
  std::uint32_t serving = kSinkCell;
  std::uint32_t draining = kSinkCell;
  std::uint32_t reloads_ok = kSinkCell;
  std::uint32_t reloads_failed = kSinkCell;
  std::uint32_t upgrades_ok = kSinkCell;
  std::uint32_t upgrades_failed = kSinkCell;
  std::uint32_t restarts_signal = kSinkCell;
  std::uint32_t restarts_exit = kSinkCell;
  std::uint32_t restarts_rss = kSinkCell;  // replaced for worker_max_rss
  std::uint32_t config_time = kSinkCell;
  std::uint32_t config_hash = kSinkCell;
  std::uint32_t start_time = kSinkCell;
  std::uint32_t rss = kSinkCell;
  std::uint32_t fds = kSinkCell;
};

// The master's series: the same whatever the configuration (master only).
MasterCells register_master(Segment& segment);
// Their first cells (kSinkCell left out).
std::vector<std::uint32_t> master_cells(const MasterCells& m);

// Whether `config` with its workers fits an empty segment, on a scratch one: "" when it does,
// else why not (how many series and cells it needs, and the bounds). `shoal -t`, a start and
// a reload check it, so that no series is ever counted nowhere without a word.
std::string check_fits(const Config& config);

// "example.com" (the first server name), else the first listen address.
std::string server_label(const ServerConfig& server);

class Layout {
 public:
  // Registers every series of `config` with `workers` workers in `segment` (master only).
  Layout(Segment& segment, const Config& config, size_t workers);

  // The cells of a response's series: its server and route, or the server's unmatched
  // requests (route null), or requests that never reached a server (both null).
  // Inline: it runs for every response.
  const RouteCells& route(const ServerConfig* server, const Route* route) const {
    if (!server) return unrouted_;
    const auto s = static_cast<size_t>(server - servers_);
    if (s >= routes_.size()) return unrouted_;
    const auto& cells = routes_[s];
    if (!route) return cells.back();
    const auto r = static_cast<size_t>(route - server->routes.data());
    return r + 1 < cells.size() ? cells[r] : cells.back();
  }
  const WorkerCells& worker(size_t ordinal) const { return workers_.at(ordinal); }
  size_t workers() const { return workers_.size(); }
  const MasterCells& master() const { return master_; }
  std::uint32_t received() const { return received_; }
  std::uint32_t sent() const { return sent_; }
  std::uint32_t bad() const { return bad_; }
  // TLS handshakes: full, resumed, failed.
  const std::array<std::uint32_t, 3>& tls() const { return tls_; }
  // The group's cells; null for a name not in the configuration.
  const UpstreamCells* upstream(const std::string& name) const {
    auto it = upstreams_.find(name);
    return it == upstreams_.end() ? nullptr : &it->second;
  }
  // The cell for a refused status, kSinkCell for any other.
  std::uint32_t refused(int status) const;
  // False for a gauge of an upstream server or group this configuration no longer has: the
  // directory keeps every series it ever held, and a server removed by a reload would
  // otherwise stay exported as `shoal_upstream_up 0` (down) for good. Counters stay: their
  // totals are history.
  bool current(const SeriesValue& series) const;
  // Whether `labels` (upstream="..",server="..",...) name a server of this configuration: the
  // status page lists only those, its counters included.
  bool has_upstream_server(std::string_view labels) const;
  // Every series was registered (none got the sink: the segment had room for all).
  bool complete() const { return complete_; }
  // The first cells of every series this layout writes or shows, sorted: what a reclaim
  // must keep while a generation with this layout lives.
  const std::vector<std::uint32_t>& firsts() const { return firsts_; }

 private:
  const ServerConfig* servers_;  // the configuration's, which the requests point into
  std::vector<std::vector<RouteCells>> routes_;  // [server][route], then the unmatched one
  RouteCells unrouted_;
  std::vector<WorkerCells> workers_;
  MasterCells master_;
  std::uint32_t received_ = kSinkCell;
  std::uint32_t sent_ = kSinkCell;
  std::uint32_t bad_ = kSinkCell;
  std::array<std::uint32_t, 3> tls_{};
  std::map<std::string, UpstreamCells> upstreams_;
  std::vector<std::uint32_t> upstream_gauges_;  // sorted: every up and idle cell above
  std::vector<std::string> upstream_servers_;   // 'upstream="a",server="b"' of each server
  std::vector<std::uint32_t> firsts_;
  bool complete_ = true;
  std::array<std::uint32_t, kRefusedStatuses.size()> refused_{};
};

// One row's writer. A default Recorder (metrics off, or no row free) records nothing.
class Recorder {
 public:
  Recorder() = default;
  Recorder(std::uint64_t* row, std::shared_ptr<const Layout> layout, size_t ordinal)
      : row_(row), layout_(std::move(layout)), ordinal_(ordinal) {}

  bool on() const { return row_ != nullptr; }
  const Layout* layout() const { return layout_.get(); }
  const WorkerCells& worker() const { return layout_->worker(ordinal_); }

  void add(std::uint32_t cell, std::uint64_t n = 1) {
    if (row_) store_cell(row_[cell], load_cell(row_[cell]) + n);
  }
  void set(std::uint32_t cell, std::uint64_t value) {
    if (row_) store_cell(row_[cell], value);
  }
  void observe(std::uint32_t histogram, std::uint64_t ns) {
    if (!row_ || histogram == kSinkCell) return;
    add(histogram + bucket_of(ns));
    add(histogram + kHistogramSumCell, ns);
  }
  // A response: counted by class, and timed when `ns` is set (its head was complete).
  void response(const ServerConfig* server, const Route* route, int status,
                std::optional<std::uint64_t> ns) {
    if (!row_) return;
    const auto& cells = layout_->route(server, route);
    const int cls = status / 100;
    if (cls >= 1 && cls <= 5) add(cells.requests[cls - 1]);
    if (ns) observe(cells.duration, *ns);
  }
  enum class Handshake : std::uint8_t { kFull, kResumed, kFailed };
  void handshake(Handshake result) {
    if (row_) add(layout_->tls()[static_cast<size_t>(result)]);
  }
  size_t ordinal() const { return ordinal_; }
  void job(JobOutcome outcome) {
    if (row_) add(worker().jobs[static_cast<size_t>(outcome)]);
  }
  void accepted() {
    if (row_) add(worker().accepted);
  }
  void helper_restarted() {
    if (row_) add(worker().helper_restarts);
  }
  void received(std::uint64_t bytes) {
    if (row_) add(layout_->received(), bytes);
  }
  void sent(std::uint64_t bytes) {
    if (row_) add(layout_->sent(), bytes);
  }
  // A request refused by the parser or a timeout: 400 is a bad request, 408/413/414/431 a limit.
  void refused(int status) {
    if (row_) add(status == 400 ? layout_->bad() : layout_->refused(status));
  }

 private:
  std::uint64_t* row_ = nullptr;
  std::shared_ptr<const Layout> layout_;
  size_t ordinal_ = 0;
};

}  // namespace shoal::metrics
