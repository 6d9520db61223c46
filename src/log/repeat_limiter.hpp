// RepeatLimiter: at most one log line a second per cause (accept4's EMFILE, a full disk under
// a log file, a full helper queue), with the number of lines it held back since the last one.
// Pure: the caller gives the time, so it is tested without a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace shoal {

class RepeatLimiter {
 public:
  // nullopt: hold this line back (counted). Otherwise log it now, with the returned number
  // of lines held back for this cause since the last one logged (0: none).
  std::optional<std::uint64_t> admit(std::string_view cause, std::int64_t now_ms);

 private:
  struct Seen {
    std::int64_t last_ms = 0;
    std::uint64_t held_back = 0;
  };
  std::unordered_map<std::string, Seen> causes_;
};

// " (3 similar lines suppressed)" or "".
std::string suppressed_note(std::uint64_t held_back);

// CLOCK_MONOTONIC_COARSE in milliseconds: cheap enough for every line that might be limited.
std::int64_t coarse_now_ms();

}  // namespace shoal
