// The PROXY protocol header (HAProxy's, versions 1 and 2) that a balancer sends before
// anything else on a connection: who the client is. Parsed from the bytes received so far,
// never reading past the header, so what follows (a request, a TLS ClientHello) stays in the
// socket. See src/DESIGN.md, PROXY protocol.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "net/peer_address.hpp"

namespace shoal {

// A v2 header longer than this (16 bytes and the addresses with TLVs) is refused: balancers
// send a few hundred bytes at most.
inline constexpr size_t kMaxProxyHeader = 4096;
inline constexpr size_t kMaxProxyV1Header = 107;  // the specification's bound, CRLF included

struct ProxyHeader {
  enum class State { kNeedMore, kDone, kError };
  State state = State::kNeedMore;
  size_t length = 0;                  // kDone: the header's bytes, CRLF or TLVs included
  int version = 0;                    // 1 or 2, once known
  std::optional<PeerAddress> source;  // kDone with a TCP over IPv4/IPv6 PROXY: the client
  std::string error;                  // kError: why, for the log line
};

// `bytes` are the first bytes of the connection (at most the header's, or more). kNeedMore
// means every byte given belongs to the header and more must come; kDone gives its length.
// LOCAL (v2) and UNKNOWN (v1) headers, and other families, are kDone with no source: the
// connection's own peer is the client then. v2 TLVs are checked to fit and ignored.
ProxyHeader parse_proxy_header(std::string_view bytes);

}  // namespace shoal
