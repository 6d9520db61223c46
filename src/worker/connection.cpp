// Connection: the per-client state machine on the worker's loop.
//   reading head --(head)--> reading body --(message)--> reply queued --(drained)--> idle
// Pipelined requests wait in the input buffer and are parsed only while the output buffer is
// small, so a client that sends much and reads nothing cannot make the worker buffer much.
#include "worker/connection.hpp"

#include <event2/buffer.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

#include "helpers/cgi.hpp"
#include "http/dispatch.hpp"
#include "http/router.hpp"
#include "http/status.hpp"

namespace shoal {

namespace {

constexpr size_t kOutputHighWater = 64 * 1024;
constexpr Millis kLingerTimeout{2000};

timeval to_timeval(Millis ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

Connection::Connection(ConnectionContext& context, const http::VirtualHosts& hosts,
                       evutil_socket_t fd, std::string remote_addr, int remote_port)
    : context_(context),
      hosts_(hosts),
      remote_addr_(std::move(remote_addr)),
      remote_port_(remote_port),
      bev_(bufferevent_socket_new(context.base, fd, BEV_OPT_CLOSE_ON_FREE)),
      timer_(evtimer_new(context.base, on_timeout, this)),
      parser_(*context.limits) {
  if (!bev_ || !timer_) {
    // Only an allocation failure gets here; nothing sensible can go on.
    spdlog::critical("out of memory creating a connection");
    std::abort();
  }
  bufferevent_setcb(bev_.get(), on_readable, on_drained, on_event, this);
  parser_.set_body_sink(on_body_bytes, this);
  auto send = to_timeval(context_.limits->send_timeout);
  bufferevent_set_timeouts(bev_.get(), nullptr, &send);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  arm_timer(context_.limits->header_timeout);
}

Connection::~Connection() {
  // A client that leaves mid-job must not keep a helper busy: the pool kills and replaces it.
  if (job_) context_.helpers->cancel(job_);
}

void Connection::arm_timer(Millis timeout) {
  auto tv = to_timeval(timeout);
  evtimer_add(timer_.get(), &tv);
}

bool Connection::idle() const {
  return !parser_.in_message() && !head_done_ && !lingering_ && !job_ &&
         evbuffer_get_length(bufferevent_get_output(bev_.get())) == 0 &&
         evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0;
}

void Connection::close() { context_.on_closed(this); }

void Connection::drain() {
  if (idle()) close();
}

void Connection::on_readable(bufferevent* bev, void* arg) noexcept {
  auto* self = static_cast<Connection*>(arg);
  if (self->lingering_) {
    auto* in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  self->process_input();
}

bool Connection::process_input() {
  auto* in = bufferevent_get_input(bev_.get());
  auto* out = bufferevent_get_output(bev_.get());
  bool just_had_head = false;
  while (!close_after_write_) {
    if (awaiting_job_) return true;  // the next pipelined request waits for the job's answer
    if (job_ && context_.helpers->body_backlogged(job_)) {
      body_paused_ = true;  // on_job_writable resumes
      bufferevent_disable(bev_.get(), EV_READ);
      return true;
    }
    if (evbuffer_get_length(out) > kOutputHighWater) {
      bufferevent_disable(bev_.get(), EV_READ);  // on_drained resumes
      return true;
    }
    // Right after a head, feed even with no input: a body-less request completes then.
    if (evbuffer_get_length(in) == 0 && !just_had_head) return true;
    just_had_head = false;
    evbuffer_iovec chunk{};
    evbuffer_peek(in, -1, nullptr, &chunk, 1);
    const bool was_in_message = parser_.in_message();
    auto result = parser_.feed({static_cast<const char*>(chunk.iov_base), chunk.iov_len});
    evbuffer_drain(in, result.consumed);
    switch (result.event) {
      case http::ParseEvent::kNeedMore:
        // A new request began (its head must arrive in time), or its body is progressing.
        if (parser_.in_message() && (!was_in_message || head_done_)) {
          arm_timer(context_.limits->header_timeout);
        }
        break;
      case http::ParseEvent::kHeadComplete: {
        head_done_ = true;
        just_had_head = true;
        arm_timer(context_.limits->header_timeout);
        const auto& request = parser_.request();
        const auto* expect = request.header("Expect");
        if (expect && request.http_minor >= 1) {
          if (!http::iequals(*expect, "100-continue")) {
            auto reply = http::error_reply(417);
            reply.close = true;
            return respond(std::move(reply));
          }
          if (request.has_body) evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        }
        routed_ = http::route_request(hosts_, request);
        if (routed_.target && routed_.needs_helper() && !start_job()) return false;
        break;
      }
      case http::ParseEvent::kMessageComplete:
        head_done_ = false;
        evtimer_del(timer_.get());
        if (job_) {
          context_.helpers->end_body(job_);
          awaiting_job_ = true;
          return true;
        }
        if (close_after_write_) return true;  // the job was refused or failed early
        if (!respond(http::respond(routed_, parser_.request(), *context_.mime))) return false;
        break;
      case http::ParseEvent::kError: {
        spdlog::info("client {} sent a bad request: {} ({})", remote_addr_, parser_.error_reason(),
                     parser_.error_status());
        auto reply = http::error_reply(parser_.error_status());
        reply.close = true;
        return respond(std::move(reply));
      }
    }
  }
  return true;
}

bool Connection::respond(http::Reply reply) {
  const auto& request = parser_.request();
  const bool keep_alive = !reply.close && request.keep_alive && !context_.draining;
  auto* out = bufferevent_get_output(bev_.get());
  const auto head = http::serialize_head(reply, {keep_alive, context_.dates->now()});
  evbuffer_add(out, head.data(), head.size());
  std::uint64_t body_bytes = 0;
  if (reply.send_body && !http::status_forbids_body(reply.status)) {
    if (reply.file) {
      // libevent sends it with sendfile and closes the fd once sent.
      if (evbuffer_add_file(out, reply.file.release(), static_cast<ev_off_t>(reply.file_offset),
                            static_cast<ev_off_t>(reply.content_length)) != 0) {
        spdlog::error("evbuffer_add_file() failed for {}", request.target);
        close();
        return false;
      }
    } else {
      evbuffer_add(out, reply.body.data(), reply.body.size());
    }
    body_bytes = reply.content_length;
  }
  if (context_.access_log->enabled()) {
    context_.access_log->write({remote_addr_, &request, reply.status, body_bytes});
  }
  if (!keep_alive) {
    close_after_write_ = true;
    // After an error mid-request the client may still be sending: read and discard until it
    // is done, so that our close does not reset the connection before it read the reply.
    linger_on_close_ =
        parser_.in_message() || evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0;
  }
  return true;
}

void Connection::on_drained(bufferevent* /*bev*/, void* arg) noexcept {
  static_cast<Connection*>(arg)->after_drained();
}

bool Connection::after_drained() {
  if (lingering_) return true;
  if (job_ && output_paused_) {
    output_paused_ = false;
    context_.helpers->resume_output(job_);  // may deliver frames and even finish the job
    return true;
  }
  if (awaiting_job_) return true;
  if (close_after_write_) {
    if (linger_on_close_) {
      start_lingering_close();
      return true;
    }
    close();
    return false;
  }
  bufferevent_enable(bev_.get(), EV_READ);
  if (evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) {
    return process_input();  // pipelined requests were waiting for the output to drain
  }
  if (!parser_.in_message()) {
    if (context_.draining) {
      close();
      return false;
    }
    arm_timer(context_.limits->keepalive_timeout);
  }
  return true;
}

void Connection::start_lingering_close() {
  lingering_ = true;
  ::shutdown(bufferevent_getfd(bev_.get()), SHUT_WR);
  bufferevent_disable(bev_.get(), EV_WRITE);
  bufferevent_enable(bev_.get(), EV_READ);
  auto* in = bufferevent_get_input(bev_.get());
  evbuffer_drain(in, evbuffer_get_length(in));
  arm_timer(kLingerTimeout);
}

void Connection::on_event(bufferevent* bev, short what, void* arg) noexcept {
  auto* self = static_cast<Connection*>(arg);
  if (what & BEV_EVENT_TIMEOUT) {
    spdlog::info("client {} timed out reading the response", self->remote_addr_);
    self->close();
    return;
  }
  if ((what & BEV_EVENT_EOF) && !self->lingering_ &&
      evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
    // The client shut its side after sending; finish the reply, then close.
    self->close_after_write_ = true;
    self->linger_on_close_ = false;
    bufferevent_disable(bev, EV_READ);
    return;
  }
  self->close();  // EOF or an error (reset, broken pipe): nothing more to do
}

void Connection::on_body_bytes(void* self, std::string_view bytes) {
  auto* c = static_cast<Connection*>(self);
  if (c->job_) c->context_.helpers->send_body(c->job_, bytes);
}

helpers::JobSpec Connection::job_spec() const {
  helpers::JobSpec spec;
  if (const auto* job = std::get_if<JobAction>(&routed_.route->action)) {
    spec.type = job->builtin == JobKind::kBurn ? helpers::JobType::kBurn : helpers::JobType::kSleep;
    spec.duration = job->duration;
    return spec;
  }
  const auto& cgi = std::get<CgiAction>(routed_.route->action);
  const auto& request = parser_.request();
  spec.type = helpers::JobType::kCgi;
  spec.cgi_root = cgi.root;
  spec.route_prefix = routed_.route->match;
  spec.path = routed_.target->path;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  int local_port = 0;
  if (getsockname(bufferevent_getfd(bev_.get()), reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    local_port =
        ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  }
  const std::string* host = request.header("Host");
  std::string server_name =
      http::normalize_host(!routed_.target->host.empty() ? routed_.target->host
                           : host                        ? *host
                                                         : "");
  if (server_name.empty() && !routed_.server->server_names.empty()) {
    server_name = routed_.server->server_names.front();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& h : request.headers) headers.emplace_back(h.name, h.value);
  spec.env = helpers::cgi_environment({request.method, request.target, routed_.target->query,
                                       request.http_minor, server_name, local_port, remote_addr_,
                                       remote_port_, &headers});
  return spec;
}

bool Connection::start_job() {
  job_ = context_.helpers->submit(job_spec(), this);
  job_head_sent_ = false;
  job_bytes_ = 0;
  if (job_) return true;
  auto reply = http::error_reply(503);  // every helper busy and the queue full
  reply.headers.emplace_back("Retry-After", "1");
  reply.close = true;
  return respond(std::move(reply));
}

void Connection::on_job_head(int status, helpers::HeaderList headers) {
  const auto& request = parser_.request();
  job_head_sent_ = true;
  job_status_ = status;
  job_keep_alive_ = request.keep_alive && !context_.draining;
  job_discard_body_ = request.method == "HEAD" || http::status_forbids_body(status);
  job_chunked_ = false;
  http::Reply reply;
  reply.status = status;
  reply.headers = std::move(headers);
  reply.length_known = false;
  if (!http::status_forbids_body(status)) {
    if (request.http_minor >= 1) {
      job_chunked_ = true;
      reply.headers.emplace_back("Transfer-Encoding", "chunked");
    } else {
      job_keep_alive_ = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  const auto head = http::serialize_head(reply, {job_keep_alive_, context_.dates->now()});
  evbuffer_add(bufferevent_get_output(bev_.get()), head.data(), head.size());
}

void Connection::on_job_data(std::string_view data) {
  if (job_discard_body_ || data.empty()) return;
  auto* out = bufferevent_get_output(bev_.get());
  if (job_chunked_) {
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    evbuffer_add(out, size_line, static_cast<size_t>(n));
    evbuffer_add(out, data.data(), data.size());
    evbuffer_add(out, "\r\n", 2);
  } else {
    evbuffer_add(out, data.data(), data.size());
  }
  job_bytes_ += data.size();
  if (evbuffer_get_length(out) > kOutputHighWater && !output_paused_) {
    output_paused_ = true;  // after_drained resumes the helper's output
    context_.helpers->pause_output(job_);
  }
}

void Connection::on_job_end() {
  job_ = nullptr;
  awaiting_job_ = false;
  output_paused_ = false;
  auto* out = bufferevent_get_output(bev_.get());
  if (job_chunked_ && !job_discard_body_) evbuffer_add(out, "0\r\n\r\n", 5);
  if (context_.access_log->enabled()) {
    context_.access_log->write({remote_addr_, &parser_.request(), job_status_, job_bytes_});
  }
  if (!job_keep_alive_) {
    close_after_write_ = true;
    linger_on_close_ = false;
  }
  // Nothing left to write (a HEAD answer): carry on now instead of waiting for a drain.
  if (evbuffer_get_length(out) == 0) after_drained();
}

void Connection::on_job_failed(int status) {
  job_ = nullptr;
  awaiting_job_ = false;
  output_paused_ = false;
  if (job_head_sent_) {
    // Part of the answer is out; the client can only learn of the failure by a cut-off body.
    spdlog::info("client {}: response cut off after a job failure ({})", remote_addr_, status);
    close();
    return;
  }
  auto reply = http::error_reply(status);
  if (status == 503) reply.headers.emplace_back("Retry-After", "1");
  // If the body is still arriving, stop here rather than read the rest.
  reply.close = parser_.in_message();
  if (parser_.request().method == "HEAD") reply.send_body = false;
  respond(std::move(reply));
}

void Connection::on_job_writable() {
  if (!body_paused_) return;
  body_paused_ = false;
  bufferevent_enable(bev_.get(), EV_READ);
  process_input();
}

void Connection::on_timeout(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Connection*>(arg);
  if (self->lingering_ || !self->parser_.in_message() || self->close_after_write_) {
    self->close();  // idle past keepalive_timeout, or done lingering
    return;
  }
  spdlog::info("client {} timed out sending its request", self->remote_addr_);
  auto reply = http::error_reply(408);
  reply.close = true;
  self->respond(std::move(reply));
  self->linger_on_close_ = false;
}

}  // namespace shoal
