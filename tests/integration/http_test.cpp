// HTTP/1.1 connection behaviour against the real server: keep-alive, pipelining, bodies and
// their limits, timeouts, virtual hosts and routes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "harness.hpp"

namespace shoal::test {
namespace {

const char* kConfig =
    "workers: 1\n"
    "limits:\n"
    "  header_timeout: 300ms\n"
    "  keepalive_timeout: 300ms\n"
    "  max_body_bytes: 1k\n"
    "servers:\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: \"default\" }\n"
    "      - match: /a\n"
    "        return: { status: 200, body: \"route a\" }\n"
    "      - match: /a/b\n"
    "        return: { status: 201, body: \"route a/b\" }\n"
    "      - match: /go\n"
    "        return: { status: 302, location: \"https://example.com/\" }\n"
    "      - match: /trace\n"
    "        trace: true\n"
    "        return: { status: 200, body: \"traced\" }\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    server_names: [b.test, \"*.wild.test\"]\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: \"server b\" }\n";

class HttpTest : public ::testing::Test {
 protected:
  ShoalServer server_{kConfig};
};

TEST_F(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpClient client(server_.port());
  for (int i = 0; i < 3; ++i) {
    client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "route a");
    EXPECT_TRUE(r->keep_alive);
  }
}

TEST_F(HttpTest, Http10ClosesUnlessKeepAliveIsAsked) {
  {
    HttpClient client(server_.port());
    client.send("GET /a HTTP/1.0\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(client.closed_by_peer());
  }
  HttpClient client(server_.port());
  client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "keep-alive");
  client.send("GET /a/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(client.read_response()->status, 201);
}

TEST_F(HttpTest, PipelinedRequestsAreAnsweredInOrder) {
  HttpClient client(server_.port());
  client.send(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /zzz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.read_response()->body, "route a");
  EXPECT_EQ(client.read_response()->body, "route a/b");
  EXPECT_EQ(client.read_response()->body, "route a");
  auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "default");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpTest, ManyPipelinedRequestsAllGetAnswers) {
  HttpClient client(server_.port());
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += "GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n";
  client.send(burst);
  for (int i = 0; i < 200; ++i) {
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 201) << i;
  }
}

TEST_F(HttpTest, LongestPrefixOnSegmentBoundaries) {
  EXPECT_EQ(get(server_.port(), "/a")->body, "route a");
  EXPECT_EQ(get(server_.port(), "/a/x")->body, "route a");
  EXPECT_EQ(get(server_.port(), "/a/b/c")->body, "route a/b");
  EXPECT_EQ(get(server_.port(), "/ab")->body, "default");
}

TEST_F(HttpTest, ReturnRouteRedirects) {
  auto r = get(server_.port(), "/go");
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->header("Location"), "https://example.com/");
}

TEST_F(HttpTest, VirtualHostsByHostHeader) {
  EXPECT_EQ(get(server_.port(), "/", {})->body, "default");
  HttpClient client(server_.port());
  client.send("GET / HTTP/1.1\r\nHost: B.Test:8080\r\n\r\n");
  EXPECT_EQ(client.read_response()->body, "server b");
  client.send("GET / HTTP/1.1\r\nHost: x.wild.test\r\n\r\n");
  EXPECT_EQ(client.read_response()->body, "server b");
  client.send("GET / HTTP/1.1\r\nHost: other.test\r\n\r\n");
  EXPECT_EQ(client.read_response()->body, "default");
  client.send("GET http://b.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n");
  EXPECT_EQ(client.read_response()->body, "server b");
}

