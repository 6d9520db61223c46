// DeadlineLists: intrusive FIFO lists, one per timeout kind.
#include "worker/deadlines.hpp"

#include <time.h>

#include <cassert>

namespace shoal {

DeadlineLists::DeadlineLists(const std::array<Millis, kTimerKinds>& durations)
    : durations_(durations) {}

void DeadlineLists::unlink(DeadlineNode& node) {
  if (!node.linked) return;
  List& list = lists_[static_cast<size_t>(node.kind)];
  (node.prev ? node.prev->next : list.head) = node.next;
  (node.next ? node.next->prev : list.tail) = node.prev;
  node.prev = node.next = nullptr;
  node.linked = false;
  --size_;
  --counts_[static_cast<size_t>(node.kind)];
}

void DeadlineLists::arm(DeadlineNode& node, TimerKind kind, std::int64_t now_ms) {
  unlink(node);
  List& list = lists_[static_cast<size_t>(kind)];
  node.kind = kind;
  node.due_ms = now_ms + durations_[static_cast<size_t>(kind)].count();
  // Same duration for the whole list: appending keeps it sorted, unless the clock read by
  // the caller went backwards, which a monotonic clock does not.
  assert(!list.tail || kind == TimerKind::kNone || list.tail->due_ms <= node.due_ms);
  node.prev = list.tail;
  node.next = nullptr;
  (list.tail ? list.tail->next : list.head) = &node;
  list.tail = &node;
  node.linked = true;
  ++size_;
  ++counts_[static_cast<size_t>(kind)];
}

std::optional<std::int64_t> DeadlineLists::earliest() const {
  std::optional<std::int64_t> best;
  for (size_t k = 1; k < kTimerKinds; ++k) {
    if (const DeadlineNode* head = lists_[k].head; head && (!best || head->due_ms < *best)) {
      best = head->due_ms;
    }
  }
  return best;
}

DeadlineNode* DeadlineLists::pop_due(std::int64_t now_ms) {
  for (size_t k = 1; k < kTimerKinds; ++k) {
    DeadlineNode* head = lists_[k].head;
    if (head && head->due_ms <= now_ms) {
      unlink(*head);
      return head;
    }
  }
  return nullptr;
}

std::int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace shoal
