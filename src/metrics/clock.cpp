// RequestClock: the TSC when it is invariant, calibrated against CLOCK_MONOTONIC.
#include "metrics/clock.hpp"

#include <time.h>

#include <fstream>
#include <sstream>
#include <string>

namespace shoal::metrics {

bool invariant_tsc(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("flags")) continue;
    const auto has = [&](const char* flag) {
      return (" " + line + " ").find(std::string(" ") + flag + " ") != std::string::npos;
    };
    return has("constant_tsc") && has("nonstop_tsc");
  }
  return false;
}

RequestClock::RequestClock() {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::stringstream text;
  text << in.rdbuf();
  if (!invariant_tsc(text.str())) return;
  start_ns_ = monotonic_ns();
  start_ticks_ = __rdtsc();
  const timespec pause{0, 2'000'000};
  nanosleep(&pause, nullptr);
  tsc_ = true;
  recalibrate();
  if (ns_per_tick_ <= 0.0 || ns_per_tick_ > 100.0) tsc_ = false;  // nonsense: not trusted
#endif
}

void RequestClock::recalibrate() {
#if defined(__x86_64__)
  if (!tsc_) return;
  const auto ns = monotonic_ns() - start_ns_;
  const auto ticks = __rdtsc() - start_ticks_;
  if (ticks > 0) ns_per_tick_ = static_cast<double>(ns) / static_cast<double>(ticks);
#endif
}

}  // namespace shoal::metrics