TEST_F(HttpTest, MissingHostIn11Is400AndCloses) {
  HttpClient client(server_.port());
  client.send("GET /a HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpTest, ChunkedAndSizedBodiesAreRead) {
  HttpClient client(server_.port());
  client.send(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read_response()->status, 200);
  EXPECT_EQ(client.read_response()->status, 201);
}

TEST_F(HttpTest, BodyOverTheLimitIs413) {
  {
    HttpClient client(server_.port());
    client.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->header("Connection"), "close");
  }
  HttpClient client(server_.port());
  std::string chunk(600, 'x');
  client.send("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
              "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpTest, ExpectContinueGets100BeforeTheBody) {
  HttpClient client(server_.port());
  client.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  // read_response skips the interim 100 only after it arrived; the body is sent afterwards.
  client.send("hello");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "route a");
}

TEST_F(HttpTest, HeaderTimeoutAnswers408AndCloses) {
  HttpClient client(server_.port());
  client.send("GET /a HTTP/1.1\r\nHost: x\r\n");  // the head never ends
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpTest, IdleKeepAliveConnectionIsClosedAfterTheTimeout) {
  HttpClient client(server_.port());
  client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_peer());
}

// RFC 9112 section 2.3: a request line without a version is answered 400 when the line ends,
// not after a header section (the fixture's header_timeout would make that a 408), and not 505.
TEST_F(HttpTest, ARequestLineWithoutAVersionIs400AtOnce) {
  for (const char* wire : {"GET /\r\n", "GET /a\r\n\r\n"}) {
    HttpClient client(server_.port());
    client.send(wire);
    auto r = client.read_response(false, 5s);
    ASSERT_TRUE(r) << wire;
    EXPECT_EQ(r->status, 400) << wire;
    EXPECT_TRUE(client.closed_by_peer());
  }
}

// RFC 9110 section 13.1.2: "*" matches any current representation, a return route's body too.
TEST_F(HttpTest, IfNoneMatchStarOnAReturnRouteIs304) {
  auto star = get(server_.port(), "/a", {{"If-None-Match", "*"}});
  ASSERT_TRUE(star);
  EXPECT_EQ(star->status, 304);
  EXPECT_EQ(star->body, "");
  auto head = get(server_.port(), "/a", {{"If-None-Match", "*"}}, "HEAD");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 304);
  auto post = get(server_.port(), "/a", {{"If-None-Match", "*"}, {"Content-Length", "0"}}, "POST");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 412);
  // No ETag of its own: a tag never matches it, "*" in If-Match does.
  auto tag = get(server_.port(), "/a", {{"If-None-Match", "\"abc\""}});
  EXPECT_EQ(tag->status, 200);
  EXPECT_EQ(tag->body, "route a");
  EXPECT_EQ(get(server_.port(), "/a", {{"If-Match", "\"abc\""}})->status, 412);
  EXPECT_EQ(get(server_.port(), "/a", {{"If-Match", "*"}})->status, 200);
  // No Last-Modified: date conditions are ignored.
  EXPECT_EQ(
      get(server_.port(), "/a", {{"If-Modified-Since", "Sun, 06 Nov 2094 08:49:37 GMT"}})->status,
      200);
  // Conditions apply to 2xx only: a redirect stays one.
  EXPECT_EQ(get(server_.port(), "/go", {{"If-None-Match", "*"}})->status, 302);
}

// RFC 9110 section 9.3.8: TRACE echoes credentials; refused as nginx does, unless opted in.
TEST_F(HttpTest, TraceIs405UnlessTheRouteOptsIn) {
  for (const char* path : {"/a", "/", "/a/b"}) {
    auto r = get(server_.port(), path, {}, "TRACE");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 405) << path;
    EXPECT_NE(r->header("Allow").find("GET"), std::string::npos);
    EXPECT_EQ(r->header("Allow").find("TRACE"), std::string::npos);
  }
  auto allowed = get(server_.port(), "/trace", {}, "TRACE");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(allowed->body, "traced");
}

