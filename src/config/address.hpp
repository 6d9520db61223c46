// ListenAddress: "host:port", "[v6]:port", "*:port" or "port", parsed into a sockaddr.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace shoal {

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string text;  // canonical: "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80"
  bool tls = false;  // `{address: ..., tls: true}`: every connection starts with a handshake

  int family() const { return addr.ss_family; }
  int port() const;
  bool operator==(const ListenAddress& other) const { return text == other.text; }
};

// Parses a listen address; std::nullopt with `error` set when it is not one.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

}  // namespace shoal
