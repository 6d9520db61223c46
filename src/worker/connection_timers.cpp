// The worker's timer: arm from the coarse clock (cheap, every request), expire against the
// precise one (so a deadline computed from a lagging coarse reading is never missed).
#include "worker/connection_timers.hpp"

#include <time.h>

#include <algorithm>
#include <cstdlib>

namespace shoal {

namespace {

std::int64_t precise_now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

std::array<Millis, kTimerKinds> connection_timeouts(const Limits& limits,
                                                    const Http2Config& http2) {
  std::array<Millis, kTimerKinds> t{};
  t[static_cast<size_t>(TimerKind::kHeader)] = limits.header_timeout;
  t[static_cast<size_t>(TimerKind::kKeepAlive)] = limits.keepalive_timeout;
  t[static_cast<size_t>(TimerKind::kSend)] = limits.send_timeout;
  t[static_cast<size_t>(TimerKind::kDrainGrace)] = kDrainGrace;
  t[static_cast<size_t>(TimerKind::kLinger)] = kLingerTimeout;
  t[static_cast<size_t>(TimerKind::kHttp2Idle)] = http2.idle_timeout;
  return t;
}

ConnectionTimers::ConnectionTimers(event_base* base,
                                   const std::array<Millis, kTimerKinds>& durations,
                                   std::function<void(DeadlineNode*)> on_due)
    : lists_(durations), timer_(evtimer_new(base, on_timer, this)), on_due_(std::move(on_due)) {
  if (!timer_) std::abort();  // allocation failure at start-up
}

void ConnectionTimers::arm(DeadlineNode& node, TimerKind kind) {
  const std::int64_t now = now_ms();
  lists_.arm(node, kind, now);
  if (kind != TimerKind::kNone && node.due_ms < scheduled_) schedule(node.due_ms, now);
}

void ConnectionTimers::schedule(std::int64_t due_ms, std::int64_t now) {
  scheduled_ = due_ms;
  const std::int64_t delay = std::max<std::int64_t>(0, due_ms - now);
  timeval tv{static_cast<time_t>(delay / 1000), static_cast<suseconds_t>((delay % 1000) * 1000)};
  evtimer_add(timer_.get(), &tv);
}

void ConnectionTimers::on_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<ConnectionTimers*>(arg);
  self->scheduled_ = std::numeric_limits<std::int64_t>::max();
  const std::int64_t now = precise_now_ms();
  // A due connection may close (unlinking itself) or re-arm (joining a tail): popping one
  // head at a time stays correct either way.
  while (DeadlineNode* node = self->lists_.pop_due(now)) self->on_due_(node);
  if (auto next = self->lists_.earliest()) self->schedule(*next, now_ms());
}

}  // namespace shoal
