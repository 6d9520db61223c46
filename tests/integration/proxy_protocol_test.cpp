// PROXY protocol on a listen entry, against the real binary: v1 and v2 headers from a trusted
// balancer name the client for CGI and the access log; LOCAL and UNKNOWN leave the peer; a
// broken, missing, late or untrusted header closes the connection; curl --haproxy-protocol
// works, on a TLS listener too (the header before the handshake).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "harness.hpp"

namespace shoal::test {
namespace {

// The test's certificates (tests/tls/make_certs.sh, shared by this build's tests).
std::string cert(const std::string& name) {
  static const std::string dir = [] {
    const std::string d = SHOAL_TEST_CERTS;
    auto made = run_command("bash " SHOAL_SOURCE_DIR "/tests/tls/make_certs.sh " + d);
    EXPECT_EQ(made.status, 0) << made.output;
    return d;
  }();
  return dir + "/" + name;
}

class ProxyProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(programs_.path().c_str(), 0755);
    std::filesystem::create_directories(programs_ / "cgi-bin");
    ::chmod((programs_ / "cgi-bin").c_str(), 0755);
    const auto path = programs_ / "cgi-bin/addr.sh";
    write_file(path,
               "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' "
               "\"$REMOTE_ADDR\" \"$REMOTE_PORT\"\n");
    ::chmod(path.c_str(), 0755);
    std::filesystem::copy_file(cert("rsa.pem"), programs_ / "site.pem");
    std::filesystem::copy_file(cert("rsa.key"), programs_ / "site.key");
  }

  std::string site(const std::string& trusted, const std::string& tls_listen = "") {
    return "workers: 1\n"
           "proxy_protocol_from: " +
           trusted +
           "\n"
           "helpers: { count: 1 }\n"
           "limits: { header_timeout: 1s }\n"
           "servers:\n"
           "  - listen: [{ address: \"127.0.0.1:@PORT@\", proxy_protocol: true }" +
           tls_listen +
           "]\n"
           "    server_names: [localhost]\n"
           "    tls: { certificate: " +
           programs_ / "site.pem" + ", key: " + programs_ / "site.key" +
           " }\n"
           "    routes:\n"
           "      - match: /cgi-bin/\n"
           "        cgi: { root: " +
           programs_ / "cgi-bin" +
           " }\n"
           "      - match: /\n"
           "        return: { status: 200, body: \"hi\\n\" }\n";
  }

  TempDir programs_;
};

const std::string kAsk =
    "GET /cgi-bin/addr.sh HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

std::string v2(int command, unsigned char family, const std::string& block) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(block.size() >> 8);
  h += static_cast<char>(block.size() & 0xff);
  return h + block;
}

std::string answer_to(int port, const std::string& bytes) {
  HttpClient client(port);
  client.send(bytes);
  auto r = client.read_response();
  return r ? std::to_string(r->status) + " " + r->body : "closed";
}

