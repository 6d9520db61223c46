// Restart delays for a worker slot: at once after a worker that served, doubling for one
// that keeps failing to start, capped, with jitter so slots do not restart in lock-step.
#pragma once

#include <chrono>

namespace shoal {

struct RestartPolicy {
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay{30'000};
};

// The delay before restarting a worker whose `failures`-th consecutive failed start just ended
// (failures == 0: it served). `jitter` in [-1, 1] moves the delay by up
// to 25 %, never above max_delay.
std::chrono::milliseconds restart_delay(const RestartPolicy& policy, int failures, double jitter);

// How a worker's life ended, as the master's restart decision sees it.
struct WorkerEnd {
  bool served = false;        // it said "ready": it was killed or crashed while serving
  int failures = 0;           // consecutive start-up failures of its slot, this one included
  bool none_serving = false;  // no other worker of the active generation is ready now
};

// Backoff is for a worker that cannot start, not for one that served and was killed: that one
// is replaced at once (as nginx does), however often it happens. And while no worker serves,
// a slot never waits longer than first_delay, so a burst of start-up failures (a file that was
// briefly missing) cannot leave the address unserved for the 30 s cap; nginx, which has no
// backoff, would retry at once.
std::chrono::milliseconds next_restart_delay(const RestartPolicy& policy, const WorkerEnd& end,
                                             double jitter);

}  // namespace shoal
