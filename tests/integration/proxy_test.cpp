// The proxy route against the real binary and a real upstream (tests/upstream/upstream.py):
// the forwarding rules, bodies both ways, each error, pooled connections the upstream closed,
// retries on another server.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string proxy_config(const std::vector<std::string>& servers, const std::string& group = "",
                         const std::string& route = "") {
  std::string list;
  for (const auto& s : servers) list += (list.empty() ? "\"" : ", \"") + s + "\"";
  return "workers: 1\n"
         "upstreams:\n"
         "  app: { servers: [" +
         list + "]" + group +
         " }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /api/\n"
         "        proxy: { upstream: app, strip_prefix: /api, headers: { X-Extra: \"yes\" }" +
         route +
         " }\n"
         "      - match: /\n"
         "        proxy: { upstream: app }\n";
}

Response must_get(int port, const std::string& path,
                  const std::map<std::string, std::string>& h = {},
                  const std::string& method = "GET") {
  auto r = get(port, path, h, method);
  EXPECT_TRUE(r) << path;
  return r ? *r : Response{};
}

TEST(ProxyTest, ForwardsWithAProxysRules) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  auto r = must_get(server.port(), "/api/echo?x=1",
                    {{"X-Forwarded-For", "10.1.1.1"},
                     {"Connection", "close, X-Secret"},
                     {"X-Secret", "hop"},
                     {"Keep-Alive", "timeout=5"},
                     {"X-Kept", "end to end"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Upstream"), "upstream");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));    // kept, not chunked
  EXPECT_NE(r.body.find("GET /echo?x=1\n"), std::string::npos) << r.body;  // prefix stripped
  EXPECT_NE(r.body.find("Host: localhost\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Forwarded-For: 10.1.1.1, 127.0.0.1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Forwarded-Proto: http\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Forwarded-Host: localhost\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Extra: yes\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Kept: end to end\n"), std::string::npos) << r.body;
  for (const char* hop : {"X-Secret", "Keep-Alive", "Connection"}) {
    EXPECT_EQ(r.body.find(std::string(hop) + ":"), std::string::npos) << hop << "\n" << r.body;
  }
  // A chunked response is passed on chunked; HEAD gets the length and no body.
  auto chunked = must_get(server.port(), "/chunked?parts=3");
  EXPECT_EQ(chunked.body, "part 0\npart 1\npart 2\n");
  EXPECT_EQ(chunked.header("Transfer-Encoding"), "chunked");
  auto head = get(server.port(), "/big?bytes=5000", {}, "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "5000");
  EXPECT_EQ(head->body, "");
  auto not_found = must_get(server.port(), "/nothing");
  EXPECT_EQ(not_found.status, 404);  // the upstream's status, as it said it
  EXPECT_EQ(not_found.body, "no such path");
}

TEST(ProxyTest, RequestBodiesGoUpAsTheyCameAndLargeResponsesComeBack) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  HttpClient client(server.port());
  client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
  auto plain = client.read_response();
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->body.find("Content-Length: 11\n"), std::string::npos) << plain->body;
  EXPECT_TRUE(plain->body.ends_with("\n\nhello world")) << plain->body;
  // A chunked request body is chunked again on the way up, on the same client connection.
  client.send(
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto chunked = client.read_response();
  ASSERT_TRUE(chunked);
  EXPECT_NE(chunked->body.find("Transfer-Encoding: chunked\n"), std::string::npos) << chunked->body;
  EXPECT_TRUE(chunked->body.ends_with("\n\nhello world")) << chunked->body;
  // A body larger than what is kept for a retry, arriving with its head in one read (it once
  // lost the head: the first attempt started from the emptied replay copy).
  const std::string large(300'000, 'b');
  client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" + large);
  auto posted = client.read_response();
  ASSERT_TRUE(posted);
  EXPECT_TRUE(posted->body.ends_with("\n\n" + large));
  // An upstream that answers before the body has all arrived: the client gets the answer,
  // the rest of its body is read and dropped, and its connection carries the next request.
  client.send("POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" +
              large.substr(0, 1000));
  auto early = client.read_response();
  ASSERT_TRUE(early);
  EXPECT_EQ(early->body, "early");
  client.send(large.substr(1000));
  client.send("GET /echo/after HTTP/1.1\r\nHost: a\r\n\r\n");
  auto after = client.read_response();
  ASSERT_TRUE(after);
  EXPECT_NE(after->body.find("GET /echo/after"), std::string::npos);
  auto big = must_get(server.port(), "/big?bytes=3000000");
  EXPECT_EQ(big.body.size(), 3000000u);
  EXPECT_EQ(big.body.find_first_not_of('x'), std::string::npos);
}

TEST(ProxyTest, AHundredMegabyteBodyToAClientThatDoesNotReadKeepsTheWorkerSmall) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  const pid_t worker = server.children().at(0);
  auto rss_kb = [&] {
    auto status = read_file("/proc/" + std::to_string(worker) + "/status");
    auto pos = status.find("VmRSS:");
    return pos == std::string::npos ? 0L : std::atol(status.c_str() + pos + 6);
  };
  const long before_kb = rss_kb();
  HttpClient client(server.port());
  client.send("GET /big?bytes=100000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(client.wait_for("\r\n\r\n"));
  // The client reads nothing for a while: the upstream must be held back, not buffered.
  long max_rss_kb = 0;
  wait_until(
      [&] {
        max_rss_kb = std::max(max_rss_kb, rss_kb());
        return false;
      },
      1500ms);
  EXPECT_LT(max_rss_kb - before_kb, 16 * 1024)
      << "worker RSS grew from " << before_kb << " kB to " << max_rss_kb << " kB";
  auto r = client.read_response(false, 60s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), 100'000'000u);
}

TEST(ProxyTest, EachUpstreamFailureHasItsStatusAndOneLogLine) {
  Upstream upstream;
  const int closed_port = free_port();  // nobody listens there
  ShoalServer server(
      "workers: 1\n"
      "upstreams:\n"
      "  app: { servers: [\"" +
      upstream.address() +
      "\"], read_timeout: 300ms }\n"
      "  gone: { servers: [\"127.0.0.1:" +
      std::to_string(closed_port) +
      "\"] }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /gone\n"
      "        proxy: { upstream: gone }\n"
      "      - match: /metrics\n"
      "        metrics: {}\n"
      "      - match: /\n"
      "        proxy: { upstream: app }\n");
  // Before any failure, both servers are in (the gauge follows the worker's metrics tick).
  EXPECT_TRUE(wait_until([&] {
    const auto m = parse_metrics(must_get(server.port(), "/metrics").body);
    return metric_sum(m, "shoal_upstream_up", {"worker=\"0\""}) == 2;
  }));
  EXPECT_EQ(must_get(server.port(), "/gone").status, 502);
  EXPECT_EQ(must_get(server.port(), "/delay?ms=2000").status, 504);
  EXPECT_EQ(must_get(server.port(), "/bad-head").status, 502);
  // Cut in the middle of its body: the client's connection closes before the length is met,
  // so the client never takes the cut body for a whole one.
  HttpClient client(server.port());
  client.send("GET /close-mid-body HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_FALSE(client.read_response());
  EXPECT_TRUE(wait_until([&] { return count(server.error_log(), "[error]") >= 4; }));
  const auto log = server.error_log();
  EXPECT_NE(log.find("upstream \"gone\" server 127.0.0.1:" + std::to_string(closed_port) +
                     ": connect() failed (111: Connection refused), request: \"GET /gone"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("timed out waiting for the response (upstreams.read_timeout), request: "
                     "\"GET /delay?ms=2000"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("malformed response"), std::string::npos) << log;
  EXPECT_NE(log.find("in the middle of the response body, request: \"GET /close-mid-body"),
            std::string::npos)
      << log;
  EXPECT_EQ(must_get(server.port(), "/echo").status, 200);  // and it serves on
  // Each ended exchange is counted for its server, each failure by its status; the pool and
  // health gauges follow on the worker's next metrics tick.
  const std::string gone = "server=\"127.0.0.1:" + std::to_string(closed_port) + "\"";
  const std::string app = "server=\"" + upstream.address() + "\"";
  MetricSamples m;
  ASSERT_TRUE(wait_until([&] {
    m = parse_metrics(must_get(server.port(), "/metrics").body);
    return metric_sum(m, "shoal_upstream_idle_connections", {"upstream=\"app\""}) == 1;
  }));
  EXPECT_EQ(metric_sum(m, "shoal_upstream_requests_total", {gone}), 1);
  EXPECT_EQ(metric_sum(m, "shoal_upstream_errors_total", {gone, "status=\"502\""}), 1);
  EXPECT_EQ(metric_sum(m, "shoal_upstream_requests_total", {app}), 4);
  EXPECT_EQ(metric_sum(m, "shoal_upstream_errors_total", {app, "status=\"504\""}), 1);
  EXPECT_EQ(metric_sum(m, "shoal_upstream_errors_total", {app, "status=\"502\""}), 2);
  // Both are out of the choice now: a failure each within fail_timeout (max_fails: 1).
  EXPECT_EQ(metric_sum(m, "shoal_upstream_up", {app, "worker=\"0\""}), 0);
  EXPECT_EQ(metric_sum(m, "shoal_upstream_up", {gone}), 0);
}

// Issue 29: a client that aborted an upload while the upstream did not read the body kept
// its connection and the upstream's until send_timeout (50 aborted 900 KB POSTs held 37-40
// upstream connections). Its FIN waits behind the bytes it has not sent, so shoal reads the
// body ahead of the upstream (request_buffer) and resets the upstream connection at the abort.
TEST(ProxyTest, AnUploadAbortedWhileTheUpstreamDoesNotReadEndsBothConnectionsAtOnce) {
  const int upstream_port = free_port();
  const int upstream = listen_on_loopback(upstream_port);  // accepts in the kernel, reads nothing
  ASSERT_GE(upstream, 0);
  ShoalServer server(
      "workers: 1\n"
      "upstreams:\n"
      "  app: { servers: [\"127.0.0.1:" +
      std::to_string(upstream_port) +
      "\"], send_timeout: 5m, read_timeout: 5m }\n"
      "limits: { header_timeout: 5m }\n"  // nothing times out: only the abort ends them
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /metrics\n"
      "        metrics: {}\n"
      "      - match: /\n"
      "        proxy: { upstream: app }\n");
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(server.port()));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to);  // in progress
  std::string upload = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 900000\r\n\r\n" +
                       std::string(850'000, 'u');  // 50,000 bytes short: the upload is aborted
  size_t sent = 0;
  // Send what the connection takes; once it takes nothing more for a while, give up as a
  // client whose user pressed Stop.
  auto last_progress = std::chrono::steady_clock::now();
  while (sent < upload.size() &&
         std::chrono::steady_clock::now() - last_progress < std::chrono::seconds(2)) {
    const ssize_t n = ::send(client, upload.data() + sent, upload.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      last_progress = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ::close(client);
  // The upstream's connection is reset (its state goes to CLOSE without it reading a byte):
  // shoal saw the client's FIN, which came only once the whole upload was read.
  const int accepted = ::accept(upstream, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  EXPECT_TRUE(wait_until([&] {
    tcp_info info{};
    socklen_t len = sizeof info;
    return ::getsockopt(accepted, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
           info.tcpi_state == TCP_CLOSE;
  })) << "the upstream connection of the aborted upload is still open";
  ::close(accepted);
  ::close(upstream);
}

// Issue 29: a server a reload removed was exported as `shoal_upstream_up{...} 0` and shown on
// the status page as "up in workers 0" for good, so an alert fired for a server that no longer
// exists. Its gauges go; its counters stay in the scrape as history.
TEST(ProxyTest, AServerRemovedByAReloadIsNoLongerExportedAsDown) {
  Upstream upstream;
  const int closed_port = free_port();
  const std::string removed = "127.0.0.1:" + std::to_string(closed_port);
  auto config = [&](const std::string& servers) {
    return "workers: 1\n"
           "upstreams:\n"
           "  app: { servers: [" +
           servers +
           "] }\n"
           "servers:\n"
           "  - listen: 127.0.0.1:@PORT@\n"
           "    routes:\n"
           "      - match: /metrics\n"
           "        metrics: {}\n"
           "      - match: /status\n"
           "        status: {}\n"
           "      - match: /\n"
           "        proxy: { upstream: app }\n";
  };
  ShoalServer server(config("\"" + upstream.address() + "\", \"" + removed + "\""));
  const std::string gone_label = "server=\"" + removed + "\"";
  auto up_series = [&](const std::string& body) {
    size_t n = 0;
    for (const auto& [key, value] : parse_metrics(body)) {
      n += key.starts_with("shoal_upstream_up{") && key.find(gone_label) != std::string::npos;
    }
    return n;
  };
  ASSERT_TRUE(wait_until([&] { return up_series(must_get(server.port(), "/metrics").body) == 1; }));
  EXPECT_NE(must_get(server.port(), "/status?format=json").body.find(removed), std::string::npos);
  EXPECT_EQ(must_get(server.port(), "/echo").status, 200);
  auto sum_of = [](const std::string& text, const std::string& name) {
    return metric_sum(parse_metrics(text), name, {"upstream=\"app\""});
  };
  const double requests_before =
      sum_of(must_get(server.port(), "/metrics").body, "shoal_upstream_requests_total");
  EXPECT_GE(requests_before, 1);
  server.rewrite_config(config("\"" + upstream.address() + "\""));
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  const auto body = must_get(server.port(), "/metrics").body;
  EXPECT_EQ(up_series(body), 0u) << body;
  EXPECT_NE(body.find("shoal_upstream_up{upstream=\"app\",server=\"" + upstream.address()),
            std::string::npos)
      << body;
  // Counters are history: the removed server's stay, or (once its generation has exited) go
  // into server="(removed)"; the upstream's total never goes down.
  EXPECT_GE(sum_of(body, "shoal_upstream_requests_total"), requests_before);
  const auto page = must_get(server.port(), "/status?format=json").body;
  EXPECT_EQ(page.find(removed), std::string::npos) << page;
  EXPECT_NE(page.find(upstream.address()), std::string::npos) << page;
}

TEST(ProxyTest, PooledConnectionsTheUpstreamClosedNeverCostARequest) {
  // The upstream closes idle connections after 0.5 s, and this pool would keep them 10 s:
  // each request finds its pooled connection closed, by the watch, the peek or the failed send.
  Upstream upstream({"--keepalive-timeout", "0.5"});
  ShoalServer server(proxy_config({upstream.address()}, ", idle_timeout: 10s"));
  const int upstream_port = std::stoi(upstream.address().substr(upstream.address().rfind(':') + 1));
  auto upstream_closed_idle = [&] {
    for (const auto& row : loopback_sockets_on(upstream_port)) {
      if (row.state == "01") return false;  // still established
    }
    return true;
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(must_get(server.port(), "/echo").status, 200);
    // Until the upstream has closed the pooled connection (after its 0.5 s), not a fixed wait.
    EXPECT_TRUE(wait_until(upstream_closed_idle)) << i;
  }
  // An upstream that closes after every response without saying so: no request fails.
  Upstream rude({"--close-after", "1"});
  ShoalServer server2(proxy_config({rude.address()}));
  HttpClient client(server2.port());
  for (int i = 0; i < 30; ++i) {
    client.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200) << i;
  }
  EXPECT_EQ(count(server.error_log() + server2.error_log(), "[error]"), 0u)
      << server.error_log() << server2.error_log();
}

TEST(ProxyTest, ActiveHealthChecksTakeAServerOutAndBringItBack) {
  const int port_a = free_port();
  auto a = std::make_unique<Upstream>(
      std::vector<std::string>{"--port", std::to_string(port_a), "--name", "a"});
  Upstream b({"--name", "b"});
  ShoalServer server(
      proxy_config({a->address(), b.address()},
                   ", retries: 0, max_fails: 0, health: { path: /echo, interval: 100ms, rise: 2, "
                   "fall: 2 }"));
  auto served_by = [&] {
    std::set<std::string> names;
    for (int i = 0; i < 6; ++i) {
      auto r = get(server.port(), "/echo");
      names.insert(r ? r->header("X-Upstream") : "(failed)");
    }
    return names;
  };
  EXPECT_EQ(served_by(), (std::set<std::string>{"a", "b"}));
  a.reset();  // a is gone
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("server " + std::string("127.0.0.1:") + std::to_string(port_a) +
                                   " is down") != std::string::npos;
  })) << server.error_log();
  EXPECT_EQ(served_by(), std::set<std::string>{"b"});  // no 502: a is out of the choice
  a = std::make_unique<Upstream>(
      std::vector<std::string>{"--port", std::to_string(port_a), "--name", "a"});
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("is up: 2 health checks passed") != std::string::npos;
  })) << server.error_log();
  EXPECT_EQ(served_by(), (std::set<std::string>{"a", "b"}));
}

TEST(ProxyTest, ConnectFailuresAreRetriedOnAnotherServer) {
  Upstream upstream;
  const std::string dead = "127.0.0.1:" + std::to_string(free_port());
  ShoalServer server(proxy_config({dead, upstream.address()}, ", retries: 1"));
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(must_get(server.port(), "/echo").status, 200) << i;
    EXPECT_EQ(must_get(server.port(), "/echo", {}, "POST").status, 200) << i;
  }
  EXPECT_NE(server.error_log().find("trying another"), std::string::npos) << server.error_log();
  // Without retries the dead server's first turn is a 502; without passive health (max_fails
  // 0) every turn of it is; with the default max_fails 1 it is then out for fail_timeout.
  ShoalServer strict(proxy_config({dead, upstream.address()}, ", retries: 0, max_fails: 0"));
  int failed = 0;
  for (int i = 0; i < 4; ++i) failed += must_get(strict.port(), "/echo").status == 502 ? 1 : 0;
  EXPECT_EQ(failed, 2);  // round robin: every other request
  ShoalServer passive(proxy_config({dead, upstream.address()}, ", retries: 0"));
  failed = 0;
  for (int i = 0; i < 6; ++i) failed += must_get(passive.port(), "/echo").status == 502 ? 1 : 0;
  EXPECT_LE(failed, 1);
  EXPECT_NE(passive.error_log().find("is out of the choice for 10000 ms after 1 failure(s)"),
            std::string::npos)
      << passive.error_log();
}

