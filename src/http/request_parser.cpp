// RequestParser: llhttp callbacks into a Request, limits as HTTP statuses
// (414 request line, 431 head, 413 body, 505 version, 400 anything malformed).
#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>

namespace shoal::http {

namespace {

constexpr size_t kMaxHeaders = 100;
constexpr const char* kNoVersion = "request line without an HTTP version";

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

std::string Request::line() const {
  std::string text;
  text.reserve(method.size() + target.size() + 10);
  text.append(method).append(" ").append(target).append(" HTTP/");
  text.push_back(static_cast<char>('0' + http_major));
  text.push_back('.');
  text.push_back(static_cast<char>('0' + http_minor));
  return text;
}

void Request::clear() {
  method.clear();
  target.clear();
  headers.clear();
  http_major = 1;
  http_minor = 1;
  keep_alive = true;
  has_body = false;
  upgrade = false;
  body_bytes = 0;
}

RequestParser::RequestParser(const Limits& limits) : limits_(limits) {
  // One callback table for every parser (llhttp only reads it).
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_method = on_method;
    s.on_url = on_url;
    s.on_version = on_version;
    s.on_version_complete = on_version_complete;
    s.on_header_field = on_header_field;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  llhttp_init(&parser_, HTTP_REQUEST, const_cast<llhttp_settings_t*>(&settings));
  // llhttp knows only 0.9, 1.0, 1.1 and 2.0 and calls anything else malformed; check_version
  // decides instead: 1.2 is served as 1.1 (RFC 9110 section 2.5), 3.0 is 505, "1" is 400.
  parser_.lenient_flags |= LENIENT_VERSION;
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
  s.field_open_ = false;
  s.value_started_ = false;
  s.head_bytes_ = 0;
  s.version_len_ = 0;
  return 0;
}

int RequestParser::on_method(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  s.method_end_ = s.stream_offset(at) + len;
  return 0;
}

int RequestParser::on_url(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(414, "request target too long");
  // RFC 9112 section 3: one SP between method and target (llhttp skips any number).
  if (s.request_.target.empty() && s.stream_offset(at) != s.method_end_ + 1) {
    return s.fail(400, "more than one space in the request line");
  }
  s.request_.target.append(at, len);
  s.target_end_ = s.stream_offset(at) + len;
  return 0;
}

// RFC 9112 section 2.3: a request line whose target is followed by a line break (HTTP/0.9's
// form) is no request. llhttp takes it for 0.9 only on the next byte and then waits for a
// header section; shoal answers 400 as soon as the line ends, as nginx does. The byte after the
// target is looked at once it is in the piece just parsed, whatever the piece boundaries.
bool RequestParser::ended_without_version(std::string_view data) const {
  if (!in_message_ || version_len_ != 0 || request_.target.empty()) return false;
  if (target_end_ < fed_before_ || target_end_ >= fed_before_ + data.size()) return false;
  const char next = data[target_end_ - fed_before_];
  return next == '\r' || next == '\n';
}

int RequestParser::on_version(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  // The digits come right after " HTTP/": one SP after the target.
  if (s.version_len_ == 0 && s.stream_offset(at) != s.target_end_ + 6) {
    return s.fail(400, "more than one space in the request line");
  }
  if (s.version_len_ + len > 3) return s.fail(400, "malformed HTTP version");
  std::memcpy(s.version_ + s.version_len_, at, len);
  s.version_len_ = static_cast<std::uint8_t>(s.version_len_ + len);
  return 0;
}

int RequestParser::on_version_complete(llhttp_t* p) {
  auto& s = self(p);
  if (auto verdict = check_version({s.version_, s.version_len_})) return s.fail(verdict);
  return 0;
}

int RequestParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(431, "request header fields too large");
  if (!s.field_open_) {
    if (s.request_.headers.size() >= kMaxHeaders) return s.fail(431, "too many header fields");
    s.request_.headers.emplace_back();
    s.field_open_ = true;
    s.value_started_ = false;
  }
  s.request_.headers.back().name.append(at, len);
  return 0;
}

int RequestParser::on_header_field_complete(llhttp_t* p) {
  auto& s = self(p);
  // RFC 9110 section 5.1: a field name is a token, so never empty (llhttp checks the bytes).
  if (!s.field_open_ || s.request_.headers.back().name.empty()) {
    return s.fail(400, "empty header field name");
  }
  return 0;
}

int RequestParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  if (!s.add_head_bytes(len)) return s.fail(431, "request header fields too large");
  // A value continues where its last piece ended; a gap is a line break and whitespace
  // between them: obs-fold, refused (RFC 9112 section 5.2). Trailer fields get here too.
  const auto offset = s.stream_offset(at);
  if (s.value_started_ && offset != s.value_end_) {
    return s.fail(400, "obsolete line folding in a header field");
  }
  // Should a CR or LF ever arrive here, refuse it: it must never reach a CGI variable or a log
  // line. (Two memchr scans: find_first_of would call memchr once per byte of the value.)
  if (std::memchr(at, '\r', len) != nullptr || std::memchr(at, '\n', len) != nullptr) {
    return s.fail(400, "line break in a header field value");
  }
  s.value_started_ = true;
  s.value_end_ = offset + len;
  s.request_.headers.back().value.append(at, len);
  return 0;
}

int RequestParser::on_header_value_complete(llhttp_t* p) {
  auto& s = self(p);
  // RFC 9110 section 5.5: the whitespace around a value is not part of it (llhttp drops the
  // leading part only).
  auto& value = s.request_.headers.back().value;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  s.field_open_ = false;
  return 0;
}

