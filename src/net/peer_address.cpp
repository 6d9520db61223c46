// PeerAddress: copy in from a sockaddr, inet_ntop out.
#include "net/peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace shoal {

PeerAddress::PeerAddress(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    std::memcpy(bytes_.data(), &in->sin_addr, sizeof in->sin_addr);
    port_ = ntohs(in->sin_port);
    family_ = AF_INET;
  } else if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    std::memcpy(bytes_.data(), &in6->sin6_addr, sizeof in6->sin6_addr);
    port_ = ntohs(in6->sin6_port);
    family_ = AF_INET6;
  }
}

sockaddr_storage PeerAddress::to_sockaddr() const {
  sockaddr_storage out{};
  if (family_ == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, bytes_.data(), sizeof in->sin_addr);
  } else if (family_ == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port_);
    std::memcpy(&in6->sin6_addr, bytes_.data(), sizeof in6->sin6_addr);
  }
  return out;
}

std::string PeerAddress::text() const {
  char buf[INET6_ADDRSTRLEN];
  if (family_ == AF_INET) {
    // Per proxied request (X-Forwarded-For) and access-log line: glibc's inet_ntop formats
    // IPv4 with sprintf, this with to_chars.
    char* at = buf;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *at++ = '.';
      at = std::to_chars(at, buf + sizeof buf, bytes_[i]).ptr;
    }
    return std::string(buf, at);
  }
  if ((family_ != AF_INET && family_ != AF_INET6) ||
      !inet_ntop(family_, bytes_.data(), buf, sizeof buf)) {
    return "-";
  }
  return buf;
}

}  // namespace shoal
