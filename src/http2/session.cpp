// Http2Session: libnghttp2's server session between the connection's bytes and its streams
// (see the header).
#include "http2/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "http1/session.hpp"

namespace shoal {

namespace {

// Rapid Reset (CVE-2023-44487): streams a client may reset in a burst, then per second.
constexpr std::uint64_t kResetBurst = 1000;
constexpr std::uint64_t kResetRate = 33;
// CONTINUATION frames one header block may take (CVE-2024-27316).
constexpr size_t kMaxContinuations = 8;
// The connection's receive window: what all streams' request bodies may have in flight.
constexpr std::int32_t kConnectionWindow = 1 << 20;

struct CallbacksDeleter {
  void operator()(nghttp2_session_callbacks* c) const { nghttp2_session_callbacks_del(c); }
};
struct OptionDeleter {
  void operator()(nghttp2_option* o) const { nghttp2_option_del(o); }
};

}  // namespace

Http2Session::Http2Session(Http1Session& connection) : connection_(connection) {
  nghttp2_session_callbacks* raw_callbacks = nullptr;
  nghttp2_option* raw_option = nullptr;
  if (nghttp2_session_callbacks_new(&raw_callbacks) != 0 || nghttp2_option_new(&raw_option) != 0) {
    throw std::bad_alloc();
  }
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> callbacks(raw_callbacks);
  std::unique_ptr<nghttp2_option, OptionDeleter> option(raw_option);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks.get(), on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks.get(), on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks.get(), on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks.get(), on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks.get(), on_stream_close);
  // Request bodies are given back to the window as their job takes them (backpressure).
  nghttp2_option_set_no_auto_window_update(option.get(), 1);
  nghttp2_option_set_stream_reset_rate_limit(option.get(), kResetBurst, kResetRate);
  nghttp2_option_set_max_continuations(option.get(), kMaxContinuations);
  nghttp2_session* ng = nullptr;
  if (nghttp2_session_server_new2(&ng, callbacks.get(), this, option.get()) != 0) {
    throw std::bad_alloc();
  }
  ng_.reset(ng);
  const auto& http2 = config();
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
       static_cast<std::uint32_t>(http2.max_concurrent_streams)},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(http2.initial_window)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(http2.max_header_list)},
  };
  nghttp2_submit_settings(ng, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(
      ng, NGHTTP2_FLAG_NONE, 0,
      std::max<std::int32_t>(kConnectionWindow, static_cast<std::int32_t>(http2.initial_window)));
}

Http2Session::~Http2Session() = default;

SessionContext& Http2Session::context() const { return connection_.context_; }
const http::VirtualHosts& Http2Session::hosts() const { return connection_.hosts_; }
const PeerAddress& Http2Session::peer() const { return connection_.peer_; }
const net::Transport& Http2Session::transport() const { return connection_.transport_; }
const Http2Config& Http2Session::config() const { return *connection_.context_.http2; }

Http2Session::Preface Http2Session::preface(std::string_view first) {
  const auto n = std::min(first.size(), kHttp2Preface.size());
  if (first.substr(0, n) != kHttp2Preface.substr(0, n)) return Preface::kNo;
  return first.size() >= kHttp2Preface.size() ? Preface::kWhole : Preface::kPartial;
}

void Http2Session::attach(Http1Session& c) {
  c.h2c_ = false;
  c.enter(http1::PhaseEvent::kHttp2);
  c.h2_ = std::make_unique<Http2Session>(c);
  c.set_nodelay();  // frames go out as they are made, none waits for an ACK (Nagle)
  if (c.stream_) c.context_.streams->give(std::move(c.stream_));  // HTTP/1.1's is not used
  c.arm_timer(TimerKind::kHttp2Idle);
}

std::optional<bool> Http2Session::take_preface(Http1Session& c, Http1Stream& stream) {
  switch (preface(stream.input)) {
    case Preface::kNo:
      c.h2c_ = false;
      return std::nullopt;
    case Preface::kPartial:
      stream.keep_leftover_input();  // waits for the rest
      return true;
    case Preface::kWhole:
      break;
  }
  const std::string bytes(stream.input);  // the stream is given back by attach()
  attach(c);
  c.h2_->receive(bytes);  // a connection error still sends its GOAWAY: pump decides
  return c.pump();
}

bool Http2Session::on_input(std::string_view bytes) {
  auto& c = connection_;
  receive(bytes);  // a connection error still sends the GOAWAY nghttp2 queued
  if (!pump_connection()) return false;
  // A record larger than the read leaves plaintext in OpenSSL that epoll cannot see.
  if (c.reading_ && c.transport_.has_buffered_input()) event_active(c.read_event_, EV_READ, 1);
  return true;
}

