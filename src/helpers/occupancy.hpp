// Occupancy: how busy each worker's helpers are, in memory shared by one generation's workers
// (mapped by the master before it forks them; each worker writes only its own slot, and reads
// the others' without a round trip). A worker whose helpers are all busy hands a job's
// connection to the sibling with the most idle helpers (worker/handoff.hpp); the helper queue
// limit counts the whole generation's waiting jobs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace shoal::helpers {

struct OccupancySlot {
  std::atomic<std::int32_t> idle{0};      // helpers free for a job now
  std::atomic<std::int32_t> queued{0};    // jobs waiting for one of this worker's helpers
  std::atomic<std::int32_t> taking{0};    // 1 while the worker serves and takes hand-overs
  std::atomic<std::uint32_t> version{0};  // bumped at every change of idle or queued
};

class Occupancy {
 public:
  // One slot per worker, zeroed. Throws StartupError when mmap fails.
  explicit Occupancy(size_t workers);
  Occupancy(const Occupancy&) = delete;
  Occupancy& operator=(const Occupancy&) = delete;
  ~Occupancy();

  size_t size() const { return size_; }
  OccupancySlot& slot(size_t i) { return slots_[i]; }
  const OccupancySlot& slot(size_t i) const { return slots_[i]; }
  std::int64_t total_queued() const;

 private:
  OccupancySlot* slots_ = nullptr;
  size_t size_ = 0;
};

// What choose_sibling needs of a slot (a copy, so the decision is a pure function).
struct SlotView {
  std::int32_t idle = 0;
  std::int32_t queued = 0;
  bool taking = false;
  // Jobs waiting beyond what its helpers can take now: negative while helpers are idle.
  std::int32_t backlog() const { return queued - idle; }
};

// The worker to hand a job to when `self` has no idle helper: the sibling that takes
// hand-overs with the smallest backlog (an idle helper first; else the shortest queue), if
// that is smaller than `self`'s own, so queues stay even when every helper is busy; the
// lowest index among equals. -1: the job stays (an idle helper here, or nobody better).
int choose_sibling(std::span<const SlotView> slots, size_t self);

}  // namespace shoal::helpers
