// Http2Stream: one HTTP/2 request through its Exchange, and its response as frames (see the
// header).
#include "http2/stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "http/dispatch.hpp"
#include "http/status.hpp"
#include "http1/session.hpp"
#include "http2/session.hpp"

namespace shoal {

namespace {

// Fields that mean something only to an HTTP/1.1 connection (RFC 9113 §8.2.2): never sent.
// Content-Length is written from the reply's length instead. By size first: most names are
// none of these lengths.
bool left_out(std::string_view name) {
  switch (name.size()) {
    case 7:
      return iequals(name, "upgrade");
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive");
    case 14:
      return iequals(name, "content-length");
    case 16:
      return iequals(name, "proxy-connection");
    case 17:
      return iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

ssize_t read_callback(nghttp2_session* /*ng*/, std::int32_t /*stream_id*/, std::uint8_t* buffer,
                      size_t length, std::uint32_t* flags, nghttp2_data_source* source,
                      void* /*user*/) {
  return static_cast<Http2Stream*>(source->ptr)->read_body(buffer, length, flags);
}

}  // namespace

Http2Stream::Http2Stream(Http2Session& session, std::int32_t id)
    : session_(session), id_(id), exchange_(session.context(), request_) {
  exchange_.bind(this, &session.peer(), &session.transport());
  request_.http_major = 2;
  request_.http_minor = 0;
}

Http2Stream::~Http2Stream() { exchange_.end_job(); }

void Http2Stream::reuse(std::int32_t id) {
  id_ = id;
  exchange_.reset();
  request_.clear();
  request_.http_major = 2;
  request_.http_minor = 0;
  authority_.clear();
  logged_.clear();
  header_bytes_ = 0;
  unconsumed_ = 0;
  pending_.clear();
  pending_at_ = 0;
  file_.reset();
  file_at_ = file_left_ = 0;
  too_large_ = head_done_ = answered_ = body_end_ = deferred_ = body_dropped_ = false;
  request_done_ = false;
}

void Http2Stream::add_field(std::string_view name, std::string_view value) {
  if (too_large_) return;
  const auto& config = session_.config();
  header_bytes_ += name.size() + value.size() + 32;  // as RFC 7541 §4.1 counts a field
  if (header_bytes_ > config.max_header_list ||
      request_.headers.size() >= static_cast<size_t>(config.max_header_fields)) {
    too_large_ = true;
    return;
  }
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") {
      request_.method = value;
    } else if (name == ":path") {
      request_.target = value;
    } else if (name == ":authority") {
      authority_ = value;
    }
    return;  // :scheme says nothing routing needs (the transport says TLS or not)
  }
  request_.headers.push_back({std::string(name), std::string(value)});
}

void Http2Stream::head_complete(bool end_stream) {
  head_done_ = true;
  request_done_ = end_stream;
  request_.has_body = !end_stream;
  // HTTP/1.1's Host is HTTP/2's :authority; cookie crumbs are one field again (RFC 9113
  // §8.2.3), as an HTTP/1.1 upstream or a CGI program expects.
  if (!authority_.empty() && !request_.header("host")) {
    request_.headers.push_back({"host", authority_});
  }
  if (request_.header_count("cookie") > 1) {
    std::string joined;
    std::erase_if(request_.headers, [&joined](const http::Header& h) {
      if (!iequals(h.name, "cookie")) return false;
      if (!joined.empty()) joined += "; ";
      joined += h.value;
      return true;
    });
    request_.headers.push_back({"cookie", std::move(joined)});
  }
  logged_ = request_.line();
  if (too_large_) {
    session_.context().metrics->refused(431);
    body_dropped_ = true;
    respond(http::error_reply(431));
    return;
  }
  if (auto refused = exchange_.route(session_.hosts())) {
    body_dropped_ = true;
    respond(std::move(*refused));
    return;
  }
  const auto& routed = exchange_.routed();
  if (routed.target && routed.route &&
      (routed.needs_helper() || std::holds_alternative<ProxyAction>(routed.route->action))) {
    if (std::holds_alternative<ProxyAction>(routed.route->action)) {
      exchange_.start_proxy();
    } else if (http::Reply refusal;
               !exchange_.start_job(session_.transport().local_port(), refusal)) {
      body_dropped_ = true;
      respond(std::move(refusal));
      return;
    }
    if (end_stream) exchange_.request_complete();
    return;
  }
  body_dropped_ = true;
  if (end_stream) answer_now();
}

void Http2Stream::body(std::string_view data) {
  request_.body_bytes += data.size();
  if (body_dropped_ || !exchange_.has_job()) {
    consume(data.size());
    return;
  }
  if (request_.body_bytes > session_.context().limits->max_body_bytes) {
    exchange_.end_job();
    body_dropped_ = true;
    consume(data.size());
    session_.context().metrics->refused(413);
    if (answered_) {  // the job's head is out: its response cannot end well
      nghttp2_submit_rst_stream(session_.ng(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_CANCEL);
      return;
    }
    respond(http::error_reply(413));
    return;
  }
  exchange_.send_body(data);
  if (exchange_.body_backlogged()) {
    // The job has not taken what came before: this window is given back when it has
    // (after_send), so the client cannot send more than the window ahead of the job.
    unconsumed_ += data.size();
    exchange_.set_body_paused();
  } else {
    consume(data.size());
  }
}

void Http2Stream::request_complete() {
  request_done_ = true;
  if (exchange_.has_job()) {
    if (!body_dropped_) exchange_.request_complete();
    return;
  }
  if (head_done_ && !answered_) answer_now();
}

void Http2Stream::closed() { exchange_.end_job(); }

void Http2Stream::answer_now() {
  if (auto builtin = exchange_.answer_builtin()) {
    respond(std::move(*builtin));
    return;
  }
  const auto& context = session_.context();
  respond(http::respond(exchange_.routed(), request_, *context.mime, *context.files));
}

void Http2Stream::consume(size_t n) {
  if (n > 0) nghttp2_session_consume(session_.ng(), id_, n);
}

void Http2Stream::submit_head(int status, const Fields& fields, const Fields* shared,
                              std::optional<std::uint64_t> length, bool no_body) {
  // Where HTTP/1.1 answers with Connection: close (a drain, a balancer's drain_delay),
  // HTTP/2 sends its GOAWAY: this stream and those in flight finish, no new one comes.
  if (session_.context().lame_duck || session_.context().draining) session_.drain();
  const auto status_text = std::to_string(status);
  const auto date = session_.context().dates->now();
  std::string length_text;
  if (length && !http::status_forbids_body(status)) length_text = std::to_string(*length);
  // Names are lower-case in HTTP/2 (§8.2.1): the stored ones are copied lowered.
  std::vector<std::string> names;
  names.reserve(fields.size() + (shared ? shared->size() : 0));
  std::vector<nghttp2_nv> nva;
  nva.reserve(names.capacity() + 4);
  auto add = [&nva](std::string_view name, std::string_view value) {
    nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(":status", status_text);
  add("server", "shoal");
  add("date", date);
  if (!length_text.empty()) add("content-length", length_text);
  auto add_fields = [&](const Fields& list) {
    for (const auto& [name, value] : list) {
      if (left_out(name)) continue;
      auto& lower = names.emplace_back(name);
      for (auto& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
      }
      add(lower, value);
    }
  };
  add_fields(fields);
  if (shared) add_fields(*shared);
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = read_callback;
  answered_ = true;
  nghttp2_submit_response(session_.ng(), id_, nva.data(), nva.size(),
                          no_body ? nullptr : &provider);
}

void Http2Stream::respond(http::Reply reply) {
  if (answered_) return;
  exchange_.filter_reply(reply);
  const bool no_body = !reply.send_body || http::status_forbids_body(reply.status);
  std::uint64_t body_bytes = 0;
  if (!no_body) {
    if (reply.file) {
      file_ = std::move(reply.file);
      file_at_ = reply.file_offset;
      file_left_ = reply.content_length;
    } else {
      pending_.assign(reply.fixed_body.empty() ? std::string_view(reply.body) : reply.fixed_body);
    }
    body_bytes = reply.content_length;
  }
  body_end_ = true;
  const bool empty = no_body || (file_ ? file_left_ == 0 : pending_.empty());
  std::optional<std::uint64_t> length;
  if (reply.length_known) length = reply.content_length;
  submit_head(reply.status, reply.headers, reply.shared_fields, length, empty);
  exchange_.account(reply.status, body_bytes, reply.failure);
  session_.schedule();
}

ssize_t Http2Stream::read_body(std::uint8_t* buffer, size_t length, std::uint32_t* flags) {
  if (file_) {
    auto n = static_cast<size_t>(std::min<std::uint64_t>(length, file_left_));
    if (file_->in_memory) {
      std::memcpy(buffer, file_->content.data() + file_at_, n);
    } else {
      const ssize_t got = ::pread(file_->fd.get(), buffer, n, static_cast<off_t>(file_at_));
      if (got <= 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
      n = static_cast<size_t>(got);
    }
    file_at_ += n;
    file_left_ -= n;
    if (file_left_ == 0) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      file_.reset();
    }
    return static_cast<ssize_t>(n);
  }
  const size_t available = pending_.size() - pending_at_;
  if (available == 0) {
    if (body_end_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    deferred_ = true;  // job_data or job_end resumes it
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t n = std::min(length, available);
  std::memcpy(buffer, pending_.data() + pending_at_, n);
  pending_at_ += n;
  if (pending_at_ == pending_.size()) {
    pending_.clear();
    pending_at_ = 0;
    if (body_end_) *flags |= NGHTTP2_DATA_FLAG_EOF;
  }
  return static_cast<ssize_t>(n);
}

void Http2Stream::after_send() {
  if (!exchange_.has_job()) return;
  if (unconsumed_ > 0 && !exchange_.body_backlogged()) {
    consume(static_cast<size_t>(unconsumed_));
    unconsumed_ = 0;
  }
  // May deliver output at once (job_data, then progress: the connection pumps again).
  if (pending_.size() - pending_at_ < kStreamOutputHighWater / 2) exchange_.resume_output();
}

void Http2Stream::resume() {
  if (!deferred_) return;
  deferred_ = false;
  nghttp2_session_resume_data(session_.ng(), id_);
}

void Http2Stream::job_head(exchange::JobHead head) {
  if (head.tunnel) {  // a 101 is never passed on HTTP/2 (no Upgrade there)
    job_cut();
    return;
  }
  if (head.discard_body) body_end_ = true;
  submit_head(head.status, head.fields, nullptr, head.length, head.discard_body);
}

void Http2Stream::job_data(std::string_view data) {
  pending_.append(data);
  if (pending_.size() - pending_at_ > kStreamOutputHighWater) exchange_.pause_output();
  resume();
}

void Http2Stream::job_end() {
  body_end_ = true;
  resume();
}

void Http2Stream::job_cut() {
  nghttp2_submit_rst_stream(session_.ng(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
  session_.schedule();
}

void Http2Stream::progress() { session_.schedule(); }

void Http2Stream::answer(http::Reply reply) { respond(std::move(reply)); }

}  // namespace shoal
