// The status document: the master's board, the requests history, one entry per worker process
// (its row), and the totals of the series. Built with fmt into one string; the numbers are the
// segment's, nothing is estimated here beyond the rates and percentiles named below.
#include "status/status_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

#include "metrics/layout.hpp"
#include "util/text.hpp"

namespace shoal::status {

namespace {

using metrics::Family;

std::string milliseconds(std::uint64_t ns) {
  return fmt::format("{:.3f}", static_cast<double>(ns) / 1e6);
}

// One worker row's value of a series that carries a `worker` label, 0 if it was never
// registered (a row's own gauges and counters are in its row alone).
class RowReader {
 public:
  RowReader(const metrics::Segment& segment, int row, std::uint32_t ordinal)
      : segment_(segment),
        cells_(segment.row(static_cast<size_t>(row))),
        worker_(metrics::label("worker", std::to_string(ordinal))) {}

  // `family{worker="N"}`, or `family{worker="N",more}` (a job outcome's labels).
  std::uint64_t get(Family family, std::string_view more = {}) const {
    const auto cell = more.empty() ? segment_.find(family, worker_)
                                   : segment_.find(family, worker_ + "," + std::string(more));
    return cell == metrics::kSinkCell ? 0 : metrics::load_cell(cells_[cell]);
  }

 private:
  const metrics::Segment& segment_;
  const std::uint64_t* cells_;
  std::string worker_;
};

std::string worker_json(const metrics::Segment& segment, int row, const metrics::RowInfo& info,
                        const Viewer& viewer) {
  const RowReader r(segment, row, info.ordinal);
  const auto lag = metrics::summarize_lag(segment.lag_samples(static_cast<size_t>(row)),
                                          viewer.monotonic_ns, kLagWindowNs);
  const auto oldest = segment.oldest_job(static_cast<size_t>(row));
  const std::string oldest_ms = oldest && oldest <= viewer.monotonic_ns
                                    ? milliseconds(viewer.monotonic_ns - oldest)
                                    : std::string("null");
  std::string jobs;
  for (size_t o = 0; o < metrics::kJobOutcomes; ++o) {
    const auto name = metrics::kJobOutcomeNames[o];
    jobs += fmt::format("{}\"{}\":{}", o ? "," : "", name,
                        r.get(Family::kJobs, metrics::label("outcome", name)));
  }
  return fmt::format(
      R"({{"pid":{},"generation":{},"worker":{},"state":"{}","ready":{},)"
      R"("connections":{{"active":{},"reading":{},"writing":{},"idle":{},"accepted":{}}},)"
      R"("rss_bytes":{},"open_fds":{},)"
      R"("loop_lag_ms":{{"p50":{},"p99":{},"max":{},"samples":{}}},)"
      R"("helpers":{{"processes":{},"busy":{},"idle":{},"queue":{},"rss_bytes":{},"restarts":{},)"
      R"("oldest_job_ms":{},"jobs":{{{}}}}}}})",
      info.pid, info.generation, info.ordinal, metrics::row_state_name(info.state),
      info.ready ? "true" : "false", r.get(Family::kActive), r.get(Family::kReading),
      r.get(Family::kWriting), r.get(Family::kIdle), r.get(Family::kAccepted), info.rss, info.fds,
      milliseconds(lag.p50_ns), milliseconds(lag.p99_ns), milliseconds(lag.max_ns), lag.samples,
      info.helpers, r.get(Family::kHelpersBusy), r.get(Family::kHelpersIdle),
      r.get(Family::kQueueDepth), info.helpers_rss, r.get(Family::kHelperRestarts), oldest_ms,
      jobs);
}

// The totals over every row of the series the page shows.
struct Totals {
  std::array<std::uint64_t, 5> by_class{};
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  std::uint64_t bad = 0;
  std::uint64_t accepted = 0;
  std::map<std::string, std::uint64_t> refused;  // by status
  std::map<std::string, std::uint64_t> tls;      // by result
  struct Upstream {
    std::string group;
    std::string server;
    std::uint64_t requests = 0;
    std::uint64_t errors_502 = 0;
    std::uint64_t errors_504 = 0;
    std::uint64_t up_workers = 0;
  };
  std::vector<Upstream> upstreams;  // in registration order

