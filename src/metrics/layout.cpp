// Layout: the series of one configuration, registered in the segment by the master.
#include "metrics/layout.hpp"

#include <algorithm>
#include <string>

namespace shoal::metrics {

std::string server_label(const ServerConfig& server) {
  if (!server.server_names.empty()) return server.server_names.front();
  if (!server.listen.empty()) return server.listen.front().text;
  return "-";
}

namespace {

std::string join(std::initializer_list<std::string> labels) {
  std::string out;
  for (const auto& l : labels) {
    if (!out.empty()) out += ',';
    out += l;
  }
  return out;
}

// Registers series and remembers each one's first cell: what this layout keeps alive when
// the master reclaims the series no generation uses (Segment::reclaim).
class Registrar {
 public:
  Registrar(Segment& segment, std::vector<std::uint32_t>& firsts, bool& complete)
      : segment_(segment), firsts_(firsts), complete_(complete) {}
  std::uint32_t series(Family family, std::string_view labels) {
    const auto first = segment_.series(family, labels);
    if (first == kSinkCell) {
      complete_ = false;
    } else {
      firsts_.push_back(first);
    }
    return first;
  }

 private:
  Segment& segment_;
  std::vector<std::uint32_t>& firsts_;
  bool& complete_;
};

RouteCells route_cells(Registrar& segment, std::string_view server, std::string_view route) {
  RouteCells cells;
  for (int cls = 1; cls <= 5; ++cls) {
    cells.requests[cls - 1] =
        segment.series(Family::kRequests, join({label("server", server), label("route", route),
                                                label("code", std::to_string(cls) + "xx")}));
  }
  cells.duration = segment.series(Family::kRequestDuration,
                                  join({label("server", server), label("route", route)}));
  return cells;
}

}  // namespace

std::vector<std::uint32_t> master_cells(const MasterCells& m) {
  std::vector<std::uint32_t> cells{
      m.generation,  m.serving,         m.draining,        m.reloads_ok,    m.reloads_failed,
      m.upgrades_ok, m.upgrades_failed, m.restarts_signal, m.restarts_exit, m.restarts_rss,
      m.config_time, m.config_hash,     m.start_time,      m.rss,           m.fds};
  std::erase(cells, kSinkCell);
  return cells;
}

MasterCells register_master(Segment& segment) {
  MasterCells m;
  m.generation = segment.series(Family::kGeneration, "");
  m.serving = segment.series(Family::kWorkers, label("state", "serving"));
  m.draining = segment.series(Family::kWorkers, label("state", "draining"));
  m.reloads_ok = segment.series(Family::kReloads, label("result", "ok"));
  m.reloads_failed = segment.series(Family::kReloads, label("result", "failed"));
  m.upgrades_ok = segment.series(Family::kUpgrades, label("result", "ok"));
  m.upgrades_failed = segment.series(Family::kUpgrades, label("result", "failed"));
  m.restarts_signal = segment.series(Family::kWorkerRestarts, label("cause", "signal"));
  m.restarts_exit = segment.series(Family::kWorkerRestarts, label("cause", "exit"));
  m.restarts_rss = segment.series(Family::kWorkerRestarts, label("cause", "rss"));
  m.config_time = segment.series(Family::kConfigLoadTime, "");
  m.config_hash = segment.series(Family::kConfigHash, "");
  m.start_time = segment.series(Family::kStartTime, "");
  m.rss = segment.series(Family::kResidentMemory, label("process", "master"));
  m.fds = segment.series(Family::kOpenFds, label("process", "master"));
  return m;
}

Layout::Layout(Segment& target, const Config& config, size_t workers)
    : servers_(config.servers.data()) {
  Registrar segment(target, firsts_, complete_);
  for (const auto& server : config.servers) {
    const auto name = server_label(server);
    auto& cells = routes_.emplace_back();
    for (const auto& route : server.routes) {
      cells.push_back(route_cells(segment, name, route.match));
    }
    cells.push_back(route_cells(segment, name, "-"));  // no route matched
  }
  unrouted_ = route_cells(segment, "-", "-");
  received_ = segment.series(Family::kReceivedBytes, "");
  sent_ = segment.series(Family::kSentBytes, "");
  bad_ = segment.series(Family::kBadRequests, "");
  for (size_t i = 0; i < kRefusedStatuses.size(); ++i) {
    refused_[i] =
        segment.series(Family::kRefused, label("code", std::to_string(kRefusedStatuses[i])));
  }
  tls_[0] = segment.series(Family::kTlsHandshakes, label("result", "full"));
  tls_[1] = segment.series(Family::kTlsHandshakes, label("result", "resumed"));
  tls_[2] = segment.series(Family::kTlsHandshakes, label("result", "failed"));
  for (const auto& [name, group] : config.upstreams) {
    auto& cells = upstreams_[name];
    const auto upstream = label("upstream", name);
    for (const auto& server : group.servers) {
      const auto both = join({upstream, label("server", server.text)});
      upstream_servers_.push_back(both);
      auto& s = cells.servers.emplace_back();
      s.requests = segment.series(Family::kUpstreamRequests, both);
      s.errors_502 = segment.series(Family::kUpstreamErrors, join({both, label("status", "502")}));
      s.errors_504 = segment.series(Family::kUpstreamErrors, join({both, label("status", "504")}));
      for (size_t w = 0; w < workers; ++w) {
        s.up.push_back(
            segment.series(Family::kUpstreamUp, join({both, label("worker", std::to_string(w))})));
      }
    }
    for (size_t w = 0; w < workers; ++w) {
      cells.idle.push_back(segment.series(Family::kUpstreamIdle,
                                          join({upstream, label("worker", std::to_string(w))})));
    }
  }
  for (size_t w = 0; w < workers; ++w) {
    const auto worker = label("worker", std::to_string(w));
    WorkerCells c;
    c.accepted = segment.series(Family::kAccepted, worker);
    c.active = segment.series(Family::kActive, worker);
    c.reading = segment.series(Family::kReading, worker);
    c.writing = segment.series(Family::kWriting, worker);
    c.idle = segment.series(Family::kIdle, worker);
    c.helpers_busy = segment.series(Family::kHelpersBusy, worker);
    c.helpers_idle = segment.series(Family::kHelpersIdle, worker);
    c.queue_depth = segment.series(Family::kQueueDepth, worker);
    for (size_t o = 0; o < kJobOutcomes; ++o) {
      c.jobs[o] =
          segment.series(Family::kJobs, join({worker, label("outcome", kJobOutcomeNames[o])}));
    }
    c.queue_wait = segment.series(Family::kQueueWait, worker);
    c.run_time = segment.series(Family::kRunTime, worker);
    c.helper_restarts = segment.series(Family::kHelperRestarts, worker);
    c.loop_lag = segment.series(Family::kLoopLag, worker);
    c.worker_rss =
        segment.series(Family::kResidentMemory, join({label("process", "worker"), worker}));
    c.worker_fds = segment.series(Family::kOpenFds, join({label("process", "worker"), worker}));
    c.helpers_rss =
        segment.series(Family::kResidentMemory, join({label("process", "helpers"), worker}));
    c.helpers_fds = segment.series(Family::kOpenFds, join({label("process", "helpers"), worker}));
    workers_.push_back(c);
  }
  for (const auto& [name, cells] : upstreams_) {
    for (const auto& server : cells.servers) {
      upstream_gauges_.insert(upstream_gauges_.end(), server.up.begin(), server.up.end());
    }
    upstream_gauges_.insert(upstream_gauges_.end(), cells.idle.begin(), cells.idle.end());
  }
  std::sort(upstream_gauges_.begin(), upstream_gauges_.end());
  master_ = register_master(target);
  for (auto cell : master_cells(master_)) firsts_.push_back(cell);
  std::sort(firsts_.begin(), firsts_.end());
  firsts_.erase(std::unique(firsts_.begin(), firsts_.end()), firsts_.end());
}

std::string check_fits(const Config& config) {
  if (!config.metrics) return "";
  const auto workers = static_cast<size_t>(config.workers);
  if (workers > kMaxWorkers) {
    return "workers: " + std::to_string(workers) + " is more than the metrics can count (at most " +
           std::to_string(kMaxWorkers) +
           " per generation, since two generations overlap during a reload); use fewer workers "
           "or set metrics: false";
  }
  // A scratch segment: a sparse memfd, of which only the directory and a row are touched.
  // Where none can be made, the master cannot make its own either and runs with metrics off
  // (start_metrics says so): nothing to check then.
  std::optional<Segment> scratch;
  try {
    scratch.emplace(Segment::create());
  } catch (const std::exception&) {
    return "";
  }
  register_master(*scratch);
  const Layout layout(*scratch, config, workers);
  if (layout.complete()) return "";
  size_t routes = 0;
  for (const auto& server : config.servers) routes += server.routes.size();
  return "metrics: " + std::to_string(routes) + " routes with " + std::to_string(workers) +
         " workers need more series than the shared segment holds (" + std::to_string(kMaxSeries) +
         " series, " + std::to_string(kCellsPerRow) +
         " cells); use fewer routes or workers, or set metrics: false";
}

bool Layout::current(const SeriesValue& series) const {
  if (series.family != Family::kUpstreamUp && series.family != Family::kUpstreamIdle) return true;
  return std::binary_search(upstream_gauges_.begin(), upstream_gauges_.end(), series.first);
}

bool Layout::has_upstream_server(std::string_view labels) const {
  return std::any_of(upstream_servers_.begin(), upstream_servers_.end(), [&](const auto& both) {
    return labels.starts_with(both) && (labels.size() == both.size() || labels[both.size()] == ',');
  });
}

std::uint32_t Layout::refused(int status) const {
  for (size_t i = 0; i < kRefusedStatuses.size(); ++i) {
    if (kRefusedStatuses[i] == status) return refused_[i];
  }
  return kSinkCell;
}

}  // namespace shoal::metrics
