// Listening-socket behaviour seen from outside: TCP_DEFER_ACCEPT (`defer_accept`) keeps a
// connection that has sent nothing in the kernel, a reload switches it, and a silent client
// is still closed in the end.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string config(const std::string& defer_accept) {
  return "workers: 1\n" + defer_accept +
         "limits: { header_timeout: 1s }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /\n"
         "        return: { status: 200, body: \"ok\" }\n";
}

// The server side of connections to `port` in a given state: "03" SYN_RECV (the kernel still
// holds it back), "01" established.
bool has_connection_in_state(int port, const std::string& state) {
  const auto rows = loopback_sockets_on(port);
  return std::any_of(rows.begin(), rows.end(),
                     [&](const TcpSocketRow& row) { return row.state == state; });
}

TEST(ListenTest, ByDefaultASilentConnectionWaitsInTheKernelUntilItsRequestArrives) {
  ShoalServer server(config(""));
  HttpClient client(server.port());
  // Our handshake is done (connect returned), but the server side stays half-open.
  EXPECT_TRUE(wait_until([&] { return has_connection_in_state(server.port(), "03"); }, 500ms));
  EXPECT_FALSE(has_connection_in_state(server.port(), "01"));
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

TEST(ListenTest, AFirstRequestSentInPiecesIsAnswered) {
  // New connections start in delayed-ACK mode (the reply carries the ACK); a request that
  // is not complete at the first read gets its ACK at once instead. This client keeps Nagle
  // on, so each piece after the first waits for that ACK (bench/split_request.py measures
  // how long: 0.2 ms, where a delayed ACK would take 40 ms).
  ShoalServer server(config(""));
  for (int i = 0; i < 3; ++i) {
    HttpClient client(server.port());
    client.send("POST / HTTP/1.1\r\nHost: x\r\n");
    client.send("Content-Length: 5\r\n\r\n");
    client.send("hello");
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "ok");
  }
}

TEST(ListenTest, ASilentClientIsStillClosedAfterHeaderTimeout) {
  ShoalServer server(config(""));
  HttpClient client(server.port());
  // The kernel hands it over after its defer period; header_timeout counts from there.
  EXPECT_TRUE(client.closed_by_peer(15s));
}

TEST(ListenTest, DeferAcceptFalseAcceptsAtOnceAndAReloadSwitchesIt) {
  ShoalServer server(config("defer_accept: false\n"));
  {
    HttpClient client(server.port());
    EXPECT_TRUE(wait_until([&] { return has_connection_in_state(server.port(), "01"); }));
    EXPECT_FALSE(has_connection_in_state(server.port(), "03"));
  }
  EXPECT_TRUE(wait_until([&] { return !has_connection_in_state(server.port(), "01"); }));
  server.rewrite_config(config("defer_accept: true\n"));
  auto result = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(result.status, 0) << result.output;
  HttpClient client(server.port());
  EXPECT_TRUE(wait_until([&] { return has_connection_in_state(server.port(), "03"); }, 500ms));
}

}  // namespace
}  // namespace shoal::test
