// Restart delays for a worker slot: at once after a worker that served a while, doubling
// for one that keeps dying, capped, with jitter so slots do not restart in lock-step.
#pragma once

#include <chrono>

namespace shoal {

struct RestartPolicy {
  std::chrono::milliseconds stable_after{10'000};  // a worker that lived this long was fine
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{30'000};
};

// The delay before restarting a worker whose `failures`-th consecutive short life just ended
// (failures == 0: it had lived past stable_after). `jitter` in [-1, 1] moves the delay by up
// to 25 %, never above max_delay.
std::chrono::milliseconds restart_delay(const RestartPolicy& policy, int failures, double jitter);

}  // namespace shoal
