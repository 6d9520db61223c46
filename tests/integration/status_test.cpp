// The status route against the real binary: its JSON holds what the test did (N requests by
// class, a running job's age, one reload: a new generation serving, the old one draining, the
// reload's outcome); the page's headers, the allow list and methods; metrics off; and the page
// in headless Chromium (tests/browser/status_page.py) through a reload.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "harness.hpp"

namespace shoal::test {
namespace {

using nlohmann::json;

std::string site(const std::string& status = "{}", const std::string& top = "") {
  return top +
         "workers: 2\n"
         "helpers: { count: 1, queue: 4, timeout: 10s }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /fast\n"
         "        return: { status: 200, body: \"fast!\" }\n"
         "      - match: /long\n"
         "        job: { builtin: sleep, ms: 3000 }\n"
         "      - match: /status\n"
         "        status: " +
         status + "\n";
}

// The status document, counting the 200s it cost (each is a 2xx the next one counts).
class StatusReader {
 public:
  explicit StatusReader(int port) : port_(port) {}

  json read() {
    auto r = get(port_, "/status?format=json");
    if (!r) {
      ADD_FAILURE() << "no answer from the status route";
      return json::object();
    }
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->header("Content-Type"), "application/json");
    EXPECT_EQ(r->header("Cache-Control"), "no-store");
    ++answered_;
    return json::parse(r->body);
  }

