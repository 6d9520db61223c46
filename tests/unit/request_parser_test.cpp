// RequestParser: heads, bodies, pipelining, bytes split across reads, and limits as statuses.
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

Limits small_limits() {
  Limits limits;
  limits.max_header_bytes = 1024;
  limits.max_body_bytes = 100;
  return limits;
}

// Feeds all of `data`, collecting events; stops at an error.
struct Run {
  std::vector<ParseEvent> events;
  std::vector<Request> requests;
  std::vector<std::string> lines;  // request_line() at each message's end or at the error
  int error = 0;
};

Run run(RequestParser& parser, std::string_view data) {
  Run out;
  bool again = false;
  while (!data.empty() || again) {
    auto r = parser.feed(data);
    data.remove_prefix(r.consumed);
    again = r.event == ParseEvent::kHeadComplete;
    if (r.event != ParseEvent::kNeedMore) out.events.push_back(r.event);
    if (r.event == ParseEvent::kMessageComplete) {
      out.requests.push_back(parser.request());
      out.lines.emplace_back(parser.request_line());
    }
    if (r.event == ParseEvent::kError) {
      out.lines.emplace_back(parser.request_line());
      out.error = parser.error_status();
      break;
    }
  }
  return out;
}

TEST(RequestParser, ParsesAHead) {
  Limits limits = small_limits();
  RequestParser parser(limits);
  auto r = run(parser, "GET /a?b HTTP/1.1\r\nHost: x\r\nX-Two: 1\r\nx-two: 2\r\n\r\n");
  ASSERT_EQ(r.requests.size(), 1u);
  const auto& req = r.requests[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/a?b");
  EXPECT_EQ(req.http_minor, 1);
  EXPECT_TRUE(req.keep_alive);
  EXPECT_FALSE(req.has_body);
  EXPECT_EQ(*req.header("x-TWO"), "1");
  EXPECT_EQ(req.header_count("X-Two"), 2u);
  EXPECT_EQ(req.header("Missing"), nullptr);
  EXPECT_FALSE(parser.in_message());
}

TEST(RequestParser, StopsAfterEachPipelinedMessage) {
  Limits limits = small_limits();
  RequestParser parser(limits);
  auto r = run(parser,
               "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
               "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
               "GET /3 HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_EQ(r.requests[0].target, "/1");
  EXPECT_EQ(r.requests[1].target, "/2");
  EXPECT_EQ(r.requests[1].body_bytes, 3u);
  EXPECT_TRUE(r.requests[1].has_body);
  EXPECT_EQ(r.requests[2].target, "/3");
  EXPECT_FALSE(r.requests[2].keep_alive);
}

// The access log's $request and the error log's request: the line as it arrived.
TEST(RequestParser, KeepsTheRequestLineAsReceived) {
  Limits limits = small_limits();
  {
    RequestParser parser(limits);
    auto r = run(parser,
                 "\r\nGET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "POST /2 HTTP/1.2\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(r.lines, (std::vector<std::string>{"GET /1 HTTP/1.1", "POST /2 HTTP/1.2"}));
  }
  {
    RequestParser parser(limits);  // a bad request line: what was sent, up to its line end
    auto r = run(parser, "GET /x HTTP/1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.error, 400);
    EXPECT_EQ(r.lines, (std::vector<std::string>{"GET /x HTTP/1"}));
  }
  {
    RequestParser parser(limits);  // a bad header after a good line
    auto r = run(parser, "GET /y HTTP/1.1\r\nBad Name: 1\r\n\r\n");
    EXPECT_EQ(r.error, 400);
    EXPECT_EQ(r.lines, (std::vector<std::string>{"GET /y HTTP/1.1"}));
  }
  {
    RequestParser parser(limits);  // a bare CR ends the captured line, as it ends nothing else
    auto r = run(parser, "GET / HTTP/1.1\rHost: x\r\n\r\n");
    EXPECT_EQ(r.lines, (std::vector<std::string>{"GET / HTTP/1.1"}));
  }
  {
    RequestParser parser(limits);  // a bare LF ends it too, even with a CR later in the bytes
    auto r = run(parser, "GET /lf HTTP/1.1\nHost: x\r\n\r\n");
    EXPECT_EQ(r.lines, (std::vector<std::string>{"GET /lf HTTP/1.1"}));
  }
  {
    RequestParser parser(limits);  // byte by byte
    const std::string wire = "GET /split HTTP/1.1\r\nHost: x\r\n\r\n";
    for (char c : wire) parser.feed(std::string_view(&c, 1));
    EXPECT_EQ(parser.request_line(), "GET /split HTTP/1.1");
  }
  {
    Limits big = small_limits();  // a line too long for the log is cut, not kept whole
    big.max_header_bytes = 64 * 1024;
    RequestParser parser(big);
    const std::string target(RequestParser::kMaxLoggedLine * 2, 'a');
    run(parser, "GET /" + target + " HTTP/1.1\r\n\r\n");
    EXPECT_EQ(parser.request_line().size(), RequestParser::kMaxLoggedLine);
  }
}

TEST(RequestParser, BytesMaySplitAnywhere) {
  const std::string wire =
      "POST /upload HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  for (size_t step = 1; step < 8; ++step) {
    Limits limits = small_limits();
    RequestParser parser(limits);
    std::vector<Request> done;
    for (size_t i = 0; i < wire.size(); i += step) {
      auto r = run(parser, std::string_view(wire).substr(i, step));
      ASSERT_EQ(r.error, 0);
      for (auto& req : r.requests) done.push_back(req);
    }
    ASSERT_EQ(done.size(), 1u) << step;
    EXPECT_EQ(done[0].target, "/upload");
    EXPECT_EQ(*done[0].header("host"), "example");
    EXPECT_EQ(done[0].body_bytes, 9u);
    EXPECT_FALSE(done[0].keep_alive);
  }
}

TEST(RequestParser, Http10KeepAlive) {
  Limits limits = small_limits();
  RequestParser parser(limits);
  auto r = run(parser, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_TRUE(r.requests[0].keep_alive);
  EXPECT_EQ(r.requests[0].http_minor, 0);
}

TEST(RequestParser, LimitsBecomeStatuses) {
  Limits limits = small_limits();
  {
    RequestParser parser(limits);
    EXPECT_EQ(run(parser, "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n").error, 414);
  }
  {
    RequestParser parser(limits);
    EXPECT_EQ(run(parser, "GET / HTTP/1.1\r\nHost: x\r\nBig: " + std::string(2000, 'a')).error,
              431);
  }
  {
    RequestParser parser(limits);
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 150; ++i) many += "A:\r\n";
    EXPECT_EQ(run(parser, many).error, 431);
  }
  {
    RequestParser parser(limits);
    EXPECT_EQ(run(parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n").error, 413);
  }
  {
    RequestParser parser(limits);
    EXPECT_EQ(run(parser,
                  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "65\r\n" +
                      std::string(101, 'x') + "\r\n0\r\n\r\n")
                  .error,
              413);
  }
}

TEST(RequestParser, MalformedRequests) {
  Limits limits = small_limits();
  auto error = [&](const std::string& wire) {
    RequestParser parser(limits);
    return run(parser, wire).error;
  };
  EXPECT_EQ(error("GET / HTTP/1.1\r\n\r\n"), 400);                        // no Host
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);  // two Hosts
  EXPECT_EQ(error("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(error("\x16\x03\x01garbage\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
  EXPECT_EQ(error("GET / HTTP/1.0\r\n\r\n"), 0);  // 1.0 needs no Host
}

TEST(RequestParser, ObsFoldIsRefused) {
  // RFC 9112 section 5.2 lets a server replace obs-fold with SP or refuse it; in front of other
  // servers we refuse, as nginx does (more shapes in request_conformance_test.cpp).
  Limits limits = small_limits();
  RequestParser parser(limits);
  auto r = run(parser, "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n");
  EXPECT_TRUE(r.requests.empty());
  EXPECT_EQ(r.error, 400);
}

TEST(RequestParser, SmugglingShapesAreRefused) {
  Limits limits = small_limits();
  auto error = [&](const std::string& wire) {
    RequestParser parser(limits);
    return run(parser, wire).error;
  };
  const std::string post = "POST / HTTP/1.1\r\nHost: a\r\n";
  EXPECT_EQ(error(post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(error(post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), 400);
  EXPECT_EQ(error(post + "Content-Length: -3\r\n\r\n"), 400);
  EXPECT_EQ(error(post + "Content-Length: 3x\r\n\r\n"), 400);
  EXPECT_EQ(error(post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);  // bad chunk size
  EXPECT_EQ(error(post + "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400);  // chunked not last
  EXPECT_EQ(error(post + "Transfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(error(post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 501);
  EXPECT_EQ(error(post + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 0);
}

}  // namespace
}  // namespace shoal::http