TEST_F(ProxyProtocolTest, V1AndV2HeadersNameTheClient) {
  ShoalServer server(site("[127.0.0.0/8]"));
  const int port = server.port();
  const auto p = std::to_string(port);
  EXPECT_EQ(answer_to(port, "PROXY TCP4 203.0.113.9 127.0.0.1 40000 " + p + "\r\n" + kAsk),
            "200 203.0.113.9 40000\n");
  EXPECT_EQ(answer_to(port, "PROXY TCP6 2001:db8::9 ::1 40001 " + p + "\r\n" + kAsk),
            "200 2001:db8::9 40001\n");
  EXPECT_EQ(answer_to(port, "PROXY UNKNOWN\r\n" + kAsk).rfind("200 127.0.0.1 ", 0), 0u);
  // v2: PROXY over TCP/IPv4 (198.51.100.4:4660 -> 127.0.0.1:443), and LOCAL.
  const std::string block("\xc6\x33\x64\x04\x7f\x00\x00\x01\x12\x34\x01\xbb", 12);
  EXPECT_EQ(answer_to(port, v2(1, 0x11, block) + kAsk), "200 198.51.100.4 4660\n");
  std::string v6(36, '\0');
  v6[0] = '\x20';
  v6[1] = '\x01';
  v6[2] = '\x0d';
  v6[3] = '\xb8';
  v6[15] = '\x05';
  v6[33] = '\x50';  // port 80
  EXPECT_EQ(answer_to(port, v2(1, 0x21, v6) + kAsk), "200 2001:db8::5 80\n");
  EXPECT_EQ(answer_to(port, v2(0, 0x00, "") + kAsk).rfind("200 127.0.0.1 ", 0), 0u);
  // The header in pieces, the request after it in the same segment as its end.
  HttpClient slow(port);
  slow.send("PROXY TCP4 203.0");
  slow.send(".113.10 127.0.0.1 40002 " + p + "\r\n" + kAsk);
  auto r = slow.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "203.0.113.10 40002\n");
  ASSERT_TRUE(wait_until([&] { return count(read_file(server.dir() / "access.log"), "\n") >= 7; }));
  EXPECT_EQ(read_file(server.dir() / "access.log").rfind("203.0.113.9 - - [", 0), 0u);
}

TEST_F(ProxyProtocolTest, ABrokenMissingOrLateHeaderIsClosed) {
  ShoalServer server(site("[127.0.0.0/8]"));
  const int port = server.port();
  EXPECT_EQ(answer_to(port, kAsk), "closed");  // no header: a plain request
  EXPECT_EQ(answer_to(port, "PROXY TCP4 203.0.113.9 nowhere 1 2\r\n" + kAsk), "closed");
  EXPECT_EQ(answer_to(port, std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04xxxx", 20) + kAsk),
            "closed");
  HttpClient late(port);
  late.send("PROXY TCP4 203.0.113.9");
  EXPECT_TRUE(late.closed_by_peer(5s));  // header_timeout is 1 s
  const auto log = server.error_log();
  EXPECT_NE(log.find("sent a bad PROXY header (no PROXY header"), std::string::npos) << log;
  EXPECT_NE(log.find("a v1 header with an address that is not TCP4"), std::string::npos) << log;
  EXPECT_NE(log.find("a v2 header too short for its address family"), std::string::npos) << log;
  EXPECT_NE(log.find("sent no whole PROXY header within header_timeout"), std::string::npos) << log;
}

TEST_F(ProxyProtocolTest, AnUntrustedSourceIsClosed) {
  ShoalServer server(site("[192.0.2.0/24]"));
  EXPECT_EQ(answer_to(server.port(), "PROXY TCP4 203.0.113.9 127.0.0.1 1 2\r\n" + kAsk), "closed");
  EXPECT_NE(server.error_log().find("client 127.0.0.1 is not in proxy_protocol_from; closing"),
            std::string::npos);
}

TEST_F(ProxyProtocolTest, CurlSendsItOnPlainAndTlsListeners) {
  const int tls_port = free_port();
  ShoalServer server(site("[127.0.0.0/8]", ", { address: \"127.0.0.1:" + std::to_string(tls_port) +
                                               "\", tls: true, proxy_protocol: true }"));
  auto plain = run_command("curl -sS --max-time 10 --haproxy-protocol http://127.0.0.1:" +
                           std::to_string(server.port()) + "/cgi-bin/addr.sh 2>&1");
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output.rfind("127.0.0.1 ", 0), 0u) << plain.output;
  const auto p = std::to_string(tls_port);
  auto tls =
      run_command("curl -sS --max-time 10 --haproxy-protocol --cacert " + cert("ca.pem") +
                  " --resolve localhost:" + p + ":127.0.0.1 https://localhost:" + p + "/ 2>&1");
  EXPECT_EQ(tls.status, 0) << tls.output << server.error_log();
  EXPECT_EQ(tls.output, "hi\n");
}

}  // namespace
}  // namespace shoal::test
