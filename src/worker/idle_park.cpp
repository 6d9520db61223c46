// IdlePark and EventSlab (see idle_park.hpp).
#include "worker/idle_park.hpp"

#include <sys/epoll.h>

#include <cerrno>

#include "util/syscall.hpp"

namespace shoal {

IdlePark::IdlePark(event_base* base, Wake wake)
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), wake_(wake) {
  if (!epoll_) throw StartupError("epoll_create1() failed for the idle park");
  event_.reset(event_new(base, epoll_.get(), EV_READ | EV_PERSIST, on_ready, this));
  if (!event_ || event_add(event_.get(), nullptr) != 0) {
    throw StartupError("event_add() failed for the idle park");
  }
}

bool IdlePark::park(int fd, void* owner) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = owner;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  ++parked_;
  return true;
}

void IdlePark::leave(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  --parked_;
}

void IdlePark::on_ready(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<IdlePark*>(arg);
  epoll_event ready[64];
  const int n = ::epoll_wait(self->epoll_.get(), ready, 64, 0);
  // Each fd is in the batch once, and waking one connection touches no other: every owner
  // here is alive until its own wake. More than 64 ready: the event fires again.
  for (int i = 0; i < n; ++i) self->wake_(ready[i].data.ptr);
}

EventSlab::~EventSlab() {
  for (event* ev : spares_) event_free(ev);
}

event* EventSlab::take() {
  if (spares_.empty()) return event_new(base_, -1, 0, nullptr, nullptr);
  event* ev = spares_.back();
  spares_.pop_back();
  return ev;
}

void EventSlab::give(event* ev) {
  if (!ev) return;
  if (spares_.size() < max_) {
    spares_.push_back(ev);
  } else {
    event_free(ev);
  }
}

}  // namespace shoal