int RequestParser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  auto& r = s.request_;
  r.http_major = p->http_major;
  r.http_minor = p->http_minor;
  r.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  r.keep_alive = llhttp_should_keep_alive(p) != 0;
  // No protocol switch but a proxied tunnel (proxy.cpp): answer, then close.
  if (p->upgrade) r.keep_alive = false;
  r.upgrade = p->upgrade && p->method != HTTP_CONNECT;
  r.has_body = (p->flags & F_CHUNKED) != 0 || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
  // on_headers_complete reports failure with -1 (not HPE_USER); feed() reads failed_.
  // A head without a version (HTTP/0.9's form) that arrived whole; feed() catches the line as
  // it ends otherwise (ended_without_version). 505 is for a version that is there.
  if (s.version_len_ == 0) return s.fail(400, kNoVersion), -1;
  if (r.http_major != 1) return s.fail(505, "unsupported HTTP version"), -1;
  if (auto verdict = check_target_form(r.method, r.target)) return s.fail(verdict), -1;
  if (auto verdict = check_framing(r)) return s.fail(verdict), -1;
  // RFC 9112 section 3.2: a 1.1 request without Host, or with several, or with one that is not
  // a valid authority, is 400.
  auto hosts = r.header_count("Host");
  if (hosts > 1 || (hosts == 0 && r.http_minor >= 1)) {
    return s.fail(400, "missing or repeated Host"), -1;
  }
  if (hosts == 1 && !valid_host(*r.header("Host"))) return s.fail(400, "invalid Host"), -1;
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

void RequestParser::capture_request_line(std::string_view data) {
  if (request_line_.empty()) {
    // Empty lines before a request are skipped (RFC 9112 section 2.2).
    while (!data.empty() && (data.front() == '\r' || data.front() == '\n')) data.remove_prefix(1);
    if (data.empty()) return;
  }
  // The line ends at its first CR or LF: two memchr, not find_first_of's memchr per byte.
  const char* lf = static_cast<const char*>(std::memchr(data.data(), '\n', data.size()));
  const size_t before_lf = lf ? static_cast<size_t>(lf - data.data()) : data.size();
  const char* cr = static_cast<const char*>(std::memchr(data.data(), '\r', before_lf));
  const size_t end = cr ? static_cast<size_t>(cr - data.data()) : before_lf;
  line_captured_ = cr || lf;
  const auto room = kMaxLoggedLine - std::min(kMaxLoggedLine, request_line_.size());
  request_line_.append(data.substr(0, std::min(room, line_captured_ ? end : data.size())));
}

ParseResult RequestParser::feed(std::string_view data) {
  if (message_done_) {
    message_done_ = false;
    request_line_.clear();
    line_captured_ = false;
  }
  if (!line_captured_) capture_request_line(data);
  // After the head, llhttp finishes a body-less message only when called again, even with no
  // bytes: give it a valid pointer so that the consumed count below stays meaningful.
  static constexpr char kNothing[1] = {0};
  if (data.empty()) data = std::string_view(kNothing, 0);
  if (llhttp_get_errno(&parser_) == HPE_PAUSED) llhttp_resume(&parser_);
  piece_ = data.data();
  auto err = llhttp_execute(&parser_, data.data(), data.size());
  if (failed_) return {ParseEvent::kError, data.size()};
  if ((err == HPE_OK || err == HPE_PAUSED) && ended_without_version(data)) {
    fail(400, kNoVersion);
    return {ParseEvent::kError, data.size()};
  }
  ParseResult result;
  switch (err) {
    case HPE_OK:
      result = {ParseEvent::kNeedMore, data.size()};
      break;
    case HPE_PAUSED:
      result = {paused_at_, static_cast<size_t>(llhttp_get_error_pos(&parser_) - data.data())};
      break;
    case HPE_PAUSED_UPGRADE:
      // An Upgrade or CONNECT request: we speak only HTTP/1.1, so answer it and close.
      request_.keep_alive = false;
      result = {ParseEvent::kMessageComplete, data.size()};
      break;
    case HPE_INVALID_TRANSFER_ENCODING: {
      // check_framing decides first; this is llhttp's own verdict should it come earlier.
      const auto* te = request_.header("Transfer-Encoding");
      const bool has_chunked =
          te && std::string_view(*te).find("chunked") != std::string_view::npos;
      error_status_ = has_chunked ? 400 : 501;
      error_reason_ = llhttp_get_error_reason(&parser_);
      return {ParseEvent::kError, data.size()};
    }
    default:
      // HPE_INVALID_VERSION included: a well-formed version that is not 1.x failed in
      // on_version_complete with 505; what llhttp refuses there is malformed.
      error_status_ = 400;
      error_reason_ = llhttp_get_error_reason(&parser_);
      return {ParseEvent::kError, data.size()};
  }
  if (in_head_) {
    // The bytes just parsed belong to a head up to its end (the pause at kHeadComplete).
    if (auto verdict = head_scanner_.scan(data.substr(0, result.consumed))) {
      fail(verdict);
      return {ParseEvent::kError, data.size()};
    }
  }
  if (result.event == ParseEvent::kHeadComplete) {
    in_head_ = false;
    head_scanner_.reset();
  } else if (result.event == ParseEvent::kMessageComplete) {
    in_head_ = true;
    message_done_ = true;
  }
  fed_before_ += result.consumed;
  return result;
}

}  // namespace shoal::http
