// DeadlineLists: every connection's timeout without a libevent timer per connection. A worker
// has a handful of fixed timeouts (header, keep-alive, send, drain grace, linger), so for each
// one the deadlines of the connections waiting on it are in the order they were armed: a FIFO
// list per timeout is already sorted, arming is O(1) (unlink, append at the tail), and only
// the heads can be due. One timer per worker fires at the earliest head (worker.cpp).
//
// Every connection is always on exactly one list (kNone: no deadline), so the lists are also
// the worker's registry of its connections: an idle connection costs two pointers and a time
// instead of a 128-byte event and a hash-map node.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "config/config.hpp"

namespace shoal {

enum class TimerKind : std::uint8_t {
  kNone,
  kHeader,
  kKeepAlive,
  kSend,
  kDrainGrace,
  kLinger,
  kHttp2Idle,  // an HTTP/2 connection without a stream (http2.idle_timeout)
};
inline constexpr size_t kTimerKinds = 7;

// Embedded in what it times (Connection derives from it): intrusive, no allocation.
struct DeadlineNode {
  DeadlineNode* prev = nullptr;
  DeadlineNode* next = nullptr;
  std::int64_t due_ms = 0;  // on the CLOCK_MONOTONIC_COARSE clock, see now_ms()
  TimerKind kind = TimerKind::kNone;
  bool linked = false;
};

class DeadlineLists {
 public:
  // durations[k]: how long after arming a node of kind k is due (kNone: ignored).
  explicit DeadlineLists(const std::array<Millis, kTimerKinds>& durations);
  DeadlineLists(const DeadlineLists&) = delete;
  DeadlineLists& operator=(const DeadlineLists&) = delete;

  // Moves `node` to the tail of `kind`'s list, due `durations[kind]` after `now_ms`.
  void arm(DeadlineNode& node, TimerKind kind, std::int64_t now_ms);
  void unlink(DeadlineNode& node);
  // The earliest due time of any list but kNone.
  std::optional<std::int64_t> earliest() const;
  // Takes the first node due at `now_ms` or before off its list (it is then unlinked), or
  // returns nullptr.
  DeadlineNode* pop_due(std::int64_t now_ms);
  // Calls f(node) for every linked node; f must not arm or unlink nodes.
  template <typename F>
  void for_each(F f) const {
    for (const auto& list : lists_) {
      for (DeadlineNode* n = list.head; n; n = n->next) f(n);
    }
  }
  // Calls f(node) for the nodes of `kind`'s list from its head (the earliest armed) while f
  // returns true; f must not arm or unlink nodes.
  template <typename F>
  void for_each_of(TimerKind kind, F f) const {
    for (DeadlineNode* n = lists_[static_cast<size_t>(kind)].head; n && f(n); n = n->next) {
    }
  }
  size_t size() const { return size_; }
  // Nodes on `kind`'s list (the metrics' reading/writing/idle connection gauges).
  size_t count(TimerKind kind) const { return counts_[static_cast<size_t>(kind)]; }

 private:
  struct List {
    DeadlineNode* head = nullptr;
    DeadlineNode* tail = nullptr;
  };
  std::array<List, kTimerKinds> lists_{};
  std::array<Millis, kTimerKinds> durations_;
  size_t size_ = 0;
  std::array<size_t, kTimerKinds> counts_{};
};

// Milliseconds on a monotonic clock cheap enough to read for every request (vDSO, coarse:
// a few ms of resolution, plenty for timeouts counted in seconds).
std::int64_t now_ms();

}  // namespace shoal