// RFC 6455 frames as a client sends them (masked) and as the echo returns them (unmasked).
std::string ws_frame(unsigned opcode, const std::string& payload, bool masked = true) {
  std::string f(1, static_cast<char>(0x80 | opcode));
  const char mask_bit = masked ? '\x80' : '\0';
  if (payload.size() < 126) {
    f += static_cast<char>(mask_bit | static_cast<char>(payload.size()));
  } else if (payload.size() < 65536) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>(payload.size() >> shift);
  }
  if (!masked) return f + payload;
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

constexpr const char* kWsUpgrade =
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// Sends one message through an open WebSocket and checks that it comes back.
void expect_echo(HttpClient& client, const std::string& payload) {
  client.send(ws_frame(2, payload));
  const std::string expected = ws_frame(2, payload, false);
  auto back = client.read_bytes(expected.size());
  ASSERT_TRUE(back) << "no echo of " << payload.size() << " bytes";
  EXPECT_TRUE(*back == expected) << payload.size() << " bytes came back changed";
}

// Issue 29: RFC 9110 section 7.8: a 101 names the protocol it switches to; one that names
// none is a broken upstream (502), not a tunnel.
TEST(ProxyTest, A101WithoutAnUpgradeHeaderIs502) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  HttpClient client(server.port());
  std::string request = kWsUpgrade;
  request.replace(request.find("/ws"), 3, "/ws-bare");
  client.send(request);
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->body.find("not a protocol"), std::string::npos);
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("101 Switching Protocols without an Upgrade header") !=
           std::string::npos;
  })) << server.error_log();
}

