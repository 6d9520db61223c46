// RequestParser: llhttp wrapped for a server connection. It assembles the request head,
// enforces the size limits, counts the body, and stops after the head and after each complete
// message so that pipelined requests are answered one at a time, in order.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/request.hpp"
#include "http/request_rules.hpp"

namespace shoal::http {

enum class ParseEvent {
  kNeedMore,         // every byte consumed; feed more when it arrives
  kHeadComplete,     // request() holds the head; the body (if any) follows
  kMessageComplete,  // the whole request, body included, has been read
  kError,            // answer error_status() and close the connection
};

struct ParseResult {
  ParseEvent event = ParseEvent::kNeedMore;
  size_t consumed = 0;  // bytes of the input used; the rest belongs to later calls
};

class RequestParser {
 public:
  explicit RequestParser(const Limits& limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  ParseResult feed(std::string_view data);

  // Where decoded body bytes go (chunked framing removed); without a sink they are counted
  // and dropped.
  using BodySink = void (*)(void* context, std::string_view bytes);
  void set_body_sink(BodySink sink, void* context) {
    body_sink_ = sink;
    body_context_ = context;
  }

  Request& request() { return request_; }
  const Request& request() const { return request_; }
  // True from the first byte of a request until its message completes.
  bool in_message() const { return in_message_; }
  // The request line as received (without its line end, at most kMaxLoggedLine bytes), for
  // the logs: also what a bad request sent. Valid until the next message begins.
  std::string_view request_line() const { return request_line_; }
  static constexpr size_t kMaxLoggedLine = 8192;
  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, size_t len);
  static int on_url(llhttp_t* p, const char* at, size_t len);
  bool ended_without_version(std::string_view data) const;
  static int on_version(llhttp_t* p, const char* at, size_t len);
  static int on_version_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }

  int fail(int status, const char* reason);
  int fail(Verdict verdict) { return fail(verdict.status, verdict.reason); }
  bool add_head_bytes(size_t len);
  void capture_request_line(std::string_view data);
  // Where `at` lies in the whole stream of bytes this parser was fed: spans of one request
  // line or field line may arrive in different pieces, and their gaps are what we check.
  std::uint64_t stream_offset(const char* at) const {
    return fed_before_ + static_cast<std::uint64_t>(at - piece_);
  }

  const Limits& limits_;
  llhttp_t parser_{};
  Request request_;
  bool in_message_ = false;
  bool in_head_ = true;      // the bytes being fed belong to a request head
  bool field_open_ = false;  // a field line's name or value is being received
  bool value_started_ = false;
  std::uint64_t head_bytes_ = 0;
  // Stream offsets: the piece being fed starts at fed_before_; the request line's spans and
  // the current field value end where these say (a gap is whitespace or a line break).
  const char* piece_ = nullptr;
  std::uint64_t fed_before_ = 0;
  std::uint64_t method_end_ = 0;
  std::uint64_t target_end_ = 0;
  std::uint64_t value_end_ = 0;
  char version_[4] = {};  // the digits after "HTTP/", at most 3 kept
  std::uint8_t version_len_ = 0;
  HeadScanner head_scanner_;
  std::string request_line_;
  bool line_captured_ = false;  // the request line's end was seen
  bool message_done_ = false;   // the next feed begins a new message
  ParseEvent paused_at_ = ParseEvent::kNeedMore;
  BodySink body_sink_ = nullptr;
  void* body_context_ = nullptr;
  bool failed_ = false;  // a limit or rule of ours failed: error_status_ says which
  int error_status_ = 400;
  const char* error_reason_ = "";
};

}  // namespace shoal::http
