// Range requests (RFC 9110 section 14): one byte range gives 206, an unsatisfiable one 416.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};

enum class RangeKind {
  kIgnore,         // serve the whole representation: another unit, or several ranges
  kSatisfiable,    // 206 with `range`
  kUnsatisfiable,  // 416 with "Content-Range: bytes */size"
};

struct RangeDecision {
  RangeKind kind = RangeKind::kIgnore;
  ByteRange range;
};

// Evaluates a Range header value against a representation of `size` bytes.
RangeDecision evaluate_range(std::string_view header, std::uint64_t size);

// "bytes 0-99/1000"
std::string content_range(const ByteRange& range, std::uint64_t size);

}  // namespace shoal::http