TEST(ProxyTest, AWebSocketIsTunnelledBothWaysUntilEitherSideCloses) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  HttpClient client(server.port());
  client.send(kWsUpgrade);
  auto head = client.read_until("\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << *head;
  EXPECT_NE(head->find("\r\nUpgrade: websocket\r\n"), std::string::npos) << *head;
  EXPECT_NE(head->find("\r\nConnection: upgrade\r\n"), std::string::npos) << *head;
  // RFC 6455's own example key and answer: the upstream saw the client's fields.
  EXPECT_NE(head->find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos)
      << *head;
  EXPECT_EQ(head->find("Transfer-Encoding"), std::string::npos) << *head;
  expect_echo(client, "hello");
  expect_echo(client, std::string(300'000, 'w'));  // more than either side's buffer bound
  // The client closes: its close frame is answered, then the upstream ends the connection.
  client.send(ws_frame(8, "\x03\xe8"));
  auto closing = client.read_bytes(4);
  ASSERT_TRUE(closing);
  EXPECT_EQ(*closing, ws_frame(8, "\x03\xe8", false));
  EXPECT_TRUE(client.closed_by_peer());

  // The client shuts its side without a close frame: the upstream sees the end, and the
  // tunnel ends with it.
  HttpClient quiet(server.port());
  quiet.send(kWsUpgrade);
  ASSERT_TRUE(quiet.read_until("\r\n\r\n"));
  expect_echo(quiet, "last words");
  quiet.shutdown_write();
  EXPECT_TRUE(quiet.closed_by_peer());

  // No Upgrade: an ordinary exchange (the upstream's 426), and the connection carries on.
  HttpClient plain(server.port());
  plain.send("GET /ws HTTP/1.1\r\nHost: a\r\n\r\n");
  auto refused = plain.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 426);
  EXPECT_TRUE(refused->keep_alive);
  EXPECT_EQ(count(server.error_log(), "[error]"), 0u) << server.error_log();
}

// The requests the test upstream has counted (its /stats, asked directly; each ask counts).
int upstream_requests(const Upstream& upstream) {
  auto r = get(upstream.port(), "/stats");
  int connections = 0;
  int requests = 0;
  if (r) std::sscanf(r->body.c_str(), "connections %d requests %d", &connections, &requests);
  return requests;
}

TEST(ProxyTest, AnOpenWebSocketAndASlowExchangeOutliveAReloadInTheOldGeneration) {
  Upstream upstream;
  ShoalServer server(proxy_config({upstream.address()}));
  const auto old_workers = server.children();
  HttpClient client(server.port());
  client.send(kWsUpgrade);
  ASSERT_TRUE(client.read_until("\r\n\r\n"));
  expect_echo(client, "before");
  HttpClient slow(server.port());  // a proxied exchange in flight across the reload
  const int before = upstream_requests(upstream);
  slow.send("GET /delay?ms=1500 HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(wait_until([&] { return upstream_requests(upstream) > before + 1; }));
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  // New connections are served by the new generation; the tunnel stays with the old one.
  EXPECT_EQ(must_get(server.port(), "/echo").status, 200);
  expect_echo(client, "after the reload");
  auto slow_answer = slow.read_response();
  ASSERT_TRUE(slow_answer);
  EXPECT_EQ(slow_answer->status, 200);
  EXPECT_EQ(slow_answer->body, "slept");
  EXPECT_FALSE(slow_answer->keep_alive);  // its worker drains: the connection's last answer
  EXPECT_TRUE(alive(old_workers.at(0)));
  client.send(ws_frame(8, ""));
  EXPECT_TRUE(client.read_bytes(2));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(wait_until([&] { return !alive(old_workers.at(0)); }))
      << "the old worker stayed after its last tunnel closed";
}

// Preloads the fake resolver (tests/shim/fake_dns.c) into the servers started while this
// lives; `set` rewrites what names resolve to. Start upstreams before it (python is not to
// have the shim).
class FakeDns {
 public:
  explicit FakeDns(std::string hosts)
      : hosts_((set_file(hosts, ""), std::move(hosts))),
        shim_(SHOAL_FAKE_DNS_SHIM, "SHOAL_TEST_HOSTS", hosts_) {
    // Where the shim notes each slow lookup as it begins; writable by the helpers' user.
    write_file(hosts_ + ".log", "");
    std::filesystem::permissions(hosts_ + ".log", std::filesystem::perms::all &
                                                      ~std::filesystem::perms::owner_exec &
                                                      ~std::filesystem::perms::group_exec &
                                                      ~std::filesystem::perms::others_exec);
  }
  void set(const std::string& lines) { set_file(hosts_, lines); }
  // The slow lookups begun so far ("slow NAME" lines).
  std::string slow_lookups() const { return read_file(hosts_ + ".log"); }

 private:
  static void set_file(const std::string& path, const std::string& lines) {
    write_file(path + ".new", lines);  // replaced whole: a lookup never reads half a file
    std::filesystem::rename(path + ".new", path);
  }
  std::string hosts_;
  PreloadedShim shim_;
};

TEST(ProxyTest, DnsNamesAreLookedUpInAHelperAgainAndAgainAndKeptWhenTheyStopResolving) {
  const int port = free_port();
  Upstream a({"--port", std::to_string(port), "--name", "a"});
  Upstream b({"--host", "127.0.0.2", "--port", std::to_string(port), "--name", "b"});
  TempDir dns_dir;
  FakeDns dns(dns_dir / "hosts");
  dns.set("app.test 127.0.0.1\n");
  ShoalServer server(
      "workers: 1\n"
      "upstreams:\n"
      "  app: { servers: [\"app.test:" +
      std::to_string(port) +
      "\"], resolve_interval: 200ms }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /here\n"
      "        return: { status: 200, body: here }\n"
      "      - match: /\n"
      "        proxy: { upstream: app }\n");
  // The first request may come before the first lookup has answered: it waits for it.
  EXPECT_EQ(must_get(server.port(), "/echo").header("X-Upstream"), "a");
  const std::string first = "server app.test:" + std::to_string(port) + " resolves to 127.0.0.1:";
  EXPECT_NE(server.error_log().find(first), std::string::npos) << server.error_log();
  // The name moves: the next lookups see it.
  dns.set("app.test 127.0.0.2\n");
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("resolves to 127.0.0.2:") != std::string::npos;
  })) << server.error_log();
  EXPECT_EQ(must_get(server.port(), "/echo").header("X-Upstream"), "b");
  // It stops resolving: its last address is kept, with a warning, and requests go on.
  dns.set("app.test -\n");
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find(
               "the name did not resolve (getaddrinfo: Name or service not "
               "known); keeping its last 1 address(es)") != std::string::npos;
  })) << server.error_log();
  EXPECT_EQ(must_get(server.port(), "/echo").header("X-Upstream"), "b");
  // A lookup that takes seconds blocks no request: it runs in a helper, so the worker answers
  // while it is still going (were it on the loop, its "resolves to" would come first).
  dns.set("app.test @3000 127.0.0.1\n");
  ASSERT_TRUE(
      wait_until([&] { return dns.slow_lookups().find("slow app.test") != std::string::npos; }));
  EXPECT_EQ(must_get(server.port(), "/here").body, "here");
  EXPECT_EQ(server.error_log().find("resolves to 127.0.0.1:", server.error_log().find("0.2:")),
            std::string::npos)
      << server.error_log();
  EXPECT_TRUE(wait_until([&] {
    return must_get(server.port(), "/echo").header("X-Upstream") == "a";
  })) << server.error_log();
}

