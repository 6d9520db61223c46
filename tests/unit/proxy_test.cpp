// Proxy pieces without processes: the forwarding rules (hop-by-hop fields, the upstream
// target and head, the fields passed back) and llhttp's response mode as ResponseParser uses it.
#include <arpa/inet.h>
#include <event2/event.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "http/response_parser.hpp"
#include "proxy/forward.hpp"
#include "proxy/retry.hpp"
#include "proxy/upstream_pool.hpp"
#include "util/socket_address.hpp"

namespace shoal {
namespace {

http::Request request_with(std::vector<http::Header> headers, std::string target = "/api/x?q=1") {
  http::Request r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers = std::move(headers);
  return r;
}

TEST(ForwardTest, TheTargetLosesAndGainsPrefixesOnSegmentBoundaries) {
  ProxyAction a;
  a.strip_prefix = "/api";
  EXPECT_EQ(proxy::upstream_target("/api/x?q=1", a), "/x?q=1");
  EXPECT_EQ(proxy::upstream_target("/api", a), "/");
  EXPECT_EQ(proxy::upstream_target("/api?q", a), "/?q");
  EXPECT_EQ(proxy::upstream_target("/apix", a), "/apix");  // not on a boundary
  a.add_prefix = "/v1/";
  EXPECT_EQ(proxy::upstream_target("/api/x", a), "/v1/x");
  a.strip_prefix.clear();
  a.add_prefix = "/v1";
  EXPECT_EQ(proxy::upstream_target("/x", a), "/v1/x");
  EXPECT_EQ(proxy::upstream_target("/x", ProxyAction{}), "/x");
}

TEST(ForwardTest, TheUpstreamHeadDropsHopByHopFieldsAndAddsForwardingOnes) {
  ProxyAction a;
  a.strip_prefix = "/api";
  a.headers = {{"X-Extra", "1"}};
  auto r = request_with({{"Host", "example.test"},
                         {"Connection", "keep-alive, X-Hop"},
                         {"X-Hop", "gone"},
                         {"TE", "trailers"},
                         {"Upgrade", "websocket"},
                         {"Proxy-Connection", "keep-alive"},
                         {"X-Forwarded-For", "10.0.0.1"},
                         {"X-Forwarded-Proto", "spoofed"},
                         {"Content-Length", "5"},
                         {"Accept", "*/*"}});
  const auto head = proxy::upstream_request_head(r, a, {"192.0.2.7", true}, false);
  EXPECT_EQ(head,
            "POST /x?q=1 HTTP/1.1\r\n"
            "Host: example.test\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"
            "X-Forwarded-Proto: https\r\n"
            "X-Forwarded-Host: example.test\r\n"
            "X-Extra: 1\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
  a.host = "backend.internal";
  const auto chunked = proxy::upstream_request_head(
      request_with({{"Host", "h"}, {"Transfer-Encoding", "chunked"}}), a, {"::1", false}, true);
  EXPECT_NE(chunked.find("Host: backend.internal\r\n"), std::string::npos) << chunked;
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << chunked;
  EXPECT_NE(chunked.find("X-Forwarded-For: ::1\r\n"), std::string::npos) << chunked;
  EXPECT_EQ(chunked.find("Transfer-Encoding"), chunked.rfind("Transfer-Encoding"));
}

TEST(ForwardTest, AnUpgradeWithoutABodyKeepsItsUpgradeFieldForATunnel) {
  auto r = request_with({{"Host", "h"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  r.method = "GET";
  r.upgrade = true;
  EXPECT_TRUE(proxy::wants_tunnel(r));
  const auto head = proxy::upstream_request_head(r, ProxyAction{}, {"192.0.2.7", false}, false,
                                                 proxy::wants_tunnel(r));
  EXPECT_NE(head.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nConnection: upgrade\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Connection: Upgrade"), std::string::npos) << head;  // the client's, gone
  // With a body (or as HEAD) it is an ordinary request: no switch, Upgrade dropped.
  r.has_body = true;
  EXPECT_FALSE(proxy::wants_tunnel(r));
  r.has_body = false;
  r.method = "HEAD";
  EXPECT_FALSE(proxy::wants_tunnel(r));
  const auto plain = proxy::upstream_request_head(r, ProxyAction{}, {"192.0.2.7", false}, false);
  EXPECT_EQ(plain.find("Upgrade"), std::string::npos) << plain;
  // The 101's Upgrade goes back to the client; on any other answer it is hop-by-hop.
  const proxy::Fields switched{
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "x"}};
  EXPECT_EQ(proxy::client_response_fields(switched, true),
            (proxy::Fields{{"Upgrade", "websocket"}, {"Sec-WebSocket-Accept", "x"}}));
  EXPECT_EQ(proxy::client_response_fields(switched),
            (proxy::Fields{{"Sec-WebSocket-Accept", "x"}}));
}

TEST(ForwardTest, ResponseFieldsLoseHopByHopFramingDateAndServer) {
  const proxy::Fields upstream{{"Content-Type", "text/plain"},
                               {"Connection", "close, X-Hop"},
                               {"X-Hop", "a"},
                               {"Keep-Alive", "timeout=5"},
                               {"Transfer-Encoding", "chunked"},
                               {"Content-Length", "3"},
                               {"Date", "yesterday"},
                               {"Server", "backend"},
                               {"Set-Cookie", "a=1"},
                               {"Set-Cookie", "b=2"}};
  const proxy::Fields expected{
      {"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
  EXPECT_EQ(proxy::client_response_fields(upstream), expected);
  EXPECT_TRUE(proxy::idempotent("GET"));
  EXPECT_TRUE(proxy::idempotent("PUT"));
  EXPECT_FALSE(proxy::idempotent("POST"));
  EXPECT_FALSE(proxy::idempotent("PATCH"));
}

// Feeds `bytes` split every `step` bytes; returns what happened as text.
std::string parse(const std::string& bytes, size_t step, bool head_request = false,
                  bool close_at_end = false) {
  http::ResponseParser parser;
  parser.expect(head_request);
  std::string out;
  std::vector<http::ResponseParser::Event> events;
  bool extra = false;
  auto note = [&] {
    for (const auto& e : events) {
      if (e.kind == http::ResponseParser::Event::kHead) {
        out += "head " + std::to_string(parser.head().status) +
               (parser.head().content_length
                    ? " length " + std::to_string(*parser.head().content_length)
                    : "") +
               (parser.head().chunked ? " chunked" : "") + ";";
      } else if (e.kind == http::ResponseParser::Event::kBody) {
        out += "body " + std::string(e.body) + ";";
      } else {
        out += std::string("end") + (parser.head().keep_alive ? " keep;" : " close;");
      }
    }
    events.clear();
  };
  for (size_t at = 0; at < bytes.size(); at += step) {
    if (!parser.feed(std::string_view(bytes).substr(at, step), events, extra)) {
      note();
      return out + "error " + parser.error();
    }
    note();
    if (extra) out += "extra;";
  }
  if (close_at_end) {
    if (!parser.finish(events)) {
      note();
      return out + "cut";
    }
    note();
  }
  return out;
}

TEST(ResponseParserTest, HeadsBodiesAndEndsWhateverTheSplit) {
  const std::string length = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  EXPECT_EQ(parse(length, 1000), "head 200 length 5;body hello;end keep;");
  std::string one_at_a_time = parse(length, 1);
  EXPECT_TRUE(one_at_a_time.starts_with("head 200 length 5;body h;body e;")) << one_at_a_time;
  EXPECT_TRUE(one_at_a_time.ends_with("body o;end keep;")) << one_at_a_time;
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 1000),
      "head 200 chunked;body abc;end keep;");
  // Interim responses are skipped; a HEAD's answer has no body; 204 has none either.
  EXPECT_EQ(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 1000),
            "head 204;end keep;");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 1000, true),
            "head 200 length 99;end keep;");
  // Delimited by the close, and what follows an end.
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\nuntil close", 1000, false, true),
            "head 200;body until close;end close;");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", 1000),
            "head 200 length 1;body a;end keep;extra;");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 1000),
            "head 200 length 0;end close;");
}

