// What a proxied exchange sends upstream and passes back (pure; unit-tested): the request head
// with the target rewritten, hop-by-hop fields removed (RFC 9110 section 7.6.1: Connection and
// every field it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
// Proxy-Connection), the Host, the X-Forwarded or Forwarded fields, Via, and the route's extra
// fields; and the response fields a client may see.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "http/request.hpp"

namespace shoal::proxy {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct ClientSide {
  std::string_view address;  // the client's IP, as text
  bool tls = false;          // X-Forwarded-Proto: https
};

// True for a field that concerns one hop only, given the Connection field's tokens.
bool hop_by_hop(std::string_view name, const std::vector<std::string>& connection_tokens);
// The comma-separated tokens of every Connection field, lower case.
std::vector<std::string> connection_tokens(const Fields& fields);
std::vector<std::string> connection_tokens(const std::vector<http::Header>& fields);

// The path and query sent upstream: `strip_prefix` removed when the target starts with it
// (on a segment boundary), then `add_prefix` put in front ("/api/x" with strip /api and add
// /v1: "/v1/x").
std::string upstream_target(std::string_view target, const ProxyAction& action);

// The request head for the upstream, ending in the empty line. The body, if any, follows as
// received: with its Content-Length, or chunked again (`chunked`). A `tunnel` request (an
// Upgrade without a body) keeps its Upgrade field and says "Connection: upgrade".
std::string upstream_request_head(const http::Request& request, const ProxyAction& action,
                                  const ClientSide& client, bool chunked, bool tunnel = false);

// True when a request asks for a protocol switch that the proxy can tunnel: an Upgrade
// (WebSocket, h2c...) without a body.
bool wants_tunnel(const http::Request& request);

// The response fields a client gets: hop-by-hop fields and Content-Length removed (the
// connection frames the body itself); the Upgrade field of a 101 (`tunnel`) is kept.
// `via`: the route's proxy.via (Via gets "1.1 shoal" appended).
Fields client_response_fields(Fields upstream, bool tunnel = false, bool via = false);

// A value for a Forwarded parameter (RFC 7239 section 4): a token as it is, else quoted.
std::string forwarded_value(std::string_view value);

// Idempotent methods (RFC 9110 section 9.2.2): safe to send again after a failure.
bool idempotent(std::string_view method);

}  // namespace shoal::proxy
