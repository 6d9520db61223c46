// Metrics and `-s status` against the real binary: the exposition passes promtool and the
// Python client's parsers; counts are exact across workers; helper outcomes match what the
// clients saw; no counter goes down across reloads and an upgrade; a stopped worker shows in
// the loop-lag histogram; the allow-list answers 403.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace shoal::test {
namespace {

using Samples = MetricSamples;

double sum(const Samples& samples, const std::string& name,
           const std::vector<std::string>& parts = {}) {
  return metric_sum(samples, name, parts);
}

std::string scrape_text(int port, const std::map<std::string, std::string>& headers = {}) {
  auto r = get(port, "/metrics", headers);
  EXPECT_TRUE(r);
  if (!r) return "";
  EXPECT_EQ(r->status, 200) << r->body;
  return r->body;
}

Samples scrape(int port) { return parse_metrics(scrape_text(port)); }

bool have(const std::string& command) { return run_command("command -v " + command).status == 0; }

std::string site(const std::string& workers, const std::string& extra_routes = "",
                 const std::string& allow = "") {
  return "workers: " + workers +
         "\n"
         "helpers: { count: 1, queue: 1, timeout: 1s }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    server_names: [metrics.test]\n"
         "    routes:\n"
         "      - match: /fast\n"
         "        return: { status: 200, body: \"fast!\" }\n"
         "      - match: /nap\n"
         "        job: { builtin: sleep, ms: 600 }\n"
         "      - match: /short\n"
         "        job: { builtin: sleep, ms: 10 }\n"
         "      - match: /long\n"
         "        job: { builtin: sleep, ms: 5000 }\n"
         "      - match: /metrics\n"
         "        metrics: {" +
         allow + "}\n" + extra_routes;
}

TEST(MetricsTest, TheScrapePassesPromtoolAndBothPythonParsers) {
  ShoalServer server(site("2"));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(get(server.port(), "/fast")->status, 200);
  ASSERT_EQ(get(server.port(), "/short")->status, 200);
  const auto text = scrape_text(server.port());
  const auto open =
      scrape_text(server.port(), {{"Accept", "application/openmetrics-text; version=1.0.0"}});
  EXPECT_EQ(get(server.port(), "/metrics")->header("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(open.ends_with("# EOF\n"));
  write_file(server.dir() / "scrape.txt", text);
  write_file(server.dir() / "scrape.om", open);
  if (have("promtool")) {
    auto checked = run_command("promtool check metrics < " + server.dir() / "scrape.txt" + " 2>&1");
    EXPECT_EQ(checked.status, 0) << checked.output;
  } else {
    std::cerr << "[ SKIPPED  ] promtool is not installed (Debian package prometheus)\n";
  }
  if (run_command("/usr/bin/python3 -c 'import prometheus_client'").status != 0) {
    GTEST_SKIP() << "python3-prometheus-client is not installed";
  }
  const std::string script =
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families as text\n"
      "from prometheus_client.openmetrics.parser import text_string_to_metric_families as om\n"
      "a = {f.name: f for f in text(open(sys.argv[1]).read())}\n"
      "b = {f.name: f for f in om(open(sys.argv[2]).read())}\n"
      "assert a['shoal_requests'].type == 'counter', a['shoal_requests'].type\n"
      "assert b['shoal_loop_lag_seconds'].type == 'histogram'\n"
      "ok = [s for s in a['shoal_requests'].samples if s.labels.get('route') == '/fast'"
      " and s.labels.get('code') == '2xx']\n"
      "print(len(a), len(b), sum(s.value for s in ok))\n";
  write_file(server.dir() / "parse.py", script);
  auto parsed =
      run_command("/usr/bin/python3 " + server.dir() / "parse.py" + " " +
                  server.dir() / "scrape.txt" + " " + server.dir() / "scrape.om" + " 2>&1");
  ASSERT_EQ(parsed.status, 0) << parsed.output;
  EXPECT_NE(parsed.output.find(" 5.0"), std::string::npos) << parsed.output;
}

TEST(MetricsTest, RequestsAreCountedExactlyAcrossWorkers) {
  ShoalServer server(site("2"));
  const auto before = scrape(server.port());
  constexpr int kRequests = 60;
  for (int i = 0; i < kRequests / 2; ++i) ASSERT_EQ(get(server.port(), "/fast")->status, 200);
  {
    HttpClient client(server.port());  // the other half on one keep-alive connection
    for (int i = 0; i < kRequests / 2; ++i) {
      client.send("GET /fast HTTP/1.1\r\nHost: metrics.test\r\n\r\n");
      ASSERT_EQ(client.read_response()->status, 200);
    }
  }
  ASSERT_EQ(get(server.port(), "/nowhere")->status, 404);
  {
    HttpClient bad(server.port());
    bad.send("GET /fast HTTP/1.1\r\nHost metrics.test\r\n\r\n");  // no colon: 400
    ASSERT_EQ(bad.read_response()->status, 400);
  }
  const auto after = scrape(server.port());
  // Every response, the first scrape's included (this scrape counts once it is sent).
  EXPECT_EQ(sum(after, "shoal_requests_total") - sum(before, "shoal_requests_total"),
            kRequests + 3);
  EXPECT_EQ(sum(after, "shoal_requests_total", {"route=\"/fast\"", "code=\"2xx\""}), kRequests);
  EXPECT_EQ(sum(after, "shoal_requests_total", {"route=\"/metrics\"", "code=\"2xx\""}), 1);
  EXPECT_EQ(sum(after, "shoal_requests_total",
                {"server=\"metrics.test\"", "route=\"-\"", "code=\"4xx\""}),
            1);
  EXPECT_EQ(sum(after, "shoal_bad_requests_total"), 1);
  EXPECT_EQ(sum(after, "shoal_request_duration_seconds_count", {"route=\"/fast\""}), kRequests);
  EXPECT_EQ(sum(after, "shoal_request_duration_seconds_bucket", {"route=\"/fast\"", "le=\"+Inf\""}),
            kRequests);
  // Connections: the 30 + 1 + 1 + 1 this test opened, and the first scrape's.
  EXPECT_EQ(sum(after, "shoal_connections_accepted_total") -
                sum(before, "shoal_connections_accepted_total"),
            kRequests / 2 + 4);
  EXPECT_GT(sum(after, "shoal_received_bytes_total"), sum(before, "shoal_received_bytes_total"));
  EXPECT_GT(sum(after, "shoal_sent_bytes_total"), sum(before, "shoal_sent_bytes_total"));
  EXPECT_EQ(sum(after, "shoal_generation"), 1);
}

TEST(MetricsTest, HelperOutcomesMatchWhatTheClientsSaw) {
  TempDir programs;
  std::filesystem::create_directories(programs / "cgi-bin");
  // Kills the helper that runs it: the job's helper died (502, crashed).
  write_file(programs / "cgi-bin/die.sh", "#!/bin/sh\nkill -KILL $PPID\nsleep 1\n");
  chmod((programs / "cgi-bin/die.sh").c_str(), 0755);
  ShoalServer server(
      site("1", "      - match: /cgi-bin/\n        cgi: { root: " + programs / "cgi-bin" + " }\n"));
  std::map<int, int> seen;
  ASSERT_EQ(get(server.port(), "/short")->status, 200);
  ++seen[200];
  {
    // One runs, one waits (queue: 1), the third is refused.
    HttpClient running(server.port());
    HttpClient waiting(server.port());
    running.send("GET /nap HTTP/1.1\r\nHost: metrics.test\r\n\r\n");
    ASSERT_TRUE(wait_until([&] { return sum(scrape(server.port()), "shoal_helpers_busy") == 1; }));
    waiting.send("GET /nap HTTP/1.1\r\nHost: metrics.test\r\n\r\n");
    ASSERT_TRUE(
        wait_until([&] { return sum(scrape(server.port()), "shoal_helper_queue_depth") == 1; }));
    const int refused = get(server.port(), "/nap")->status;
    EXPECT_EQ(refused, 503);
    ++seen[refused];
    for (auto* c : {&running, &waiting}) {
      auto r = c->read_response();
      ASSERT_TRUE(r);
      ++seen[r->status];
    }
  }
  const int timed_out = get(server.port(), "/long")->status;  // helpers.timeout is 1s
  EXPECT_EQ(timed_out, 504);
  ++seen[timed_out];
  const int crashed = get(server.port(), "/cgi-bin/die.sh")->status;
  EXPECT_EQ(crashed, 502);
  ++seen[crashed];
  const auto after = scrape(server.port());
  EXPECT_EQ(seen[200], 3);
  EXPECT_EQ(sum(after, "shoal_helper_jobs_total", {"outcome=\"ok\""}), seen[200]);
  EXPECT_EQ(sum(after, "shoal_helper_jobs_total", {"outcome=\"queue_full\""}), seen[503]);
  EXPECT_EQ(sum(after, "shoal_helper_jobs_total", {"outcome=\"timeout\""}), seen[504]);
  EXPECT_EQ(sum(after, "shoal_helper_jobs_total", {"outcome=\"crashed\""}), seen[502]);
  EXPECT_EQ(sum(after, "shoal_helper_jobs_total", {"outcome=\"error\""}), 0);
  EXPECT_EQ(sum(after, "shoal_helper_restarts_total"), 2);  // the timed-out and the killed one
  // Five jobs reached a helper; the queued one waited for the running one (600 ms).
  EXPECT_EQ(sum(after, "shoal_helper_queue_wait_seconds_count"), 5);
  EXPECT_EQ(sum(after, "shoal_helper_queue_wait_seconds_bucket", {"le=\"0.25\""}), 4);
  // /short and die.sh ran briefly; the naps 600 ms each; /long until the 1 s deadline.
  EXPECT_EQ(sum(after, "shoal_helper_run_seconds_bucket", {"le=\"0.5\""}), 2);
  EXPECT_EQ(sum(after, "shoal_helper_run_seconds_bucket", {"le=\"2.5\""}), 5);
  EXPECT_EQ(sum(after, "shoal_helper_run_seconds_count"), 5);
  EXPECT_EQ(sum(after, "shoal_requests_total", {"route=\"/nap\"", "code=\"5xx\""}), 1);
}

TEST(MetricsTest, NoCounterGoesDownAcrossReloadsAndAnUpgrade) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  ShoalServer server(site("2"), true, binary);
  std::atomic<bool> done{false};
  std::atomic<int> failed{0};
  std::vector<Samples> scrapes;
  std::thread load([&] {
    while (!done) {
      auto r = get(server.port(), "/fast");
      if (!r || r->status != 200) ++failed;
    }
  });
  std::thread scraper([&] {
    while (!done) {
      auto r = get(server.port(), "/metrics");
      if (r && r->status == 200) scrapes.push_back(parse_metrics(r->body));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  auto control = [&](const std::string& command) {
    return run_shoal({"-c", server.config_path(), "-s", command}, server.dir());
  };
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto result = control("reload");
    EXPECT_EQ(result.status, 0) << result.output;
  }
  auto upgraded = control("upgrade");
  EXPECT_EQ(upgraded.status, 0) << upgraded.output;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  done = true;
  load.join();
  scraper.join();
  EXPECT_EQ(failed, 0);
  ASSERT_GT(scrapes.size(), 20u);
  // Counters, histogram buckets, sums and counts: each sample, wherever it appears, is never
  // below its value in an earlier scrape.
  auto monotonic = [](const std::string& key) {
    const auto name = key.substr(0, key.find('{'));
    return name.ends_with("_total") || name.ends_with("_bucket") || name.ends_with("_sum") ||
           name.ends_with("_count");
  };
  std::map<std::string, double> highest;
  int decreases = 0;
  for (const auto& s : scrapes) {
    for (const auto& [key, value] : s) {
      if (!monotonic(key)) continue;
      auto& top = highest[key];
      if (value < top) {
        ++decreases;
        ADD_FAILURE() << key << " went down from " << top << " to " << value;
      }
      top = std::max(top, value);
    }
  }
  EXPECT_EQ(decreases, 0);
  const auto last = scrape(server.port());
  EXPECT_EQ(sum(last, "shoal_reloads_total", {"result=\"ok\""}), 3);
  EXPECT_EQ(sum(last, "shoal_upgrades_total", {"result=\"ok\""}), 1);
  EXPECT_EQ(sum(last, "shoal_generation"), 5);
  EXPECT_GT(sum(last, "shoal_requests_total", {"route=\"/fast\""}), 100);
  EXPECT_EQ(sum(last, "shoal_requests_total", {"route=\"/fast\"", "code=\"5xx\""}), 0);
}

// The size of the master's metrics memfd (its "/memfd:shoal-metrics" fd), 0 when not found.
off_t metrics_memfd_size(pid_t master) {
  const auto dir = "/proc/" + std::to_string(master) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::error_code error;
    const auto target = std::filesystem::read_symlink(entry.path(), error).string();
    if (error || target.find("memfd:shoal-metrics") == std::string::npos) continue;
    struct stat st {};
    if (stat(entry.path().c_str(), &st) == 0) return st.st_size;
  }
  return 0;
}

// Issue 29: the segment had 256 fixed rows (and `workers: 129` was refused). It is sized for
// the configuration now, and a reload to more workers than it has rows for grows it, with
// every request of the new generation counted.
TEST(MetricsTest, AReloadToMoreWorkersGrowsTheSegmentAndCountsEveryRequest) {
  ShoalServer server(site("1"));
  const auto before = metrics_memfd_size(server.pid());
  ASSERT_GT(before, 0);
  server.rewrite_config(site("4"));
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  ASSERT_TRUE(wait_until([&] { return server.children().size() == 4; }));
  EXPECT_GT(metrics_memfd_size(server.pid()), before);
  const double already = sum(scrape(server.port()), "shoal_requests_total", {"route=\"/fast\""});
  for (int i = 0; i < 200; ++i) {
    auto r = get(server.port(), "/fast");
    ASSERT_TRUE(r && r->status == 200) << i;
  }
  const auto m = scrape(server.port());
  EXPECT_EQ(sum(m, "shoal_requests_total", {"route=\"/fast\""}) - already, 200);
  // Each of the four has a row: each one's loop-lag timer ticks into its own histogram
  // (workers 1-3 exist only in the new generation).
  EXPECT_TRUE(wait_until([&] {
    const auto now = scrape(server.port());
    for (const char* worker : {"worker=\"1\"", "worker=\"2\"", "worker=\"3\""}) {
      if (sum(now, "shoal_loop_lag_seconds_count", {worker}) == 0) return false;
    }
    return true;
  }));
  EXPECT_EQ(server.error_log().find("counts nothing"), std::string::npos) << server.error_log();
}

TEST(MetricsTest, AWorkerThatDiesKeepsItsCountsAndIsCountedAsARestart) {
  ShoalServer server(site("1"));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(get(server.port(), "/fast")->status, 200);
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 1u);
  kill(workers[0], SIGKILL);
  // Its row is folded when it is reaped; the replacement takes a fresh one.
  ASSERT_TRUE(wait_until([&] {
    auto now = server.children();
    return now.size() == 1 && now[0] != workers[0] && get(server.port(), "/fast");
  }));
  const auto after = scrape(server.port());
  EXPECT_EQ(sum(after, "shoal_requests_total", {"route=\"/fast\"", "code=\"2xx\""}), 21);
  EXPECT_EQ(sum(after, "shoal_request_duration_seconds_count", {"route=\"/fast\""}), 21);
  EXPECT_EQ(sum(after, "shoal_worker_restarts_total", {"cause=\"signal\""}), 1);
  EXPECT_EQ(sum(after, "shoal_worker_restarts_total", {"cause=\"exit\""}), 0);
  EXPECT_GE(sum(after, "shoal_connections_accepted_total"), 22);
}

TEST(MetricsTest, AStoppedWorkerShowsInTheLoopLagHistogram) {
  ShoalServer server(site("1"));
  ASSERT_TRUE(wait_until([&] {
    return sum(scrape(server.port()), "shoal_loop_lag_seconds_count") >= 3;  // it ticks
  }));
  auto late = [](const Samples& s) {  // observations above 50 ms
    return sum(s, "shoal_loop_lag_seconds_count") -
           sum(s, "shoal_loop_lag_seconds_bucket", {"le=\"0.05\""});
  };
  const auto before = scrape(server.port());
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 1u);
  kill(workers[0], SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the fault: stopped 200 ms
  kill(workers[0], SIGCONT);
  // Stopped 200 ms at some point of its 100 ms period: its timer fires 100 to 200 ms late, at
  // its next tick after the SIGCONT (waited for, not slept for).
  Samples after;
  EXPECT_TRUE(wait_until([&] {
    after = scrape(server.port());
    return late(after) - late(before) >= 1;
  })) << scrape_text(server.port());
  EXPECT_GE(sum(after, "shoal_loop_lag_seconds_sum", {"worker=\"0\""}) -
                sum(before, "shoal_loop_lag_seconds_sum", {"worker=\"0\""}),
            0.09);
}

TEST(MetricsTest, OutsideTheAllowListIsForbiddenAndStatusDescribesTheWorkers) {
  ShoalServer server(site("2",
                          "      - match: /private\n"
                          "        allow: [192.0.2.0/24, \"2001:db8::/32\"]\n"
                          "        return: { status: 200, body: secret }\n"
                          "      - match: /local\n"
                          "        allow: [127.0.0.1]\n"
                          "        job: { builtin: sleep, ms: 1 }\n",
                          " allow: [192.0.2.0/24] "));
  auto refused = get(server.port(), "/metrics");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  // The route-level allow-list, on any handler.
  auto hidden = get(server.port(), "/private");
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 403);
  EXPECT_EQ(hidden->body.find("secret"), std::string::npos);
  EXPECT_NE(server.error_log().find("is not in the allow list of route \"/private\""),
            std::string::npos);
  EXPECT_EQ(get(server.port(), "/local")->status, 200);
  EXPECT_NE(server.error_log().find("is not in the allow list of metrics route \"/metrics\""),
            std::string::npos);
  for (int i = 0; i < 4; ++i) get(server.port(), "/fast");
  auto status = run_shoal({"-c", server.config_path(), "-s", "status"}, server.dir());
  ASSERT_EQ(status.status, 0) << status.output;
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  for (pid_t w : workers) {
    EXPECT_NE(status.output.find("pid " + std::to_string(w) + " serving"), std::string::npos)
        << status.output;
  }
  EXPECT_NE(status.output.find("master pid " + std::to_string(server.pid())), std::string::npos);
  EXPECT_NE(status.output.find("last reload: none"), std::string::npos) << status.output;
  // Issue 28: before the master's first /proc sample a worker's memory is "not sampled yet",
  // never a zero that reads as a fact.
  EXPECT_EQ(status.output.find("rss 0.0 MiB"), std::string::npos) << status.output;
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  auto json = run_shoal({"-c", server.config_path(), "-s", "status", "--json"}, server.dir());
  ASSERT_EQ(json.status, 0) << json.output;
  write_file(server.dir() / "status.json", json.output);
  auto checked = run_command(
      "/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); "
      "assert s[\"generation\"] == 2, s; "
      // The status page's shape for an outcome (one schema for both documents).
      "r = s[\"last_reload\"]; assert r[\"result\"] == \"ok\" and r[\"unix_time\"] > 0, s; "
      "assert r[\"time\"].endswith(\"Z\") and \"is serving\" in r[\"message\"], s; "
      "assert s[\"last_upgrade\"] is None and s[\"started\"].endswith(\"Z\"), s; "
      "w=[x for x in s[\"workers\"] if x[\"generation\"] == 2]; assert len(w) == 2, s; "
      "assert all(x[\"state\"] == \"serving\" for x in w), s; "
      // Not sampled yet is null, never 0.
      "assert all(x[\"rss_bytes\"] is None or x[\"rss_bytes\"] > 0 for x in w), s; "
      "assert all(x[\"helpers\"][\"processes\"] is None or x[\"helpers\"][\"processes\"] >= 1 "
      "for x in w), s; "
      "print(\"checked\")' " +
      server.dir() / "status.json" + " 2>&1");
  EXPECT_EQ(checked.status, 0) << checked.output << json.output;
  auto wrong = run_shoal({"-c", server.config_path(), "-s", "reload", "--json"}, server.dir());
  EXPECT_EQ(wrong.status, 2);  // a usage error
  EXPECT_NE(wrong.output.find("--json goes with -s status"), std::string::npos);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr int kManyWorkers = 8;  // each process costs ASan's shadow: fewer, same routes
#else
constexpr int kManyWorkers = 70;
#endif

// Issue 29: after about 657 route series new routes had none, renaming routes on each reload
// filled the directory for good, and workers past the 128th row counted nothing; all without a
// word. 800 routes and 70 workers are counted exactly, and reloads that rename every route
// free the series of the generation that left (their counts kept under route="(removed)").
TEST(MetricsTest, EightHundredRoutesAndManyWorkersAreCountedExactlyAcrossRenamingReloads) {
  auto config = [](int first) {
    std::string yaml = "workers: " + std::to_string(kManyWorkers) +
                       "\n"
                       "helpers: { count: 1 }\n"
                       "servers:\n"
                       "  - listen: 127.0.0.1:@PORT@\n"
                       "    routes:\n"
                       "      - match: /metrics\n"
                       "        metrics: {}\n";
    for (int i = first; i < first + 800; ++i) {
      yaml += "      - match: /r" + std::to_string(i) + "\n        return: { status: 200 }\n";
    }
    return yaml;
  };
  ShoalServer server(config(0));
  size_t sent = 0;
  for (int round = 0; round < 3; ++round) {
    const int first = round * 1000;
    if (round > 0) {
      server.rewrite_config(config(first));
      auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
      ASSERT_EQ(reload.status, 0) << round << ": " << reload.output;
      // The old generation's series are freed once it has exited (after its drain).
      ASSERT_TRUE(wait_until([&] {
        return count(server.error_log(), "series of generations that are gone were freed") >=
               static_cast<size_t>(round);
      })) << server.error_log();
    }
    for (int i = first; i < first + 800; ++i) {
      auto r = get(server.port(), "/r" + std::to_string(i));
      ASSERT_TRUE(r && r->status == 200) << i;
      ++sent;
    }
    const auto m = scrape(server.port());
    // One pass over the samples (a lookup per route would scan them all 800 times).
    std::map<std::string, double> by_route;
    for (const auto& [key, value] : m) {
      if (!key.starts_with("shoal_requests_total{") ||
          key.find("code=\"2xx\"") == std::string::npos) {
        continue;
      }
      const auto at = key.find("route=\"");
      if (at != std::string::npos)
        by_route[key.substr(at, key.find('"', at + 7) + 1 - at)] += value;
    }
    size_t counted_once = 0;
    for (int i = first; i < first + 800; ++i) {
      counted_once += by_route["route=\"/r" + std::to_string(i) + "\""] == 1;
    }
    EXPECT_EQ(counted_once, 800u) << round;
    // Every request ever sent to a /r route is in the family, earlier rounds' under "(removed)".
    const double all =
        sum(m, "shoal_requests_total") - sum(m, "shoal_requests_total", {"route=\"/metrics\""});
    EXPECT_EQ(all, static_cast<double>(sent)) << round;
    if (round > 0) {
      EXPECT_EQ(sum(m, "shoal_requests_total", {"route=\"(removed)\""}),
                static_cast<double>(round * 800));
    }
    // Every worker of the generation has a row: its accepted connections are counted.
    EXPECT_GE(sum(m, "shoal_connections_accepted_total"), static_cast<double>(sent));
  }
  const auto log = server.error_log();
  EXPECT_EQ(log.find("counts nothing"), std::string::npos) << log;
  EXPECT_EQ(log.find("did not fit"), std::string::npos) << log;
  EXPECT_NE(log.find("series of generations that are gone were freed"), std::string::npos);
}

// A reload overlaps the running generation, so both sets of series must fit at once: a large
// site that renames every route in one reload is refused with the reason (before: its new
// series counted into the sink without a word), keeps serving, and the same routes reload.
TEST(MetricsTest, AReloadWhoseSeriesDoNotFitBesideTheRunningOnesIsRefused) {
  auto config = [](const std::string& prefix) {
    std::string yaml =
        "workers: 1\n"
        "servers:\n"
        "  - listen: 127.0.0.1:@PORT@\n"
        "    routes:\n"
        "      - match: /metrics\n"
        "        metrics: {}\n";
    for (int i = 0; i < 1000; ++i) {
      yaml +=
          "      - match: /" + prefix + std::to_string(i) + "\n        return: { status: 200 }\n";
    }
    return yaml;
  };
  ShoalServer server(config("a"));
  server.rewrite_config(config("b"));  // fits alone (checked by load_site), not beside "a"
  auto refused = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(refused.status, 1) << refused.output;
  EXPECT_NE(refused.output.find("do not fit beside those of the running generation"),
            std::string::npos)
      << refused.output;
  EXPECT_EQ(get(server.port(), "/a999")->status, 200);
  EXPECT_EQ(get(server.port(), "/b999")->status, 404);
  server.rewrite_config(config("a"));
  auto same = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_EQ(sum(scrape(server.port()), "shoal_requests_total", {"route=\"/a999\""}), 1);
}

}  // namespace
}  // namespace shoal::test