TEST(ResponseParserTest, AnInterimHeadHasNoBodyWhateverItsFieldsSay) {
  // Found by the response fuzz target: a 1xx with Content-Length had the next head read as
  // its body, and passed on as the response's.
  const std::string bytes =
      "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\nLink: </a.css>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (size_t step : {bytes.size() - 2, bytes.size()}) {  // "ok" in one piece
    EXPECT_EQ(parse(bytes, step), "head 200 length 2;body ok;end keep;") << step;
  }
  EXPECT_EQ(parse(bytes, 1), "head 200 length 2;body o;body k;end keep;");
}

TEST(ResponseParserTest, MalformedCutAndOversizedResponsesAreErrors) {
  EXPECT_TRUE(parse("NOT HTTP\r\n\r\n", 1000).starts_with("error malformed response"));
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1000, false, true),
            "head 200 length 10;body abc;cut");
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 1000).substr(0, 5),
      "error");
  // Found by the response fuzz target: llhttp passes a status line without a status (as
  // 0, which then ended like an interim head) and a field without a name.
  EXPECT_EQ(parse("HTTP/1.1 \nContent-Length: 0\r\n\r\n", 1000),
            "error malformed response (status 0)");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n: no name\r\nContent-Length: 0\r\n\r\n", 1000),
            "error malformed response (a field without a name)");
  const std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(huge, 4096), "error the response head is larger than 64 KiB");
}