  // Reads every 100 ms until `condition` holds of a document (10 s at most).
  template <typename F>
  json until(F condition, const char* what) {
    json doc;
    for (int i = 0; i < 100; ++i) {
      doc = read();
      if (condition(doc)) return doc;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the status never showed " << what << ": " << doc.dump(2);
    return doc;
  }

  int answered() const { return answered_; }

 private:
  int port_;
  int answered_ = 0;
};

std::vector<json> of_generation(const json& doc, int generation) {
  std::vector<json> out;
  for (const auto& w : doc["workers"]) {
    if (w["generation"] == generation) out.push_back(w);
  }
  return out;
}

TEST(StatusTest, TheJsonHoldsWhatTheTestDidThroughAReload) {
  ShoalServer server(site());
  StatusReader status(server.port());
  constexpr int kFast = 7;
  constexpr int kMissing = 3;
  for (int i = 0; i < kFast; ++i) ASSERT_EQ(get(server.port(), "/fast")->status, 200);
  for (int i = 0; i < kMissing; ++i) ASSERT_EQ(get(server.port(), "/nothing-here")->status, 404);

  auto doc = status.until(
      [](const json& d) {
        // The master's first tick has described both rows and both have lag samples.
        return d["workers"].size() == 2 && d["workers"][0]["loop_lag_ms"]["samples"] > 0 &&
               d["workers"][1]["loop_lag_ms"]["samples"] > 0;
      },
      "two described workers");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_TRUE(doc["time"].is_string());
  EXPECT_TRUE(doc["unix_ms"].is_number_unsigned());
  const auto& master = doc["master"];
  EXPECT_EQ(master["pid"], server.pid());
  EXPECT_EQ(master["generation"], 1);
  EXPECT_EQ(master["degraded"], false);
  EXPECT_TRUE(master["uptime_seconds"].is_number_unsigned());
  EXPECT_TRUE(master["started"].is_string());
  EXPECT_EQ(master["config"]["path"], server.config_path());
  EXPECT_TRUE(master["config"]["loaded"].is_string());
  EXPECT_EQ(master["config"]["hash"].get<std::string>().size(), 8u);
  EXPECT_TRUE(master["last_reload"].is_null());
  EXPECT_TRUE(master["last_upgrade"].is_null());
  // Exact counts: the test's requests, and the status documents before this one.
  const auto& requests = doc["requests"];
  EXPECT_EQ(requests["by_class"]["2xx"], kFast + status.answered() - 1);
  EXPECT_EQ(requests["by_class"]["4xx"], kMissing);
  EXPECT_EQ(requests["by_class"]["5xx"], 0);
  EXPECT_EQ(requests["total"], kFast + kMissing + status.answered() - 1);
  EXPECT_TRUE(requests["per_second"]["10s"].is_number());
  const auto children = server.children();
  const std::set<pid_t> pids(children.begin(), children.end());
  std::set<int> ordinals;
  for (const auto& w : doc["workers"]) {
    EXPECT_EQ(pids.count(w["pid"].get<pid_t>()), 1u) << w.dump();
    EXPECT_EQ(w["generation"], 1);
    EXPECT_EQ(w["state"], "serving");
    EXPECT_EQ(w["ready"], true);
    ordinals.insert(w["worker"].get<int>());
    const auto& lag = w["loop_lag_ms"];
    EXPECT_LE(lag["p50"].get<double>(), lag["p99"].get<double>());
    EXPECT_LE(lag["p99"].get<double>(), lag["max"].get<double>());
    EXPECT_EQ(w["helpers"]["busy"], 0);
    EXPECT_TRUE(w["helpers"]["oldest_job_ms"].is_null());
  }
  EXPECT_EQ(ordinals, (std::set<int>{0, 1}));

  // A job runs: its worker shows a busy helper and the job's age.
  HttpClient job(server.port());
  job.send("GET /long HTTP/1.1\r\nHost: t\r\n\r\n");
  doc = status.until(
      [](const json& d) {
        for (const auto& w : d["workers"]) {
          if (w["helpers"]["busy"] == 1 && w["helpers"]["oldest_job_ms"].is_number() &&
              w["helpers"]["oldest_job_ms"] > 0)
            return true;
        }
        return false;
      },
      "a running job");

  // One reload while the job runs: generation 2 serves, generation 1's worker with the job
  // drains, and the reload's outcome is on the page.
  ASSERT_EQ(kill(server.pid(), SIGHUP), 0);
  doc = status.until(
      [](const json& d) {
        for (const auto& w : d["workers"]) {
          if (w["generation"] == 1 && w["state"] == "draining") return true;
        }
        return false;
      },
      "a draining worker of generation 1");
  doc = status.until(
      [](const json& d) {
        return d["master"]["generation"] == 2 && of_generation(d, 2).size() == 2 &&
               of_generation(d, 1).empty();
      },
      "generation 2 alone");
  for (const auto& w : of_generation(doc, 2)) EXPECT_EQ(w["state"], "serving");
  EXPECT_EQ(doc["served_by"]["generation"], 2);
  const auto& reload = doc["master"]["last_reload"];
  EXPECT_EQ(reload["result"], "ok");
  EXPECT_NE(reload["message"].get<std::string>().find("generation 2"), std::string::npos)
      << reload.dump();
  auto answer = job.read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  // Counted across the reload: nothing lost with the old generation's rows.
  doc = status.read();
  EXPECT_EQ(doc["requests"]["by_class"]["2xx"], kFast + status.answered() - 1 + 1);
  EXPECT_EQ(doc["requests"]["by_class"]["4xx"], kMissing);
  std::uint64_t charted = 0;
  for (const auto& point : doc["requests"]["history"]["points"]) {
    ASSERT_EQ(point.size(), 6u);
    charted += point[4].get<std::uint64_t>();
  }
  EXPECT_LE(charted, static_cast<std::uint64_t>(kMissing));
}

TEST(StatusTest, AnUpgradeKeepsTheLastReloadTheStartAndTheHistory) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  ShoalServer server(site(), true, binary);
  StatusReader status(server.port());
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  auto before = status.until(
      [](const json& d) {
        return d["master"]["last_reload"].is_object() &&
               d["requests"]["history"]["points"].size() >= 2;
      },
      "a reload and two history points");
  auto upgrade = run_shoal({"-c", server.config_path(), "-s", "upgrade"}, server.dir());
  ASSERT_EQ(upgrade.status, 0) << upgrade.output;
  auto after = status.until([](const json& d) { return d["master"]["last_upgrade"].is_object(); },
                            "the upgrade");
  EXPECT_EQ(after["master"]["pid"], server.pid());  // the same master, a new image
  EXPECT_EQ(after["master"]["last_upgrade"]["result"], "ok");
  // What the previous image knew is still on the board.
  EXPECT_EQ(after["master"]["last_reload"], before["master"]["last_reload"]);
  EXPECT_EQ(after["master"]["started"], before["master"]["started"]);
  const auto& points = after["requests"]["history"]["points"];
  ASSERT_FALSE(points.empty());
  EXPECT_LE(points[0][0].get<std::uint64_t>(),
            before["requests"]["history"]["points"][0][0].get<std::uint64_t>());
  EXPECT_EQ(after["master"]["generation"], 3);
  // Issue 28: `-s status` counts from the same start as the page (not the new image's, which
  // said "up 0s"), and writes an outcome in the page's shape.
  auto cli = run_shoal({"-c", server.config_path(), "-s", "status", "--json"}, server.dir());
  ASSERT_EQ(cli.status, 0) << cli.output;
  const auto mine = json::parse(cli.output);
  EXPECT_EQ(mine["started"], after["master"]["started"]) << cli.output;
  EXPECT_GE(mine["uptime_seconds"].get<long>() + 1, after["master"]["uptime_seconds"].get<long>());
  EXPECT_EQ(mine["last_upgrade"], after["master"]["last_upgrade"]) << cli.output;
}

// The history's points are differences between the master's samples; the first sample is
// taken before any worker exists, so requests answered in the first second are in a point
// too (they were the baseline, in no point). 404s here, since the polls are 2xx.
TEST(StatusTest, TheFirstSecondsRequestsAreInTheHistory) {
  ShoalServer server(site());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get(server.port(), "/no-such-route")->status, 404);
  StatusReader status(server.port());
  status.until(
      [](const json& d) {
        std::uint64_t missing = 0;  // 4xx in the points
        for (const auto& p : d["requests"]["history"]["points"])
          missing += p[4].get<std::uint64_t>();
        return missing == 3 && d["requests"]["by_class"]["4xx"] == 3;
      },
      "three 404s in the history");
}

