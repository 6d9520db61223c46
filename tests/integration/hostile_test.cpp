// Hostile input against the real server: smuggling shapes are refused and the connection
// closed (nothing smuggled behind them is served), unknown transfer codings get 501, and a
// flood of bad requests does not stop good ones.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace shoal::test {
namespace {

const char* kConfig =
    "workers: 1\n"
    "servers:\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: \"public\" }\n"
    "      - match: /admin\n"
    "        return: { status: 200, body: \"smuggled\" }\n";

class HostileTest : public ::testing::Test {
 protected:
  ShoalServer server_{kConfig};
};

TEST_F(HostileTest, ContentLengthWithTransferEncodingIs400AndNothingBehindItIsServed) {
  HttpClient client(server_.port());
  client.send(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_FALSE(client.read_response(false, 1s));
}

TEST_F(HostileTest, DuplicateContentLengthIs400) {
  HttpClient client(server_.port());
  client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc");
  EXPECT_EQ(client.read_response()->status, 400);
}

TEST_F(HostileTest, UnknownTransferCodingIs501) {
  HttpClient client(server_.port());
  client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HostileTest, UnsupportedVersionIs505) {
  HttpClient client(server_.port());
  client.send("GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read_response()->status, 505);
}

TEST_F(HostileTest, AFloodOfBadRequestsDoesNotStopGoodOnes) {
  const char* bad[] = {"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "GET / HTTP/1.1\r\n\r\n",
                       "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "BREW / HTTP/1.1\r\n\r\n",
                       "GET / HTTP/1.1\r\nHost : x\r\n\r\n"};
  for (int round = 0; round < 40; ++round) {
    for (const char* wire : bad) {
      HttpClient client(server_.port());
      client.send(wire);
      auto r = client.read_response(false, 5s);
      ASSERT_TRUE(r) << round;
      EXPECT_EQ(r->status, 400) << wire;
    }
    auto good = get(server_.port(), "/");
    ASSERT_TRUE(good) << round;
    EXPECT_EQ(good->body, "public");
  }
}

}  // namespace
}  // namespace shoal::test
