// Preludes: what runs on a client connection before HTTP does, each as a step function the
// session calls when the socket is ready and that says what to wait for next. They hold their
// state only while they run (an HTTP/1.1 connection keeps a pointer to it, null afterwards).
//   ProxyHeaderReader: the PROXY protocol v1/v2 header (proxy_protocol addresses), read
//     exactly (peeked, then only its bytes taken, so what follows stays for TLS or HTTP).
//   TlsPrelude: the first bytes checked (TLS, plain HTTP sent to a TLS port, or garbage),
//     then the handshake driven to its end.
// Every reason to close is logged here, in one line naming the client.
#pragma once

#include <optional>
#include <string>

#include "net/peer_address.hpp"
#include "net/transport.hpp"

namespace shoal::net {

enum class PreludeStep : std::uint8_t {
  kWaitReadable,
  kWaitWritable,
  kDone,       // the prelude is over: HTTP (or the next prelude) goes on
  kPlainHttp,  // TlsPrelude: plain HTTP came to a TLS address (the transport is plain now)
  kClose,      // logged; the connection closes
};

class ProxyHeaderReader {
 public:
  // Reads what has arrived of the header on `fd`. kDone with source() set when the header
  // named one (a LOCAL or UNKNOWN header names none: the peer stays).
  PreludeStep step(int fd, const PeerAddress& peer);
  const std::optional<PeerAddress>& source() const { return source_; }

 private:
  std::string taken_;  // the header's bytes taken so far
  std::optional<PeerAddress> source_;
};

class TlsPrelude {
 public:
  // `transport` has TLS started (Transport::start_tls).
  PreludeStep step(Transport& transport, const PeerAddress& peer);
  // A TLS handshake record came first: a kClose from here on is a failed handshake.
  bool hello_seen() const { return hello_seen_; }

 private:
  bool hello_seen_ = false;  // the first bytes were a handshake record
};

}  // namespace shoal::net
