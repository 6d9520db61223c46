// Http1Session: the per-client state machine on the worker's loop (phases: http1/phase.hpp).
// pump() is the one place that parses (through the stream), writes and decides what to wait
// for next; event callbacks and helper callbacks only feed it. Pipelined requests are parsed
// only while the output queue is small, so a client that sends much and reads nothing costs
// little memory.
#include "http1/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "http1/wire.hpp"

namespace shoal {

// Unparsed bytes kept while a reply is pending (a namespace-scope constexpr: internal linkage).
constexpr size_t kInputLimit = 64 * 1024;

Http1Session::Http1Session(SessionContext& context, const http::VirtualHosts& hosts,
                           evutil_socket_t fd, PeerAddress peer)
    : context_(context), hosts_(hosts), transport_(fd), peer_(peer) {
  assign_read_event();
  arm_timer(TimerKind::kHeader);
}

void Http1Session::start_handed_over(std::string bytes) {
  handed_over_ = true;
  auto& ex = stream();
  ex.buffered = std::move(bytes);
  ex.input = ex.buffered;
  if (!pump()) return;  // answered and closed already
  if (!stream_ && !eof_) set_reading(true);
}

void Http1Session::start(const tls::TlsListen* tls, bool proxy_protocol, bool h2c) {
  phase_ = http1::initial_phase(proxy_protocol, tls != nullptr);
  h2c_ = h2c;
  if (!proxy_protocol && !tls) {
    begin();
    return;
  }
  prelude_ = std::make_unique<Http1Prelude>(tls);
  prelude_->start(*this, proxy_protocol);
}

void Http1Session::begin() {
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
  if (!stream_ && !eof_) set_reading(true);
}

Http1Session::~Http1Session() {
  // An orderly end for a TLS client (skipped after an error or the client's own close).
  transport_.close_notify();
  // A client that leaves mid-job must not keep a helper busy: the pool kills and replaces it.
  if (stream_) stream_->exchange.end_job();
  if (read_event_) {
    event_del(read_event_);
    context_.events->give(read_event_);
  } else if (parked_) {
    context_.park->leave(transport_.fd());
  }
  context_.timers->unlink(*this);
}

Http1Stream& Http1Session::stream() {
  if (!stream_) {
    stream_ = context_.streams->take();
    stream_->bind(*this);
  }
  return *stream_;
}

bool Http1Session::idle() const {
  return phase_ != http1::Phase::kLingering && (!stream_ || stream_->idle());
}

void Http1Session::close() {
  if (in_pump_) {
    close_requested_ = true;  // pump() finishes its step, then closes
    return;
  }
  context_.on_closed(this);
}

void Http1Session::drain() {
  if (h2_) {
    h2_->drain();  // GOAWAY; the streams in flight finish, then the connection closes
    return;
  }
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
    self->prelude_->read_proxy_header(*self);
    return;
  }
  self->read_client();
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
    if (!prelude_->continue_handshake(*this)) return false;
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
  if (n == 0) return client_finished();
  if (h2_) return h2_->on_input({scratch.data(), static_cast<size_t>(n)});
  auto& ex = stream();
  if (ex.buffered.empty()) {
    ex.input = std::string_view(scratch.data(), static_cast<size_t>(n));  // parse in place
  } else {
    ex.buffered.append(scratch.data(), static_cast<size_t>(n));
    ex.input = ex.buffered;
  }
  // The first bytes on a plain address: HTTP/1.1, or HTTP/2's preface (or a part of it).
  if (h2c_) {
    if (auto alive = Http2Session::take_preface(*this, ex)) return *alive;
  }
  if (!pump()) return false;
  // A record larger than the read leaves plaintext in OpenSSL that epoll cannot see.
  if (reading_ && transport_.has_buffered_input()) event_active(read_event_, EV_READ, 1);
  return true;
}

bool Http1Session::client_finished() {
  eof_ = true;
  set_reading(false);
  if (h2_ || !stream_ || !stream_->client_finished()) {
    close();  // the client is gone; a job it was waiting for is cancelled (HTTP/2's too)
    return false;
  }
  return pump();
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

bool Http1Session::pump() {
  if (h2_) return h2_->pump_connection();
  if (in_pump_) {
    pump_again_ = true;
    return true;
  }
  in_pump_ = true;
  auto& ex = stream();
  do {
    pump_again_ = false;
    ex.process_input();
    if (close_requested_) break;
    // Once this reply is out the connection closes (a job still streaming is not done).
    const bool closing = this->closing() && !ex.exchange.has_job();
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
          arm_timer(ex.parser.in_message() ? TimerKind::kHeader : TimerKind::kNone);
        }
        if (this->closing() && !ex.exchange.has_job()) {
          if (linger_on_close_ && !eof_) {
            if (phase_ != http1::Phase::kLingering) start_lingering_close();
          } else {
            close_requested_ = true;
          }
          break;
        }
        if (ex.exchange.resume_output()) {
          pump_again_ = true;  // the job may have delivered output at once: write it
        } else if (!ex.input.empty() && !request_waits_for_job(ex.exchange.job_state()) &&
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
  ex.keep_leftover_input();
  set_reading(!eof_ && !ex.exchange.body_paused() && !closing() &&
              ex.output.pending() <= kOutputHighWater && ex.buffered.size() <= kInputLimit);
  if (idle()) {
    // An idle keep-alive connection holds no parser and no buffers; the next request (on any
    // connection of this worker) reuses them.
    context_.streams->give(std::move(stream_));
    arm_timer(context_.draining ? TimerKind::kDrainGrace : TimerKind::kKeepAlive);
  }
  return true;
}

void Http1Session::start_lingering_close() {
  enter(http1::PhaseEvent::kLinger);
  transport_.shutdown_write();
  set_write_wait(false);
  stream_.reset();
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
    case http1::Phase::kHttp2:  // idle; a request not whole, or a response without progress
      if (kind == TimerKind::kSend || kind == TimerKind::kHeader) {
        spdlog::info("client {} timed out {} (HTTP/2)", peer_.text(),
                     kind == TimerKind::kSend ? "reading the response" : "sending its request");
      }
      close();
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
  if (!stream_ || !stream_->parser.in_message() || closing()) {
    close();  // idle past keepalive_timeout
    return;
  }
  spdlog::info("client {} timed out sending its request", peer_.text());
  stream_->time_out();
  pump();
}

void Http1Session::set_nodelay() {
  if (nodelay_) return;
  int one = 1;
  setsockopt(transport_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  nodelay_ = true;
}

void Http1Session::last_response(bool linger) {
  enter(http1::PhaseEvent::kLastResponse);
  linger_on_close_ = linger;
}

}  // namespace shoal
