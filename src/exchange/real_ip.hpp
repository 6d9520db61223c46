// The client address behind trusted proxies (real_ip_from): from a connection whose peer is in
// one of the trusted networks, the right-most address of X-Forwarded-For that is not itself
// trusted (nginx's realip with real_ip_recursive on). See src/DESIGN.md, Real client address.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "config/address.hpp"
#include "http/request.hpp"
#include "net/peer_address.hpp"

namespace shoal {

// An IP address alone ("192.0.2.7", "2001:db8::1", "[2001:db8::1]"), port 0; nullopt for
// anything else.
std::optional<PeerAddress> parse_peer_address(std::string_view text);

// The request's client: nullopt when `peer` is not trusted or the request has no usable
// X-Forwarded-For (the peer is the client then). Every X-Forwarded-For field counts, in order.
// Walking from the right, each trusted hop is skipped; the first untrusted address is the
// client; if every address is trusted, the left-most one is; an entry that is not an address
// ends the walk at the hop before it.
std::optional<PeerAddress> real_client(const PeerAddress& peer, const std::vector<Cidr>& trusted,
                                       const http::Request& request);

}  // namespace shoal
