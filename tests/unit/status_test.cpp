// The status page's data: the board in the metrics segment (rows' processes, loop-lag samples,
// the master's facts and its ring of request samples), the lag percentiles and rates drawn
// from it, and the JSON document a status route builds from the segment alone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"
#include "status/page.hpp"
#include "status/status_json.hpp"

namespace shoal::metrics {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

TEST(StatusBoard, ARowSaysWhichProcessItIsUntilItIsRetired) {
  auto segment = Segment::create();
  const int row = segment.take_row();
  ASSERT_GE(row, 0);
  segment.set_owner(row, 4242);
  segment.set_row_info(row, {0, 3, 1, RowState::kDraining, true, 5000, 12, 2, 7000});
  auto rows = segment.row_infos();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first, row);
  const auto& info = rows[0].second;
  EXPECT_EQ(info.pid, 4242);  // the owner, whatever the master wrote
  EXPECT_EQ(info.generation, 3u);
  EXPECT_EQ(info.ordinal, 1u);
  EXPECT_EQ(info.state, RowState::kDraining);
  EXPECT_TRUE(info.ready);
  EXPECT_EQ(info.rss, 5000u);
  EXPECT_EQ(info.helpers, 2u);
  segment.note_lag(row, {100, 7});
  segment.set_oldest_job(row, 55);
  segment.retire_row(row);
  EXPECT_TRUE(segment.row_infos().empty());
  const int again = segment.take_row();
  ASSERT_EQ(again, row);  // the same slot, and none of the last process's board
  segment.set_owner(again, 4343);
  EXPECT_EQ(segment.row_infos().at(0).second.generation, 0u);
  EXPECT_TRUE(segment.lag_samples(again).empty());
  EXPECT_EQ(segment.oldest_job(again), 0u);
}

TEST(StatusBoard, TheLagRingKeepsTheLastSamples) {
  auto segment = Segment::create();
  const int row = segment.take_row();
  for (std::uint64_t i = 1; i <= kLagSamples + 5; ++i) segment.note_lag(row, {i * 100 * kMs, i});
  auto samples = segment.lag_samples(row);
  ASSERT_EQ(samples.size(), kLagSamples);
  std::uint64_t smallest = ~0ull;
  for (const auto& s : samples) smallest = std::min(smallest, s.lag_ns);
  EXPECT_EQ(smallest, 6u);  // the first five were written over
}

TEST(StatusBoard, LagPercentilesAreNearestRankWithinTheWindow) {
  std::vector<LagSample> samples;
  for (std::uint64_t i = 1; i <= 10; ++i) samples.push_back({i * 100 * kMs, i * kMs});
  samples.push_back({50 * kMs, 999 * kMs});  // older than the window: left out
  const auto s = summarize_lag(samples, 1000 * kMs, 900 * kMs);
  EXPECT_EQ(s.samples, 10u);
  EXPECT_EQ(s.p50_ns, 5 * kMs);
  EXPECT_EQ(s.p99_ns, 10 * kMs);
  EXPECT_EQ(s.max_ns, 10 * kMs);
  EXPECT_EQ(summarize_lag({}, 1000, 1000).samples, 0u);
}

