// Duration ("500ms", "30s", "5m", "1h") and size ("512", "16k", "1m", "1g") values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shoal {

// A bare number of a duration is seconds, as in nginx.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// A bare number is bytes; k, m, g (either case) are powers of 1024.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace shoal
