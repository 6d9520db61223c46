// SocketAddress text forms.
#include "util/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstdint>
#include <cstring>

namespace shoal {

namespace {

// The numeric host and port of an IPv4 or IPv6 address; false for other families.
bool host_and_port(const SocketAddress& a, std::string& host, unsigned& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (a.addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  } else {
    return false;
  }
  host = text;
  return true;
}

}  // namespace

bool SocketAddress::operator==(const SocketAddress& other) const {
  return len == other.len && std::memcmp(&addr, &other.addr, len) == 0;
}

std::string address_text(const SocketAddress& a) {
  std::string host;
  unsigned port = 0;
  if (!host_and_port(a, host, port)) {
    return "unix:" + std::string(reinterpret_cast<const sockaddr_un*>(&a.addr)->sun_path);
  }
  if (a.addr.ss_family == AF_INET6) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

std::string encode_address_lines(const std::vector<SocketAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) {
    std::string host;
    unsigned port = 0;
    if (!host_and_port(a, host, port)) continue;
    out += a.addr.ss_family == AF_INET ? "4 " : "6 ";
    out += host + " " + std::to_string(port) + "\n";
  }
  return out;
}

std::optional<std::vector<SocketAddress>> decode_address_lines(std::string_view text) {
  std::vector<SocketAddress> out;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string line(text.substr(0, eol));
    text.remove_prefix(eol + 1);
    const auto last = line.rfind(' ');
    if (line.size() < 5 || line[1] != ' ' || last <= 2) return std::nullopt;
    const std::string host = line.substr(2, last - 2);
    unsigned port = 0;
    const char* end = line.data() + line.size();
    auto [at, ec] = std::from_chars(line.data() + last + 1, end, port);
    if (ec != std::errc() || at != end || port == 0 || port > 65535) return std::nullopt;
    SocketAddress a;
    if (line[0] == '4') {
      auto* in = reinterpret_cast<sockaddr_in*>(&a.addr);
      in->sin_family = AF_INET;
      in->sin_port = htons(static_cast<std::uint16_t>(port));
      if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) return std::nullopt;
      a.len = sizeof(sockaddr_in);
    } else if (line[0] == '6') {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(static_cast<std::uint16_t>(port));
      if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) return std::nullopt;
      a.len = sizeof(sockaddr_in6);
    } else {
      return std::nullopt;
    }
    bool seen = false;
    for (const auto& b : out) seen = seen || b == a;
    if (!seen) out.push_back(a);
  }
  return out;
}

}  // namespace shoal
