// RequestClock: what times each request for the duration histograms, read twice per request.
// On x86-64 with an invariant TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo) it reads the
// TSC (one instruction, where clock_gettime's vDSO path costs ~50) and converts a difference
// to nanoseconds with a rate measured against CLOCK_MONOTONIC: first over 2 ms at start, then
// over the whole life of the worker at each metrics tick. Elsewhere it is CLOCK_MONOTONIC.
#pragma once

#include <cstdint>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "metrics/layout.hpp"

namespace shoal::metrics {

class RequestClock {
 public:
  // Decides between the TSC and CLOCK_MONOTONIC, and calibrates (sleeps ~2 ms with the TSC).
  RequestClock();

  std::uint64_t now() const {
#if defined(__x86_64__)
    if (tsc_) return __rdtsc();
#endif
    return monotonic_ns();
  }
  // Nanoseconds between two readings of now().
  std::uint64_t elapsed_ns(std::uint64_t from, std::uint64_t to) const {
    if (to <= from) return 0;
    return tsc_ ? static_cast<std::uint64_t>(static_cast<double>(to - from) * ns_per_tick_)
                : to - from;
  }
  // Refines the rate over the time since construction (the worker's metrics tick).
  void recalibrate();
  bool uses_tsc() const { return tsc_; }

 private:
  bool tsc_ = false;
  double ns_per_tick_ = 1.0;
  std::uint64_t start_ns_ = 0;
  std::uint64_t start_ticks_ = 0;
};

// True when /proc/cpuinfo's flags (`flags` line text) promise a TSC that ticks at one rate
// in every power state.
bool invariant_tsc(const std::string& cpuinfo);

}  // namespace shoal::metrics