TEST(ResponseParserTest, A101ToAnUpgradeEndsTheParseWhereTheTunnelBegins) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  const std::string bytes = head + "\x81\x02hi";
  http::ResponseParser parser;
  parser.expect(false, true);
  std::vector<http::ResponseParser::Event> events;
  bool extra = false;
  ASSERT_TRUE(parser.feed(bytes, events, extra));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, http::ResponseParser::Event::kHead);
  EXPECT_TRUE(parser.upgraded());
  EXPECT_EQ(parser.head().status, 101);
  EXPECT_EQ(parser.consumed(), head.size());
  EXPECT_TRUE(extra);
  // Interim 1xx heads before it are skipped as usual.
  parser.expect(false, true);
  events.clear();
  ASSERT_TRUE(parser.feed("HTTP/1.1 100 Continue\r\n\r\n" + head, events, extra));
  EXPECT_TRUE(parser.upgraded());
  // A 101 nobody asked for is an error (502), not a switch.
  parser.expect(false, false);
  events.clear();
  EXPECT_FALSE(parser.feed(bytes, events, extra));
  EXPECT_FALSE(parser.upgraded());
  EXPECT_EQ(parser.error(), "a 101 (Switching Protocols) to a request that asked for no upgrade");
  // Issue 29: a 101 that names no protocol is no switch (RFC 9110 section 7.8): 502, never a
  // tunnel.
  parser.expect(false, true);
  events.clear();
  EXPECT_FALSE(parser.feed("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n\x81",
                           events, extra));
  EXPECT_FALSE(parser.upgraded());
  EXPECT_EQ(parser.error(), "101 Switching Protocols without an Upgrade header");
  // An upgrade the upstream declines is an ordinary response.
  parser.expect(false, true);
  events.clear();
  ASSERT_TRUE(
      parser.feed("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n", events, extra));
  EXPECT_FALSE(parser.upgraded());
  EXPECT_EQ(events.back().kind, http::ResponseParser::Event::kComplete);
}

TEST(SocketAddressTest, ResolvedAddressesTravelAsLinesAndBadLinesAreRefused) {
  SocketAddress v4;
  auto* in = reinterpret_cast<sockaddr_in*>(&v4.addr);
  in->sin_family = AF_INET;
  in->sin_port = htons(8080);
  inet_pton(AF_INET, "10.0.0.7", &in->sin_addr);
  v4.len = sizeof(sockaddr_in);
  SocketAddress v6;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&v6.addr);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(443);
  inet_pton(AF_INET6, "2001:db8::1", &in6->sin6_addr);
  v6.len = sizeof(sockaddr_in6);
  const std::string lines = encode_address_lines({v4, v6, v4});
  EXPECT_EQ(lines, "4 10.0.0.7 8080\n6 2001:db8::1 443\n4 10.0.0.7 8080\n");
  auto back = decode_address_lines(lines);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), 2u);  // the duplicate dropped
  EXPECT_TRUE((*back)[0] == v4);
  EXPECT_TRUE((*back)[1] == v6);
  EXPECT_EQ(address_text(v6), "[2001:db8::1]:443");
  for (const char* bad : {"4 10.0.0.7 8080", "4 10.0.0.700 80\n", "6 10.0.0.7 80\n",
                          "4 10.0.0.7 0\n", "4 10.0.0.7 65536\n", "x 1.2.3.4 80\n", "4\n"}) {
    EXPECT_FALSE(decode_address_lines(bad)) << bad;
  }
}

