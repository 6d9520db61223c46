// The PROXY protocol header: v1 lines and v2 blocks, what they say of the client, how many
// bytes they take (never more than the header), and every malformed shape refused.
#include "net/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace shoal {
namespace {

using State = ProxyHeader::State;

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: command (0 LOCAL, 1 PROXY), family/transport byte, address block, TLVs.
std::string v2(int command, unsigned char family, const std::string& block,
               const std::string& tlvs = "") {
  std::string h = kV2Signature;
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  const size_t length = block.size() + tlvs.size();
  h += static_cast<char>(length >> 8);
  h += static_cast<char>(length & 0xff);
  return h + block + tlvs;
}

std::string ipv4_block() {  // 192.0.2.7:51000 -> 10.0.0.1:443
  return std::string("\xc0\x00\x02\x07\x0a\x00\x00\x01\xc7\x38\x01\xbb", 12);
}

TEST(ProxyHeader, V1Tcp4AndTcp6NameTheClientAndTakeTheLineOnly) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 51000 443\r\n";
  auto h = parse_proxy_header(line + "GET / HTTP/1.1\r\n");
  ASSERT_EQ(h.state, State::kDone) << h.error;
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.length, line.size());
  ASSERT_TRUE(h.source);
  EXPECT_EQ(h.source->text(), "192.0.2.7");
  EXPECT_EQ(h.source->port(), 51000);
  h = parse_proxy_header("PROXY TCP6 2001:db8::7 2001:db8::1 4000 80\r\n");
  ASSERT_EQ(h.state, State::kDone) << h.error;
  EXPECT_EQ(h.source->text(), "2001:db8::7");
  h = parse_proxy_header("PROXY UNKNOWN whatever follows\r\n");
  ASSERT_EQ(h.state, State::kDone);
  EXPECT_FALSE(h.source);
}

TEST(ProxyHeader, APartialHeaderAsksForMore) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 51000 443\r\n";
  for (size_t n = 1; n < line.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(line.substr(0, n)).state, State::kNeedMore) << n;
  }
  const auto block = v2(1, 0x11, ipv4_block());
  for (size_t n = 1; n < block.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(block.substr(0, n)).state, State::kNeedMore) << n;
  }
}

TEST(ProxyHeader, BadV1LinesAreRefused) {
  for (const char* bad : {
           "PROXY TCP4 192.0.2.7 10.0.0.1 51000\r\n",        // a field missing
           "PROXY TCP4 2001:db8::1 10.0.0.1 51000 443\r\n",  // the wrong family
           "PROXY TCP4 192.0.2.7 10.0.0.1 65536 443\r\n",    // port out of range
           "PROXY TCP4 192.0.2.7 10.0.0.1 051000 443\r\n",   // a leading zero
           "PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n",          // not TCP
           "PROXY TCP4 192.0.2.7 10.0.0.1 1 2\n",            // LF alone
           "GET / HTTP/1.1\r\n",                             // no header at all
           "\x16\x03\x01\x02\x00",                           // a TLS ClientHello instead
       }) {
    EXPECT_EQ(parse_proxy_header(bad).state, State::kError) << bad;
  }
  EXPECT_EQ(parse_proxy_header("PROXY " + std::string(120, 'x')).state, State::kError);
  // Found by the proxy fuzz target: a NUL inside a field, in a header that arrives whole, was
  // taken for the field's end (inet_pton reads a C string). Whole or byte by byte: refused.
  const std::string nul("PROXY TCP6 2008::1 200::2\0\0\0\xc8 1 2\r\n", 35);
  EXPECT_EQ(parse_proxy_header(nul).state, State::kError);
  EXPECT_EQ(parse_proxy_header(nul.substr(0, 26)).state, State::kError);
  EXPECT_EQ(parse_proxy_header(std::string("PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n")).state,
            State::kError);
}

TEST(ProxyHeader, V2ProxyLocalAndTlvs) {
  const std::string tlvs = std::string("\x01\x00\x02h2", 5) + std::string("\x04\x00\x00", 3);
  const auto block = v2(1, 0x11, ipv4_block(), tlvs);
  auto h = parse_proxy_header(block + "GET /");
  ASSERT_EQ(h.state, State::kDone) << h.error;
  EXPECT_EQ(h.version, 2);
  EXPECT_EQ(h.length, block.size());
  ASSERT_TRUE(h.source);
  EXPECT_EQ(h.source->text(), "192.0.2.7");
  EXPECT_EQ(h.source->port(), 51000);
  std::string v6(36, '\0');
  v6[0] = '\x20';
  v6[1] = '\x01';
  v6[2] = '\x0d';
  v6[3] = '\xb8';
  v6[15] = '\x07';
  v6[32] = '\x0f';
  v6[33] = '\xa0';  // port 4000
  h = parse_proxy_header(v2(1, 0x21, v6));
  ASSERT_EQ(h.state, State::kDone) << h.error;
  EXPECT_EQ(h.source->text(), "2001:db8::7");
  EXPECT_EQ(h.source->port(), 4000);
  // LOCAL: the balancer's own connection; the peer is the client.
  h = parse_proxy_header(v2(0, 0x00, ""));
  ASSERT_EQ(h.state, State::kDone) << h.error;
  EXPECT_FALSE(h.source);
  // UDP over IPv4: parsed, no client address taken.
  h = parse_proxy_header(v2(1, 0x12, ipv4_block()));
  ASSERT_EQ(h.state, State::kDone);
  EXPECT_FALSE(h.source);
}

TEST(ProxyHeader, BadV2BlocksAreRefused) {
  auto wrong_version = v2(1, 0x11, ipv4_block());
  wrong_version[12] = '\x11';
  EXPECT_EQ(parse_proxy_header(wrong_version).state, State::kError);
  auto wrong_command = v2(1, 0x11, ipv4_block());
  wrong_command[12] = '\x22';
  EXPECT_EQ(parse_proxy_header(wrong_command).state, State::kError);
  // Shorter than its family's addresses.
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, std::string(8, '\0'))).state, State::kError);
  // A TLV whose length runs past the header, and one cut in its own head.
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, ipv4_block(), std::string("\x01\x00\x09h2", 5))).state,
            State::kError);
  EXPECT_EQ(parse_proxy_header(v2(1, 0x11, ipv4_block(), std::string("\x01\x00", 2))).state,
            State::kError);
  // Longer than shoal takes.
  std::string huge = kV2Signature + std::string("\x21\x11\xff\xff", 4);
  EXPECT_EQ(parse_proxy_header(huge).state, State::kError);
}

}  // namespace
}  // namespace shoal