bool Http2Session::pump_connection() {
  auto& c = connection_;
  if (c.phase_ == http1::Phase::kLingering) return true;  // nothing more is sent
  if (c.in_pump_) {
    c.pump_again_ = true;
    return true;
  }
  c.in_pump_ = true;
  bool linger = false;
  do {
    c.pump_again_ = false;
    produce(kOutputHighWater);
    const bool filled = output_.pending() >= kOutputHighWater;
    const auto queued = output_.pending();
    const auto flushed = c.transport_.write(output_, false);
    if (queued > output_.pending()) c.context_.metrics->sent(queued - output_.pending());
    switch (flushed) {
      case OutputQueue::Flush::kError:
        c.close_requested_ = true;
        break;
      case OutputQueue::Flush::kBlocked:
        if (!c.write_waiting_) c.arm_timer(TimerKind::kSend);
        c.set_write_wait(true);
        break;
      case OutputQueue::Flush::kDone:
        c.set_write_wait(false);
        if (finished()) {
          // After a connection error the client may still be sending: closing with its bytes
          // unread would reset the connection and could destroy the GOAWAY. Linger instead.
          if (failed_ && !c.eof_) {
            linger = true;
          } else {
            c.close_requested_ = true;
          }
        } else if (filled) {
          c.pump_again_ = true;  // nghttp2 had more than the high-water mark to send
        }
        break;
    }
  } while (c.pump_again_ && !c.close_requested_ && !linger);
  c.in_pump_ = false;
  reap();
  if (linger && !c.close_requested_) {
    c.enter(http1::PhaseEvent::kLastResponse);
    c.start_lingering_close();  // reads and drops until the client closes, or kLingerTimeout
    return true;
  }
  if (c.close_requested_) {
    c.context_.on_closed(&c);
    return false;
  }
  if (!c.write_waiting_) {
    if (streams_.empty()) {
      // Idle: the spare streams and the output buffer go back to malloc until the next one.
      spares_.clear();
      if (output_.empty()) output_ = OutputQueue();
      c.arm_timer(TimerKind::kHttp2Idle);
    } else if (stalled()) {
      // A response waits for a window the client does not open: it has send_timeout, from
      // when it stalled (not re-armed by whatever else the client sends meanwhile).
      if (c.kind != TimerKind::kSend) c.arm_timer(TimerKind::kSend);
    } else if (awaiting_request()) {
      c.arm_timer(TimerKind::kHeader);  // the rest of a request must come within header_timeout
    } else {
      c.arm_timer(TimerKind::kNone);  // the streams wait for their jobs, which have deadlines
    }
  }
  c.set_reading(!c.eof_ && !failed_ && output_.pending() <= kOutputHighWater);
  return true;
}

void Http2Session::schedule() {
  if (in_call_) {
    again_ = true;  // no nghttp2 call from inside one: produce() looks again after
    return;
  }
  connection_.pump();
}

