// IdlePark and EventSlab (see idle_park.hpp).
#include "worker/idle_park.hpp"

#include <sys/epoll.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

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

EventSlab::EventSlab(size_t capacity, size_t keep_empty)
    : slot_bytes_((event_get_struct_event_size() + 15) / 16 * 16),
      per_page_(static_cast<unsigned>(std::min<size_t>(32, kPageBytes / slot_bytes_))),
      all_free_(per_page_ == 32 ? 0xffffffffu : (1u << per_page_) - 1),
      keep_empty_(keep_empty) {
  if (per_page_ == 0) throw StartupError("libevent's struct event is larger than a page");
  pages_.resize((capacity + per_page_ - 1) / per_page_ + 1);
  bytes_ = pages_.size() * kPageBytes;
  void* at = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (at == MAP_FAILED) throw StartupError("mmap() failed for the connections' events");
  base_ = static_cast<char*>(at);
}

EventSlab::~EventSlab() {
  if (base_) ::munmap(base_, bytes_);
}

event* EventSlab::slot(size_t page, unsigned index) const {
  return reinterpret_cast<event*>(base_ + page * kPageBytes + index * slot_bytes_);
}

size_t EventSlab::open_page() {
  while (!partial_.empty()) {
    Page& top = pages_[partial_.back()];
    if (top.state == PageState::kPartial) return partial_.back();
    top.listed = false;  // stale: it filled up or was released meanwhile
    partial_.pop_back();
  }
  size_t page;
  if (!released_.empty()) {
    page = released_.back();
    released_.pop_back();
  } else if (untouched_ < pages_.size()) {
    page = untouched_++;
  } else {
    return SIZE_MAX;
  }
  Page& p = pages_[page];
  p.free = all_free_;
  p.state = PageState::kPartial;
  ++resident_;
  if (!p.listed) {
    p.listed = true;
    partial_.push_back(page);
  }
  return page;
}

event* EventSlab::take() {
  const size_t page = open_page();
  if (page == SIZE_MAX) return nullptr;
  Page& p = pages_[page];
  if (p.kept) {  // a kept empty page is in use again
    p.kept = false;
    --kept_empty_;
  }
  const auto index = static_cast<unsigned>(__builtin_ctz(p.free));
  p.free &= p.free - 1;
  if (p.free == 0) p.state = PageState::kFull;  // stays listed until open_page drops it
  return slot(page, index);
}

void EventSlab::give(event* ev) {
  if (!ev) return;
  const auto offset = static_cast<size_t>(reinterpret_cast<char*>(ev) - base_);
  const size_t page = offset / kPageBytes;
  const auto index = static_cast<unsigned>(offset % kPageBytes / slot_bytes_);
  Page& p = pages_[page];
  p.free |= 1u << index;
  if (p.free == all_free_ && kept_empty_ < keep_empty_) {
    p.kept = true;  // stays resident (and partial) for the next connections
    ++kept_empty_;
  } else if (p.free == all_free_) {
    // Nothing of this page is in use: its memory goes back to the kernel.
    ::madvise(base_ + page * kPageBytes, kPageBytes, MADV_DONTNEED);
    p.state = PageState::kReleased;
    p.free = 0;
    --resident_;
    released_.push_back(page);
    return;
  }
  p.state = PageState::kPartial;
  if (!p.listed) {
    p.listed = true;
    partial_.push_back(page);
  }
}

}  // namespace shoal