TEST_F(HttpTest, GarbageGets400) {
  HttpClient client(server_.port());
  client.send("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpTest, OversizedHeadersGet431AndLongTargets414) {
  {
    HttpClient client(server_.port());
    client.send("GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(client.read_response()->status, 431);
  }
  HttpClient client(server_.port());
  client.send("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read_response()->status, 414);
}

TEST_F(HttpTest, AccessLogHasCombinedLines) {
  ASSERT_EQ(get(server_.port(), "/a/b", {{"User-Agent", "test-agent/1"}, {"Referer", "r"}})->status,
            201);
  EXPECT_TRUE(wait_until([&] {
    return read_file(server_.dir() / "access.log")
               .find("\"GET /a/b HTTP/1.1\" 201 9 \"r\" \"test-agent/1\"") != std::string::npos;
  }));
}

TEST_F(HttpTest, AccessLogNamesTheBasicUserAndTheRawLineOfABadRequest) {
  ASSERT_EQ(get(server_.port(), "/a", {{"Authorization", "Basic YWxpY2U6c2VjcmV0"}})->status, 200);
  HttpClient client(server_.port());
  client.send("GET /x HTTP/1\r\nHost: x\r\n\r\n");  // malformed version: 400
  EXPECT_EQ(client.read_response()->status, 400);
  std::string log;
  EXPECT_TRUE(wait_until([&] {
    log = read_file(server_.dir() / "access.log");
    return log.find("\" 400 ") != std::string::npos;
  }));
  EXPECT_NE(log.find("127.0.0.1 - alice ["), std::string::npos) << log;
  EXPECT_NE(log.find("\"GET /x HTTP/1\" 400 "), std::string::npos) << log;
}

}  // namespace
}  // namespace shoal::test

namespace shoal::test {
namespace {

// How many sockets the worker has parked: the entries of its epolls that watch for a peer's
// hang-up (EPOLLRDHUP, 0x2000 in fdinfo's events), which only the idle park asks for.
int parked_in(pid_t worker) {
  int parked = 0;
  const std::string dir = "/proc/" + std::to_string(worker) + "/fdinfo";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string info = read_file(entry.path().string());
    for (size_t at = info.find("events:"); at != std::string::npos;
         at = info.find("events:", at + 1)) {
      const unsigned long events = std::strtoul(info.c_str() + at + 7, nullptr, 16);
      if (events & 0x2000) ++parked;
    }
  }
  return parked;
}

std::string parking_config(const std::string& keepalive) {
  return "workers: 1\n"
         "limits: { keepalive_timeout: " +
         keepalive +
         " }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /\n"
         "        return: { status: 200, body: \"awake\" }\n";
}

// Issue 30: a keep-alive connection idle for a second gives back its libevent event and waits
// on the worker's idle park; a request wakes it, and a parked one still sees its client leave.
TEST(IdleParkTest, AnIdleConnectionIsParkedAndWokenByItsNextRequest) {
  ShoalServer server(parking_config("60s"));
  const pid_t worker = server.children().at(0);
  HttpClient client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_response());
  ASSERT_TRUE(wait_until([&] { return parked_in(worker) == 1; })) << "never parked";
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // wakes it
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "awake");
  ASSERT_TRUE(wait_until([&] { return parked_in(worker) == 1; }));  // parked again
  {
    HttpClient second(server.port());
    second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(second.read_response());
    ASSERT_TRUE(wait_until([&] { return parked_in(worker) == 2; }));
  }  // the second client leaves: the worker sees the hang-up and lets it go
  EXPECT_TRUE(wait_until([&] { return parked_in(worker) == 1; }));
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // and the first still answers
  r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "awake");
}

TEST(IdleParkTest, AParkedConnectionStillTimesOut) {
  ShoalServer server(parking_config("4s"));
  const pid_t worker = server.children().at(0);
  HttpClient client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_response());
  ASSERT_TRUE(wait_until([&] { return parked_in(worker) == 1; }));
  EXPECT_TRUE(client.closed_by_peer(10s));
  EXPECT_TRUE(wait_until([&] { return parked_in(worker) == 0; }));
}

}  // namespace
}  // namespace shoal::test
