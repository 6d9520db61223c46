// A graceful stop behind a load balancer (drain_delay): the health route turns 503 at once
// while everything else is still served, each response closing its connection, the listeners
// open and reloads refused; then the graceful stop goes on and the server exits.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.hpp"

namespace shoal::test {
namespace {

const char* kSite =
    "workers: 2\n"
    "drain_delay: 2s\n"
    "shutdown_timeout: 5s\n"
    "servers:\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    routes:\n"
    "      - match: /healthz\n"
    "        health: {}\n"
    "      - match: /fast\n"
    "        return: { status: 200, body: \"fast!\" }\n";

TEST(DrainTest, HealthTurns503WhileEverythingElseIsServedWithConnectionClose) {
  ShoalServer server(kSite);
  auto health = get(server.port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  // A balancer's keep-alive connection, open before the stop.
  HttpClient pooled(server.port());
  pooled.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
  auto first = pooled.read_response();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->keep_alive);

  ASSERT_EQ(kill(server.pid(), SIGQUIT), 0);
  ASSERT_TRUE(wait_until([&] {
    auto h = get(server.port(), "/healthz");
    return h && h->status == 503;
  })) << server.error_log();
  auto h = get(server.port(), "/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->body, "draining\n");
  // New connections are still accepted and served, and told to close.
  HttpClient fresh(server.port());
  fresh.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
  auto served = fresh.read_response();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->header("Connection"), "close");
  EXPECT_TRUE(fresh.closed_by_peer());
  // The pooled connection gets its next answer, then the close: never one under a request.
  pooled.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
  auto second = pooled.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_FALSE(second->keep_alive);
  EXPECT_TRUE(pooled.closed_by_peer());
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(reload.status, 1);
  EXPECT_NE(reload.output.find("the server is stopping"), std::string::npos) << reload.output;
  EXPECT_TRUE(alive(server.pid()));  // two seconds of drain_delay: still here

  auto status = server.signal_and_wait(0, 15s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << server.error_log();
  const auto log = server.error_log();
  EXPECT_NE(log.find("graceful stop: draining for 2000 ms first"), std::string::npos) << log;
  EXPECT_NE(log.find("drain_delay is over"), std::string::npos) << log;
}

TEST(DrainTest, ASecondQuitCutsTheDelayShort) {
  ShoalServer server(std::string(kSite).replace(std::string(kSite).find("2s"), 2, "60s"));
  ASSERT_EQ(kill(server.pid(), SIGQUIT), 0);
  ASSERT_TRUE(wait_until([&] {
    auto h = get(server.port(), "/healthz");
    return h && h->status == 503;
  }));
  auto quit = run_shoal({"-c", server.config_path(), "-s", "quit"}, server.dir());
  EXPECT_EQ(quit.status, 0) << quit.output;
  auto status = server.signal_and_wait(0, 15s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_NE(server.error_log().find("drain_delay cut short"), std::string::npos);
}

}  // namespace
}  // namespace shoal::test
