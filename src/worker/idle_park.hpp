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

// Read events for connections, in pages of their own: a connection takes one while it is not
// parked and gives it back when it parks or closes. A page whose events are all given back is
// returned to the kernel (MADV_DONTNEED), so parked connections really cost no event: memory
// from malloc would stay resident between the sessions still alive. Pages with free slots are
// taken from first, so the events in use stay packed.
class EventSlab {
 public:
  // Room for `capacity` events (address space only: pages are touched as they are used).
  // Up to `keep_empty` pages whose events all came back stay resident, so a connection per
  // request does not cost a madvise and a page fault each. Throws StartupError when the
  // address space cannot be reserved.
  explicit EventSlab(size_t capacity, size_t keep_empty = 0);
  EventSlab(const EventSlab&) = delete;
  EventSlab& operator=(const EventSlab&) = delete;
  ~EventSlab();
  // Storage for one event to event_assign; nullptr when all `capacity` are taken.
  event* take();
  // Back from a connection, event_del'ed.
  void give(event* ev);
  size_t pages_resident() const { return resident_; }

 private:
  enum class PageState : std::uint8_t { kUntouched, kReleased, kPartial, kFull };
  struct Page {
    std::uint32_t free = 0;  // bit i: slot i is free (while partial or full)
    PageState state = PageState::kUntouched;
    bool listed = false;  // on partial_ (maybe stale: its state says)
    bool kept = false;    // every slot free, kept resident (counted in kept_empty_)
  };
  static constexpr size_t kPageBytes = 4096;

  event* slot(size_t page, unsigned index) const;
  size_t open_page();  // a page with a free slot, made partial; SIZE_MAX when none

  char* base_ = nullptr;
  size_t bytes_ = 0;
  size_t slot_bytes_;
  unsigned per_page_;
  std::vector<Page> pages_;
  std::vector<size_t> partial_;   // pages with free slots, the last one first
  std::vector<size_t> released_;  // pages given back to the kernel, to be used again first
  size_t untouched_ = 0;          // pages_[untouched_..] were never used
  std::uint32_t all_free_;        // a page's `free` with every slot free
  size_t keep_empty_;
  size_t kept_empty_ = 0;  // resident pages with every slot free
  size_t resident_ = 0;
};

}  // namespace shoal
