// Http1Stream: parse, hand each request to its exchange, and write its answer as HTTP/1.1:
// a whole reply (respond), or a job's head, data and end as the exchange hands them over
// (the Carrier side), framed by length, re-framed as chunked, or delimited by the close.
#include "http1/stream.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "http/dispatch.hpp"
#include "http/status.hpp"
#include "http1/session.hpp"
#include "http1/wire.hpp"

namespace shoal {

std::unique_ptr<Http1Stream> Http1StreamPool::take() {
  if (spares_.empty()) return std::make_unique<Http1Stream>(limits_, services_);
  auto stream = std::move(spares_.back());
  spares_.pop_back();
  return stream;
}

void Http1StreamPool::give(std::unique_ptr<Http1Stream> stream) {
  constexpr size_t kLargeBuffer = 16 * 1024;
  if (spares_.size() >= max_ || stream->exchange.has_job() || stream->parser.in_message() ||
      !stream->output.empty() || stream->buffered.capacity() > kLargeBuffer) {
    return;  // freed
  }
  stream->recycle();
  spares_.push_back(std::move(stream));
}

void Http1Stream::bind(Http1Session& session) {
  session_ = &session;
  parser.set_body_sink(on_body_bytes, this);
  exchange.bind(this, &session.peer_, &session.transport_);
}

void Http1Stream::recycle() {
  parser.set_body_sink(nullptr, nullptr);
  input = {};
  exchange.reset();  // bound again by the session that takes it
  chunked_ = discard_body_ = keep_alive_ = head_done_ = answered_early_ = false;
  session_ = nullptr;
}

void Http1Stream::on_body_bytes(void* self, std::string_view bytes) {
  static_cast<Http1Stream*>(self)->exchange.send_body(bytes);
}

void Http1Stream::keep_leftover_input() {
  if (input.empty()) {
    if (buffered.capacity() > 0) std::string().swap(buffered);
    input = {};
    return;
  }
  const char* at = input.data();
  const bool owned = at >= buffered.data() && at < buffered.data() + buffered.size();
  if (owned) {
    buffered.erase(0, static_cast<size_t>(input.data() - buffered.data()));
  } else {
    buffered.assign(input);
  }
  input = buffered;
}

bool Http1Stream::process_input() {
  auto& session = *session_;
  bool just_had_head = false;
  if (session.phase_ == http1::Phase::kTunnel) {
    tunnel_input();
    return true;
  }
  while (!session.closing() && !session.close_requested_) {
    if (request_waits_for_job(exchange.job_state())) return true;  // the next one waits
    if (exchange.body_backlogged()) {
      exchange.set_body_paused();  // the exchange resumes when the job took more
      return true;
    }
    if (output.pending() > kOutputHighWater) return true;
    // Right after a head, feed even with no input: a body-less request completes then.
    if (input.empty() && !just_had_head) return true;
    just_had_head = false;
    const bool was_in_message = parser.in_message();
    auto result = parser.feed(input);
    input.remove_prefix(result.consumed);
    switch (result.event) {
      case http::ParseEvent::kNeedMore:
        // A new request began (its head must arrive in time), or its body is progressing.
        if (parser.in_message() && (!was_in_message || head_done_)) {
          session.arm_timer(TimerKind::kHeader);
        }
        break;
      case http::ParseEvent::kHeadComplete: {
        head_done_ = true;
        just_had_head = true;
        session.arm_timer(TimerKind::kHeader);
        if (session.phase_ == http1::Phase::kPlainOnTls) return refuse_plain_http();
        if (auto refused = exchange.route(session.hosts_)) return respond(std::move(*refused));
        const auto& routed = exchange.routed();
        if (routed.target && routed.needs_helper() && hand_over()) return false;
        if (!answer_expect()) return true;
        if (routed.target && routed.route &&
            (routed.needs_helper() || std::holds_alternative<ProxyAction>(routed.route->action)) &&
            !start_job()) {
          return false;
        }
        break;
      }
      case http::ParseEvent::kMessageComplete:
        head_done_ = false;
        session.handed_over_ = false;  // the next job of this connection may go to a sibling
        session.arm_timer(TimerKind::kNone);
        if (exchange.has_job()) {
          exchange.request_complete();
          return true;
        }
        if (session.closing()) return true;  // the job was refused or failed early
        if (answered_early_) {               // its answer is out already; the body was dropped
          answered_early_ = false;
          break;
        }
        if (auto builtin = exchange.answer_builtin()) {
          respond(std::move(*builtin));
          break;
        }
        respond(http::respond(exchange.routed(), parser.request(), *session.context_.mime,
                              *session.context_.files));
        break;
      case http::ParseEvent::kError: {
        exchange.forget_client();  // a head that never completed names no client but the peer
        exchange.end_job();  // a 400 or 413 in the middle of a job's body: its helper is freed
        session.context_.metrics->refused(parser.error_status());
        spdlog::info("client {} sent a bad request: {} ({}), request: \"{}\"", session.peer_.text(),
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

bool Http1Stream::client_finished() {
  if (session_->phase_ == http1::Phase::kTunnel && exchange.has_job()) {
    // The client closed its side of a tunnel: the upstream's is shut once what the client
    // sent is through, and the tunnel ends when the upstream closes (job_end).
    exchange.request_complete();
    return true;
  }
  if (exchange.has_job() || output.empty() || parser.in_message()) return false;
  // The client shut its side after sending: finish the reply, then close.
  session_->last_response(false);
  return true;
}

bool Http1Stream::answer_expect() {
  const auto& request = parser.request();
  const auto* expect = request.header("Expect");
  if (!expect || request.http_minor < 1) return true;
  if (!http::iequals(*expect, "100-continue")) {
    auto reply = http::error_reply(417);
    reply.close = true;
    respond(std::move(reply));
    return false;
  }
  if (request.has_body) output.append("HTTP/1.1 100 Continue\r\n\r\n");
  return true;
}

void Http1Stream::tunnel_input() {
  if (!exchange.has_job()) {  // the tunnel ended: the connection is closing
    input = {};
    return;
  }
  if (!input.empty()) {
    exchange.send_body(input);
    input = {};
  }
  if (exchange.body_backlogged()) exchange.set_body_paused();  // the exchange resumes it
}

bool Http1Stream::hand_over() {
  auto& session = *session_;
  const auto& context = session.context_;
  // Only whole connections move: nothing may be waiting to be written here (an earlier
  // pipelined answer), and a connection that just came from a sibling stays for this job.
  // A TLS session cannot move to another process.
  if (!context.siblings || session.transport_.secure() || session.handed_over_ || session.eof_ ||
      context.draining || !output.empty() || !context.siblings->better_elsewhere()) {
    return false;
  }
  std::string bytes = http1::serialize_request_head(parser.request());
  bytes.append(input);  // the body so far and whatever was pipelined behind it
  if (!context.siblings->hand_over(session.transport_.fd(), session.hosts_, bytes)) return false;
  // The sibling holds the socket now: this worker's copy closes quietly (no FIN while the
  // sibling keeps it open), and nothing more is read or written here.
  input = {};
  session.close_requested_ = true;
  return true;
}

bool Http1Stream::start_job() {
  if (std::holds_alternative<ProxyAction>(exchange.routed().route->action)) {
    exchange.start_proxy();
    return true;
  }
  http::Reply refusal;
  if (exchange.start_job(session_->transport_.local_port(), refusal)) return true;
  return respond(std::move(refusal));
}

bool Http1Stream::refuse_plain_http() {
  http::Reply reply;
  reply.status = 400;
  reply.set_body("400 Bad Request: the plain HTTP request was sent to an HTTPS port\n",
                 "text/plain");
  reply.close = true;
  return respond(std::move(reply));
}

void Http1Stream::time_out() {
  exchange.end_job();  // one answer per request: the 408, never the job's too
  auto reply = http::error_reply(408);
  reply.close = true;
  session_->context_.metrics->refused(408);
  // respond() lingers when the client may still be sending (it is: that is the timeout). An
  // abortive close here, with its bytes unread, sent a reset that could overtake or destroy
  // the 408 (issue 28: LimitsTest saw no 408 about once in 20 runs under load); lingering
  // reads and drops them for at most kLingerTimeout, then closes with a FIN.
  respond(std::move(reply));
}

bool Http1Stream::respond(http::Reply reply) {
  exchange.filter_reply(reply);
  auto& session = *session_;
  const auto& context = session.context_;
  const auto& request = parser.request();
  const bool keep_alive =
      !reply.close && request.keep_alive && !context.draining && !context.lame_duck;
  // Only a connection that stays open needs its small replies sent at once.
  if (keep_alive) session.set_nodelay();
  const http1::WireOptions wire{keep_alive, context.dates->now()};
  output.append_with([&](std::string& out) { http1::append_head(out, reply, wire); });
  std::uint64_t body_bytes = 0;
  if (reply.send_body && !http::status_forbids_body(reply.status)) {
    if (reply.file) {
      output.append_file(std::move(reply.file), reply.file_offset, reply.content_length);
    } else if (!reply.fixed_body.empty()) {
      output.append(reply.fixed_body);
    } else {
      output.append(reply.body);
    }
    body_bytes = reply.content_length;
  }
  exchange.account(reply.status, body_bytes, reply.failure);
  // After an error mid-request the client may still be sending: read and discard until it
  // is done, so that our close does not reset the connection before it read the reply.
  if (!keep_alive) session.last_response(parser.in_message() || !input.empty());
  return true;
}

std::string_view Http1Stream::unparsed_request() const { return parser.request_line(); }

void Http1Stream::job_head(exchange::JobHead head) {
  auto& session = *session_;
  const auto& request = parser.request();
  if (head.tunnel) session.enter(http1::PhaseEvent::kUpgraded);
  keep_alive_ = request.keep_alive && !session.context_.draining && !session.context_.lame_duck;
  discard_body_ = head.discard_body;
  chunked_ = false;
  http::Reply reply;
  reply.status = head.status;
  reply.headers = std::move(head.fields);
  reply.length_known = head.length.has_value();
  reply.content_length = head.length.value_or(0);
  if (reply.length_known) {
    // Framed by its length, for HTTP/1.0 clients too.
  } else if (!http::status_forbids_body(head.status)) {
    if (request.http_minor >= 1) {
      chunked_ = true;
      reply.headers.emplace_back("Transfer-Encoding", "chunked");
    } else {
      keep_alive_ = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  // A job's answer goes out in pieces (head, data, the last chunk): none may wait for an
  // ACK (Nagle against the client's delayed ACK costs 40 ms).
  if (keep_alive_ || head.tunnel) session.set_nodelay();
  const http1::WireOptions wire{keep_alive_, session.context_.dates->now(), head.tunnel};
  output.append_with([&](std::string& out) { http1::append_head(out, reply, wire); });
}

void Http1Stream::job_data(std::string_view data) {
  if (chunked_) {
    output.append_with([&](std::string& out) { http1::append_chunk(out, data); });
  } else {
    output.append(data);
  }
  if (output.pending() > kOutputHighWater) exchange.pause_output();  // pump resumes
}

void Http1Stream::job_end() {
  if (chunked_ && !discard_body_) output.append(http1::kLastChunk);
  if (keep_alive_ && parser.in_message() && exchange.proxied()) {
    // An upstream answered before the whole body arrived (as HAProxy, and nginx for its
    // own answers, do): the rest is read and dropped, and the connection stays open.
    answered_early_ = true;
  } else if (!keep_alive_ || parser.in_message()) {
    // An answer complete before its request (a helper that did not wait for the body) is
    // the last on this connection: the rest of the body is read and discarded while closing.
    session_->last_response(parser.in_message());
  }
}

void Http1Stream::job_cut() { session_->close(); }

void Http1Stream::progress() { session_->pump(); }

void Http1Stream::answer(http::Reply reply) {
  // If the body is still arriving, stop here rather than read the rest.
  reply.close = parser.in_message();
  respond(std::move(reply));
}

}  // namespace shoal
