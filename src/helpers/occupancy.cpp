// Occupancy (see the header): an anonymous shared mapping, inherited by every fork.
#include "helpers/occupancy.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <string>

#include "util/syscall.hpp"

namespace shoal::helpers {

static_assert(std::atomic<std::int32_t>::is_always_lock_free,
              "shared-memory counters must be lock-free to work across processes");

Occupancy::Occupancy(size_t workers) : size_(workers) {
  void* memory = mmap(nullptr, sizeof(OccupancySlot) * (workers ? workers : 1),
                      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) check_syscall(-1, "mmap() of the helper occupancy table");
  slots_ = static_cast<OccupancySlot*>(memory);
  for (size_t i = 0; i < workers; ++i) new (&slots_[i]) OccupancySlot();
}

Occupancy::~Occupancy() {
  if (slots_) munmap(slots_, sizeof(OccupancySlot) * (size_ ? size_ : 1));
}

std::int64_t Occupancy::total_queued() const {
  std::int64_t total = 0;
  for (size_t i = 0; i < size_; ++i) total += slots_[i].queued.load(std::memory_order_relaxed);
  return total;
}

int choose_sibling(std::span<const SlotView> slots, size_t self) {
  if (self >= slots.size() || slots[self].idle > 0) return -1;
  int best = -1;
  std::int32_t lowest = slots[self].backlog();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (i == self || !slots[i].taking || slots[i].backlog() >= lowest) continue;
    best = static_cast<int>(i);
    lowest = slots[i].backlog();
  }
  return best;
}

}  // namespace shoal::helpers
