// Http1Prelude: what runs on a client connection before its first request, on a PROXY or TLS
// address only: the PROXY header (from proxy_protocol_from), then the TLS handshake. Its state
// (the header's bytes, the TLS listener) lives only while it runs; a plain address never
// allocates it. The steps themselves are net/prelude.hpp's; this class moves the session
// through its phases as they end and starts the session's first read.
#pragma once

#include "net/prelude.hpp"
#include "tls/tls_stream.hpp"

namespace shoal {

class Http1Session;

class Http1Prelude {
 public:
  explicit Http1Prelude(const tls::TlsListen* tls) : tls_(tls) {}

  // Right after accept: the PROXY header when `proxy_protocol`, else the TLS handshake.
  // May destroy the session, or this prelude once it is over.
  void start(Http1Session& session, bool proxy_protocol);
  // The socket is readable in Phase::kProxyHeader. May destroy the session or this prelude.
  void read_proxy_header(Http1Session& session);
  // Drives the handshake (Phase::kHandshake): false when it closed the connection; true,
  // still in kHandshake, while it waits for the socket. This prelude is gone once the phase
  // moved on.
  bool continue_handshake(Http1Session& session);

 private:
  // TLS on the socket, and the handshake's first step; then the session reads.
  void start_tls(Http1Session& session);

  const tls::TlsListen* tls_;  // the handshake that follows the PROXY header; null: none
  net::ProxyHeaderReader proxy_;
  net::TlsPrelude handshake_;
};

}  // namespace shoal