TEST(StatusTest, ThePageIsServedWithItsHeadersToTheAllowedOnly) {
  ShoalServer server(
      site("{}\n      - match: /elsewhere\n        status: { allow: [192.0.2.0/24] }"));
  auto page = get(server.port(), "/status");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->header("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page->header("Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(page->header("Cache-Control"), "no-store");
  EXPECT_NE(page->body.find("<title>shoal status</title>"), std::string::npos);
  auto head = get(server.port(), "/status", {}, "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(page->body.size()));
  auto post = get(server.port(), "/status?format=json", {}, "POST");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("Allow"), "GET, HEAD");
  auto bad = get(server.port(), "/status?format=json&since=yesterday");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("since: expected a time in Unix milliseconds"), std::string::npos);
  for (const char* path : {"/elsewhere", "/elsewhere?format=json"}) {
    auto refused = get(server.port(), path);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403) << path;
  }
  EXPECT_NE(server.error_log().find("is not in the allow list of status route \"/elsewhere\""),
            std::string::npos);
}

TEST(StatusTest, WithMetricsOffThePageLoadsAndItsDataSaysWhy) {
  ShoalServer server(site("{}", "metrics: false\n"));
  EXPECT_EQ(get(server.port(), "/status")->status, 200);
  auto data = get(server.port(), "/status?format=json");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->status, 503);
  EXPECT_NE(data->body.find("metrics are off"), std::string::npos);
}

TEST(StatusPageTest, ItDrawsInChromiumAndShowsAReload) {
  ShoalServer server(site());
  const std::string out = SHOAL_TEST_OUTPUT;
  std::filesystem::create_directories(out);
  const auto url = "http://127.0.0.1:" + std::to_string(server.port());
  auto run = run_command(
      "/usr/bin/python3 " SHOAL_SOURCE_DIR "/tests/browser/status_page.py --url " + url +
      "/status --master " + std::to_string(server.pid()) + " --workers 2 --traffic " + url +
      "/fast --missing " + url + "/no-such-route --out " + out + " 2>&1");
  if (run.status == 77) GTEST_SKIP() << run.output;
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(std::filesystem::exists(out + "/status-page.png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/status-page-phone.png"));
}

}  // namespace
}  // namespace shoal::test