  Upstream& upstream(const std::string& labels) {
    auto group = metrics::label_value(labels, "upstream");
    auto server = metrics::label_value(labels, "server");
    for (auto& u : upstreams) {
      if (u.group == group && u.server == server) return u;
    }
    return upstreams.emplace_back(Upstream{std::move(group), std::move(server)});
  }
};

Totals total(const std::vector<metrics::SeriesValue>& series) {
  Totals t;
  for (const auto& s : series) {
    const auto value = s.cells.empty() ? 0 : s.cells[0];
    switch (s.family) {
      case Family::kRequests: {
        const auto code = metrics::label_value(s.labels, "code");
        if (!code.empty() && code[0] >= '1' && code[0] <= '5') t.by_class[code[0] - '1'] += value;
        break;
      }
      case Family::kReceivedBytes:
        t.received += value;
        break;
      case Family::kSentBytes:
        t.sent += value;
        break;
      case Family::kBadRequests:
        t.bad += value;
        break;
      case Family::kAccepted:
        t.accepted += value;
        break;
      case Family::kRefused:
        t.refused[metrics::label_value(s.labels, "code")] += value;
        break;
      case Family::kTlsHandshakes:
        t.tls[metrics::label_value(s.labels, "result")] += value;
        break;
      case Family::kUpstreamRequests:
        t.upstream(s.labels).requests += value;
        break;
      case Family::kUpstreamErrors: {
        auto& u = t.upstream(s.labels);
        (metrics::label_value(s.labels, "status") == "504" ? u.errors_504 : u.errors_502) += value;
        break;
      }
      case Family::kUpstreamUp:
        t.upstream(s.labels).up_workers += value;
        break;
      default:
        break;
    }
  }
  return t;
}

std::string number_map(const std::map<std::string, std::uint64_t>& values) {
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1) out += ',';
    out += fmt::format("{}:{}", json_quote(key), value);
  }
  return out + "}";
}

std::string requests_json(const Totals& t, const std::vector<metrics::RequestSample>& samples,
                          std::uint64_t since_ms) {
  std::uint64_t all = 0;
  for (auto n : t.by_class) all += n;
  fmt::memory_buffer history;  // format_to a std::string's back_inserter grows it byte by byte
  auto out = fmt::appender(history);
  for (size_t i = 1; i < samples.size(); ++i) {
    const auto& a = samples[i - 1];
    const auto& b = samples[i];
    if (b.unix_ms <= since_ms) continue;
    std::array<std::uint64_t, 5> d{};
    for (size_t c = 0; c < 5; ++c)
      d[c] = b.by_class[c] >= a.by_class[c] ? b.by_class[c] - a.by_class[c] : 0;
    fmt::format_to(out, "{}[{},{},{},{},{},{}]", history.size() ? "," : "", b.unix_ms, d[0], d[1],
                   d[2], d[3], d[4]);
  }
  return fmt::format(
      R"({{"total":{},"by_class":{{"1xx":{},"2xx":{},"3xx":{},"4xx":{},"5xx":{}}},)"
      R"("per_second":{{"1s":{:.1f},"10s":{:.1f},"60s":{:.1f}}},)"
      R"("history":{{"columns":["unix_ms","1xx","2xx","3xx","4xx","5xx"],"points":[{}]}}}})",
      all, t.by_class[0], t.by_class[1], t.by_class[2], t.by_class[3], t.by_class[4],
      metrics::request_rate(samples, 1), metrics::request_rate(samples, 10),
      metrics::request_rate(samples, 60), fmt::to_string(history));
}

}  // namespace

std::string outcome_json(const std::optional<metrics::Outcome>& outcome) {
  if (!outcome) return "null";
  return fmt::format(R"({{"result":"{}","time":{},"unix_time":{},"message":{}}})",
                     outcome->ok ? "ok" : "failed", json_quote(iso_time(outcome->unix_time)),
                     outcome->unix_time, json_quote(outcome->message));
}

