// UpstreamPool: one upstream group as one worker sees it: its servers (with the requests
// each has outstanding, for the balancing policy) and its idle keep-alive connections. An
// idle connection is watched by one event: the upstream closing it (or sending anything)
// or idle_timeout passing closes it, so it is never reused past its timeout; take_idle also
// peeks for an EOF that has not been seen yet.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <random>
#include <vector>

#include "config/config.hpp"
#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"

namespace shoal::proxy {

class UpstreamPool {
 public:
  UpstreamPool(event_base* base, const UpstreamConfig& config);
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  const UpstreamConfig& config() const { return config_; }
  // The server for the next attempt by the group's policy, avoiding those in `tried` while
  // another one is left.
  size_t choose(const std::vector<size_t>& tried);
  // A pooled connection to `server` that is still open; invalid when there is none.
  UniqueFd take_idle(size_t server);
  // A connection whose exchange ended cleanly: pooled while there is room, else closed.
  void give_back(size_t server, UniqueFd fd);
  void started(size_t server) { ++outstanding_[server]; }
  void finished(size_t server) { --outstanding_[server]; }
  size_t idle_count() const { return idle_.size(); }
  std::uint32_t outstanding(size_t server) const { return outstanding_[server]; }

 private:
  struct Idle {
    UpstreamPool* pool = nullptr;
    size_t server = 0;
    UniqueFd fd;
    EventPtr watch;
  };
  static void on_idle_event(evutil_socket_t fd, short what, void* arg) noexcept;
  void drop(Idle* idle);

  event_base* base_;
  const UpstreamConfig& config_;
  std::vector<std::uint32_t> outstanding_;
  std::list<Idle> idle_;  // the most recently used last
  size_t next_ = 0;       // round robin
  std::minstd_rand random_;
};

}  // namespace shoal::proxy
