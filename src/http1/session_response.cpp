// Http1Session: how a response goes out on HTTP/1.1, a whole reply (respond) or a job's,
// framed as its exchange hands it over (the Carrier side). See session.hpp.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <utility>

#include "http/status.hpp"
#include "http1/session.hpp"
#include "http1/wire.hpp"

namespace shoal {

bool Http1Session::respond(http::Reply reply) {
  auto& ex = in_flight();
  const auto& request = ex.parser.request();
  const bool keep_alive =
      !reply.close && request.keep_alive && !context_.draining && !context_.lame_duck;
  if (keep_alive && !nodelay_) {
    // Only a connection that stays open needs its small replies sent at once; set it once.
    int one = 1;
    setsockopt(transport_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay_ = true;
  }
  const http1::WireOptions wire{keep_alive, context_.dates->now()};
  ex.output.append_with([&](std::string& out) { http1::append_head(out, reply, wire); });
  std::uint64_t body_bytes = 0;
  if (reply.send_body && !http::status_forbids_body(reply.status)) {
    if (reply.file) {
      ex.output.append_file(std::move(reply.file), reply.file_offset, reply.content_length);
    } else if (!reply.fixed_body.empty()) {
      ex.output.append(reply.fixed_body);
    } else {
      ex.output.append(reply.body);
    }
    body_bytes = reply.content_length;
  }
  ex.exchange.account(reply.status, body_bytes, reply.failure);
  if (!keep_alive) {
    enter(http1::PhaseEvent::kLastResponse);
    // After an error mid-request the client may still be sending: read and discard until it
    // is done, so that our close does not reset the connection before it read the reply.
    linger_on_close_ = ex.parser.in_message() || !ex_->input.empty();
  }
  return true;
}

std::string_view Http1Session::request_line() const { return ex_->parser.request_line(); }

void Http1Session::job_head(exchange::JobHead head) {
  const auto& request = ex_->parser.request();
  auto& framing = ex_->framing;
  if (head.tunnel) enter(http1::PhaseEvent::kUpgraded);
  framing.keep_alive = request.keep_alive && !context_.draining && !context_.lame_duck;
  framing.discard_body = head.discard_body;
  framing.chunked = false;
  http::Reply reply;
  reply.status = head.status;
  reply.headers = std::move(head.fields);
  reply.length_known = head.length.has_value();
  reply.content_length = head.length.value_or(0);
  if (reply.length_known) {
    // Framed by its length, for HTTP/1.0 clients too.
  } else if (!http::status_forbids_body(head.status)) {
    if (request.http_minor >= 1) {
      framing.chunked = true;
      reply.headers.emplace_back("Transfer-Encoding", "chunked");
    } else {
      framing.keep_alive = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  if ((framing.keep_alive || head.tunnel) && !nodelay_) {
    // A job's answer goes out in pieces (head, data, the last chunk): none may wait for an
    // ACK (Nagle against the client's delayed ACK costs 40 ms).
    int one = 1;
    setsockopt(transport_.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay_ = true;
  }
  const http1::WireOptions wire{framing.keep_alive, context_.dates->now(), head.tunnel};
  ex_->output.append_with([&](std::string& out) { http1::append_head(out, reply, wire); });
}

void Http1Session::job_data(std::string_view data) {
  if (ex_->framing.chunked) {
    ex_->output.append_with([&](std::string& out) { http1::append_chunk(out, data); });
  } else {
    ex_->output.append(data);
  }
  if (ex_->output.pending() > kOutputHighWater) ex_->exchange.pause_output();  // pump resumes
}

void Http1Session::job_end() {
  const auto& framing = ex_->framing;
  if (framing.chunked && !framing.discard_body) ex_->output.append(http1::kLastChunk);
  if (framing.keep_alive && ex_->parser.in_message() && ex_->exchange.proxied()) {
    // An upstream answered before the whole body arrived (as HAProxy, and nginx for its
    // own answers, do): the rest is read and dropped, and the connection stays open.
    answered_early_ = true;
  } else if (!framing.keep_alive || ex_->parser.in_message()) {
    // An answer complete before its request (a helper that did not wait for the body) is
    // the last on this connection: the rest of the body is read and discarded while closing.
    enter(http1::PhaseEvent::kLastResponse);
    linger_on_close_ = ex_->parser.in_message();
  }
}

void Http1Session::job_cut() { close(); }

void Http1Session::progress() { pump(); }

void Http1Session::answer(http::Reply reply) {
  // If the body is still arriving, stop here rather than read the rest.
  reply.close = ex_->parser.in_message();
  respond(std::move(reply));
}

}  // namespace shoal
