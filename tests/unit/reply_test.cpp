// Reply heads on the wire, error pages, and access-log escaping.
#include "http/reply.hpp"

#include <gtest/gtest.h>

#include "exchange/access_log.hpp"
#include "http/status.hpp"
#include "http1/wire.hpp"

namespace shoal::http {
namespace {

TEST(Reply, SerializesStatusDateServerLengthAndConnection) {
  Reply reply;
  reply.set_body("hi", "text/plain");
  EXPECT_EQ(http1::serialize_head(reply, {true, "Sun, 06 Nov 1994 08:49:37 GMT"}),
            "HTTP/1.1 200 OK\r\nServer: shoal\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(Reply, NoContentLengthWhereTheStatusForbidsABody) {
  Reply reply;
  reply.status = 304;
  auto head = http1::serialize_head(reply, {false, "d"});
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n\r\n"), std::string::npos);
}

TEST(Reply, HeadIsAppendedAfterWhatTheBufferHolds) {
  // The worker writes a head straight into its output queue, after a pipelined reply or a
  // 100 Continue still waiting there.
  Reply reply;
  reply.status = 201;
  reply.headers = {{"Location", "/x"}, {"X-Empty", ""}};
  const Fields shared{{"ETag", "\"e\""}};  // a cached file's, or a return route's
  reply.shared_fields = &shared;
  reply.content_length = 12345;
  std::string out = "HTTP/1.1 100 Continue\r\n\r\n";
  http1::append_head(out, reply, {false, "D"});
  EXPECT_EQ(out,
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 201 Created\r\nServer: shoal\r\nDate: D\r\nLocation: /x\r\nX-Empty: \r\n"
            "ETag: \"e\"\r\nContent-Length: 12345\r\nConnection: close\r\n\r\n");
  Reply streamed;
  streamed.status = 599;  // no reason phrase of its own
  streamed.length_known = false;
  EXPECT_EQ(http1::serialize_head(streamed, {true, "D"}),
            "HTTP/1.1 599 " + std::string(reason_phrase(599)) +
                "\r\nServer: shoal\r\nDate: D\r\nConnection: keep-alive\r\n\r\n");
}

TEST(Reply, ErrorPagesAreHtml) {
  auto reply = error_reply(404);
  EXPECT_EQ(reply.status, 404);
  EXPECT_NE(reply.body.find("404 Not Found"), std::string::npos);
  EXPECT_EQ(reply.content_length, reply.body.size());
  EXPECT_EQ(error_reply(304).body, "");
}

TEST(AccessLog, EscapesClientText) {
  EXPECT_EQ(shoal::escape_log_field("GET /a\"b\\c\x01\xff"), "GET /a\\x22b\\x5Cc\\x01\\xFF");
}

// One ISO 8601 writer for the master's metrics, the status JSON and an outcome's line.
TEST(Text, IsoTimeIsUtcWithSeconds) {
  EXPECT_EQ(shoal::iso_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(shoal::iso_time(1796678432), "2026-12-07T21:20:32Z");
}

TEST(AccessLog, RemoteUserComesFromBasicCredentials) {
  using shoal::basic_auth_user;
  EXPECT_EQ(basic_auth_user("Basic YWxpY2U6c2VjcmV0"), "alice");        // alice:secret
  EXPECT_EQ(basic_auth_user("basic  YWxpY2U6c2VjcmV0 "), "alice");      // scheme is caseless
  EXPECT_EQ(basic_auth_user("Basic Ym9iOg=="), "bob");                  // bob: (two pads)
  EXPECT_EQ(basic_auth_user("Basic ZXZlOng="), "eve");                  // eve:x (one pad)
  EXPECT_EQ(basic_auth_user("Basic Y2Fyb2w6eDp5"), "carol");            // carol:x:y
  EXPECT_EQ(basic_auth_user("Basic OnB3"), "");                         // :pw, no name
  EXPECT_EQ(basic_auth_user("Basic ZGF2ZTp4eQ=="), "dave");             // dave:xy
  EXPECT_EQ(basic_auth_user("Basic bm9jb2xvbg=="), std::nullopt);       // "nocolon"
  EXPECT_EQ(basic_auth_user("Basic YWxpY2U6c2VjcmV0="), std::nullopt);  // bad length
  EXPECT_EQ(basic_auth_user("Basic YWxp*2U6c2VjcmV0"), std::nullopt);   // not base64
  EXPECT_EQ(basic_auth_user("Bearer YWxpY2U6c2VjcmV0"), std::nullopt);
  EXPECT_EQ(basic_auth_user("Basic"), std::nullopt);
}

}  // namespace
}  // namespace shoal::http

namespace shoal::http1 {
namespace {

// Chunked framing is written in one place, for a job's response and a body sent upstream.
TEST(Wire, AChunkIsItsHexSizeItsBytesAndCrlf) {
  std::string out;
  append_chunk(out, "hello");
  append_chunk(out, "");  // nothing: an empty chunk would end the body
  append_chunk(out, std::string(26, 'x'));
  EXPECT_EQ(out, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

}  // namespace
}  // namespace shoal::http1
