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