TEST(ProxyTest, NamesThatNeverResolveAre502WithTheirCause) {
  TempDir dns_dir;
  FakeDns dns(dns_dir / "hosts");
  dns.set("nowhere.test -\n");
  ShoalServer server(proxy_config({"nowhere.test:80"}));
  EXPECT_EQ(must_get(server.port(), "/echo").status, 502);
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find(
               "upstream \"app\" server nowhere.test:80: the name has no "
               "address (it did not resolve), request: \"GET /echo") != std::string::npos;
  })) << server.error_log();
}

TEST(ProxyTest, WeightsShareTheRequestsAndForwardedAndViaAreOnRequest) {
  Upstream a({"--name", "a"});
  Upstream b({"--name", "b"});
  ShoalServer server(
      "workers: 1\n"
      "upstreams:\n"
      "  app:\n"
      "    servers: [{ address: \"" +
      a.address() + "\", weight: 3 }, \"" + b.address() +
      "\"]\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /rfc/\n"
      "        proxy: { upstream: app, strip_prefix: /rfc, forwarding: forwarded, via: true }\n"
      "      - match: /\n"
      "        proxy: { upstream: app }\n");
  std::map<std::string, int> served;
  for (int i = 0; i < 8; ++i) ++served[must_get(server.port(), "/echo").header("X-Upstream")];
  EXPECT_EQ(served, (std::map<std::string, int>{{"a", 6}, {"b", 2}}));
  HttpClient client(server.port());
  client.send(
      "GET /rfc/echo HTTP/1.1\r\nHost: example.test:8080\r\n"
      "Forwarded: for=192.0.2.60;proto=https\r\nVia: 1.0 fred\r\n"
      "X-Forwarded-For: 10.9.9.9\r\n\r\n");
  auto answer = client.read_response();
  ASSERT_TRUE(answer);
  const Response& r = *answer;
  EXPECT_NE(r.body.find("Forwarded: for=192.0.2.60;proto=https, "
                        "for=127.0.0.1;host=\"example.test:8080\";proto=http\n"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("Via: 1.0 fred, 1.1 shoal\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Forwarded-For: 10.9.9.9\n"), std::string::npos) << r.body;  // as sent
  EXPECT_EQ(r.body.find("X-Forwarded-Proto"), std::string::npos) << r.body;
  EXPECT_EQ(r.header("Via"), "1.1 shoal");
}

}  // namespace
}  // namespace shoal::test