TEST(StatusBoard, TheMasterFactsAndTheRequestRingReadBack) {
  auto segment = Segment::create();
  EXPECT_EQ(segment.master_board()->info.pid, 0);
  MasterInfo info;
  info.pid = 77;
  info.start_time = 1'700'000'000;
  info.generation = 4;
  info.config_path = std::string(kBoardTextBytes + 20, 'p');  // cut to what the slot holds
  info.config_hash = 0xdeadbeef;
  info.last_reload = Outcome{false, 1'700'000'100, "no such file"};
  segment.publish_master(info);
  for (std::uint64_t i = 0; i < kRequestSamples + 10; ++i) {
    segment.add_request_sample({1000 * i, {0, 10 * i, 0, i, 0}});
  }
  auto board = segment.master_board();
  ASSERT_TRUE(board);
  EXPECT_EQ(board->info.pid, 77);
  EXPECT_EQ(board->info.generation, 4u);
  EXPECT_EQ(board->info.config_path.size(), kBoardTextBytes);
  EXPECT_EQ(board->info.config_hash, 0xdeadbeefu);
  ASSERT_TRUE(board->info.last_reload);
  EXPECT_FALSE(board->info.last_reload->ok);
  EXPECT_EQ(board->info.last_reload->message, "no such file");
  EXPECT_EQ(board->info.last_reload->line(), "failed at 2023-11-14T22:15:00Z: no such file");
  EXPECT_FALSE(board->info.last_upgrade);
  ASSERT_EQ(board->samples.size(), kRequestSamples);
  EXPECT_EQ(board->samples.front().unix_ms, 10'000u);  // oldest first, the first ten gone
  EXPECT_EQ(board->samples.back().unix_ms, 1000u * (kRequestSamples + 9));
  EXPECT_EQ(board->samples.back().total(), 11u * (kRequestSamples + 9));
  // 11 responses a second, over 1 s and over the 60 s before the newest sample.
  EXPECT_DOUBLE_EQ(request_rate(board->samples, 1), 11.0);
  EXPECT_DOUBLE_EQ(request_rate(board->samples, 60), 11.0);
  EXPECT_EQ(request_rate({board->samples.back()}, 10), 0.0);
}

TEST(StatusBoard, ALabelValueIsFoundAndUnescaped) {
  const auto labels = label("server", "a\"b") + "," + label("code", "5xx");
  EXPECT_EQ(label_value(labels, "server"), "a\"b");
  EXPECT_EQ(label_value(labels, "code"), "5xx");
  EXPECT_EQ(label_value(labels, "route"), "");
  EXPECT_EQ(label_value("", "code"), "");
}

const char* kSite =
    "upstreams:\n"
    "  app: { servers: [127.0.0.1:9001] }\n"
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    routes:\n"
    "      - match: /app/\n"
    "        proxy: { upstream: app }\n"
    "      - match: /status\n"
    "        status: {}\n"
    "      - match: /\n"
    "        return: { status: 200, body: hi }\n";

TEST(StatusJson, TheDocumentHoldsWhatTheSegmentSays) {
  auto segment = Segment::create();
  const auto config = load_config_from_string(kSite, "/etc/shoal/t.yaml");
  auto layout = std::make_shared<const Layout>(segment, config, 2);
  const int row = segment.take_row();
  segment.set_owner(row, 1234);
  segment.set_row_info(row, {0, 2, 1, RowState::kServing, true, 4096, 9, 1, 8192});
  Recorder recorder(segment.row(row), layout, 1);
  const auto& server = config.servers[0];
  for (int i = 0; i < 3; ++i) recorder.response(&server, &server.routes[2], 200, 1000);
  recorder.response(&server, nullptr, 404, std::nullopt);
  recorder.job(JobOutcome::kTimeout);
  recorder.set(layout->worker(1).active, 5);
  recorder.set(layout->worker(1).helpers_busy, 1);
  recorder.add(layout->upstream("app")->servers[0].errors_502);
  const std::uint64_t now = 10'000 * kMs;
  for (std::uint64_t i = 0; i < 20; ++i) segment.note_lag(row, {now - i * 100 * kMs, i * kMs});
  segment.set_oldest_job(row, now - 1500 * kMs);
  MasterInfo info;
  info.pid = 99;
  info.start_time = 1'800'000'000;
  info.generation = 2;
  info.config_path = "/etc/shoal/\"t\".yaml";
  info.config_time = 1'800'000'010;
  info.config_hash = 0xabc;
  info.last_reload = Outcome{true, 1'800'000'010, "generation 2 (2 workers) is serving"};
  segment.publish_master(info);
  segment.add_request_sample({1'800'000'020'000, {0, 1, 0, 0, 0}});
  segment.add_request_sample({1'800'000'021'000, {0, 3, 0, 1, 0}});

  status::Viewer viewer{1234, 2, 1, 1'800'000'030'000, now};
  const auto text = status::status_json(segment, viewer);
  ASSERT_TRUE(text);
  const auto doc = nlohmann::json::parse(*text);  // throws on anything but JSON
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["served_by"]["pid"], 1234);
  EXPECT_EQ(doc["master"]["pid"], 99);
  EXPECT_EQ(doc["master"]["uptime_seconds"], 30);
  EXPECT_EQ(doc["master"]["started"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(doc["master"]["config"]["path"], "/etc/shoal/\"t\".yaml");
  EXPECT_EQ(doc["master"]["config"]["hash"], "00000abc");
  EXPECT_EQ(doc["master"]["last_reload"]["result"], "ok");
  EXPECT_EQ(doc["master"]["last_reload"]["message"], "generation 2 (2 workers) is serving");
  EXPECT_TRUE(doc["master"]["last_upgrade"].is_null());
  const auto& requests = doc["requests"];
  EXPECT_EQ(requests["total"], 4);
  EXPECT_EQ(requests["by_class"]["2xx"], 3);
  EXPECT_EQ(requests["by_class"]["4xx"], 1);
  EXPECT_DOUBLE_EQ(requests["per_second"]["1s"].get<double>(), 3.0);
  ASSERT_EQ(requests["history"]["points"].size(), 1u);  // the change between two samples
  EXPECT_EQ(requests["history"]["points"][0], nlohmann::json::parse("[1800000021000,0,2,0,1,0]"));
  ASSERT_EQ(doc["workers"].size(), 1u);
  const auto& w = doc["workers"][0];
  EXPECT_EQ(w["pid"], 1234);
  EXPECT_EQ(w["generation"], 2);
  EXPECT_EQ(w["worker"], 1);
  EXPECT_EQ(w["state"], "serving");
  EXPECT_EQ(w["ready"], true);
  EXPECT_EQ(w["connections"]["active"], 5);
  EXPECT_EQ(w["rss_bytes"], 4096);
  EXPECT_EQ(w["helpers"]["busy"], 1);
  EXPECT_EQ(w["helpers"]["processes"], 1);
  EXPECT_EQ(w["helpers"]["jobs"]["timeout"], 1);
  EXPECT_EQ(w["helpers"]["jobs"]["ok"], 0);
  EXPECT_DOUBLE_EQ(w["helpers"]["oldest_job_ms"].get<double>(), 1500.0);
  // The last 2 s: twenty samples of 0..19 ms.
  EXPECT_EQ(w["loop_lag_ms"]["samples"], 20);
  EXPECT_DOUBLE_EQ(w["loop_lag_ms"]["p50"].get<double>(), 9.0);
  EXPECT_DOUBLE_EQ(w["loop_lag_ms"]["max"].get<double>(), 19.0);
  ASSERT_EQ(doc["upstreams"].size(), 1u);
  EXPECT_EQ(doc["upstreams"][0]["upstream"], "app");
  EXPECT_EQ(doc["upstreams"][0]["server"], "127.0.0.1:9001");
  EXPECT_EQ(doc["upstreams"][0]["errors"]["502"], 1);
  EXPECT_EQ(doc["tls"]["full"], 0);
}

TEST(StatusJson, ARowTheMasterHasNotDescribedIsLeftOut) {
  auto segment = Segment::create();
  const int row = segment.take_row();
  segment.set_owner(row, 1);
  const auto doc = nlohmann::json::parse(*status::status_json(segment, {1, 1, 0, 0, 0}));
  EXPECT_TRUE(doc["workers"].empty());
  EXPECT_TRUE(doc["master"]["started"].is_null());
}

TEST(StatusPage, ThePageIsOneSelfContainedDocument) {
  std::string page(status::page());
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));
  // The one address in it names SVG's namespace; it is never fetched.
  const std::string svg = "http://www.w3.org/2000/svg";
  for (auto at = page.find(svg); at != std::string::npos; at = page.find(svg)) {
    page.erase(at, svg.size());
  }
  EXPECT_TRUE(page.ends_with("</html>\n"));
  // Nothing fetched from elsewhere: no external script, style sheet, image or font.
  for (const char* outside : {"http://", "https://", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(page.find(outside), std::string::npos) << outside;
  }
  EXPECT_NE(page.find("?format=json"), std::string::npos);
}

}  // namespace
}  // namespace shoal::metrics

namespace shoal {
namespace {

const std::string kStatusRoute =
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    routes:\n"
    "      - match: /status\n";

TEST(Config, AStatusRouteAllowsLoopbackUnlessToldOtherwise) {
  auto config = load_config_from_string(kStatusRoute + "        status: {}\n", "/t.yaml");
  const auto& action = std::get<StatusAction>(config.servers[0].routes[0].action);
  ASSERT_EQ(action.allow.size(), 2u);
  EXPECT_EQ(action.allow[0].text, "127.0.0.0/8");
  EXPECT_EQ(action.allow[1].text, "::1/128");
  config = load_config_from_string(kStatusRoute + "        status:\n", "/t.yaml");
  EXPECT_EQ(std::get<StatusAction>(config.servers[0].routes[0].action).allow.size(), 2u);
  config = load_config_from_string(kStatusRoute + "        status: { allow: [10.0.0.0/8] }\n",
                                   "/t.yaml");
  EXPECT_EQ(std::get<StatusAction>(config.servers[0].routes[0].action).allow[0].text, "10.0.0.0/8");
}

TEST(Config, ABadStatusRouteIsAnErrorAtItsPlace) {
  auto error_of = [](const std::string& text) {
    try {
      load_config_from_string(text, "/t.yaml");
    } catch (const ConfigErrors& e) {
      const auto& error = e.errors().at(0);
      return std::to_string(error.line) + ":" + std::to_string(error.column) + ": " + error.message;
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(kStatusRoute + "        status: { allow: [10.0.0.300/32] }\n"),
            "5:27: status.allow: expected a network such as 10.0.0.0/8 or ::1/128, got "
            "\"10.0.0.300/32\"");
  EXPECT_EQ(error_of(kStatusRoute + "        status: { deny: [] }\n"),
            "5:19: unknown key \"deny\" in status; expected one of: allow");
  EXPECT_NE(error_of(kStatusRoute + "        status: {}\n        metrics: {}\n")
                .find("has more than one handler"),
            std::string::npos);
}

}  // namespace
}  // namespace shoal

namespace shoal::status {
namespace {

TEST(StatusQuery, FormatAndSinceAreReadAndABadSinceIsAnError) {
  EXPECT_FALSE(parse_query("").json);
  EXPECT_TRUE(parse_query("format=json").json);
  EXPECT_FALSE(parse_query("format=jsonx").json);
  auto q = parse_query("x=1&format=json&since=1796283000847");
  EXPECT_TRUE(q.json);
  EXPECT_EQ(q.since_ms, 1796283000847u);
  EXPECT_TRUE(q.error.empty());
  EXPECT_FALSE(parse_query("format=json&since=12ab").error.empty());
  EXPECT_FALSE(parse_query("since=").error.empty());
  EXPECT_FALSE(parse_query("since=99999999999999999999999").error.empty());
}

TEST(StatusJson, SinceLeavesOutTheHistoryUpToThatTime) {
  auto segment = metrics::Segment::create();
  for (std::uint64_t i = 1; i <= 5; ++i) segment.add_request_sample({1000 * i, {0, i, 0, 0, 0}});
  Viewer viewer{1, 1, 0, 6000, 0};
  auto all = nlohmann::json::parse(*status_json(segment, viewer));
  EXPECT_EQ(all["requests"]["history"]["points"].size(), 4u);
  viewer.since_ms = 4000;
  auto recent = nlohmann::json::parse(*status_json(segment, viewer));
  ASSERT_EQ(recent["requests"]["history"]["points"].size(), 1u);
  EXPECT_EQ(recent["requests"]["history"]["points"][0][0], 5000);
  // The rates still use every sample.
  EXPECT_DOUBLE_EQ(recent["requests"]["per_second"]["10s"].get<double>(), 1.0);
}

}  // namespace
}  // namespace shoal::status
