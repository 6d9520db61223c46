// IdlePark: where keep-alive connections idle for a while wait for their next request
// without a libevent event of their own (128 bytes each): their sockets are on one epoll of
// the worker's, which one libevent event watches. Parking costs two epoll_ctl (out of
// libevent's epoll, into this one) and so does waking, so only a connection idle for
// kParkAfter is parked: never one under load. The read events a connection uses while it is
// not parked come from EventSlab, which keeps a few spares instead of a malloc per connection.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <vector>

#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"
#include "worker/deadlines.hpp"

namespace shoal {

inline constexpr Millis kParkAfter{1000};

class IdlePark {
 public:
  using Wake = void (*)(void* owner);
  // Throws StartupError when the epoll cannot be made.
  IdlePark(event_base* base, Wake wake);
  IdlePark(const IdlePark&) = delete;
  IdlePark& operator=(const IdlePark&) = delete;

  // `fd` waits here until it is readable (or its peer hangs up); then wake(owner) is called
  // once, after the fd left the park. False when it could not be parked.
  bool park(int fd, void* owner);
  // Takes `fd` out (its connection closes while parked).
  void leave(int fd);
  size_t parked() const { return parked_; }

 private:
  static void on_ready(evutil_socket_t fd, short what, void* arg) noexcept;

  UniqueFd epoll_;
  EventPtr event_;
  Wake wake_;
  size_t parked_ = 0;
};

// Read events for connections: event_new'ed once, assigned to each connection in turn.
class EventSlab {
 public:
  explicit EventSlab(event_base* base, size_t max_spares = 256) : base_(base), max_(max_spares) {}
  EventSlab(const EventSlab&) = delete;
  EventSlab& operator=(const EventSlab&) = delete;
  ~EventSlab();
  // An event to event_assign (not pending); nullptr when out of memory.
  event* take();
  // Back from a connection (event_del'ed): kept for the next one, or freed.
  void give(event* ev);

 private:
  event_base* base_;
  size_t max_;
  std::vector<event*> spares_;
};

}  // namespace shoal
