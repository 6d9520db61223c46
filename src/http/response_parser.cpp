// ResponseParser: llhttp response callbacks; each event pauses the parser so that feed()
// returns it with the bytes it consumed.
#include "http/response_parser.hpp"

#include <algorithm>

#include "util/text.hpp"

namespace shoal::http {

namespace {

constexpr size_t kMaxFields = 100;

}  // namespace

ResponseParser::ResponseParser(size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_status_complete = on_status_complete;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
  }();
  llhttp_init(&parser_, HTTP_RESPONSE, const_cast<llhttp_settings_t*>(&settings));
  parser_.data = this;
}

void ResponseParser::expect(bool head_request, bool upgrade) {
  llhttp_reset(&parser_);
  parser_.data = this;
  head_request_ = head_request;
  upgrade_requested_ = upgrade;
  upgraded_ = false;
  consumed_ = 0;
  head_ = {};
  head_bytes_ = 0;
  error_.clear();
  complete_ = false;
}

int ResponseParser::on_message_begin(llhttp_t* p) {
  auto& s = self(p);
  s.head_ = {};
  s.head_.headers.reserve(8);  // grown once, not field by field
  s.field_.clear();
  s.value_.clear();
  s.in_value_ = false;
  return 0;
}

int ResponseParser::on_status_complete(llhttp_t* p) {
  self(p).head_.status = p->status_code;
  return 0;
}

int ResponseParser::append_head_bytes(std::string& to, const char* at, size_t len) {
  head_bytes_ += len;
  if (head_bytes_ > max_head_bytes_) {
    error_ = "the response head is larger than " + std::to_string(max_head_bytes_ / 1024) + " KiB";
    return HPE_USER;
  }
  to.append(at, len);
  return 0;
}

int ResponseParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  return s.append_head_bytes(s.field_, at, len);
}

int ResponseParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto& s = self(p);
  return s.append_head_bytes(s.value_, at, len);
}

int ResponseParser::on_header_value_complete(llhttp_t* p) {
  auto& s = self(p);
  if (s.field_.empty()) {  // llhttp lets ": value" through; a client must never see it
    s.error_ = "malformed response (a field without a name)";
    return HPE_USER;
  }
  if (s.head_.headers.size() >= kMaxFields) {
    s.error_ = "the response head has more than 100 fields";
    return HPE_USER;
  }
  s.head_.headers.emplace_back(std::move(s.field_), std::string(trim_ows(s.value_)));
  s.field_.clear();
  s.value_.clear();
  return 0;
}

int ResponseParser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  const int status = p->status_code;
  if (status < 100 || status > 599) {  // llhttp lets "HTTP/1.1 \n" through as status 0
    s.error_ = "malformed response (status " + std::to_string(status) + ")";
    return -1;
  }
  const bool switching = status == 101 && s.upgrade_requested_;
  // RFC 9110 section 15.2.2 (and 7.8): a 101 names the protocol it switches to. Without that,
  // what follows is nothing the client asked for: no tunnel.
  if (switching && std::none_of(s.head_.headers.begin(), s.head_.headers.end(),
                                [](const auto& h) { return iequals(h.first, "Upgrade"); })) {
    s.error_ = "101 Switching Protocols without an Upgrade header";
    return -1;
  }
  // Interim: the real head follows. 1: no body, whatever its fields say (RFC 9110 15.2;
  // llhttp would read a Content-Length's worth of the next head as one).
  if (status >= 100 && status < 200 && !switching) return 1;
  s.head_.status = status;
  s.head_.http_minor = p->http_minor;
  s.head_.chunked = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENT_LENGTH) && !s.head_.chunked) s.head_.content_length = p->content_length;
  s.head_.keep_alive = llhttp_should_keep_alive(p) != 0;
  s.events_->push_back({Event::kHead, {}});
  if (switching) {
    s.upgraded_ = true;
    s.complete_ = true;
    s.head_.keep_alive = false;
    return HPE_PAUSED;  // the rest is the new protocol's
  }
  // 1: no body follows (the answer to HEAD); 204 and 304 llhttp knows by itself.
  return s.head_request_ ? 1 : 0;
}

int ResponseParser::on_body(llhttp_t* p, const char* at, size_t len) {
  self(p).events_->push_back({Event::kBody, std::string_view(at, len)});
  return 0;
}

int ResponseParser::on_message_complete(llhttp_t* p) {
  auto& s = self(p);
  if (s.head_.status == 0 || (p->status_code >= 100 && p->status_code < 200)) {
    return 0;  // the end of an interim response
  }
  // After the body, llhttp decides keep-alive again (a close-delimited body cannot).
  s.head_.keep_alive = s.head_.keep_alive && llhttp_should_keep_alive(p) != 0;
  s.complete_ = true;
  s.events_->push_back({Event::kComplete, {}});
  return HPE_PAUSED;  // nothing after the end is parsed
}

bool ResponseParser::feed(std::string_view data, std::vector<Event>& events, bool& extra) {
  extra = false;
  consumed_ = 0;
  if (data.empty() || complete_) {
    extra = !data.empty();
    return true;
  }
  events_ = &events;
  const llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  events_ = nullptr;
  if (err == HPE_PAUSED) {
    consumed_ = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data.data());
    extra = consumed_ < data.size();
    return true;
  }
  consumed_ = data.size();
  if (err == HPE_OK) return true;
  if (err == HPE_PAUSED_UPGRADE && !upgrade_requested_) {
    error_ = "a 101 (Switching Protocols) to a request that asked for no upgrade";
  }
  if (error_.empty()) {
    error_ = std::string("malformed response (") + llhttp_get_error_reason(&parser_) + ")";
  }
  return false;
}

bool ResponseParser::finish(std::vector<Event>& events) {
  if (complete_) return true;
  events_ = &events;
  const llhttp_errno_t err = llhttp_finish(&parser_);
  events_ = nullptr;
  if ((err == HPE_OK || err == HPE_PAUSED) && complete_) return true;
  if (error_.empty()) error_ = "the upstream closed the connection before the response ended";
  return false;
}

}  // namespace shoal::http
