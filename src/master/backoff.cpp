// restart_delay: 0, then first_delay * 2^(failures-1), jittered, capped.
#include "master/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace shoal {

std::chrono::milliseconds restart_delay(const RestartPolicy& policy, int failures, double jitter) {
  if (failures <= 0) return std::chrono::milliseconds(0);
  const double base = static_cast<double>(policy.first_delay.count());
  const double cap = static_cast<double>(policy.max_delay.count());
  // 2^30 already passes any sensible cap; stop doubling there so the value stays finite.
  const double raw = std::min(cap, base * std::ldexp(1.0, std::min(failures - 1, 30)));
  const double jittered = raw * (1.0 + 0.25 * std::clamp(jitter, -1.0, 1.0));
  return std::chrono::milliseconds(static_cast<long long>(std::min(cap, jittered)));
}

std::chrono::milliseconds next_restart_delay(const RestartPolicy& policy, const WorkerEnd& end,
                                             double jitter) {
  if (end.served) return std::chrono::milliseconds(0);
  const auto delay = restart_delay(policy, end.failures, jitter);
  return end.none_serving ? std::min(delay, policy.first_delay) : delay;
}

}  // namespace shoal