Query parse_query(std::string_view query) {
  Query q;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    if (param == "format=json") {
      q.json = true;
    } else if (param.starts_with("since=")) {
      const auto value = param.substr(6);
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q.since_ms);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        q.error = "since: expected a time in Unix milliseconds, such as since=1796283000847";
      }
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return q;
}

std::optional<std::string> status_json(const metrics::Segment& segment, const Viewer& viewer) {
  auto board = segment.master_board();
  static constexpr Family kTotals[] = {Family::kRequests,       Family::kReceivedBytes,
                                       Family::kSentBytes,      Family::kBadRequests,
                                       Family::kAccepted,       Family::kRefused,
                                       Family::kTlsHandshakes,  Family::kUpstreamRequests,
                                       Family::kUpstreamErrors, Family::kUpstreamUp};
  auto series = segment.read_values(kTotals);
  if (!board || !series) return std::nullopt;
  if (viewer.layout) {
    // Servers a reload removed are not listed: their counters are history, their gauges stale.
    std::erase_if(*series, [&](const auto& s) {
      const bool upstream = s.family == Family::kUpstreamRequests ||
                            s.family == Family::kUpstreamErrors || s.family == Family::kUpstreamUp;
      return !viewer.layout->current(s) ||
             (upstream && !viewer.layout->has_upstream_server(s.labels));
    });
  }
  const auto& m = board->info;
  const auto now_s = viewer.unix_ms / 1000;
  const auto totals = total(*series);

  std::string out = fmt::format(
      R"({{"version":1,"time":{},"unix_ms":{},)"
      R"("served_by":{{"pid":{},"generation":{},"worker":{}}},)"
      R"("master":{{"pid":{},"started":{},"uptime_seconds":{},"generation":{},"degraded":{},)"
      R"("config":{{"path":{},"loaded":{},"hash":"{:08x}"}},"last_reload":{},"last_upgrade":{}}},)"
      R"("requests":{},"workers":[)",
      json_quote(iso_time(now_s)), viewer.unix_ms, viewer.pid, viewer.generation, viewer.worker,
      m.pid, m.start_time ? json_quote(iso_time(m.start_time)) : "null",
      m.start_time && now_s >= m.start_time ? now_s - m.start_time : 0, m.generation,
      m.degraded ? "true" : "false", json_quote(m.config_path),
      m.config_time ? json_quote(iso_time(m.config_time)) : "null", m.config_hash,
      outcome_json(m.last_reload), outcome_json(m.last_upgrade),
      requests_json(totals, board->samples, viewer.since_ms));

  auto rows = segment.row_infos();
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::pair(a.second.generation, a.second.ordinal) <
           std::pair(b.second.generation, b.second.ordinal);
  });
  bool first = true;
  for (const auto& [row, info] : rows) {
    if (info.generation == 0) continue;  // taken, not described by the master yet
    if (!first) out += ',';
    first = false;
    out += worker_json(segment, row, info, viewer);
  }
  out += R"(],"upstreams":[)";
  for (size_t i = 0; i < totals.upstreams.size(); ++i) {
    const auto& u = totals.upstreams[i];
    out +=
        fmt::format(R"({}{{"upstream":{},"server":{},"requests":{},"errors":{{"502":{},"504":{}}},)"
                    R"("up_workers":{}}})",
                    i ? "," : "", json_quote(u.group), json_quote(u.server), u.requests,
                    u.errors_502, u.errors_504, u.up_workers);
  }
  out += fmt::format(
      R"(],"tls":{},"connections":{{"accepted":{}}},"bytes":{{"received":{},"sent":{}}},)"
      R"("bad_requests":{},"refused":{}}})",
      number_map(totals.tls), totals.accepted, totals.received, totals.sent, totals.bad,
      number_map(totals.refused));
  return out;
}

}  // namespace shoal::status
