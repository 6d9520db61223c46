// The HTTP/1.1 connection phases' transition function (see phase.hpp).
#include "http1/phase.hpp"

namespace shoal::http1 {

Phase initial_phase(bool proxy_protocol, bool tls) {
  if (proxy_protocol) return Phase::kProxyHeader;
  return tls ? Phase::kHandshake : Phase::kRequests;
}

std::optional<Phase> next_phase(Phase phase, PhaseEvent event) {
  switch (event) {
    case PhaseEvent::kProxyHeaderRead:
      if (phase == Phase::kProxyHeader) return Phase::kRequests;
      break;
    case PhaseEvent::kProxyHeaderReadTls:
      if (phase == Phase::kProxyHeader) return Phase::kHandshake;
      break;
    case PhaseEvent::kHandshakeDone:
      if (phase == Phase::kHandshake) return Phase::kRequests;
      break;
    case PhaseEvent::kPlainHttp:
      if (phase == Phase::kHandshake) return Phase::kPlainOnTls;
      break;
    case PhaseEvent::kUpgraded:
      if (phase == Phase::kRequests) return Phase::kTunnel;
      break;
    case PhaseEvent::kHttp2:
      if (phase == Phase::kRequests) return Phase::kHttp2;
      break;
    case PhaseEvent::kLastResponse:
      if (phase == Phase::kRequests || phase == Phase::kPlainOnTls || phase == Phase::kTunnel ||
          phase == Phase::kHttp2 || phase == Phase::kClosing) {
        return Phase::kClosing;
      }
      break;
    case PhaseEvent::kLinger:
      if (phase == Phase::kClosing) return Phase::kLingering;
      break;
  }
  return std::nullopt;
}

std::string_view name(Phase phase) {
  switch (phase) {
    case Phase::kProxyHeader:
      return "proxy-header";
    case Phase::kHandshake:
      return "handshake";
    case Phase::kRequests:
      return "requests";
    case Phase::kPlainOnTls:
      return "plain-on-tls";
    case Phase::kTunnel:
      return "tunnel";
    case Phase::kHttp2:
      return "http2";
    case Phase::kClosing:
      return "closing";
    case Phase::kLingering:
      return "lingering";
  }
  return "?";
}

std::string_view name(PhaseEvent event) {
  switch (event) {
    case PhaseEvent::kProxyHeaderRead:
      return "proxy-header-read";
    case PhaseEvent::kProxyHeaderReadTls:
      return "proxy-header-read-tls";
    case PhaseEvent::kHandshakeDone:
      return "handshake-done";
    case PhaseEvent::kPlainHttp:
      return "plain-http";
    case PhaseEvent::kUpgraded:
      return "upgraded";
    case PhaseEvent::kHttp2:
      return "http2";
    case PhaseEvent::kLastResponse:
      return "last-response";
    case PhaseEvent::kLinger:
      return "linger";
  }
  return "?";
}

}  // namespace shoal::http1
