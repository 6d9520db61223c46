// Helper balance across workers (issue 15): a job that would wait on its own worker's helpers
// goes, with its connection, to a sibling worker that has an idle one. Every connection is
// put on one worker by stopping the other (SIGSTOP) while they connect; what is asserted is
// which helper ran each job and how many were refused, never how long anything took.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string config(int queue, const std::string& routes = "") {
  return "workers: 2\n"
         "helpers: { count: 2, queue: " +
         std::to_string(queue) +
         ", timeout: 20s }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /fast\n"
         "        return: { status: 200, body: \"fast\" }\n"
         "      - match: /nap\n"
         "        job: { builtin: sleep, ms: 300 }\n" +
         routes;
}

// "slept 300 ms in helper 1234" -> 1234.
pid_t helper_of(const std::string& body) {
  const auto at = body.rfind("helper ");
  return at == std::string::npos ? 0 : std::atoi(body.c_str() + at + 7);
}

// `n` keep-alive connections, every one accepted by the first worker (`other` is stopped).
std::vector<std::unique_ptr<HttpClient>> connections_on_one_worker(const ShoalServer& server,
                                                                   pid_t other, int n) {
  kill(other, SIGSTOP);
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<HttpClient>(server.port()));
    clients.back()->send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = clients.back()->read_response();  // answered, so accepted by the running one
    EXPECT_TRUE(r && r->status == 200);
  }
  kill(other, SIGCONT);
  return clients;
}

TEST(BalanceTest, JobsOnOneWorkerRunOnEveryHelperOfTheGeneration) {
  ShoalServer server(config(8));
  const auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  auto clients = connections_on_one_worker(server, workers[1], 4);
  for (auto& c : clients) c->send("GET /nap HTTP/1.1\r\nHost: x\r\n\r\n");
  std::set<pid_t> helpers;
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    helpers.insert(helper_of(r->body));
  }
  // Four jobs, four different helpers: none waited behind another, although every connection
  // sat on a worker with two helpers. Two of them are the other worker's.
  EXPECT_EQ(helpers.size(), 4u);
  const auto theirs = children_of(workers[1]);
  EXPECT_EQ(std::count_if(helpers.begin(), helpers.end(),
                          [&](pid_t h) {
                            return std::find(theirs.begin(), theirs.end(), h) != theirs.end();
                          }),
            2);
  // A connection that moved keeps serving on its new worker, keep-alive.
  for (auto& c : clients) {
    c->send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "fast");
    EXPECT_TRUE(r->keep_alive);
  }
  EXPECT_NE(server.error_log().find("whose helpers are less busy"), std::string::npos);
}

TEST(BalanceTest, TheQueueLimitCountsTheWholeGeneration) {
  ShoalServer server(config(1));
  const auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  auto clients = connections_on_one_worker(server, workers[1], 6);
  for (auto& c : clients) c->send("GET /nap HTTP/1.1\r\nHost: x\r\n\r\n");
  int ok = 0;
  int refused = 0;
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    if (r->status == 200) ++ok;
    if (r->status == 503) ++refused;
  }
  // Four helpers in the generation run four jobs, one waits (helpers.queue: 1), one is
  // refused. Per worker it was two running, one waiting and three refused.
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(refused, 1);
}

// A request body follows its job to the new worker, whether it had been read already or
// arrives after the hand-over.
TEST(BalanceTest, ACgiBodyFollowsItsJob) {
  TempDir programs;
  write_file(programs / "cgi-bin/echo.sh",
             "#!/bin/sh\nbody=$(cat)\nsleep 0.3\n"
             "printf 'Content-Type: text/plain\\n\\n%s from %s' \"$body\" \"$PPID\"\n");
  chmod((programs / "cgi-bin/echo.sh").c_str(), 0755);
  chmod(programs.path().c_str(), 0755);
  chmod((programs / "cgi-bin").c_str(), 0755);
  ShoalServer server(config(8,
                            "      - match: /cgi-bin/\n"
                            "        cgi: { root: " +
                                programs / "cgi-bin" + " }\n"));
  const auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  auto clients = connections_on_one_worker(server, workers[1], 4);
  for (size_t i = 0; i < clients.size(); ++i) {
    const std::string body = "body-number-" + std::to_string(i);
    clients[i]->send("POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 5));
    clients[i]->send(body.substr(5));
  }
  std::set<std::string> helpers;
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = clients[i]->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    const std::string expected = "body-number-" + std::to_string(i) + " from ";
    ASSERT_EQ(r->body.rfind(expected, 0), 0u) << r->body;
    helpers.insert(r->body.substr(expected.size()));
  }
  EXPECT_EQ(helpers.size(), 4u);  // four helpers, two of each worker
}

// Reloads while jobs are handed between workers lose no request: a connection that moved
// belongs to its new worker, which drains it like any other.
TEST(BalanceTest, ReloadsDuringHandOversLoseNothing) {
  ShoalServer server(config(64));
  const auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  auto clients = connections_on_one_worker(server, workers[1], 6);
  int ok = 0;
  int failed = 0;
  for (int round = 0; round < 4; ++round) {
    for (auto& c : clients) {
      if (!c) c = std::make_unique<HttpClient>(server.port());
      c->send("GET /nap HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    if (round % 2 == 1) {
      auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
      EXPECT_EQ(reload.status, 0) << reload.output;
    }
    for (auto& c : clients) {
      auto r = c->read_response();
      if (r && r->status == 200) {
        ++ok;
      } else {
        ++failed;
      }
      if (!r || !r->keep_alive) c.reset();  // a draining worker said Connection: close
    }
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ok, 24);
}

}  // namespace
}  // namespace shoal::test