bool Http2Session::receive(std::string_view bytes) {
  if (failed_) return false;
  in_call_ = true;
  const auto n = nghttp2_session_mem_recv(
      ng_.get(), reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  in_call_ = false;
  if (n < 0) {
    // A connection error: nghttp2 queued the GOAWAY (or the peer's bytes were not HTTP/2).
    spdlog::info("client {}: HTTP/2 connection error: {}", peer().text(),
                 nghttp2_strerror(static_cast<int>(n)));
    failed_ = true;
    // nghttp2 queued no GOAWAY for a fatal error of its own (a flood it refused, bytes that
    // are not HTTP/2): one says why before the close.
    const bool flood = n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
    nghttp2_session_terminate_session(ng_.get(),
                                      flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  return true;
}

bool Http2Session::produce(std::uint64_t high_water) {
  if (failed_ && !nghttp2_session_want_write(ng_.get())) return false;
  do {
    again_ = false;
    in_call_ = true;
    while (output_.pending() < high_water) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(ng_.get(), &data);
      if (n < 0) {
        in_call_ = false;
        spdlog::info("client {}: HTTP/2 send failed: {}", peer().text(),
                     nghttp2_strerror(static_cast<int>(n)));
        failed_ = true;
        return false;
      }
      if (n == 0) break;
      output_.append(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
    }
    in_call_ = false;
    // Streams whose job waits for room, or whose body waits for the window, go on (a job
    // may deliver at once: then there is more to send).
    for (auto& [id, stream] : streams_) stream->after_send();
  } while (again_ && output_.pending() < high_water);
  return true;
}

bool Http2Session::stalled() const {
  const bool connection_closed = nghttp2_session_get_remote_window_size(ng_.get()) <= 0;
  for (const auto& [id, stream] : streams_) {
    if (stream->has_body_to_send() &&
        (connection_closed || nghttp2_session_get_stream_remote_window_size(ng_.get(), id) <= 0)) {
      return true;
    }
  }
  return false;
}

bool Http2Session::awaiting_request() const {
  for (const auto& [id, stream] : streams_) {
    if (stream->awaiting_request()) return true;
  }
  return false;
}

bool Http2Session::finished() const {
  if (!output_.empty()) return false;
  return failed_ ||
         (!nghttp2_session_want_read(ng_.get()) && !nghttp2_session_want_write(ng_.get()));
}

void Http2Session::drain() {
  if (draining_) return;
  draining_ = true;
  // The two-step GOAWAY (RFC 9113 §6.8): the first says no stream id is refused yet, so a
  // request in flight is not lost; after a round trip the last stream processed is final.
  nghttp2_submit_shutdown_notice(ng_.get());
  nghttp2_submit_ping(ng_.get(), NGHTTP2_FLAG_NONE, nullptr);
  schedule();
}

void Http2Session::reap() {
  // A few closed streams are kept for the next ones: a stream's request, exchange and
  // buffers are allocated once per connection, not once per request.
  constexpr size_t kSpares = 8;
  for (auto& stream : closed_) {
    if (spares_.size() < kSpares && stream->pending_capacity() <= kStreamOutputHighWater) {
      spares_.push_back(std::move(stream));
    }
  }
  closed_.clear();
}

Http2Stream* Http2Session::stream(std::int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

int Http2Session::on_begin_headers(nghttp2_session* /*ng*/, const nghttp2_frame* frame,
                                   void* self) {
  auto* session = static_cast<Http2Session*>(self);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  const auto id = frame->hd.stream_id;
  std::unique_ptr<Http2Stream> stream;
  if (session->spares_.empty()) {
    stream = std::make_unique<Http2Stream>(*session, id);
  } else {
    stream = std::move(session->spares_.back());
    session->spares_.pop_back();
    stream->reuse(id);
  }
  session->streams_.emplace(id, std::move(stream));
  return 0;
}

int Http2Session::on_header(nghttp2_session* /*ng*/, const nghttp2_frame* frame,
                            const std::uint8_t* name, size_t name_length, const std::uint8_t* value,
                            size_t value_length, std::uint8_t /*flags*/, void* self) {
  auto* session = static_cast<Http2Session*>(self);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // trailers: not passed on
  }
  if (auto* stream = session->stream(frame->hd.stream_id)) {
    stream->add_field({reinterpret_cast<const char*>(name), name_length},
                      {reinterpret_cast<const char*>(value), value_length});
  }
  return 0;
}

int Http2Session::on_frame_recv(nghttp2_session* ng, const nghttp2_frame* frame, void* self) {
  auto* session = static_cast<Http2Session*>(self);
  const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (auto* stream = session->stream(frame->hd.stream_id)) {
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          stream->head_complete(end_stream);
        } else if (end_stream) {
          stream->request_complete();  // after trailers
        }
      }
      break;
    case NGHTTP2_DATA:
      if (end_stream) {
        if (auto* stream = session->stream(frame->hd.stream_id)) stream->request_complete();
      }
      break;
    case NGHTTP2_PING:
      if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && session->draining_ && !session->final_goaway_) {
        session->final_goaway_ = true;
        nghttp2_submit_goaway(ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng),
                              NGHTTP2_NO_ERROR, nullptr, 0);
      }
      break;
    default:
      break;
  }
  return 0;
}

int Http2Session::on_data_chunk(nghttp2_session* /*ng*/, std::uint8_t /*flags*/,
                                std::int32_t stream_id, const std::uint8_t* data, size_t length,
                                void* self) {
  auto* session = static_cast<Http2Session*>(self);
  if (auto* stream = session->stream(stream_id)) {
    stream->body({reinterpret_cast<const char*>(data), length});
  } else {
    nghttp2_session_consume_connection(session->ng(), length);
  }
  return 0;
}

int Http2Session::on_stream_close(nghttp2_session* /*ng*/, std::int32_t stream_id,
                                  std::uint32_t /*error*/, void* self) {
  auto* session = static_cast<Http2Session*>(self);
  auto it = session->streams_.find(stream_id);
  if (it == session->streams_.end()) return 0;
  it->second->closed();
  // Freed after this nghttp2 call returns: the stream may be on the stack above it.
  session->closed_.push_back(std::move(it->second));
  session->streams_.erase(it);
  return 0;
}

}  // namespace shoal
