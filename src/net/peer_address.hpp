// PeerAddress: a client's IP address and port in 20 bytes (an idle connection keeps one),
// formatted as text only when a log line or a CGI environment needs it.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

namespace shoal {

class PeerAddress {
 public:
  PeerAddress() = default;
  explicit PeerAddress(const sockaddr* addr);
  // "192.0.2.1", "2001:db8::1", or "-" for an address family it does not know.
  std::string text() const;
  int port() const { return port_; }
  // Back to a sockaddr (port included), for allow-lists; AF_UNSPEC when unknown.
  sockaddr_storage to_sockaddr() const;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  std::uint16_t port_ = 0;
  std::uint8_t family_ = AF_UNSPEC;
};

}  // namespace shoal
