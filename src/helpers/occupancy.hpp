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
  std::atomic<std::int32_t> idle{0};    // helpers free for a job now
  std::atomic<std::int32_t> queued{0};  // jobs waiting for one of this worker's helpers
  std::atomic<std::int32_t> taking{0};  // 1 while the worker serves and takes hand-overs
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
  bool taking = false;
};

// The worker to hand a job to: the one, other than `self`, that takes hand-overs and has the
// most idle helpers (the lowest index among equals); -1 when none has an idle helper.
int choose_sibling(std::span<const SlotView> slots, size_t self);

}  // namespace shoal::helpers
