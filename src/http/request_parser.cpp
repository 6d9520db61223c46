// RequestParser: llhttp callbacks into a Request, limits as HTTP statuses
// (414 request line, 431 head, 413 body, 505 version, 400 anything malformed).
#include "http/request_parser.hpp"

#include <cstring>

namespace shoal::http {

namespace {

constexpr size_t kMaxHeaders = 100;

}  // namespace

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

size_t Request::header_count(std::string_view name) const {
  size_t n = 0;
  for (const auto& h : headers) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

void Request::clear() {
  method.clear();
  target.clear();
  headers.clear();
  http_major = 1;
  http_minor = 1;
  keep_alive = true;
  has_body = false;
  body_bytes = 0;
}

RequestParser::RequestParser(const Limits& limits) : limits_(limits) {
  // One callback table for every parser (llhttp only reads it).
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  llhttp_init(&parser_, HTTP_REQUEST, const_cast<llhttp_settings_t*>(&settings));
  parser_.data = this;
}

int RequestParser::fail(int status, const char* reason) {
  error_status_ = status;
  error_reason_ = reason;
  failed_ = true;
  return HPE_USER;
}

bool RequestParser::add_head_bytes(size_t len) {
  head_bytes_ += len;
  return head_bytes_ <= limits_.max_header_bytes;
}

int RequestParser::on_message_begin(llhttp_t* p) {
  auto& s = self(p);
  s.request_.clear();
  s.in_message_ = true;
  s.in_value_ = false;
  s.head_bytes_ = 0;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(414, "request target too long");
  s.request_.target.append(at, len);
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(431, "request header fields too large");
  if (s.in_value_ || s.request_.headers.empty()) {
    if (s.request_.headers.size() >= kMaxHeaders) return s.fail(431, "too many header fields");
    s.request_.headers.emplace_back();
    s.in_value_ = false;
  }
  s.request_.headers.back().name.append(at, len);
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(431, "request header fields too large");
  // llhttp hands an obs-fold continuation over as " more" (the fold becomes a space, which
  // RFC 9112 section 5.2 allows); should a CR or LF ever arrive here, refuse it: it must never
  // reach a CGI variable or a log line.
  // (Two memchr scans: find_first_of would call memchr once per byte of the value.)
  if (std::memchr(at, '\r', len) != nullptr || std::memchr(at, '\n', len) != nullptr) {
    return s.fail(400, "obsolete line folding in a header field");
  }
  s.in_value_ = true;
  s.request_.headers.back().value.append(at, len);
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  auto& r = s.request_;
  r.http_major = p->http_major;
  r.http_minor = p->http_minor;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  r.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (p->upgrade) r.keep_alive = false;  // no protocol switch: answer, then close
  r.has_body = (p->flags & F_CHUNKED) != 0 || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
  // on_headers_complete reports failure with -1 (not HPE_USER); feed() reads failed_.
  if (r.http_major != 1) return s.fail(505, "unsupported HTTP version"), -1;
  // RFC 9112 section 6.1: a transfer coding we do not implement is 501; llhttp has already
  // made sure chunked, if present, is last.
  for (const auto& h : r.headers) {
    if (!iequals(h.name, "Transfer-Encoding")) continue;
    std::string_view codings = h.value;
    while (!codings.empty()) {
      auto comma = codings.find(',');
      auto coding = trim_ows(codings.substr(0, comma));
      codings = comma == std::string_view::npos ? std::string_view() : codings.substr(comma + 1);
      if (!coding.empty() && !iequals(coding, "chunked")) {
        return s.fail(501, "transfer coding not implemented"), -1;
      }
    }
  }
  // RFC 9112 section 3.2: a 1.1 request without Host, or with several, is 400.
  auto hosts = r.header_count("Host");
  if (hosts > 1 || (hosts == 0 && r.http_minor >= 1)) {
    return s.fail(400, "missing or repeated Host"), -1;
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s.limits_.max_body_bytes) {
    return s.fail(413, "request body too large"), -1;
  }
  s.paused_at_ = ParseEvent::kHeadComplete;
  return HPE_PAUSED;
}

int RequestParser::on_body(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  s.request_.body_bytes += len;
  if (s.request_.body_bytes > s.limits_.max_body_bytes) {
    return s.fail(413, "request body too large");
  }
  if (s.body_sink_) s.body_sink_(s.body_context_, std::string_view(at, len));
  return 0;
}

int RequestParser::on_message_complete(llhttp_t* p) {
  auto& s = self(p);
  s.in_message_ = false;
  s.paused_at_ = ParseEvent::kMessageComplete;
  return HPE_PAUSED;
}

ParseResult RequestParser::feed(std::string_view data) {
  // After the head, llhttp finishes a body-less message only when called again, even with no
  // bytes: give it a valid pointer so that the consumed count below stays meaningful.
  static constexpr char kNothing[1] = {0};
  if (data.empty()) data = std::string_view(kNothing, 0);
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  auto err = llhttp_execute(&parser_, data.data(), data.size());
  if (failed_) return {ParseEvent::kError, data.size()};
  switch (err) {
    case HPE_OK:
      return {ParseEvent::kNeedMore, data.size()};
    case HPE_PAUSED: {
      auto consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data.data());
      return {paused_at_, consumed};
    }
    case HPE_PAUSED_UPGRADE:
      // An Upgrade or CONNECT request: we speak only HTTP/1.1, so answer it and close.
      request_.keep_alive = false;
      return {ParseEvent::kMessageComplete, data.size()};
    case HPE_INVALID_VERSION:
      error_status_ = 505;
      error_reason_ = "unsupported HTTP version";
      return {ParseEvent::kError, data.size()};
    case HPE_INVALID_TRANSFER_ENCODING: {
      // "gzip" alone (no chunked at all) is a coding we lack: 501; "chunked, gzip" is a
      // malformed request: 400.
      const auto* te = request_.header("Transfer-Encoding");
      const bool has_chunked =
          te && std::string_view(*te).find("chunked") != std::string_view::npos;
      error_status_ = has_chunked ? 400 : 501;
      error_reason_ = llhttp_get_error_reason(&parser_);
      return {ParseEvent::kError, data.size()};
    }
    default:
      error_status_ = 400;
      error_reason_ = llhttp_get_error_reason(&parser_);
      return {ParseEvent::kError, data.size()};
  }
}

}  // namespace shoal::http
