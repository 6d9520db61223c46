// RequestParser against RFC 9112 sections 2-7 and RFC 9110 section 5: one case per MUST about
// received requests (the table in src/DESIGN.md names these tests). Each case is the whole wire
// text; the expected outcome is a status, or 0 with the number of requests it must yield.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/path.hpp"
#include "http/request_parser.hpp"

namespace shoal::http {
namespace {

struct Outcome {
  int status = 0;       // 0: no error
  size_t requests = 0;  // complete messages before the error (or in all)
};

Outcome parse(std::string_view wire) {
  Limits limits;
  RequestParser parser(limits);
  Outcome out;
  bool again = false;
  while (!wire.empty() || again) {
    auto r = parser.feed(wire);
    wire.remove_prefix(r.consumed);
    again = r.event == ParseEvent::kHeadComplete;
    if (r.event == ParseEvent::kMessageComplete) ++out.requests;
    if (r.event == ParseEvent::kError) {
      out.status = parser.error_status();
      break;
    }
    if (r.event == ParseEvent::kNeedMore && r.consumed == 0) break;
  }
  return out;
}

// The same bytes fed one at a time must give the same outcome: a check that depends on how the
// bytes arrived would be a smuggling hole of its own.
Outcome parse_bytewise(std::string_view wire) {
  Limits limits;
  RequestParser parser(limits);
  Outcome out;
  for (size_t i = 0; i < wire.size(); ++i) {
    std::string_view piece = wire.substr(i, 1);
    bool again = true;
    while (!piece.empty() || again) {
      auto r = parser.feed(piece);
      piece.remove_prefix(r.consumed);
      again = r.event == ParseEvent::kHeadComplete;
      if (r.event == ParseEvent::kMessageComplete) ++out.requests;
      if (r.event == ParseEvent::kError) {
        out.status = parser.error_status();
        return out;
      }
      if (r.event == ParseEvent::kNeedMore) break;
    }
  }
  return out;
}

void expect_status(std::string_view wire, int status) {
  SCOPED_TRACE(::testing::Message() << "wire: " << ::testing::PrintToString(std::string(wire)));
  EXPECT_EQ(parse(wire).status, status);
  EXPECT_EQ(parse_bytewise(wire).status, status) << "fed one byte at a time";
}

void expect_ok(std::string_view wire, size_t requests = 1) {
  SCOPED_TRACE(::testing::Message() << "wire: " << ::testing::PrintToString(std::string(wire)));
  auto whole = parse(wire);
  EXPECT_EQ(whole.status, 0);
  EXPECT_EQ(whole.requests, requests);
  auto bytewise = parse_bytewise(wire);
  EXPECT_EQ(bytewise.status, 0) << "fed one byte at a time";
  EXPECT_EQ(bytewise.requests, requests) << "fed one byte at a time";
}

const std::string kGet = "GET / HTTP/1.1\r\n";

// RFC 9112 section 2.2: a bare CR is invalid everywhere; it must never end a line.
TEST(Rfc9112, BareCrIsRefused) {
  // The smuggling shape: a bare CR after the fields must not end the head.
  expect_status(
      "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\rXGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/1.1\r\nHost: example.com\r\n\rSome-Header: Test\r\n\r\n", 400);
  expect_status("GET / HTTP/1.1\rHost: x\r\n\r\n", 400);    // in the request line
  expect_status(kGet + "Host: x\r\nX: a\rb\r\n\r\n", 400);  // in a field value
  expect_status(kGet + "Host: x\r\nX: a\r\r\n\r\n", 400);   // before CRLF
  expect_status(kGet + "Host: x\rY: b\r\n\r\n", 400);       // ending a field line
  expect_status(kGet + "Host: x\r\nX\r: a\r\n\r\n", 400);   // in a field name
  expect_status(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\rabc\r\n0\r\n\r\n",
      400);  // after a chunk size
  expect_status(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\rX0\r\n\r\n",
      400);  // after chunk data
}

// RFC 9112 section 2.2: whitespace between the start-line and the first field line.
TEST(Rfc9112, WhitespaceBeforeTheFirstFieldIsRefused) {
  expect_status(kGet + " Host: x\r\n\r\n", 400);
  expect_status(kGet + "\tHost: x\r\n\r\n", 400);
}

// RFC 9112 section 2.3: a request line without a version (HTTP/0.9's form) is no request; it
// is refused as soon as the line ends, not after a header section that never comes. The
// parser has said 400 before any further byte arrives.
TEST(Rfc9112, ARequestLineWithoutAVersionIs400AtItsEnd) {
  expect_status("GET /\r\n", 400);
  expect_status("GET /\r\n\r\n", 400);
  expect_status("GET /index.html\n", 400);
  Limits limits;
  RequestParser parser(limits);
  auto first = parser.feed(kGet + "Host: x\r\n\r\n");
  ASSERT_EQ(first.event, ParseEvent::kHeadComplete);
  ASSERT_EQ(parser.feed({}).event, ParseEvent::kMessageComplete);
  // The second request on the same parser: one that came after a 1.1 request is caught too.
  auto second = parser.feed("GET /\r\n");
  EXPECT_EQ(second.event, ParseEvent::kError);
  EXPECT_EQ(parser.error_status(), 400);
}

// RFC 9112 section 2.2: empty lines before a request-line are ignored (SHOULD).
TEST(Rfc9112, EmptyLinesBeforeTheRequestLineAreIgnored) {
  expect_ok("\r\n" + kGet + "Host: x\r\n\r\n");
}

// RFC 9112 section 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT; 505 only for a well-formed
// version whose major is not 1.
TEST(Rfc9112, MalformedVersionIs400AndOtherMajorsAre505) {
  expect_status("GET / HTTP/1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/01.01\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/ 1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/1.1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / http/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/a.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
  expect_status("GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505);
  expect_status("GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505);
  expect_status("GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505);
  // RFC 9110 section 2.5: a higher minor of a major we implement is served as 1.1.
  expect_ok("GET / HTTP/1.2\r\nHost: x\r\n\r\n");
  expect_ok("GET / HTTP/1.0\r\n\r\n");
  expect_ok("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

// RFC 9112 section 3: request-line = method SP request-target SP HTTP-version, one SP each.
TEST(Rfc9112, RequestLineSeparatorsAreSingleSpaces) {
  expect_status("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400);
  expect_status("get / HTTP/1.1\r\nHost: x\r\n\r\n", 400);  // methods are case-sensitive
}

// RFC 9112 section 3.2: no whitespace in the request-target; it is ASCII (RFC 3986).
TEST(Rfc9112, RequestTargetIsVisibleAscii) {
  expect_status("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET /\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  static constexpr char kNulTarget[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_status(std::string(kNulTarget, sizeof kNulTarget - 1), 400);
  expect_ok("GET /caf%C3%A9?q=a&b=%20#frag HTTP/1.1\r\nHost: x\r\n\r\n");
}

// RFC 9112 section 3.2: asterisk-form is for OPTIONS only, authority-form for CONNECT only.
TEST(Rfc9112, RequestTargetFormMatchesTheMethod) {
  expect_status("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_status("GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect_ok("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  expect_ok("GET http://example.com/a HTTP/1.1\r\nHost: x\r\n\r\n");
}

// RFC 9112 section 3.2.2: absolute-form's authority replaces Host, so it obeys Host's rules.
TEST(Rfc9112, AbsoluteFormAuthorityIsAValidHost) {
  EXPECT_TRUE(parse_target("http://example.com:8080/a"));
  EXPECT_FALSE(parse_target("http://user@example.com/a"));
  EXPECT_FALSE(parse_target("http://a,b/"));
  EXPECT_FALSE(parse_target("http:///a"));
}

// RFC 9112 section 3.2 and RFC 9110 section 7.2: exactly one Host, with a valid value.
TEST(Rfc9112, HostMustBeOneValidAuthority) {
  expect_status("GET / HTTP/1.1\r\n\r\n", 400);
  expect_status(kGet + "Host: a\r\nHost: b\r\n\r\n", 400);
  expect_status("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_status(kGet + "Host:\r\n\r\n", 400);
  expect_status(kGet + "Host: \r\n\r\n", 400);
  expect_status(kGet + "Host: example.com/path\r\n\r\n", 400);
  expect_status(kGet + "Host: a, b\r\n\r\n", 400);
  expect_status(kGet + "Host: a,b\r\n\r\n", 400);
  expect_status(kGet + "Host: user@example.com\r\n\r\n", 400);
  expect_status(kGet + "Host: example.com:80x\r\n\r\n", 400);
  expect_status(kGet + "Host: example.com:99999999\r\n\r\n", 400);
  expect_status(kGet + "Host: exa mple.com\r\n\r\n", 400);
  expect_status(kGet + "Host: [::1\r\n\r\n", 400);
  expect_status(kGet + "Host: example.com?\r\n\r\n", 400);
  expect_status(kGet + "Host: example.com#\r\n\r\n", 400);
  expect_ok(kGet + "Host: example.com\r\n\r\n");
  expect_ok(kGet + "Host: EXAMPLE.com.:8080\r\n\r\n");
  expect_ok(kGet + "Host: 127.0.0.1:80\r\n\r\n");
  expect_ok(kGet + "Host: [::1]:8080\r\n\r\n");
  expect_ok(kGet + "Host: [::1]\r\n\r\n");
  expect_ok(kGet + "Host: xn--caf-dma.example\r\n\r\n");
  expect_ok(kGet + "Host: example.com:\r\n\r\n");  // port = *DIGIT
}

// RFC 9112 section 5.1: no whitespace between a field name and its colon.
TEST(Rfc9112, WhitespaceBeforeTheColonIsRefused) {
  expect_status(kGet + "Host: x\r\nX-Test : value\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX-Test\t: value\r\n\r\n", 400);
  expect_status(kGet + "Host : x\r\n\r\n", 400);
}

// RFC 9110 section 5.1: a field name is a token: not empty, no space, no separators.
TEST(Rfc9110, FieldNamesAreTokens) {
  expect_status(kGet + "Host: x\r\n: empty-name\r\n\r\n", 400);
  expect_status(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
      "Transfer Encoding: chunked\r\n\r\nabc",
      400);
  expect_status(kGet + "Host: x\r\nX(y): v\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX/y: v\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX\"y: v\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX\x7fy: v\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX\xc3\xa9: v\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nNo-colon\r\n\r\n", 400);
  expect_ok(kGet + "Host: x\r\nX-a!#$%&'*+.^_`|~09: v\r\n\r\n");
}

// RFC 9112 section 5.2: obs-fold is refused with 400 (a server in front of others).
TEST(Rfc9112, ObsFoldIsRefused) {
  expect_status(kGet + "Host: x\r\nX-Test: value\r\n continued\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX-Test: value\r\n\tcontinued\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX-Test:\r\n continued\r\n\r\n", 400);
}

// RFC 9110 section 5.5: CR, LF and NUL in a value are refused; other controls too (MAY
// retain; we do not). HTAB and obs-text are allowed.
TEST(Rfc9110, FieldValuesCarryNoControls) {
  static constexpr char kNul[] = "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n";
  expect_status(std::string(kNul, sizeof kNul - 1), 400);
  expect_status(kGet + "Host: x\r\nX: a\x01z\r\n\r\n", 400);
  expect_status(kGet + "Host: x\r\nX: a\x7fz\r\n\r\n", 400);
  expect_ok(kGet + "Host: x\r\nX: a\tb \xe9t\xc3\xa9\r\n\r\n");
}

// RFC 9110 section 5.5: leading and trailing whitespace is not part of a value.
TEST(Rfc9110, ValuesLoseSurroundingWhitespace) {
  Limits limits;
  RequestParser parser(limits);
  auto r = parser.feed(kGet + "Host:  \t x \t \r\nX:\t a b \r\n\r\n");
  ASSERT_EQ(r.event, ParseEvent::kHeadComplete);
  EXPECT_EQ(*parser.request().header("Host"), "x");
  EXPECT_EQ(*parser.request().header("X"), "a b");
}

// RFC 9112 section 6.1 and 6.3: framing that is ambiguous or unknown is refused.
TEST(Rfc9112, AmbiguousFramingIsRefused) {
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\n";
  // Transfer-Encoding beside Content-Length, even an empty one.
  expect_status(post + "Transfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc", 400);
  expect_status(post + "Content-Length: 3\r\nTransfer-Encoding: \r\n\r\nabc", 400);
  expect_status(post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  // Chunked must be the final coding, once.
  expect_status(post + "Transfer-Encoding:\r\n\r\n", 400);
  expect_status(post + "Transfer-Encoding: ,\r\n\r\n", 400);
  expect_status(post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400);
  expect_status(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  expect_status(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  expect_status(post + "Transfer-Encoding: xchunked\r\n\r\n", 501);
  expect_status(post + "Transfer-Encoding: chunked;q=1\r\n\r\n", 400);
  // HTTP/1.0 has no transfer codings (RFC 9112 section 6.1: faulty framing).
  expect_status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  // Content-Length: one value of digits.
  expect_status(post + "Content-Length: 3, 3\r\n\r\nabc", 400);
  expect_status(post + "Content-Length: +3\r\n\r\nabc", 400);
  expect_status(post + "Content-Length: 3 3\r\n\r\nabc", 400);
  expect_status(post + "Content-Length:\r\n\r\n", 400);
  expect_status(post + "Content-Length: 99999999999999999999999\r\n\r\n", 400);
  expect_ok(post + "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n");
  expect_ok(post + "Content-Length: 3\r\n\r\nabc");
}

// RFC 9112 section 7.1: chunk sizes are hex with nothing before them; lines end in CRLF.
TEST(Rfc9112, ChunkedFramingIsExact) {
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  expect_status(post + " 3\r\nabc\r\n0\r\n\r\n", 400);
  expect_status(post + "0x3\r\nabc\r\n0\r\n\r\n", 400);
  expect_status(post + "3\r\nabcX\r\n0\r\n\r\n", 400);
  expect_status(post + "3\r\nabc0\r\n\r\n", 400);
  expect_status(post + "ffffffffffffffffff\r\n", 400);
  expect_status(post + "3;a=\"b\rc\"\r\nabc\r\n0\r\n\r\n", 400);
  expect_ok(post + "3;name=value\r\nabc\r\n0\r\n\r\n");
  expect_ok(post + "3;name\r\nabc\r\n0\r\n\r\n");
  expect_ok(post + "3;name=\"quoted value\"\r\nabc\r\n0\r\n\r\n");
  // llhttp 8.1 (Debian 12) refuses a second extension and whitespace around ";" although
  // RFC 9112 section 7.1.1 allows both: refused, never misread (the DESIGN table lists it).
  expect_status(post + "3;a=b;c\r\nabc\r\n0\r\n\r\n", 400);
  expect_status(post + "3 ;a=b\r\nabc\r\n0\r\n\r\n", 400);
  expect_ok(post + "3\r\nabc\r\n0\r\nTrailer: t\r\n\r\n");
  expect_status(post + "3\r\nabc\r\n0\r\nBad Trailer: t\r\n\r\n", 400);
}

// A request whose head fails is the last one: nothing behind it is answered.
TEST(Rfc9112, NothingAfterAnErrorIsParsed) {
  auto out = parse(
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: x\r\nX : y\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.requests, 1u);
  EXPECT_EQ(out.status, 400);
}

}  // namespace
}  // namespace shoal::http
