// PeerAddress: copy in from a sockaddr, inet_ntop out.
#include "worker/peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

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

std::string PeerAddress::text() const {
  char buf[INET6_ADDRSTRLEN];
  if ((family_ != AF_INET && family_ != AF_INET6) ||
      !inet_ntop(family_, bytes_.data(), buf, sizeof buf)) {
    return "-";
  }
  return buf;
}

}  // namespace shoal
