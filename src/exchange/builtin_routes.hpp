// The routes shoal answers itself from what the worker knows, not from a file or a program:
// metrics (the Prometheus exposition), status (the page and its JSON) and health. Protocol-
// free: each takes the parsed request and its route and gives a Reply, whatever session (an
// HTTP/1.1 connection today) carries it.
#pragma once

#include <optional>

#include "http/dispatch.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"
#include "net/peer_address.hpp"

namespace shoal::exchange {

// What those routes read: the worker's view of the instance.
struct BuiltinSite {
  const metrics::Segment* segment = nullptr;  // null: metrics are off
  const metrics::Layout* layout = nullptr;    // this generation's series (null: none yet)
  int generation = 0;
  int worker = 0;
  bool lame_duck = false;  // a graceful stop's drain_delay: health answers 503
};

// The answer when `routed`'s route is a metrics, status or health route; nullopt otherwise.
// `client` is who asked (after real_ip_from), for the routes' `allow` lists.
std::optional<http::Reply> answer_builtin(const http::RoutedRequest& routed,
                                          const http::Request& request, const PeerAddress& client,
                                          const BuiltinSite& site);

}  // namespace shoal::exchange
