// Helper balance across workers (issue 15): a job that would wait on its own worker's helpers
// goes, with its connection, to a sibling worker that has an idle one. Every connection is
// put on one worker by stopping the other (SIGSTOP) while they connect; what is asserted is
// which helper ran each job and how many were refused, never how long anything took.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string config(int queue) {
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
         "        job: { builtin: sleep, ms: 300 }\n";
}

// "slept 300 ms in helper 1234" -> 1234.
pid_t helper_of(const std::string& body) {
  const auto at = body.rfind("helper ");
  return at == std::string::npos ? 0 : std::atoi(body.c_str() + at + 7);
}

// `n` keep-alive connections, every one accepted by `worker_a` (the other is stopped).
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
  EXPECT_NE(server.error_log().find("which has an idle helper"), std::string::npos);
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

}  // namespace
}  // namespace shoal::test
