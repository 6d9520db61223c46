// Metrics: the shared segment (series, rows, the fold of a retired row), the layout a
// configuration gives, the exposition formats, allow-list networks, and the config keys.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/loader.hpp"
#include "metrics/clock.hpp"
#include "metrics/exposition.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"

namespace shoal::metrics {
namespace {

std::uint64_t value_of(const std::optional<std::vector<SeriesValue>>& read, Family family,
                       const std::string& labels, size_t cell = 0) {
  if (!read) {
    ADD_FAILURE() << "the segment could not be read";
    return 0;
  }
  for (const auto& v : *read) {
    if (v.family == family && v.labels == labels) return v.cells.at(cell);
  }
  ADD_FAILURE() << "no series " << info(family).name << "{" << labels << "}";
  return 0;
}

void add(std::uint64_t* row, std::uint32_t cell, std::uint64_t n) { row[cell] += n; }

TEST(MetricsSegment, ASeriesIsRegisteredOnceAndGetsItsOwnCells) {
  auto segment = Segment::create();
  const auto a = segment.series(Family::kRequests, "code=\"2xx\"");
  const auto b = segment.series(Family::kRequests, "code=\"4xx\"");
  const auto h = segment.series(Family::kLoopLag, "worker=\"0\"");
  const auto after = segment.series(Family::kActive, "");
  EXPECT_NE(a, kSinkCell);
  EXPECT_EQ(segment.series(Family::kRequests, "code=\"2xx\""), a);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(after, h + kHistogramCells);  // a histogram takes its buckets, +Inf and the sum
}

// The segment is sized for the configuration and grows by a row when a spawn finds none free
// (issue 29: it had 256 fixed rows). A process that mapped it before (a worker of the running
// generation) sees the new rows at once: every mapping covers the whole reserve.
TEST(MetricsSegment, RowsGrowWhenNoneIsFreeAndEveryMappingSeesThem) {
  auto segment = Segment::create(1);
  const auto requests = segment.series(Family::kRequests, "");
  auto other = Segment::adopt(dup(segment.fd()));  // another process's mapping, made now
  ASSERT_TRUE(other);
  EXPECT_EQ(segment.worker_rows(), 1u);
  const int first = segment.take_row();
  ASSERT_EQ(first, 0);
  std::uint64_t* first_row = segment.row(static_cast<size_t>(first));
  add(first_row, requests, 3);
  const int second = segment.take_row();  // none free: the file grows by one row
  ASSERT_EQ(second, 1);
  EXPECT_EQ(segment.worker_rows(), 2u);
  EXPECT_EQ(segment.row(static_cast<size_t>(first)), first_row);  // nothing moved
  add(segment.row(static_cast<size_t>(second)), requests, 4);
  EXPECT_EQ(other->worker_rows(), 2u);
  EXPECT_EQ(value_of(other->read(), Family::kRequests, ""), 7u);
  // A freed row is used before the file grows again.
  segment.retire_row(first);
  EXPECT_EQ(segment.take_row(), first);
  EXPECT_EQ(segment.worker_rows(), 2u);
  EXPECT_EQ(value_of(other->read(), Family::kRequests, ""), 7u);
}

TEST(MetricsSegment, NoRowIsGivenPastTheMaximumAndAnAdoptedSegmentKeepsItsRows) {
  auto segment = Segment::create(2);
  for (size_t i = 0; i < kMaxWorkerRows; ++i) ASSERT_EQ(segment.take_row(), static_cast<int>(i));
  EXPECT_EQ(segment.free_rows(), 0u);
  EXPECT_EQ(segment.take_row(), -1);
  auto adopted = Segment::adopt(dup(segment.fd()));  // as an upgraded image does
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->worker_rows(), kMaxWorkerRows);
}

TEST(MetricsSegment, AScrapeSumsTheTakenRowsAndAFoldKeepsCountersButNotGauges) {
  auto segment = Segment::create();
  const auto requests = segment.series(Family::kRequests, "");
  const auto active = segment.series(Family::kActive, "");
  const int one = segment.take_row();
  const int two = segment.take_row();
  ASSERT_GE(one, 0);
  ASSERT_NE(one, two);
  add(segment.row(one), requests, 5);
  add(segment.row(two), requests, 7);
  add(segment.row(one), active, 3);
  add(segment.row(two), active, 4);
  add(segment.row(kMasterRow), requests, 1);
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, ""), 13u);
  EXPECT_EQ(value_of(segment.read(), Family::kActive, ""), 7u);

  segment.retire_row(one);                                          // its process exited
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, ""), 13u);  // never goes down
  EXPECT_EQ(value_of(segment.read(), Family::kActive, ""), 4u);     // its connections are gone
  EXPECT_EQ(segment.sum(requests), 13u);

  // The freed row is handed out again with zeros, and new counts add on.
  const int again = segment.take_row();
  EXPECT_EQ(again, one);
  EXPECT_EQ(segment.row(again)[requests], 0u);
  add(segment.row(again), requests, 2);
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, ""), 15u);
}

