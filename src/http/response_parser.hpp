// ResponseParser: llhttp in response mode, for what an upstream answers a proxied request.
// It gathers the status and fields of the head (1xx interim heads are skipped), hands body
// bytes out as they are decoded (chunked framing removed), and says when the message ended
// and whether the connection may carry another one. A 101 to a request that asked for an
// upgrade ends the parse at its head: what follows belongs to the tunnelled protocol.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::http {

class ResponseParser {
 public:
  struct Head {
    int status = 0;
    int http_minor = 1;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::uint64_t> content_length;  // as llhttp read it (never with chunked)
    bool chunked = false;
    bool keep_alive = true;  // the connection may carry another request after this response
  };
  // What one feed() found, in order; body views point into the bytes fed.
  struct Event {
    enum Kind { kHead, kBody, kComplete } kind;
    std::string_view body;
  };

  // `max_head_bytes`: a larger head is an error (the proxy answers 502).
  explicit ResponseParser(size_t max_head_bytes = 64 * 1024);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Prepares for the response to a request with this method (HEAD: no body follows), and
  // one that asked for an upgrade (a 101 is then its answer, not an interim head).
  void expect(bool head_request, bool upgrade = false);
  // Parses `data`, appending what happened to `events` (the head once, body pieces, the end;
  // parsing stops at the end). False on a malformed or oversized response (see error()).
  // `extra` is set when bytes follow the end of the response.
  bool feed(std::string_view data, std::vector<Event>& events, bool& extra);
  // The upstream closed: ends a response delimited by the close; false when it was cut.
  bool finish(std::vector<Event>& events);

  const Head& head() const { return head_; }
  // The head's fields, moved out (once the head has been read).
  std::vector<std::pair<std::string, std::string>> take_headers() {
    return std::move(head_.headers);
  }
  const std::string& error() const { return error_; }
  // A 101 answered the upgrade: after the last feed's `consumed()` bytes the tunnel begins.
  bool upgraded() const { return upgraded_; }
  size_t consumed() const { return consumed_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_status_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  // Appends a piece of a field to `to`, counting it against max_head_bytes.
  int append_head_bytes(std::string& to, const char* at, size_t len);
  static ResponseParser& self(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }

  llhttp_t parser_{};
  size_t max_head_bytes_;
  size_t head_bytes_ = 0;
  bool head_request_ = false;
  bool upgrade_requested_ = false;
  bool upgraded_ = false;
  size_t consumed_ = 0;
  bool in_value_ = false;
  Head head_;
  std::string field_;
  std::string value_;
  std::vector<Event>* events_ = nullptr;  // during feed() and finish()
  bool complete_ = false;
  std::string error_;
};

}  // namespace shoal::http
