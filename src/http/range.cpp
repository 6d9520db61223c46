// Range header evaluation. Several ranges are answered with the whole file (RFC 9110 allows a
// server to ignore Range); a malformed bytes range is 416, as nginx answers.
#include "http/range.hpp"

#include <charconv>

#include "util/text.hpp"

namespace shoal::http {

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

RangeDecision evaluate_range(std::string_view header, std::uint64_t size) {
  header = trim_ows(header);
  auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim_ows(header.substr(0, eq)), "bytes")) {
    return {RangeKind::kIgnore, {}};
  }
  auto set = header.substr(eq + 1);
  std::string_view spec;
  int count = 0;
  while (!set.empty()) {
    auto comma = set.find(',');
    auto item = trim_ows(set.substr(0, comma));
    set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    if (item.empty()) continue;
    spec = item;
    ++count;
  }
  if (count == 0) return {RangeKind::kUnsatisfiable, {}};
  if (count > 1) return {RangeKind::kIgnore, {}};

  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {RangeKind::kUnsatisfiable, {}};
  auto first_text = trim_ows(spec.substr(0, dash));
  auto last_text = trim_ows(spec.substr(dash + 1));
  ByteRange range;
  if (first_text.empty()) {
    // suffix-range: the last N bytes
    std::uint64_t suffix = 0;
    if (!parse_u64(last_text, suffix) || suffix == 0 || size == 0) {
      return {RangeKind::kUnsatisfiable, {}};
    }
    range.first = suffix >= size ? 0 : size - suffix;
    range.last = size - 1;
    return {RangeKind::kSatisfiable, range};
  }
  if (!parse_u64(first_text, range.first)) return {RangeKind::kUnsatisfiable, {}};
  if (last_text.empty()) {
    range.last = size == 0 ? 0 : size - 1;
  } else {
    if (!parse_u64(last_text, range.last) || range.last < range.first) {
      return {RangeKind::kUnsatisfiable, {}};
    }
    if (size > 0 && range.last >= size) range.last = size - 1;
  }
  if (range.first >= size) return {RangeKind::kUnsatisfiable, {}};
  return {RangeKind::kSatisfiable, range};
}

std::string content_range(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(size);
}

}  // namespace shoal::http
