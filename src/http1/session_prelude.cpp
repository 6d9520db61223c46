// Http1Prelude: the PROXY header and the TLS handshake of one session (see the header).
#include "http1/session_prelude.hpp"

#include <spdlog/spdlog.h>

#include "http1/session.hpp"

namespace shoal {

void Http1Prelude::start(Http1Session& session, bool proxy_protocol) {
  if (!proxy_protocol) {
    start_tls(session);
    return;
  }
  const auto peer = session.peer_.to_sockaddr();
  const auto* from = session.context_.proxy_protocol_from;
  if (!from || !allowed(*from, reinterpret_cast<const sockaddr*>(&peer))) {
    spdlog::info("client {} is not in proxy_protocol_from; closing", session.peer_.text());
    session.close();
    return;
  }
  session.arm_timer(TimerKind::kHeader);
  read_proxy_header(session);
}

void Http1Prelude::read_proxy_header(Http1Session& session) {
  switch (proxy_.step(session.transport_.fd(), session.peer_)) {
    case net::PreludeStep::kWaitReadable:
      session.set_reading(true);
      return;
    case net::PreludeStep::kDone:
      break;
    case net::PreludeStep::kWaitWritable:
    case net::PreludeStep::kPlainHttp:
    case net::PreludeStep::kClose:
      session.close();
      return;
  }
  if (proxy_.source()) session.peer_ = *proxy_.source();
  session.enter(tls_ ? http1::PhaseEvent::kProxyHeaderReadTls
                     : http1::PhaseEvent::kProxyHeaderRead);
  session.set_reading(false);
  session.arm_timer(TimerKind::kNone);
  if (tls_) {
    start_tls(session);
    return;
  }
  session.prelude_.reset();  // `this` is gone
  session.begin();
}

void Http1Prelude::start_tls(Http1Session& session) {
  if (!session.transport_.start_tls(*tls_)) {
    spdlog::error("client {}: SSL_new() failed: {}", session.peer_.text(),
                  tls::take_openssl_error());
    session.close();
    return;
  }
  if (!continue_handshake(session)) return;
  // Still handshaking: waits for the client, and read_client goes on from there.
  if (session.phase_ == http1::Phase::kHandshake) return;
  session.begin();
}

bool Http1Prelude::continue_handshake(Http1Session& session) {
  switch (handshake_.step(session.transport_, session.peer_)) {
    case net::PreludeStep::kWaitReadable:
      session.set_write_wait(false);
      session.set_reading(true);
      return true;
    case net::PreludeStep::kWaitWritable:
      session.set_write_wait(true);
      return true;
    case net::PreludeStep::kPlainHttp:
      // The stream answers its head (or its parse error) with a 400, then closes.
      session.prelude_.reset();  // `this` is gone
      session.enter(http1::PhaseEvent::kPlainHttp);
      return true;
    case net::PreludeStep::kDone: {
      session.prelude_.reset();  // `this` is gone
      session.enter(http1::PhaseEvent::kHandshakeDone);
      if (session.transport_.alpn_h2()) Http2Session::attach(session);
      session.set_write_wait(false);
      using Handshake = metrics::Recorder::Handshake;
      session.context_.metrics->handshake(session.transport_.resumed() ? Handshake::kResumed
                                                                       : Handshake::kFull);
      return true;
    }
    case net::PreludeStep::kClose:
      break;
  }
  if (handshake_.hello_seen()) {
    session.context_.metrics->handshake(metrics::Recorder::Handshake::kFailed);
  }
  session.close();
  return false;
}

}  // namespace shoal