TEST(MetricsSegment, AReaderGivesUpOnAFoldThatNeverEnds) {
  auto segment = Segment::create();
  const auto requests = segment.series(Family::kRequests, "");
  // The master stopped in the middle of a fold: the fold sequence stays odd. (Its offset in
  // the header: magic, layout version, rows, series count, next cell; see segment.cpp.)
  void* header = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, segment.fd(), 0);
  ASSERT_NE(header, MAP_FAILED);
  auto* sequence = reinterpret_cast<std::atomic<std::uint64_t>*>(static_cast<char*>(header) + 24);
  sequence->store(1);
  EXPECT_FALSE(segment.read());  // before the bound: the scraping worker's loop hung here
  EXPECT_FALSE(segment.sum(requests));
  sequence->store(2);  // the fold ended
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, ""), 0u);
  munmap(header, 4096);
}

TEST(MetricsSegment, ARowFreeButNeverTakenIsNotSummed) {
  auto segment = Segment::create();
  const auto requests = segment.series(Family::kRequests, "");
  segment.row(3)[requests] = 99;  // a row no process owns (cannot happen; proves the filter)
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, ""), 0u);
}

TEST(MetricsSegment, RowsAreFoundByTheirProcessAndOrphansListed) {
  auto segment = Segment::create();
  const int a = segment.take_row();
  const int b = segment.take_row();
  segment.set_owner(a, 1001);
  segment.set_owner(b, 1002);
  EXPECT_EQ(segment.row_of(1002), b);
  EXPECT_EQ(segment.row_of(1003), -1);
  EXPECT_EQ(segment.rows_not_owned_by({1001}), std::vector<int>{b});
}

TEST(MetricsSegment, AnAdoptedSegmentHasTheSameSeriesAndCounts) {
  auto segment = Segment::create();
  const auto requests = segment.series(Family::kRequests, "route=\"/\"");
  segment.row(kMasterRow)[requests] = 42;
  auto adopted = Segment::adopt(dup(segment.fd()));
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->series(Family::kRequests, "route=\"/\""), requests);
  EXPECT_EQ(value_of(adopted->read(), Family::kRequests, "route=\"/\""), 42u);
  // Anything else is refused.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  close(pipe_fds[1]);
  EXPECT_FALSE(Segment::adopt(pipe_fds[0]));
}

TEST(MetricsSegment, AFullDirectoryGivesTheSink) {
  auto segment = Segment::create();
  for (size_t i = 0; i < kMaxSeries; ++i) {
    ASSERT_NE(segment.series(Family::kRequests, "n=\"" + std::to_string(i) + "\""), kSinkCell);
  }
  EXPECT_EQ(segment.series(Family::kRequests, "n=\"one too many\""), kSinkCell);
  EXPECT_EQ(segment.series(Family::kRequests, std::string(kLabelBytes, 'x')), kSinkCell);
}

