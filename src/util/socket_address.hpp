// SocketAddress: an address to connect() to (IPv4, IPv6 or a unix path), and its text form
// for logs and for the lines a resolve job sends back from a helper.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  bool operator==(const SocketAddress& other) const;
};

// "127.0.0.1:80", "[::1]:80", "unix:/path".
std::string address_text(const SocketAddress& address);

// IPv4 and IPv6 addresses as lines "4 ADDRESS PORT" / "6 ADDRESS PORT" (others skipped), and
// back, duplicates dropped; nullopt for a line that does not parse.
std::string encode_address_lines(const std::vector<SocketAddress>& addresses);
std::optional<std::vector<SocketAddress>> decode_address_lines(std::string_view text);

}  // namespace shoal
