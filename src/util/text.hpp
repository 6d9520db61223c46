// Small text helpers for protocol fields: ASCII case-insensitive comparison and trimming of
// optional whitespace (RFC 9110 section 5.6.3), log-safe and JSON copies, shared by every module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shoal {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Strips spaces and tabs (and a trailing CR, which CGI output may leave) at both ends.
constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// A JSON string literal of `text`: '"', '\\' and control bytes escaped, other bytes as they are.
std::string json_quote(std::string_view text);

// A Unix time as ISO 8601 in UTC: "2026-12-07T21:20:32Z".
std::string iso_time(std::uint64_t unix_seconds);

// Quotes-safe copy of client-supplied text: '"', '\\', control and non-ASCII bytes as \xHH.
std::string escape_log_field(std::string_view text);

}  // namespace shoal
