// Target parsing and path normalisation, the guard in front of every filesystem lookup.
#include "http/path.hpp"

#include <vector>

#include "http/request_rules.hpp"
#include "util/text.hpp"

namespace shoal::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when the path needs no decoding or resolving: no '%', no NUL, no "//" and no "/."
// (one pass; find_first_of would call memchr once per byte).
bool is_plain_path(std::string_view path) {
  char previous = '\0';
  for (char c : path) {
    if (c == '%' || c == '\0' || (previous == '/' && (c == '/' || c == '.'))) return false;
    previous = c;
  }
  return true;
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view encoded) {
  if (encoded.empty() || encoded.front() != '/') return std::nullopt;
  // Nearly every path has no escape, no dot segment, no repeated slash and no NUL: nothing to
  // do. (The fuzzer found the NUL case missing from this fast path; see path_test.cpp.)
  if (is_plain_path(encoded)) return std::string(encoded);
  std::string decoded;
  decoded.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      if (i + 2 >= encoded.size()) return std::nullopt;
      int hi = hex_value(encoded[i + 1]);
      int lo = hex_value(encoded[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    decoded.push_back(c);
  }

  // Split on "/" (empty segments vanish, as nginx's merge_slashes does), then resolve "." and
  // ".." (RFC 3986 section 5.2.4) on the decoded text, so "%2e%2e" and "%2f" cannot sneak by.
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  size_t pos = 1;  // decoded[0] is the leading "/"
  while (true) {
    auto slash = decoded.find('/', pos);
    bool last = slash == std::string::npos;
    auto segment = std::string_view(decoded).substr(pos, last ? std::string::npos : slash - pos);
    if (segment.empty() || segment == ".") {
      trailing_slash = last;
    } else if (segment == "..") {
      if (segments.empty()) return std::nullopt;  // above the root: 400, as nginx answers
      segments.pop_back();
      trailing_slash = last;
    } else {
      segments.push_back(segment);
      trailing_slash = false;
    }
    if (last) break;
    pos = slash + 1;
  }
  std::string out;
  out.reserve(decoded.size());
  for (auto segment : segments) {
    out += '/';
    out += segment;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::optional<Target> parse_target(std::string_view raw) {
  Target target;
  if (auto hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
  if (istarts_with(raw, "http://") || istarts_with(raw, "https://")) {
    // absolute-form: the authority's host replaces Host (RFC 9112 section 3.2.2).
    auto after_scheme = raw.substr(raw.find("://") + 3);
    auto end = after_scheme.find_first_of("/?");
    auto authority = after_scheme.substr(0, end);
    // It is held to Host's rules: no userinfo (RFC 9110 section 4.2.4), one valid authority.
    if (!valid_host(authority)) return std::nullopt;
    target.host = std::string(authority);
    raw = end == std::string_view::npos ? std::string_view("/") : after_scheme.substr(end);
    if (raw.front() == '?') {
      target.query = std::string(raw.substr(1));
      raw = "/";
    }
  }
  if (raw.empty() || raw.front() != '/') return std::nullopt;
  auto question = raw.find('?');
  if (question != std::string_view::npos) {
    target.query = std::string(raw.substr(question + 1));
    raw = raw.substr(0, question);
  }
  auto path = normalize_path(raw);
  if (!path) return std::nullopt;
  target.path = std::move(*path);
  return target;
}

std::string percent_encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    bool keep =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace shoal::http
