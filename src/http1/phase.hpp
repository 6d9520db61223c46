// The phases of an HTTP/1.1 connection, one at a time, and the one function that moves
// between them (pure; unit-tested). What was six flags of Connection that could not hold
// together (PROXY header, handshake, plain HTTP on TLS, tunnel, close after write, lingering)
// is this enum; the connection's timeout is decided by its phase.
//
//   kProxyHeader --kProxyHeaderRead--> kRequests      (plain address)
//   kProxyHeader --kProxyHeaderReadTls--> kHandshake  (TLS address)
//   kHandshake --kHandshakeDone--> kRequests
//   kHandshake --kPlainHttp--> kPlainOnTls           (its head is answered 400)
//   kRequests --kUpgraded--> kTunnel                  (a proxied 101)
//   kRequests --kHttp2--> kHttp2                      (h2 by ALPN, or the h2c preface)
//   kRequests, kPlainOnTls, kTunnel, kHttp2, kClosing --kLastResponse--> kClosing
//                                                     (kHttp2: after a connection error)
//   kClosing --kLinger--> kLingering
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace shoal::http1 {

enum class Phase : std::uint8_t {
  kProxyHeader,  // a PROXY protocol header is arriving: nothing else is read
  kHandshake,    // the TLS handshake
  kRequests,     // requests are read and answered in order; the connection stays open
  kPlainOnTls,   // plain HTTP came to a TLS address: its head is answered 400, then closed
  kTunnel,       // after a proxied 101: bytes pass both ways until either side closes
  kHttp2,        // the connection speaks HTTP/2: its Http2Session reads, writes and closes
  kClosing,      // the last response is queued: the connection closes once it is written
  kLingering,    // our side is shut; what the client still sends is read and dropped
};

enum class PhaseEvent : std::uint8_t {
  kProxyHeaderRead,     // the PROXY header is read on a plain address
  kProxyHeaderReadTls,  // ... on a TLS address: the handshake is next
  kHandshakeDone,
  kPlainHttp,     // the first bytes on a TLS address were a plain HTTP request
  kUpgraded,      // a proxied 101 to an Upgrade request
  kHttp2,         // before any request: ALPN chose h2, or the h2c connection preface came
  kLastResponse,  // a response said close (or the client shut its side): no more requests
  kLinger,        // the last response is out and the client may still be sending
};

// Where a new connection starts: the PROXY header first where the address expects one, then
// the TLS handshake on a TLS address.
Phase initial_phase(bool proxy_protocol, bool tls);

// The phase after `event` in `phase`; nullopt when the event cannot happen there (the caller
// keeps its phase and says so: it is a bug).
std::optional<Phase> next_phase(Phase phase, PhaseEvent event);

// True in the phases where no further request is read: the connection ends once its output
// is written (kClosing), or has ended it (kLingering).
constexpr bool closing(Phase phase) {
  return phase == Phase::kClosing || phase == Phase::kLingering;
}

std::string_view name(Phase phase);
std::string_view name(PhaseEvent event);

}  // namespace shoal::http1
