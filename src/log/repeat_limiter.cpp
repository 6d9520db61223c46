// RepeatLimiter (see the header).
#include "log/repeat_limiter.hpp"

#include <time.h>

namespace shoal {

namespace {

constexpr std::int64_t kInterval = 1000;  // one line a second per cause
constexpr size_t kMaxCauses = 256;        // causes are few; a bound all the same

}  // namespace

std::optional<std::uint64_t> RepeatLimiter::admit(std::string_view cause, std::int64_t now_ms) {
  auto it = causes_.find(std::string(cause));
  if (it == causes_.end()) {
    if (causes_.size() >= kMaxCauses) causes_.clear();
    causes_.emplace(std::string(cause), Seen{now_ms, 0});
    return 0;
  }
  Seen& seen = it->second;
  if (now_ms - seen.last_ms < kInterval) {
    ++seen.held_back;
    return std::nullopt;
  }
  const auto held_back = seen.held_back;
  seen = {now_ms, 0};
  return held_back;
}

std::string suppressed_note(std::uint64_t held_back) {
  if (held_back == 0) return {};
  return " (" + std::to_string(held_back) + " similar line" + (held_back == 1 ? "" : "s") +
         " suppressed)";
}

std::int64_t coarse_now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace shoal
