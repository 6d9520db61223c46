// The request rules of RFC 9112 and RFC 9110 that llhttp (8.1, strict mode) leaves to its user:
// pure functions over bytes and a parsed head, used by RequestParser (request_parser.cpp) and
// unit-tested on their own. The table in src/DESIGN.md says which rule lives where.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request.hpp"

namespace shoal::http {

// An answer to a broken rule: a status (0 means the request passes) and why.
struct Verdict {
  int status = 0;
  const char* reason = "";
  explicit operator bool() const { return status != 0; }
};

// RFC 9112 section 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. `digits` is what follows
// "HTTP/": anything but DIGIT "." DIGIT is 400; a well-formed major other than 1 is 505.
Verdict check_version(std::string_view digits);

// RFC 9110 section 7.2 / RFC 3986 section 3.2: Host = uri-host [ ":" port ], never empty, no
// userinfo, path, query or list (a comma is taken as two values of a singleton field).
bool valid_host(std::string_view host);

// RFC 9112 sections 6.1 and 6.3: how the body is framed must be certain. Transfer-Encoding
// beside Content-Length (even empty), in HTTP/1.0, without a final chunked, with chunked twice
// or with parameters is 400; a coding we lack before a final chunked is 501.
Verdict check_framing(const Request& request);

// The request-target form must match the method (RFC 9112 section 3.2): asterisk-form only
// for OPTIONS. llhttp already allows authority-form only for CONNECT.
Verdict check_target_form(std::string_view method, std::string_view target);

// Looks at the raw bytes of a request head, piece by piece as they arrive: every line ends in
// CRLF (a bare LF ends nothing: RFC 9112 section 2.2 lets a recipient refuse it, and a server in
// front of others must, since the next hop may not agree), and no line after the request-line
// starts with SP or HTAB (obs-fold, section 5.2, or whitespace before the first field line,
// section 2.2). A bare CR is llhttp's to refuse in strict mode.
class HeadScanner {
 public:
  // Scans the next bytes of the head; returns a failed Verdict at the first broken rule.
  Verdict scan(std::string_view bytes);
  // The head is complete (or a new one starts): forget the line state.
  void reset() {
    previous_ = '\0';
    line_start_pending_ = false;
  }

 private:
  char previous_ = '\0';             // the last byte of the previous piece
  bool line_start_pending_ = false;  // the previous piece ended with a LF
};

}  // namespace shoal::http
