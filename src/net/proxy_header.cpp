// PROXY protocol v1 (a text line) and v2 (a binary block), after HAProxy's specification
// (proxy-protocol.txt): the signatures, command, family, address lengths and TLV framing.
#include "net/proxy_header.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <vector>

namespace shoal {

namespace {

constexpr std::string_view kV1Signature = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

ProxyHeader failed(int version, std::string why) {
  ProxyHeader h;
  h.state = ProxyHeader::State::kError;
  h.version = version;
  h.error = std::move(why);
  return h;
}

// True while `bytes` could still begin `signature` (or does).
bool prefix_of(std::string_view bytes, std::string_view signature) {
  const auto n = std::min(bytes.size(), signature.size());
  return bytes.substr(0, n) == signature.substr(0, n);
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const auto space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

std::optional<std::uint16_t> port_of(std::string_view text) {
  // Decimal, 0..65535, no sign and no leading zero (the specification's form).
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

PeerAddress peer_of(int family, const void* address, std::uint16_t port) {
  sockaddr_storage storage{};
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, address, 4);
    in->sin_port = htons(port);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, address, 16);
    in6->sin6_port = htons(port);
  }
  return PeerAddress(reinterpret_cast<const sockaddr*>(&storage));
}

ProxyHeader parse_v1(std::string_view bytes) {
  const auto end = bytes.find("\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kMaxProxyV1Header) return failed(1, "a v1 header longer than 107 bytes");
    if (bytes.find('\n') != std::string_view::npos || bytes.find('\0') != std::string_view::npos) {
      return failed(1, "a v1 header not ended by CRLF");
    }
    ProxyHeader more;
    more.version = 1;
    return more;
  }
  if (end + 2 > kMaxProxyV1Header) return failed(1, "a v1 header longer than 107 bytes");
  // The same verdict as on a prefix (above): a NUL or a bare LF before the CRLF is no v1 line.
  // Found by the proxy fuzz target: a NUL inside a field ended the C string that inet_pton
  // read, so "200::2\0garbage" passed as an address when the header came in one piece.
  const auto line = bytes.substr(0, end);
  if (line.find('\n') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
    return failed(1, "a v1 header not ended by CRLF");
  }
  const auto fields = split_spaces(bytes.substr(kV1Signature.size(), end - kV1Signature.size()));
  ProxyHeader h;
  h.version = 1;
  h.length = end + 2;
  h.state = ProxyHeader::State::kDone;
  if (!fields.empty() && fields[0] == "UNKNOWN") return h;  // the rest is to be ignored
  if (fields.size() != 5 || (fields[0] != "TCP4" && fields[0] != "TCP6")) {
    return failed(1, "a v1 header that is not TCP4, TCP6 or UNKNOWN with four fields");
  }
  const int family = fields[0] == "TCP4" ? AF_INET : AF_INET6;
  unsigned char source[16];
  unsigned char destination[16];
  const std::string src(fields[1]);
  const std::string dst(fields[2]);
  if (inet_pton(family, src.c_str(), source) != 1 ||
      inet_pton(family, dst.c_str(), destination) != 1) {
    return failed(1, "a v1 header with an address that is not " + std::string(fields[0]));
  }
  const auto source_port = port_of(fields[3]);
  if (!source_port || !port_of(fields[4])) return failed(1, "a v1 header with a bad port");
  h.source = peer_of(family, source, *source_port);
  return h;
}

ProxyHeader parse_v2(std::string_view bytes) {
  constexpr size_t kFixed = 16;
  if (bytes.size() < kFixed) {
    ProxyHeader more;
    more.version = 2;
    return more;
  }
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned version = b[12] >> 4;
  const unsigned command = b[12] & 0x0f;
  if (version != 2) return failed(2, "a v2 header with version " + std::to_string(version));
  if (command > 1) return failed(2, "a v2 header with command " + std::to_string(command));
  const size_t length = (static_cast<size_t>(b[14]) << 8) | b[15];
  if (kFixed + length > kMaxProxyHeader) {
    return failed(2, "a v2 header of " + std::to_string(kFixed + length) + " bytes");
  }
  if (bytes.size() < kFixed + length) {
    ProxyHeader more;
    more.version = 2;
    return more;
  }
  ProxyHeader h;
  h.version = 2;
  h.length = kFixed + length;
  h.state = ProxyHeader::State::kDone;
  const unsigned family = b[13] >> 4;
  const unsigned transport = b[13] & 0x0f;
  size_t addresses = 0;  // the address block's size for the family
  if (family == 1) addresses = 12;
  if (family == 2) addresses = 36;
  if (family == 3) addresses = 216;
  if (length < addresses) return failed(2, "a v2 header too short for its address family");
  // TLVs after the addresses: each a type, a 16-bit length and that many bytes, exactly
  // filling the rest (read to check the framing, then ignored).
  size_t at = kFixed + addresses;
  while (at < h.length) {
    if (h.length - at < 3) return failed(2, "a v2 header with a cut TLV");
    const size_t value = (static_cast<size_t>(b[at + 1]) << 8) | b[at + 2];
    if (h.length - at - 3 < value) return failed(2, "a v2 header with a TLV past its end");
    at += 3 + value;
  }
  // LOCAL (a balancer's own check), UNSPEC, UDP and unix sockets: the peer stays the client.
  if (command == 0 || transport != 1 || (family != 1 && family != 2)) return h;
  if (family == 1) {
    h.source = peer_of(AF_INET, b + kFixed,
                       static_cast<std::uint16_t>((b[kFixed + 8] << 8) | b[kFixed + 9]));
  } else {
    h.source = peer_of(AF_INET6, b + kFixed,
                       static_cast<std::uint16_t>((b[kFixed + 32] << 8) | b[kFixed + 33]));
  }
  return h;
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (prefix_of(bytes, kV1Signature)) {
    if (bytes.size() < kV1Signature.size()) {
      ProxyHeader more;
      more.version = 1;
      return more;
    }
    return parse_v1(bytes);
  }
  if (prefix_of(bytes, kV2Signature)) {
    if (bytes.size() < kV2Signature.size()) {
      ProxyHeader more;
      more.version = 2;
      return more;
    }
    return parse_v2(bytes);
  }
  return failed(0, "no PROXY header (the connection began with something else)");
}

}  // namespace shoal
