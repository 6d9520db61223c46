// Http1Session: the per-client state machine on the worker's loop (phases: http1/phase.hpp).
//   reading head --(head)--> reading body --(message)--> reply queued --(written)--> idle
// pump() is the one place that parses, writes and decides what to wait for next; event
// callbacks and helper callbacks only feed it. Pipelined requests are parsed only while the
// output queue is small, so a client that sends much and reads nothing costs little memory.
#include "http1/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>

#include "exchange/builtin_routes.hpp"
#include "exchange/job_spec.hpp"
#include "exchange/real_ip.hpp"
#include "http/dispatch.hpp"
#include "http/router.hpp"
#include "http/status.hpp"
#include "http1/wire.hpp"
#include "net/prelude.hpp"
#include "proxy/forward.hpp"

namespace shoal {

namespace {

constexpr size_t kInputLimit = 64 * 1024;  // unparsed bytes kept while a reply is pending

}  // namespace

std::array<Millis, kTimerKinds> connection_timeouts(const Limits& limits) {
  std::array<Millis, kTimerKinds> t{};
  t[static_cast<size_t>(TimerKind::kHeader)] = limits.header_timeout;
  t[static_cast<size_t>(TimerKind::kKeepAlive)] = limits.keepalive_timeout;
  t[static_cast<size_t>(TimerKind::kSend)] = limits.send_timeout;
  t[static_cast<size_t>(TimerKind::kDrainGrace)] = kDrainGrace;
  t[static_cast<size_t>(TimerKind::kLinger)] = kLingerTimeout;
  return t;
}

Http1Session::Http1Session(SessionContext& context, const http::VirtualHosts& hosts,
                           evutil_socket_t fd, PeerAddress peer)
    : context_(context), hosts_(hosts), transport_(fd), peer_(peer) {
  assign_read_event();
  arm_timer(TimerKind::kHeader);
}

void Http1Session::start_handed_over(std::string bytes) {
  handed_over_ = true;
  auto& ex = in_flight();
  ex.buffered = std::move(bytes);
  ex.input = ex.buffered;
  if (!pump()) return;  // answered and closed already
  if (!ex_ && !eof_) set_reading(true);
}

void Http1Session::start(const tls::TlsListen* tls, bool proxy_protocol) {
  phase_ = http1::initial_phase(proxy_protocol, tls != nullptr);
  if (proxy_protocol || tls) {
    prelude_ = std::make_unique<Prelude>();
    prelude_->tls = tls;
  }
  if (!proxy_protocol) {
    begin(tls);
    return;
  }
  const auto peer = peer_.to_sockaddr();
  if (!context_.proxy_protocol_from ||
      !allowed(*context_.proxy_protocol_from, reinterpret_cast<const sockaddr*>(&peer))) {
    spdlog::info("client {} is not in proxy_protocol_from; closing", peer_.text());
    close();
    return;
  }
  arm_timer(TimerKind::kHeader);
  read_proxy_header();
}

void Http1Session::read_proxy_header() {
  switch (prelude_->proxy.step(transport_.fd(), peer_)) {
    case net::PreludeStep::kWaitReadable:
      set_reading(true);
      return;
    case net::PreludeStep::kDone:
      break;
    case net::PreludeStep::kWaitWritable:
    case net::PreludeStep::kPlainHttp:
    case net::PreludeStep::kClose:
      close();
      return;
  }
  if (prelude_->proxy.source()) peer_ = *prelude_->proxy.source();
  const tls::TlsListen* tls = prelude_->tls;
  enter(tls ? http1::PhaseEvent::kProxyHeaderReadTls : http1::PhaseEvent::kProxyHeaderRead);
  if (!tls) prelude_.reset();
  set_reading(false);
  arm_timer(TimerKind::kNone);
  begin(tls);
}

void Http1Session::begin(const tls::TlsListen* tls) {
  if (tls) {
    if (!transport_.start_tls(*tls)) {
      spdlog::error("client {}: SSL_new() failed: {}", peer_.text(), tls::take_openssl_error());
      close();
      return;
    }
    if (!continue_handshake()) return;
    if (phase_ == http1::Phase::kHandshake) return;  // waits for the client; read_client goes on
  }
  if (!read_client()) return;  // answered and closed already
  if (!nodelay_ && !closing() && !eof_) {
    // No reply went out (the request is incomplete, or waits for a helper): the listener
    // left this connection in delayed-ACK mode, so ACK what came now, or a client holding its
    // next segment back for that ACK (Nagle) would wait for the delayed-ACK timer.
    int one = 1;
    setsockopt(transport_.fd(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
  // Nothing yet (EAGAIN), or the exchange wants more: pump() set reading as needed; a socket
  // with nothing read yet is polled from now on.
  if (!ex_ && !eof_) set_reading(true);
}

Http1Session::~Http1Session() {
  // An orderly end for a TLS client (skipped after an error or the client's own close).
  transport_.close_notify();
  // A client that leaves mid-job must not keep a helper busy: the pool kills and replaces it.
  if (ex_) ex_->exchange.end_job();
  if (read_event_) {
    event_del(read_event_);
    context_.events->give(read_event_);
  } else if (parked_) {
    context_.park->leave(transport_.fd());
  }
  context_.timers->unlink(*this);
}

std::unique_ptr<InFlight> InFlightPool::take() {
  if (spares_.empty()) return std::make_unique<InFlight>(limits_, services_);
  auto in_flight = std::move(spares_.back());
  spares_.pop_back();
  return in_flight;
}

void InFlightPool::give(std::unique_ptr<InFlight> in_flight) {
  constexpr size_t kLargeBuffer = 16 * 1024;
  if (spares_.size() >= max_ || in_flight->exchange.has_job() || in_flight->parser.in_message() ||
      !in_flight->output.empty() || in_flight->buffered.capacity() > kLargeBuffer) {
    return;  // freed
  }
  in_flight->parser.set_body_sink(nullptr, nullptr);
  in_flight->input = {};
  in_flight->exchange.reset();  // bound again by the connection that takes it
  in_flight->framing = {};
  spares_.push_back(std::move(in_flight));
}

InFlight& Http1Session::in_flight() {
  if (!ex_) {
    ex_ = context_.in_flight->take();
    ex_->parser.set_body_sink(on_body_bytes, this);
    ex_->exchange.bind(this, &peer_, &transport_);
  }
  return *ex_;
}

bool Http1Session::idle() const {
  if (head_done_ || phase_ == http1::Phase::kLingering ||
      (ex_ && (ex_->exchange.has_job() || !ex_->input.empty())))
    return false;
  return !ex_ || (!ex_->parser.in_message() && ex_->output.empty() && ex_->buffered.empty());
}

void Http1Session::close() {
  if (in_pump_) {
    close_requested_ = true;  // pump() finishes its step, then closes
    return;
  }
  context_.on_closed(this);
}

void Http1Session::drain() {
  // Closing an idle keep-alive connection now would fail the request the client may be
  // sending at this very moment. Give it a short grace: a request arriving meanwhile is
  // answered with Connection: close; silence means it is safe to close.
  if (idle()) arm_timer(TimerKind::kDrainGrace);
}

void Http1Session::assign_read_event() {
  read_event_ = context_.events->take();
  if (!read_event_) std::abort();  // out of memory for 128 bytes: nothing sensible is left
  event_assign(read_event_, context_.base, transport_.fd(), EV_READ | EV_PERSIST, on_readable,
               this);
}

bool Http1Session::park() {
  if (parked_ || !reading_ || write_waiting_ || eof_ || phase_ != http1::Phase::kRequests ||
      !idle() || transport_.has_buffered_input()) {
    return false;
  }
  if (!context_.park->park(transport_.fd(), this)) return false;
  event_del(read_event_);
  context_.events->give(read_event_);
  read_event_ = nullptr;
  write_event_.reset();  // not waiting to write: an idle connection keeps no event at all
  parked_ = true;
  return true;
}

void Http1Session::on_unparked(void* arg) {
  auto* self = static_cast<Http1Session*>(arg);
  self->context_.park->leave(self->transport_.fd());
  self->parked_ = false;
  self->assign_read_event();
  self->reading_ = false;
  self->set_reading(true);
  self->read_client();  // what woke it: a request, or the client's close
}

void Http1Session::set_reading(bool on) {
  if (on == reading_ || !read_event_) return;
  reading_ = on;
  if (on) {
    event_add(read_event_, nullptr);
  } else {
    event_del(read_event_);
  }
}

void Http1Session::set_write_wait(bool on) {
  if (on == write_waiting_) return;
  if (on && !write_event_) {
    write_event_.reset(
        event_new(context_.base, transport_.fd(), EV_WRITE | EV_PERSIST, on_writable, this));
    if (!write_event_) std::abort();
  }
  write_waiting_ = on;
  if (on) {
    event_add(write_event_.get(), nullptr);
  } else {
    event_del(write_event_.get());
  }
}

void Http1Session::on_readable(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Http1Session*>(arg);
  if (self->phase_ == http1::Phase::kProxyHeader) {
    self->read_proxy_header();
    return;
  }
  self->read_client();
}

bool Http1Session::continue_handshake() {
  switch (prelude_->handshake.step(transport_, peer_)) {
    case net::PreludeStep::kWaitReadable:
      set_write_wait(false);
      set_reading(true);
      return true;
    case net::PreludeStep::kWaitWritable:
      set_write_wait(true);
      return true;
    case net::PreludeStep::kPlainHttp:
      // process_input answers its head (or its parse error) with a 400, then closes.
      prelude_.reset();
      enter(http1::PhaseEvent::kPlainHttp);
      return true;
    case net::PreludeStep::kDone:
      prelude_.reset();
      enter(http1::PhaseEvent::kHandshakeDone);
      set_write_wait(false);
      context_.metrics->handshake(transport_.resumed() ? metrics::Recorder::Handshake::kResumed
                                                       : metrics::Recorder::Handshake::kFull);
      return true;
    case net::PreludeStep::kClose:
      break;
  }
  if (prelude_->handshake.hello_seen()) {
    context_.metrics->handshake(metrics::Recorder::Handshake::kFailed);
  }
  close();
  return false;
}

bool Http1Session::refuse_plain_http() {
  http::Reply reply;
  reply.status = 400;
  reply.set_body("400 Bad Request: the plain HTTP request was sent to an HTTPS port\n",
                 "text/plain");
  reply.close = true;
  return respond(std::move(reply));
}

ssize_t Http1Session::receive(char* buffer, size_t size) {
  const ssize_t n = transport_.read(buffer, size);
  if (n < 0 && errno == EAGAIN && transport_.take_read_wants_write()) {
    read_wants_write_ = true;  // on_writable reads again
    set_write_wait(true);
  }
  if (n < 0 && errno == EPROTO) {
    spdlog::info("client {}: TLS error: {}", peer_.text(), transport_.failure());
  }
  return n;
}

bool Http1Session::read_client() {
  if (phase_ == http1::Phase::kHandshake) {
    if (!continue_handshake()) return false;
    if (phase_ == http1::Phase::kHandshake) return true;
    // Established: the request may have come with the client's Finished; read it now.
  }
  std::string& scratch = *context_.scratch;
  if (phase_ == http1::Phase::kLingering) {
    while (true) {
      ssize_t n = ::read(transport_.fd(), scratch.data(), scratch.size());
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      close();  // the client finished (EOF) or reset: lingering is over
      return false;
    }
  }
  ssize_t n = receive(scratch.data(), scratch.size());
  if (n > 0) context_.metrics->received(static_cast<std::uint64_t>(n));
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;
    close();  // reset by peer or another error: nothing more to do
    return false;
  }
  if (n == 0) {
    eof_ = true;
    set_reading(false);
    if (phase_ == http1::Phase::kTunnel && ex_->exchange.has_job()) {
      // The client closed its side of a tunnel: the upstream's is shut once what the client
      // sent is through, and the tunnel ends when the upstream closes (job_end).
      ex_->exchange.request_complete();
      return pump();
    }
    if (!ex_ || ex_->exchange.has_job() || ex_->output.empty() || ex_->parser.in_message()) {
      close();  // the client is gone; a job it was waiting for is cancelled
      return false;
    }
    // The client shut its side after sending: finish the reply, then close.
    enter(http1::PhaseEvent::kLastResponse);
    linger_on_close_ = false;
    return pump();
  }
  auto& ex = in_flight();
  if (ex.buffered.empty()) {
    ex_->input = std::string_view(scratch.data(), static_cast<size_t>(n));  // parse in place
  } else {
    ex.buffered.append(scratch.data(), static_cast<size_t>(n));
    ex_->input = ex.buffered;
  }
  if (!pump()) return false;
  // A record larger than the read leaves plaintext in OpenSSL that epoll cannot see.
  if (reading_ && transport_.has_buffered_input()) event_active(read_event_, EV_READ, 1);
  return true;
}

void Http1Session::on_writable(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Http1Session*>(arg);
  const bool handshaking = self->phase_ == http1::Phase::kHandshake;
  if (handshaking || self->read_wants_write_) {
    // TLS wanted the socket writable for a handshake or a read, not for the response.
    self->read_wants_write_ = false;
    if (handshaking) {
      self->read_client();
      return;
    }
    self->set_write_wait(false);
    if (!self->read_client()) return;
  }
  self->arm_timer(TimerKind::kSend);  // progress resets the send timeout
  self->pump();
}

void Http1Session::keep_leftover_input() {
  // The input may point into the worker's scratch buffer, which the next connection reuses.
  auto& buffered = in_flight().buffered;
  if (ex_->input.empty()) {
    if (buffered.capacity() > 0) std::string().swap(buffered);
    ex_->input = {};
    return;
  }
  const char* at = ex_->input.data();
  const bool owned = at >= buffered.data() && at < buffered.data() + buffered.size();
  if (owned) {
    buffered.erase(0, static_cast<size_t>(ex_->input.data() - buffered.data()));
  } else {
    buffered.assign(ex_->input);
  }
  ex_->input = buffered;
}

bool Http1Session::pump() {
  if (in_pump_) {
    pump_again_ = true;
    return true;
  }
  in_pump_ = true;
  auto& ex = in_flight();
  do {
    pump_again_ = false;
    process_input();
    if (close_requested_) break;
    // Once this reply is out the connection closes (a job still streaming is not done).
    const bool closing = this->closing() && !ex_->exchange.has_job();
    const auto queued = ex.output.pending();
    const auto flushed = transport_.write(ex.output, closing);
    if (queued > ex.output.pending()) context_.metrics->sent(queued - ex.output.pending());
    switch (flushed) {
      case OutputQueue::Flush::kError:
        close_requested_ = true;
        break;
      case OutputQueue::Flush::kBlocked:
        if (!write_waiting_) arm_timer(TimerKind::kSend);
        set_write_wait(true);
        break;
      case OutputQueue::Flush::kDone:
        if (write_waiting_) {
          // The send timeout no longer applies: time the next request's head, or nothing
          // (the idle check below arms keepalive_timeout; a job has its own deadline).
          set_write_wait(false);
          if (ex.parser.in_message()) {
            arm_timer(TimerKind::kHeader);
          } else {
            arm_timer(TimerKind::kNone);
          }
        }
        if (this->closing() && !ex_->exchange.has_job()) {
          if (linger_on_close_ && !eof_) {
            if (phase_ != http1::Phase::kLingering) start_lingering_close();
          } else {
            close_requested_ = true;
          }
          break;
        }
        if (ex_->exchange.resume_output()) {
          pump_again_ = true;  // the job may have delivered output at once: write it
        } else if (!ex_->input.empty() && !request_waits_for_job(ex_->exchange.job_state()) &&
                   !this->closing()) {
          pump_again_ = true;  // pipelined requests waited for the output to drain
        }
        break;
    }
  } while (pump_again_ && !close_requested_ &&
           phase_ != http1::Phase::kLingering);  // lingering freed the Exchange
  in_pump_ = false;
  if (close_requested_) {
    context_.on_closed(this);
    return false;
  }
  if (phase_ == http1::Phase::kLingering) return true;
  keep_leftover_input();
  set_reading(!eof_ && !ex_->exchange.body_paused() && !closing() &&
              ex.output.pending() <= kOutputHighWater && ex.buffered.size() <= kInputLimit);
  if (idle()) {
    // An idle keep-alive connection holds no parser and no buffers; the next request (on any
    // connection of this worker) reuses them.
    context_.in_flight->give(std::move(ex_));
    arm_timer(context_.draining ? TimerKind::kDrainGrace : TimerKind::kKeepAlive);
  }
  return true;
}

bool Http1Session::process_input() {
  auto& ex = in_flight();
  auto& parser = ex.parser;
  bool just_had_head = false;
  if (phase_ == http1::Phase::kTunnel) {
    tunnel_input();
    return true;
  }
  while (!closing() && !close_requested_) {
    auto& exchange = ex.exchange;
    if (request_waits_for_job(exchange.job_state())) return true;  // the next one waits
    if (exchange.body_backlogged()) {
      exchange.set_body_paused();  // the exchange resumes when the job took more
      return true;
    }
    if (ex.output.pending() > kOutputHighWater) return true;
    // Right after a head, feed even with no input: a body-less request completes then.
    if (ex_->input.empty() && !just_had_head) return true;
    just_had_head = false;
    const bool was_in_message = parser.in_message();
    auto result = parser.feed(ex_->input);
    ex_->input.remove_prefix(result.consumed);
    switch (result.event) {
      case http::ParseEvent::kNeedMore:
        // A new request began (its head must arrive in time), or its body is progressing.
        if (parser.in_message() && (!was_in_message || head_done_)) {
          arm_timer(TimerKind::kHeader);
        }
        break;
      case http::ParseEvent::kHeadComplete: {
        head_done_ = true;
        just_had_head = true;
        arm_timer(TimerKind::kHeader);
        if (phase_ == http1::Phase::kPlainOnTls) return refuse_plain_http();
        const auto& request = parser.request();
        if (auto refused = exchange.route(hosts_)) {
          return respond(std::move(*refused));
        }
        const auto& routed = exchange.routed();
        if (routed.target && routed.needs_helper() && hand_over_job()) return false;
        const auto* expect = request.header("Expect");
        if (expect && request.http_minor >= 1) {
          if (!http::iequals(*expect, "100-continue")) {
            auto reply = http::error_reply(417);
            reply.close = true;
            return respond(std::move(reply));
          }
          if (request.has_body) ex.output.append("HTTP/1.1 100 Continue\r\n\r\n");
        }
        if (routed.target && routed.route &&
            (routed.needs_helper() || std::holds_alternative<ProxyAction>(routed.route->action)) &&
            !start_job()) {
          return false;
        }
        break;
      }
      case http::ParseEvent::kMessageComplete:
        head_done_ = false;
        handed_over_ = false;  // the next job of this connection may go to a sibling again
        arm_timer(TimerKind::kNone);
        if (exchange.has_job()) {
          exchange.request_complete();
          return true;
        }
        if (closing()) return true;  // the job was refused or failed early
        if (answered_early_) {       // its answer is out already; the body was dropped
          answered_early_ = false;
          break;
        }
        if (auto builtin = exchange.answer_builtin()) {
          respond(std::move(*builtin));
          break;
        }
        respond(
            http::respond(exchange.routed(), parser.request(), *context_.mime, *context_.files));
        break;
      case http::ParseEvent::kError: {
        exchange.forget_client();  // a head that never completed names no client but the peer
        exchange.end_job();  // a 400 or 413 in the middle of a job's body: its helper is freed
        context_.metrics->refused(parser.error_status());
        spdlog::info("client {} sent a bad request: {} ({}), request: \"{}\"", peer_.text(),
                     parser.error_reason(), parser.error_status(),
                     escape_log_field(parser.request_line()));
        auto reply = http::error_reply(parser.error_status());
        reply.close = true;
        return respond(std::move(reply));
      }
    }
  }
  return true;
}

void Http1Session::tunnel_input() {
  auto& exchange = ex_->exchange;
  if (!exchange.has_job()) {  // the tunnel ended: the connection is closing
    ex_->input = {};
    return;
  }
  if (!ex_->input.empty()) {
    exchange.send_body(ex_->input);
    ex_->input = {};
  }
  if (exchange.body_backlogged()) exchange.set_body_paused();  // the exchange resumes it
}

void Http1Session::start_lingering_close() {
  enter(http1::PhaseEvent::kLinger);
  transport_.shutdown_write();
  set_write_wait(false);
  ex_.reset();
  set_reading(true);
  arm_timer(TimerKind::kLinger);
}

void Http1Session::enter(http1::PhaseEvent event) {
  if (const auto after = http1::next_phase(phase_, event)) {
    phase_ = *after;
    return;
  }
  spdlog::error("client {}: no phase after {} in {} (a bug); the phase stays", peer_.text(),
                http1::name(event), http1::name(phase_));
}

void Http1Session::on_timeout() {
  switch (phase_) {
    case http1::Phase::kProxyHeader:
      spdlog::info("client {} sent no whole PROXY header within header_timeout; closing",
                   peer_.text());
      close();
      return;
    case http1::Phase::kHandshake:
      spdlog::info("client {} timed out in the TLS handshake", peer_.text());
      close();
      return;
    case http1::Phase::kLingering:
      close();  // done lingering
      return;
    case http1::Phase::kRequests:
    case http1::Phase::kPlainOnTls:
    case http1::Phase::kTunnel:
    case http1::Phase::kClosing:
      break;
  }
  if (write_waiting_) {
    spdlog::info("client {} timed out reading the response", peer_.text());
    close();
    return;
  }
  if (!ex_ || !ex_->parser.in_message() || closing()) {
    close();  // idle past keepalive_timeout
    return;
  }
  spdlog::info("client {} timed out sending its request", peer_.text());
  if (ex_) ex_->exchange.end_job();  // one answer per request: the 408, never the job's too
  auto reply = http::error_reply(408);
  reply.close = true;
  context_.metrics->refused(408);
  // respond() lingers when the client may still be sending (it is: that is the timeout). An
  // abortive close here, with its bytes unread, sent a reset that could overtake or destroy
  // the 408 (issue 28: LimitsTest saw no 408 about once in 20 runs under load); lingering
  // reads and drops them for at most kLingerTimeout, then closes with a FIN.
  respond(std::move(reply));
  pump();
}

void Http1Session::on_body_bytes(void* self, std::string_view bytes) {
  static_cast<Http1Session*>(self)->ex_->exchange.send_body(bytes);
}

int Http1Session::local_port() const {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (getsockname(transport_.fd(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return 0;
  return ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
}

bool Http1Session::start_job() {
  auto& exchange = ex_->exchange;
  if (std::holds_alternative<ProxyAction>(exchange.routed().route->action)) {
    exchange.start_proxy();
    return true;
  }
  http::Reply refusal;
  if (exchange.start_job(local_port(), refusal)) return true;
  return respond(std::move(refusal));
}

bool Http1Session::hand_over_job() {
  // Only whole connections move: nothing may be waiting to be written here (an earlier
  // pipelined answer), and a connection that just came from a sibling stays for this job.
  // A TLS session cannot move to another process.
  if (!context_.siblings || transport_.secure() || handed_over_ || eof_ || context_.draining ||
      !ex_->output.empty() || !context_.siblings->better_elsewhere()) {
    return false;
  }
  std::string bytes = http1::serialize_request_head(ex_->parser.request());
  bytes.append(ex_->input);  // the body so far and whatever was pipelined behind it
  if (!context_.siblings->hand_over(transport_.fd(), hosts_, bytes)) return false;
  // The sibling holds the socket now: this worker's copy closes quietly (no FIN while the
  // sibling keeps it open), and nothing more is read or written here.
  ex_->input = {};
  close_requested_ = true;
  return true;
}

}  // namespace shoal
