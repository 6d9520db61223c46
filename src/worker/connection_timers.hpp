// ConnectionTimers: the worker's one libevent timer over DeadlineLists (deadlines.hpp). It
// fires at the earliest deadline of any connection and hands each due connection to
// `on_due`; arming a connection is O(1) and touches libevent only when that deadline is
// earlier than the one the timer is set for.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <limits>

#include "config/config.hpp"
#include "util/event_ptr.hpp"
#include "worker/deadlines.hpp"

namespace shoal {

// How long a closing connection keeps reading (and discarding) what the client still sends.
inline constexpr Millis kLingerTimeout{2000};
// How long a draining worker keeps an idle keep-alive connection open (see drain()).
inline constexpr Millis kDrainGrace{1000};

// The deadline of each timer kind, for the worker's ConnectionTimers.
std::array<Millis, kTimerKinds> connection_timeouts(const Limits& limits, const Http2Config& http2);

class ConnectionTimers {
 public:
  ConnectionTimers(event_base* base, const std::array<Millis, kTimerKinds>& durations,
                   std::function<void(DeadlineNode*)> on_due);
  ConnectionTimers(const ConnectionTimers&) = delete;
  ConnectionTimers& operator=(const ConnectionTimers&) = delete;

  void arm(DeadlineNode& node, TimerKind kind);
  void unlink(DeadlineNode& node) { lists_.unlink(node); }
  const DeadlineLists& lists() const { return lists_; }

 private:
  static void on_timer(evutil_socket_t fd, short what, void* arg) noexcept;
  void schedule(std::int64_t due_ms, std::int64_t now);

  DeadlineLists lists_;
  EventPtr timer_;
  std::int64_t scheduled_ = std::numeric_limits<std::int64_t>::max();
  std::function<void(DeadlineNode*)> on_due_;
};

}  // namespace shoal
