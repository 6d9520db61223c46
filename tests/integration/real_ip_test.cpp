// real_ip_from against the real binary: from a trusted proxy (here the test itself, on
// loopback), X-Forwarded-For names the client in the access log, to CGI and to allow lists;
// from an untrusted peer it is an ordinary field.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string site(const std::string& trusted, const std::string& cgi_root) {
  return "workers: 1\n"
         "real_ip_from: " +
         trusted +
         "\n"
         "helpers: { count: 1 }\n"
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /cgi-bin/\n"
         "        cgi: { root: " +
         cgi_root +
         " }\n"
         "      - match: /partners\n"
         "        allow: [203.0.113.0/24]\n"
         "        return: { status: 200, body: \"welcome\" }\n"
         "      - match: /\n"
         "        return: { status: 200, body: \"hi\" }\n";
}

class RealIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(programs_ / "cgi-bin");
    const auto path = programs_ / "cgi-bin/addr.sh";
    write_file(path,
               "#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
               "echo \"$REMOTE_ADDR $REMOTE_PORT\"\n");
    chmod(path.c_str(), 0755);
  }
  TempDir programs_;
};

std::optional<Response> forwarded_get(int port, const std::string& path, const std::string& xff) {
  return get(port, path, {{"X-Forwarded-For", xff}});
}

TEST_F(RealIpTest, ATrustedProxyNamesTheClientEverywhere) {
  ShoalServer server(site("[127.0.0.0/8, 10.0.0.0/8]", programs_ / "cgi-bin"));
  auto cgi =
      forwarded_get(server.port(), "/cgi-bin/addr.sh", "198.51.100.1, 203.0.113.9, 10.0.0.2");
  ASSERT_TRUE(cgi);
  EXPECT_EQ(cgi->body, "203.0.113.9 0\n");
  // The allow list sees the client, not the proxy.
  auto in = forwarded_get(server.port(), "/partners", "203.0.113.9");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 200);
  auto out = get(server.port(), "/partners");  // no header: the proxy itself, not allowed
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 403);
  ASSERT_TRUE(wait_until([&] { return count(read_file(server.dir() / "access.log"), "\n") >= 3; }));
  const auto log = read_file(server.dir() / "access.log");
  EXPECT_EQ(log.rfind("203.0.113.9 - - [", 0), 0u) << log;  // the first line: the CGI request
  EXPECT_NE(log.find("\n127.0.0.1 - - ["), std::string::npos) << log;
}

TEST_F(RealIpTest, FromAnUntrustedPeerTheHeaderIsOrdinary) {
  ShoalServer server(site("[192.0.2.0/24]", programs_ / "cgi-bin"));
  auto cgi = forwarded_get(server.port(), "/cgi-bin/addr.sh", "203.0.113.9");
  ASSERT_TRUE(cgi);
  EXPECT_EQ(cgi->body.rfind("127.0.0.1 ", 0), 0u) << cgi->body;
  auto spoofed = forwarded_get(server.port(), "/partners", "203.0.113.9");
  ASSERT_TRUE(spoofed);
  EXPECT_EQ(spoofed->status, 403);
}

}  // namespace
}  // namespace shoal::test
