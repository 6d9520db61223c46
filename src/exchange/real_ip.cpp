// X-Forwarded-For walked from the right over trusted hops.
#include "exchange/real_ip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "util/text.hpp"

namespace shoal {

namespace {

bool trusted_address(const std::vector<Cidr>& trusted, const PeerAddress& address) {
  const auto addr = address.to_sockaddr();
  return allowed(trusted, reinterpret_cast<const sockaddr*>(&addr));
}

}  // namespace

std::optional<PeerAddress> parse_peer_address(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  sockaddr_storage storage{};
  if (copy.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    if (inet_pton(AF_INET, copy.c_str(), &in->sin_addr) != 1) return std::nullopt;
    in->sin_family = AF_INET;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET6, copy.c_str(), &in6->sin6_addr) != 1) return std::nullopt;
    in6->sin6_family = AF_INET6;
  }
  return PeerAddress(reinterpret_cast<const sockaddr*>(&storage));
}

std::optional<PeerAddress> real_client(const PeerAddress& peer, const std::vector<Cidr>& trusted,
                                       const http::Request& request) {
  if (trusted.empty() || !trusted_address(trusted, peer)) return std::nullopt;
  std::vector<std::string_view> hops;  // left to right, over every X-Forwarded-For field
  for (const auto& h : request.headers) {
    if (!iequals(h.name, "X-Forwarded-For")) continue;
    std::string_view value = h.value;
    while (!value.empty()) {
      const auto comma = value.find(',');
      hops.push_back(trim_ows(value.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  std::optional<PeerAddress> client;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto address = parse_peer_address(*it);
    if (!address) break;  // not an address: the hop before it is as far as we can trust
    client = address;
    if (!trusted_address(trusted, *address)) break;
  }
  return client;
}

}  // namespace shoal
