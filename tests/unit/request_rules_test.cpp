// request_rules: Host syntax, version syntax, framing verdicts and the raw head scanner, each
// without a parser (request_conformance_test.cpp drives them through RequestParser).
#include "http/request_rules.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

TEST(RequestRules, HostIsOneAuthority) {
  for (const char* good : {"example.com", "a", "EXAMPLE.COM.", "example.com:8080", "x:", "1.2.3.4",
                           "[::1]", "[::1]:80", "[2001:db8::7]:65535", "[v1.fe:x]", "a%41b",
                           "xn--caf-dma", "a_b~c!$&'()*+;="}) {
    EXPECT_TRUE(valid_host(good)) << good;
  }
  for (const char* bad :
       {"",      ":80",   "a,b",    "a, b",  "a b",         "user@host", "host/path", "host?",
        "host#", "[::1",  "[::1]x", "[::g]", "[]",          "[v.x]",     "a:65536",   "a:123456",
        "a:8o",  "a:1:2", "%4",     "%zz",   "caf\xc3\xa9", "a\tb"}) {
    EXPECT_FALSE(valid_host(bad)) << bad;
  }
}

TEST(RequestRules, VersionDigits) {
  EXPECT_FALSE(check_version("1.1"));
  EXPECT_FALSE(check_version("1.0"));
  EXPECT_FALSE(check_version("1.2"));
  EXPECT_EQ(check_version("2.0").status, 505);
  EXPECT_EQ(check_version("0.9").status, 505);
  for (const char* bad : {"", "1", "1.", "11", "1.10", "a.1", "1,1", "01."}) {
    EXPECT_EQ(check_version(bad).status, 400) << bad;
  }
}

Request with_fields(int minor, std::initializer_list<Header> fields) {
  Request r;
  r.http_minor = minor;
  r.headers = fields;
  return r;
}

TEST(RequestRules, FramingVerdicts) {
  auto status = [](int minor, std::initializer_list<Header> fields) {
    return check_framing(with_fields(minor, fields)).status;
  };
  EXPECT_EQ(status(1, {}), 0);
  EXPECT_EQ(status(1, {{"Content-Length", "3"}}), 0);
  EXPECT_EQ(status(1, {{"transfer-encoding", "chunked"}}), 0);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", " , chunked ,"}}), 0);  // empty elements
  EXPECT_EQ(status(1, {{"Transfer-Encoding", ""}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", ""}, {"Content-Length", "3"}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}}), 400);
  EXPECT_EQ(status(0, {{"Transfer-Encoding", "chunked"}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "chunked, chunked"}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "chunked ; x=1"}}), 400);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "gzip"}}), 501);
  EXPECT_EQ(status(1, {{"Transfer-Encoding", "gzip, chunked"}}), 501);
}

TEST(RequestRules, AsteriskFormOnlyForOptions) {
  EXPECT_FALSE(check_target_form("OPTIONS", "*"));
  EXPECT_FALSE(check_target_form("GET", "/"));
  EXPECT_EQ(check_target_form("GET", "*").status, 400);
}

TEST(RequestRules, HeadScannerSeesLineEndsAcrossPieces) {
  auto scan_pieces = [](std::initializer_list<std::string_view> pieces) {
    HeadScanner scanner;
    for (auto piece : pieces) {
      if (auto verdict = scanner.scan(piece)) return verdict.status;
    }
    return 0;
  };
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\r\nHost: x\r\n\r\n"}), 0);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\r", "\nHost: x\r\n", "\r\n"}), 0);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\r\n", "Host: x\r\n"}), 0);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\n"}), 400);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1", "\nHost: x"}), 400);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\r\n", " Host: x"}), 400);
  EXPECT_EQ(scan_pieces({"GET / HTTP/1.1\r\nA: b\r\n\tc"}), 400);
  HeadScanner scanner;
  EXPECT_FALSE(scanner.scan("GET / HTTP/1.1\r\nHost: x\r\n"));
  scanner.reset();  // a new head: the pending line start is forgotten
  EXPECT_FALSE(scanner.scan(" "));
}

}  // namespace
}  // namespace shoal::http
