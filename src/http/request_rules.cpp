// Request rules llhttp leaves out: version syntax, Host syntax, framing, target form, and the
// line endings of the raw head (see request_rules.hpp for the RFC sections).
#include "http/request_rules.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace shoal::http {

namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
// RFC 3986 sub-delims without ",": Host is a singleton, so a comma means a list.
constexpr bool is_host_sub_delim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ';' || c == '=';
}

// reg-name / IPv4address: unreserved, pct-encoded and sub-delims, at least one.
bool valid_reg_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_host_sub_delim(c)) {
      return false;
    }
  }
  return true;
}

// IP-literal without its brackets: an IPv6 address or IPvFuture ("v" 1*HEXDIG "." 1*(...)).
bool valid_ip_literal(std::string_view literal) {
  if (!literal.empty() && (literal.front() == 'v' || literal.front() == 'V')) {
    auto dot = literal.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == literal.size()) return false;
    for (size_t i = 1; i < dot; ++i) {
      if (!is_hex(literal[i])) return false;
    }
    for (size_t i = dot + 1; i < literal.size(); ++i) {
      const char c = literal[i];
      if (!is_unreserved(c) && !is_host_sub_delim(c) && c != ':' && c != ',') return false;
    }
    return true;
  }
  if (literal.empty() || literal.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN];
  std::memcpy(text, literal.data(), literal.size());
  text[literal.size()] = '\0';
  in6_addr address;
  return inet_pton(AF_INET6, text, &address) == 1;
}

// port = *DIGIT (empty allowed), and it must fit a TCP port.
bool valid_port(std::string_view port) {
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (!is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

}  // namespace

Verdict check_version(std::string_view digits) {
  if (digits.size() != 3 || !is_digit(digits[0]) || digits[1] != '.' || !is_digit(digits[2])) {
    return {400, "malformed HTTP version"};
  }
  if (digits[0] != '1') return {505, "unsupported HTTP version"};
  return {};
}

bool valid_host(std::string_view host) {
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(host.substr(1, close - 1))) {
      return false;
    }
    auto rest = host.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
  } else {
    auto colon = host.find(':');
    if (!valid_reg_name(host.substr(0, colon))) return false;
    if (colon != std::string_view::npos) port = host.substr(colon + 1);
  }
  return valid_port(port);
}

Verdict check_framing(const Request& request) {
  size_t te_fields = 0;
  size_t codings = 0;
  size_t chunked = 0;
  bool last_is_chunked = false;
  bool unknown = false;
  bool content_length = false;
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Content-Length")) {
      content_length = true;
      continue;
    }
    if (!iequals(h.name, "Transfer-Encoding")) continue;
    ++te_fields;
    std::string_view list = h.value;
    while (!list.empty()) {
      auto comma = list.find(',');
      auto element = trim_ows(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (element.empty()) continue;  // RFC 9110 section 5.6.1: empty list elements
      ++codings;
      auto semicolon = element.find(';');
      auto name = trim_ows(element.substr(0, semicolon));
      last_is_chunked = iequals(name, "chunked");
      if (last_is_chunked) {
        ++chunked;
        // RFC 9112 section 7: chunked defines no parameters; their presence is an error.
        if (semicolon != std::string_view::npos) return {400, "parameters on chunked"};
      } else {
        unknown = true;
      }
    }
  }
  if (te_fields == 0) return {};
  if (request.http_major == 1 && request.http_minor == 0) {
    return {400, "Transfer-Encoding in an HTTP/1.0 request"};
  }
  if (content_length) return {400, "both Transfer-Encoding and Content-Length"};
  if (codings == 0) return {400, "empty Transfer-Encoding"};
  if (chunked > 1) return {400, "chunked applied more than once"};
  if (chunked == 1 && !last_is_chunked) return {400, "chunked is not the final transfer coding"};
  if (unknown) return {501, "transfer coding not implemented"};
  return {};
}

Verdict check_target_form(std::string_view method, std::string_view target) {
  if (target == "*" && method != "OPTIONS") return {400, "asterisk-form target without OPTIONS"};
  return {};
}

Verdict HeadScanner::scan(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (line_start_pending_) {
    line_start_pending_ = false;
    if (bytes.front() == ' ' || bytes.front() == '\t') {
      return {400, "a header line starts with whitespace (obsolete line folding)"};
    }
  }
  const char* begin = bytes.data();
  const char* end = begin + bytes.size();
  for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', end - p))); ++p) {
    const char before = p == begin ? previous_ : p[-1];
    if (before != '\r') return {400, "a line ends in a bare LF"};
    if (p + 1 == end) {
      line_start_pending_ = true;
    } else if (p[1] == ' ' || p[1] == '\t') {
      return {400, "a header line starts with whitespace (obsolete line folding)"};
    }
  }
  previous_ = end[-1];
  return {};
}

}  // namespace shoal::http