UpstreamConfig weighted_group(Balance balance, std::vector<int> weights) {
  UpstreamConfig config;
  config.name = "app";
  config.balance = balance;
  for (size_t i = 0; i < weights.size(); ++i) {
    UpstreamServer s;
    s.text = "10.0.0." + std::to_string(i + 1) + ":80";
    auto* in = reinterpret_cast<sockaddr_in*>(&s.addr);
    in->sin_family = AF_INET;
    s.addr_len = sizeof(sockaddr_in);
    s.weight = weights[i];
    config.servers.push_back(s);
  }
  return config;
}

TEST(UpstreamPoolTest, WeightsShareTheTurnsSmoothlyAndTheLoad) {
  std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
  const auto config = weighted_group(Balance::kRoundRobin, {5, 1, 1});
  proxy::UpstreamPool pool(base.get(), config);
  std::string turns;
  for (int i = 0; i < 14; ++i) turns += static_cast<char>('a' + pool.choose({}));
  EXPECT_EQ(turns, "aabacaaaabacaa");  // five of seven, never five in a row
  // least_outstanding weighs requests in flight by the weights: 3 on a (weight 3) is as
  // loaded as 1 on b (weight 1).
  const auto least = weighted_group(Balance::kLeastOutstanding, {3, 1});
  proxy::UpstreamPool busy(base.get(), least);
  for (int i = 0; i < 2; ++i) busy.started(0);
  busy.started(1);
  EXPECT_EQ(busy.choose({}), 0u);
  busy.started(0);
  busy.started(0);
  EXPECT_EQ(busy.choose({}), 1u);
  // random_two picks in proportion to the weights (an idle a serves 9 in 10; 800 is ten
  // standard deviations away).
  const auto random = weighted_group(Balance::kRandomTwo, {9, 1});
  proxy::UpstreamPool lottery(base.get(), random);
  int first = 0;
  for (int i = 0; i < 1000; ++i) first += lottery.choose({}) == 0 ? 1 : 0;
  EXPECT_GT(first, 800);
}

}  // namespace
}  // namespace shoal

namespace shoal::proxy {
namespace {

// The resend rules (proxy/retry.hpp), each case with the one fact that decides it.
TEST(ProxyRetry, AConnectFailureGoesToAnotherServerForAnyRequest) {
  Failure f;
  f.connect = true;
  f.replayable = true;
  f.retries_left = 1;
  f.elsewhere = true;
  EXPECT_EQ(retry_after(f), Retry::kNextServer);  // a POST too: nothing was sent
  f.retries_left = 0;
  EXPECT_EQ(retry_after(f), Retry::kNo);
  f.retries_left = 1;
  f.elsewhere = false;
  EXPECT_EQ(retry_after(f), Retry::kNo);  // nowhere else to go
}

TEST(ProxyRetry, APooledConnectionClosedUnderTheRequestIsResentToTheSameServer) {
  Failure f;
  f.reused = true;
  f.replayable = true;
  EXPECT_EQ(retry_after(f), Retry::kSameServer);  // even a POST, and with no retries
  f.response_started = true;
  EXPECT_EQ(retry_after(f), Retry::kNo);  // a response byte came: never twice
  f.response_started = false;
  f.replayable = false;
  EXPECT_EQ(retry_after(f), Retry::kNo);  // its body was not all kept
}

TEST(ProxyRetry, AResetOnANewConnectionRetriesOnlyIdempotentRequests) {
  Failure f;
  f.replayable = true;
  f.retries_left = 2;
  f.elsewhere = true;
  EXPECT_EQ(retry_after(f), Retry::kNo);  // a POST may have had its effect
  f.idempotent = true;
  EXPECT_EQ(retry_after(f), Retry::kNextServer);
  f.response_started = true;
  EXPECT_EQ(retry_after(f), Retry::kNo);
}

}  // namespace
}  // namespace shoal::proxy