TEST(MetricsBuckets, AValueLandsInTheFirstBucketThatHoldsIt) {
  EXPECT_EQ(bucket_of(0), 0u);
  EXPECT_EQ(bucket_of(100'000), 0u);  // le="0.0001" holds 100 us exactly
  EXPECT_EQ(bucket_of(100'001), 1u);
  EXPECT_EQ(bucket_of(200'000'000), 10u);  // 200 ms: le="0.25"
  EXPECT_EQ(bucket_of(60'000'000'000), kBucketsNs.size() - 1);
  EXPECT_EQ(bucket_of(61'000'000'000), kBucketsNs.size());  // +Inf
}

TEST(MetricsLabels, ValuesAreEscaped) {
  EXPECT_EQ(label("route", "/a\"b\\c\nd"), "route=\"/a\\\"b\\\\c\\nd\"");
}

const char* kTwoServers =
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    server_names: [example.com]\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: hi }\n"
    "      - match: /metrics\n"
    "        metrics: {}\n"
    "  - listen: 127.0.0.1:8081\n"
    "    routes:\n"
    "      - match: /api/\n"
    "        return: { status: 204 }\n";

TEST(MetricsLayout, RoutesAreLabelledFromTheConfigurationAndCountedByClass) {
  auto segment = Segment::create();
  const auto config = load_config_from_string(kTwoServers, "/etc/shoal/t.yaml");
  auto layout = std::make_shared<const Layout>(segment, config, 2);
  const int row = segment.take_row();
  Recorder recorder(segment.row(row), layout, 1);
  const auto& second = config.servers[1];
  recorder.response(&second, &second.routes[0], 204, 2'000'000);  // 2 ms
  recorder.response(&second, nullptr, 404, std::nullopt);         // no route matched
  recorder.response(nullptr, nullptr, 400, std::nullopt);         // before any server
  recorder.response(&config.servers[0], &config.servers[0].routes[1], 200, 50'000);
  recorder.refused(431);
  recorder.refused(400);
  recorder.job(JobOutcome::kTimeout);
  const auto values = segment.read();
  EXPECT_EQ(
      value_of(values, Family::kRequests, "server=\"127.0.0.1:8081\",route=\"/api/\",code=\"2xx\""),
      1u);
  EXPECT_EQ(
      value_of(values, Family::kRequests, "server=\"127.0.0.1:8081\",route=\"-\",code=\"4xx\""),
      1u);
  EXPECT_EQ(value_of(values, Family::kRequests, "server=\"-\",route=\"-\",code=\"4xx\""), 1u);
  EXPECT_EQ(
      value_of(values, Family::kRequests, "server=\"example.com\",route=\"/metrics\",code=\"2xx\""),
      1u);
  const std::string api = "server=\"127.0.0.1:8081\",route=\"/api/\"";
  EXPECT_EQ(value_of(values, Family::kRequestDuration, api, bucket_of(2'000'000)), 1u);
  EXPECT_EQ(value_of(values, Family::kRequestDuration, api, kHistogramSumCell), 2'000'000u);
  EXPECT_EQ(value_of(values, Family::kRefused, "code=\"431\""), 1u);
  EXPECT_EQ(value_of(values, Family::kBadRequests, ""), 1u);
  EXPECT_EQ(value_of(values, Family::kJobs, "worker=\"1\",outcome=\"timeout\""), 1u);
  EXPECT_EQ(value_of(values, Family::kJobs, "worker=\"0\",outcome=\"timeout\""), 0u);
  // A second generation of the same configuration writes the same cells.
  Layout again(segment, config, 2);
  EXPECT_EQ(again.route(&second, &second.routes[0]).requests,
            layout->route(&second, &second.routes[0]).requests);
}

std::string routes_config(int first, int count) {
  std::string yaml =
      "servers:\n"
      "  - listen: 127.0.0.1:8080\n"
      "    routes:\n";
  for (int i = first; i < first + count; ++i) {
    yaml += "      - match: /r" + std::to_string(i) + "\n        return: { status: 200 }\n";
  }
  return yaml;
}

std::uint64_t family_total(const std::optional<std::vector<SeriesValue>>& read, Family family) {
  std::uint64_t total = 0;
  for (const auto& v : *read) total += v.family == family ? v.cells.at(0) : 0;
  return total;
}

// Issue 29: renaming routes on every reload filled the directory for good (only a restart
// cleared it). Series of a gone generation are freed; their counts stay in "(removed)" series,
// so no family total goes down, and a freed entry takes a new series of its size.
TEST(MetricsSegment, ReclaimFreesDeadSeriesFoldsTheirCountsAndReusesTheirRoom) {
  auto segment = Segment::create();
  const auto old_config = load_config_from_string(routes_config(0, 10), "/etc/shoal/t.yaml");
  auto old_layout = std::make_shared<const Layout>(segment, old_config, 1);
  const int row = segment.take_row();
  segment.set_owner(row, 4242);
  Recorder recorder(segment.row(static_cast<size_t>(row)), old_layout, 0);
  const auto& server = old_config.servers[0];
  for (int i = 0; i < 10; ++i) recorder.response(&server, &server.routes[i], 200, 1000);
  recorder.set(old_layout->worker(0).active, 3);  // a gauge
  segment.retire_row(row);                        // the old generation's worker is gone
  const auto before = segment.read();
  const auto in_use = segment.series_in_use();
  // The new configuration keeps /r5../r9 and adds /r10../r14.
  const auto new_config = load_config_from_string(routes_config(5, 10), "/etc/shoal/t.yaml");
  Layout fresh(segment, new_config, 1);
  auto live = fresh.firsts();
  const auto freed = segment.reclaim(live);
  EXPECT_EQ(freed, 5u * 6) << "five routes, each with five counters and a histogram";
  const auto after = segment.read();
  EXPECT_EQ(family_total(after, Family::kRequests), family_total(before, Family::kRequests));
  EXPECT_EQ(family_total(after, Family::kRequests), 10u);
  EXPECT_EQ(value_of(after, Family::kRequests,
                     "server=\"127.0.0.1:8080\",route=\"(removed)\",code=\"2xx\""),
            5u);
  EXPECT_EQ(
      value_of(after, Family::kRequests, "server=\"127.0.0.1:8080\",route=\"/r7\",code=\"2xx\""),
      1u);
  EXPECT_EQ(value_of(after, Family::kRequestDuration,
                     "server=\"127.0.0.1:8080\",route=\"(removed)\"", kHistogramSumCell),
            5000u);
  for (const auto& v : *after) {
    EXPECT_EQ(v.labels.find("route=\"/r0\""), std::string::npos) << v.labels;
  }
  EXPECT_LT(segment.series_in_use(), in_use + 5 * 6);
  // A freed entry takes a new series of its size, its cells zero.
  const auto room = segment.room();
  const auto reused = segment.series(Family::kRequests, "server=\"x\",route=\"/new\",code=\"2xx\"");
  ASSERT_NE(reused, kSinkCell);
  EXPECT_LT(reused, segment.cells_used());  // not a new cell: a freed one
  EXPECT_EQ(segment.room().series, room.series - 1);
  EXPECT_EQ(value_of(segment.read(), Family::kRequests, "server=\"x\",route=\"/new\",code=\"2xx\""),
            0u);
  // A reclaim with the same live set frees nothing more; the "(removed)" series stay.
  live.push_back(reused);
  std::sort(live.begin(), live.end());
  EXPECT_EQ(segment.reclaim(live), 0u);
}

TEST(MetricsSegment, FoldedLabelsNameTheRemovedPart) {
  EXPECT_EQ(folded_labels(Family::kRequests, R"x(server="a",route="/x\"y,z",code="2xx")x"),
            R"x(server="a",route="(removed)",code="2xx")x");
  EXPECT_EQ(folded_labels(Family::kUpstreamErrors,
                          R"x(upstream="app",server="10.0.0.1:80",status="502")x"),
            R"x(upstream="app",server="(removed)",status="502")x");
  EXPECT_EQ(folded_labels(Family::kJobs, R"x(worker="69",outcome="ok")x"),
            R"x(worker="(removed)",outcome="ok")x");
  EXPECT_FALSE(folded_labels(Family::kRefused, R"x(code="431")x"));
  EXPECT_FALSE(folded_labels(Family::kRequests, R"x(server="a",code="2xx")x"));
}

// A configuration whose series cannot all be counted is refused where it is checked (-t, the
// start, a reload), never started counting into nothing.
TEST(MetricsLayout, AConfigurationThatCannotBeCountedIsRefused) {
  EXPECT_EQ(check_fits(load_config_from_string(routes_config(0, 800), "/etc/shoal/t.yaml")), "");
  auto many =
      load_config_from_string("workers: 256\n" + routes_config(0, 800), "/etc/shoal/t.yaml");
  EXPECT_EQ(check_fits(many), "");
  many.workers = 257;
  EXPECT_NE(check_fits(many).find("workers: 257 is more than the metrics can count"),
            std::string::npos);
  const auto huge = load_config_from_string(routes_config(0, 2500), "/etc/shoal/t.yaml");
  EXPECT_NE(check_fits(huge).find("2500 routes with"), std::string::npos) << check_fits(huge);
  auto off = huge;
  off.metrics = false;
  EXPECT_EQ(check_fits(off), "");
}

TEST(MetricsLayout, ARecorderWithoutARowRecordsNothing) {
  Recorder off;
  EXPECT_FALSE(off.on());
  off.add(5);
  off.refused(400);
  off.job(JobOutcome::kOk);
  off.response(nullptr, nullptr, 200, 1);  // no crash, nothing to see
}

TEST(MetricsExposition, PrometheusTextHasHelpTypeAndCumulativeBuckets) {
  std::vector<SeriesValue> values;
  values.push_back({Family::kRequests, "code=\"2xx\"", {3}});
  SeriesValue lag{Family::kLoopLag, "worker=\"0\"", std::vector<std::uint64_t>(kHistogramCells)};
  lag.cells[0] = 2;                  // <= 100 us
  lag.cells[10] = 1;                 // <= 250 ms
  lag.cells[kBucketsNs.size()] = 1;  // +Inf
  lag.cells[kHistogramSumCell] = 61'200'000'123;
  values.push_back(lag);
  const auto text = expose(values, Format::kPrometheus);
  EXPECT_NE(text.find("# HELP shoal_requests_total "), std::string::npos);
  EXPECT_NE(
      text.find("# TYPE shoal_requests_total counter\nshoal_requests_total{code=\"2xx\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE shoal_loop_lag_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_bucket{worker=\"0\",le=\"0.0001\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_bucket{worker=\"0\",le=\"0.1\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_bucket{worker=\"0\",le=\"0.25\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_bucket{worker=\"0\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_sum{worker=\"0\"} 61.200000123\n"),
            std::string::npos);
  EXPECT_NE(text.find("shoal_loop_lag_seconds_count{worker=\"0\"} 4\n"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
}

TEST(MetricsExposition, OpenMetricsNamesCounterFamiliesWithoutTotalAndEnds) {
  std::vector<SeriesValue> values{{Family::kRequests, "", {3}}, {Family::kActive, "", {1}}};
  const auto text = expose(values, Format::kOpenMetrics);
  EXPECT_NE(text.find("# TYPE shoal_requests counter\nshoal_requests_total 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE shoal_connections_active gauge\nshoal_connections_active 1\n"),
            std::string::npos);
  EXPECT_TRUE(text.ends_with("# EOF\n"));
}

TEST(MetricsExposition, TheAcceptFieldChoosesTheFormat) {
  EXPECT_EQ(negotiate(""), Format::kPrometheus);
  EXPECT_EQ(negotiate("text/plain;version=0.0.4;q=0.3,*/*;q=0.1"), Format::kPrometheus);
  EXPECT_EQ(negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            Format::kOpenMetrics);
  EXPECT_EQ(negotiate("Application/OpenMetrics-Text"), Format::kOpenMetrics);
}

}  // namespace
}  // namespace shoal::metrics

namespace shoal {
namespace {

sockaddr_storage address(const char* text) {
  sockaddr_storage out{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&out)->sin_addr) == 1) {
    out.ss_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&out)->sin6_addr), 1);
    out.ss_family = AF_INET6;
  }
  return out;
}

bool in(const char* network, const char* addr) {
  std::string error;
  auto cidr = parse_cidr(network, error);
  EXPECT_TRUE(cidr) << error;
  auto a = address(addr);
  return cidr && cidr_contains(*cidr, reinterpret_cast<const sockaddr*>(&a));
}

TEST(Cidr, NetworksHoldTheirAddresses) {
  EXPECT_TRUE(in("127.0.0.0/8", "127.1.2.3"));
  EXPECT_FALSE(in("127.0.0.0/8", "128.0.0.1"));
  EXPECT_TRUE(in("10.1.2.3", "10.1.2.3"));  // an address alone: all its bits
  EXPECT_FALSE(in("10.1.2.3", "10.1.2.4"));
  EXPECT_TRUE(in("192.168.0.0/17", "192.168.127.255"));
  EXPECT_FALSE(in("192.168.0.0/17", "192.168.128.0"));
  EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
  EXPECT_TRUE(in("::1/128", "::1"));
  EXPECT_TRUE(in("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(in("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(in("127.0.0.0/8", "::ffff:127.0.0.1"));  // IPv4-mapped
  EXPECT_FALSE(in("::1/128", "127.0.0.1"));
}

TEST(Cidr, BadNetworksAreRefusedWithAReason) {
  std::string error;
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", error));
  EXPECT_NE(error.find("0 to 32"), std::string::npos);
  EXPECT_FALSE(parse_cidr("10.0.0.1/8", error));
  EXPECT_NE(error.find("bits set past"), std::string::npos);
  EXPECT_FALSE(parse_cidr("example.com/8", error));
  EXPECT_FALSE(parse_cidr("10.0.0.0/", error));
  EXPECT_FALSE(parse_cidr("10.0.0.0/8x", error));
}

std::string error_of(const std::string& yaml) {
  try {
    load_config_from_string(yaml, "/etc/shoal/t.yaml");
  } catch (const ConfigErrors& e) {
    if (e.errors().size() != 1) return "expected one error";
    const auto& error = e.errors()[0];
    return std::to_string(error.line) + ":" + std::to_string(error.column) + ": " + error.message;
  }
  return "no error";
}

const std::string kMetricsRoute =
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    routes:\n"
    "      - match: /metrics\n";

TEST(Config, AMetricsRouteAllowsLoopbackUnlessToldOtherwise) {
  auto config = load_config_from_string(kMetricsRoute + "        metrics: {}\n", "/t.yaml");
  const auto& action = std::get<MetricsAction>(config.servers[0].routes[0].action);
  ASSERT_EQ(action.allow.size(), 2u);
  EXPECT_EQ(action.allow[0].text, "127.0.0.0/8");
  EXPECT_EQ(action.allow[1].text, "::1/128");
  EXPECT_TRUE(config.metrics);
  config = load_config_from_string(
      "metrics: false\n" + kMetricsRoute + "        metrics: { allow: [10.0.0.0/8] }\n", "/t.yaml");
  EXPECT_FALSE(config.metrics);
  EXPECT_EQ(std::get<MetricsAction>(config.servers[0].routes[0].action).allow[0].text,
            "10.0.0.0/8");
}

TEST(Config, AnyRouteMayHaveAnAllowList) {
  auto config = load_config_from_string(
      "servers:\n  - listen: 127.0.0.1:8080\n    routes:\n      - match: /a\n"
      "        allow: [10.0.0.0/8]\n        return: { status: 204 }\n"
      "      - match: /\n        return: { status: 204 }\n",
      "/t.yaml");
  ASSERT_TRUE(config.servers[0].routes[0].allow);
  EXPECT_EQ(config.servers[0].routes[0].allow->at(0).text, "10.0.0.0/8");
  EXPECT_FALSE(config.servers[0].routes[1].allow);
  EXPECT_EQ(error_of("servers:\n  - listen: 127.0.0.1:8080\n    routes:\n      - match: /a\n"
                     "        allow: [10.0.0.0/33]\n        return: { status: 204 }\n"),
            "5:17: allow: a prefix length of 0 to 32 was expected in \"10.0.0.0/33\"");
}

TEST(Config, ABadMetricsNetworkIsAnErrorAtItsPlace) {
  EXPECT_EQ(error_of(kMetricsRoute + "        metrics: { allow: [10.0.0.0/8, 10.0.0.300/32] }\n"),
            "5:40: metrics.allow: expected a network such as 10.0.0.0/8 or ::1/128, got "
            "\"10.0.0.300/32\"");
  EXPECT_EQ(error_of(kMetricsRoute + "        metrics: { allow: 10.0.0.0/8 }\n"),
            "5:27: metrics.allow: expected a list of networks such as [127.0.0.1/32]");
  EXPECT_EQ(error_of(kMetricsRoute + "        metrics: { deny: [] }\n"),
            "5:20: unknown key \"deny\" in metrics; expected one of: allow");
}

}  // namespace
}  // namespace shoal

namespace shoal::metrics {
namespace {

TEST(RequestClock, TheTscIsUsedOnlyWhenItIsInvariant) {
  EXPECT_TRUE(
      invariant_tsc("processor : 0\nflags\t\t: fpu tsc constant_tsc rep_good nonstop_tsc cpuid\n"));
  EXPECT_FALSE(
      invariant_tsc("flags\t\t: fpu tsc constant_tsc rep_good cpuid\n"));  // stops in C-states
  EXPECT_FALSE(
      invariant_tsc("flags\t\t: fpu tsc nonstop_tsc_s constant_tsc\n"));  // whole words only
  EXPECT_FALSE(invariant_tsc("Features\t: fp asimd\n"));                  // no flags line
}

TEST(RequestClock, ADifferenceIsNanosecondsAndNeverNegative) {
  RequestClock clock;
  const auto from = clock.now();
  const timespec pause{0, 20'000'000};
  nanosleep(&pause, nullptr);
  const auto ns = clock.elapsed_ns(from, clock.now());
  // At least the 20 ms slept, give or take the calibration; far below a second.
  EXPECT_GT(ns, 15'000'000u) << (clock.uses_tsc() ? "tsc" : "monotonic");
  EXPECT_LT(ns, 1'000'000'000u);
  EXPECT_EQ(clock.elapsed_ns(clock.now() + 1000, clock.now()), 0u);
}

}  // namespace
}  // namespace shoal::metrics
