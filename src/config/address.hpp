// ListenAddress: "host:port", "[v6]:port", "*:port" or "port", parsed into a sockaddr.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string text;  // canonical: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80"
  bool tls = false;  // `{address: ..., tls: true}`: every connection starts with a handshake
  // `{address: ..., proxy_protocol: true}`: every connection starts with a PROXY header
  // (v1 or v2) from a network of proxy_protocol_from, before TLS if any.
  bool proxy_protocol = false;
  // `{address: ..., http2: false}`: HTTP/1.1 only (no h2 by ALPN, no h2c preface).
  bool http2 = true;

  int family() const { return addr.ss_family; }
  int port() const;
  bool operator==(const ListenAddress& other) const { return text == other.text; }
};

// Parses a listen address; std::nullopt with `error` set when it is not one.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

// A client network of an allow-list: "127.0.0.1/32", "10.0.0.0/8", "::1/128", or an address
// alone (all its bits). IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 networks.
struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
  int prefix = 0;
  std::string text;
};
std::optional<Cidr> parse_cidr(std::string_view text, std::string& error);
bool cidr_contains(const Cidr& network, const sockaddr* addr);
// True when one of the networks of `allow` holds `addr` (an empty list allows no one).
bool allowed(const std::vector<Cidr>& allow, const sockaddr* addr);

}  // namespace shoal
