// UpstreamPool: server choice and the idle connections of one group in one worker.
#include "proxy/upstream_pool.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "util/timeval.hpp"

namespace shoal::proxy {

UpstreamPool::UpstreamPool(event_base* base, const UpstreamConfig& config)
    : base_(base),
      config_(config),
      outstanding_(config.servers.size(), 0),
      random_(static_cast<unsigned>(getpid())) {}

size_t UpstreamPool::choose(const std::vector<size_t>& tried) {
  const size_t n = config_.servers.size();
  auto untried = [&](size_t i) {
    if (tried.size() >= n) return true;  // every one tried: any will do
    for (size_t t : tried) {
      if (t == i) return false;
    }
    return true;
  };
  switch (config_.balance) {
    case Balance::kRoundRobin:
      for (size_t k = 0; k < n; ++k) {
        const size_t i = next_++ % n;
        if (untried(i)) return i;
      }
      break;
    case Balance::kLeastOutstanding: {
      size_t best = n;
      for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_ + k) % n;  // ties go round
        if (untried(i) && (best == n || outstanding_[i] < outstanding_[best])) best = i;
      }
      ++next_;
      if (best < n) return best;
      break;
    }
    case Balance::kRandomTwo: {
      std::vector<size_t> candidates;
      for (size_t i = 0; i < n; ++i) {
        if (untried(i)) candidates.push_back(i);
      }
      if (candidates.empty()) break;
      const size_t a = candidates[random_() % candidates.size()];
      const size_t b = candidates[random_() % candidates.size()];
      return outstanding_[b] < outstanding_[a] ? b : a;
    }
  }
  return 0;
}

UniqueFd UpstreamPool::take_idle(size_t server) {
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
    if (it->server != server) continue;
    Idle& idle = *it;
    char byte;
    const ssize_t n = ::recv(idle.fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    UniqueFd fd = std::move(idle.fd);
    idle_.erase(std::next(it).base());
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return fd;  // open and quiet
    // Closed (0), reset, or bytes nobody asked for: not reusable. Look on.
    return take_idle(server);
  }
  return UniqueFd();
}

void UpstreamPool::give_back(size_t server, UniqueFd fd) {
  if (config_.keepalive <= 0) return;  // closed by fd's destructor
  if (idle_.size() >= static_cast<size_t>(config_.keepalive)) idle_.pop_front();  // the oldest
  Idle& idle = idle_.emplace_back();
  idle.pool = this;
  idle.server = server;
  idle.fd = std::move(fd);
  idle.watch.reset(event_new(base_, idle.fd.get(), EV_READ, on_idle_event, &idle));
  const timeval timeout = to_timeval(config_.idle_timeout);
  if (!idle.watch || event_add(idle.watch.get(), &timeout) != 0) idle_.pop_back();
}

void UpstreamPool::on_idle_event(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* idle = static_cast<Idle*>(arg);
  idle->pool->drop(idle);  // closed by the upstream, sent something, or idle too long
}

void UpstreamPool::drop(Idle* idle) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (&*it == idle) {
      idle_.erase(it);
      return;
    }
  }
}

}  // namespace shoal::proxy
