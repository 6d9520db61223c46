// Listen address parsing: numeric hosts only (no DNS at start-up), ports 0-65535.
#include "config/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace shoal {

namespace {

std::optional<int> parse_port(std::string_view s) {
  int port = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || end != s.data() + s.size() || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

int ListenAddress::port() const {
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected an IPv6 address as \"[addr]:port\"";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    v6 = true;
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "an IPv6 address must be in brackets: \"[addr]:port\"";
      return std::nullopt;
    }
  } else {
    port_text = text;  // "8080" listens on every IPv4 address
  }

  auto port = parse_port(port_text);
  if (!port) {
    error = "expected a port number 0-65535, got \"" + std::string(port_text) + "\"";
    return std::nullopt;
  }

  ListenAddress out;
  char buf[INET6_ADDRSTRLEN] = {};
  if (v6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(static_cast<uint16_t>(*port));
    std::string h(host);
    if (h != "*" && inet_pton(AF_INET6, h.c_str(), &sin6.sin6_addr) != 1) {
      error = "expected a numeric IPv6 address, got \"" + h + "\"";
      return std::nullopt;
    }
    inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof buf);
    std::memcpy(&out.addr, &sin6, sizeof sin6);
    out.addr_len = sizeof sin6;
    out.text = "[" + std::string(buf) + "]:" + std::to_string(*port);
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(*port));
    std::string h(host);
    if (h.empty() || h == "*") h = "0.0.0.0";
    if (inet_pton(AF_INET, h.c_str(), &sin.sin_addr) != 1) {
      error = "expected a numeric IPv4 address, got \"" + h + "\"";
      return std::nullopt;
    }
    inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf);
    std::memcpy(&out.addr, &sin, sizeof sin);
    out.addr_len = sizeof sin;
    out.text = std::string(buf) + ":" + std::to_string(*port);
  }
  return out;
}

}  // namespace shoal

namespace shoal {

std::optional<Cidr> parse_cidr(std::string_view text, std::string& error) {
  Cidr cidr;
  cidr.text = std::string(text);
  std::string_view host = text;
  std::optional<int> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    auto bits = text.substr(slash + 1);
    int value = -1;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) {
      error = "expected a network such as 10.0.0.0/8 or ::1/128, got \"" + cidr.text + "\"";
      return std::nullopt;
    }
    prefix = value;
  }
  const std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET;
  } else if (inet_pton(AF_INET6, h.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET6;
  } else {
    error = "expected a network such as 10.0.0.0/8 or ::1/128, got \"" + cidr.text + "\"";
    return std::nullopt;
  }
  const int max = cidr.family == AF_INET ? 32 : 128;
  cidr.prefix = prefix.value_or(max);
  if (cidr.prefix < 0 || cidr.prefix > max) {
    error =
        "a prefix length of 0 to " + std::to_string(max) + " was expected in \"" + cidr.text + "\"";
    return std::nullopt;
  }
  // Host bits set below the prefix are a typo more often than not: refuse them, as HAProxy warns.
  const size_t bytes = cidr.family == AF_INET ? 4 : 16;
  for (size_t bit = static_cast<size_t>(cidr.prefix); bit < bytes * 8; ++bit) {
    if (cidr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      error = "\"" + cidr.text + "\" has bits set past its prefix length";
      return std::nullopt;
    }
  }
  return cidr;
}

bool cidr_contains(const Cidr& network, const sockaddr* addr) {
  const unsigned char* bytes = nullptr;
  int family = addr->sa_family;
  if (family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr);
  } else if (family == AF_INET6) {
    bytes = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (network.family == AF_INET && std::memcmp(bytes, kMapped, 12) == 0) {
      bytes += 12;
      family = AF_INET;
    }
  } else {
    return false;
  }
  if (family != network.family) return false;
  const int full = network.prefix / 8;
  if (std::memcmp(bytes, network.bytes.data(), static_cast<size_t>(full)) != 0) return false;
  const int rest = network.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes[full] & mask) == (network.bytes[full] & mask);
}

bool allowed(const std::vector<Cidr>& allow, const sockaddr* addr) {
  if (addr->sa_family == AF_UNIX) return true;  // a local client, as trusted as the socket's mode
  for (const auto& network : allow) {
    if (cidr_contains(network, addr)) return true;
  }
  return false;
}

}  // namespace shoal
