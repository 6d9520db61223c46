// UpstreamPool: server choice and the idle connections of one group in one worker.
#include "proxy/upstream_pool.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "util/syscall.hpp"
#include "util/timeval.hpp"

namespace shoal::proxy {

namespace {

bool was_tried(const std::vector<size_t>& tried, size_t i) {
  for (size_t t : tried) {
    if (t == i) return true;
  }
  return false;
}

}  // namespace

// One active health check in flight: connect, send the GET, read the status line.
struct UpstreamPool::Probe {
  UpstreamPool* pool = nullptr;
  size_t server = 0;
  UniqueFd fd;
  EventPtr event;
  bool sent = false;
  std::string request;
  std::string reply;
};

UpstreamPool::UpstreamPool(event_base* base, const UpstreamConfig& config)
    : base_(base),
      config_(config),
      servers_(config.servers.size()),
      random_(static_cast<unsigned>(getpid())) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    const auto& s = config.servers[i];
    if (s.name.empty()) {
      Address a;
      a.addr = s.addr;
      a.len = s.addr_len;
      servers_[i].addresses.push_back(a);
    } else {
      servers_[i].awaiting_lookup = true;
    }
  }
}

UpstreamPool::~UpstreamPool() = default;

bool UpstreamPool::available(size_t i) const {
  const Server& s = servers_[i];
  return !s.addresses.empty() && !s.down && Clock::now() >= s.out_until;
}

const Address* UpstreamPool::address(size_t i) {
  Server& s = servers_[i];
  if (s.addresses.empty()) return nullptr;
  return &s.addresses[s.next_address++ % s.addresses.size()];
}

void UpstreamPool::resolved(size_t i, std::vector<Address> addresses) {
  Server& s = servers_[i];
  if (addresses.empty()) {
    resolution_failed(i, "no addresses");
    return;
  }
  s.awaiting_lookup = false;
  if (addresses != s.addresses) {
    std::string list;
    for (const auto& a : addresses) list += (list.empty() ? "" : ", ") + address_text(a);
    spdlog::info("upstream \"{}\" server {} resolves to {}", config_.name, config_.servers[i].text,
                 list);
    s.addresses = std::move(addresses);
    s.next_address = 0;
    // Connections made before may lead to an address the name no longer has: those pooled
    // are closed now, those in use when their exchange ends (give_back).
    ++s.addresses_version;
    idle_.remove_if([i](const auto& connection) { return connection->server == i; });
  }
  wake_waiters();
}

void UpstreamPool::resolution_failed(size_t i, const std::string& why) {
  Server& s = servers_[i];
  s.awaiting_lookup = false;
  if (s.addresses.empty()) {
    spdlog::warn("upstream \"{}\" server {}: the name did not resolve ({}); it has no address",
                 config_.name, config_.servers[i].text, why);
  } else {
    spdlog::warn(
        "upstream \"{}\" server {}: the name did not resolve ({}); keeping its last {} "
        "address(es)",
        config_.name, config_.servers[i].text, why, s.addresses.size());
  }
  wake_waiters();
}

void UpstreamPool::stop_waiting(AddressWaiter* waiter) { std::erase(waiters_, waiter); }

void UpstreamPool::wake_waiters() {
  // Each waiter tries again (and may wait again): the list is taken first.
  auto waiting = std::move(waiters_);
  waiters_.clear();
  for (AddressWaiter* w : waiting) w->addresses_changed();
}

bool UpstreamPool::less_loaded(size_t a, size_t b) const {
  return std::uint64_t{servers_[a].outstanding} * config_.servers[b].weight <
         std::uint64_t{servers_[b].outstanding} * config_.servers[a].weight;
}

void UpstreamPool::failed(size_t i) {
  if (config_.max_fails <= 0) return;
  Server& s = servers_[i];
  const auto now = Clock::now();
  if (s.fails == 0 || now - s.window > config_.fail_timeout) {
    s.fails = 0;
    s.window = now;
  }
  if (++s.fails >= config_.max_fails) {
    s.fails = 0;
    s.out_until = now + config_.fail_timeout;
    spdlog::warn(
        "upstream \"{}\" server {} is out of the choice for {} ms after {} failure(s) "
        "(upstreams.max_fails)",
        config_.name, config_.servers[i].text, config_.fail_timeout.count(), config_.max_fails);
  }
}

void UpstreamPool::succeeded(size_t i) { servers_[i].fails = 0; }

void UpstreamPool::start_health_checks() {
  if (config_.health.path.empty()) return;
  health_timer_.reset(event_new(base_, -1, EV_PERSIST, on_health_timer, this));
  const timeval every = to_timeval(config_.health.interval);
  if (health_timer_) event_add(health_timer_.get(), &every);
  for (size_t i = 0; i < servers_.size(); ++i) probe(i);
}

void UpstreamPool::on_health_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<UpstreamPool*>(arg);
  for (size_t i = 0; i < self->servers_.size(); ++i) {
    if (!self->servers_[i].probe) self->probe(i);
  }
}

void UpstreamPool::probe(size_t i) {
  const auto& target = config_.servers[i];
  const Address* to = address(i);
  if (!to) return;  // a name not resolved yet: nothing to check
  auto p = std::make_unique<Probe>();
  p->pool = this;
  p->server = i;
  p->fd.reset(::socket(to->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!p->fd) {
    probe_done(i, false, errno_text("socket()", errno));
    return;
  }
  p->request = "GET " + config_.health.path + " HTTP/1.1\r\nHost: " + target.text +
               "\r\nUser-Agent: shoal-health-check\r\nConnection: close\r\n\r\n";
  if (::connect(p->fd.get(), reinterpret_cast<const sockaddr*>(&to->addr), to->len) != 0 &&
      errno != EINPROGRESS) {
    probe_done(i, false, errno_text("connect()", errno));
    return;
  }
  p->event.reset(event_new(base_, p->fd.get(), EV_WRITE, on_probe, p.get()));
  const timeval timeout = to_timeval(config_.health.timeout);
  event_add(p->event.get(), &timeout);
  servers_[i].probe = std::move(p);
}

void UpstreamPool::on_probe(evutil_socket_t fd, short what, void* arg) noexcept {
  auto* p = static_cast<Probe*>(arg);
  UpstreamPool* pool = p->pool;
  const size_t i = p->server;
  if (what & EV_TIMEOUT) {
    pool->probe_done(i, false, "timed out (health.timeout)");
    return;
  }
  if (!p->sent) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || ::send(fd, p->request.data(), p->request.size(), MSG_NOSIGNAL) !=
                        static_cast<ssize_t>(p->request.size())) {
      pool->probe_done(i, false, errno_text("connect()", err ? err : errno));
      return;
    }
    p->sent = true;
    event_assign(p->event.get(), pool->base_, fd, EV_READ, on_probe, p);
    const timeval timeout = to_timeval(pool->config_.health.timeout);
    event_add(p->event.get(), &timeout);
    return;
  }
  char buf[512];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n > 0) p->reply.append(buf, static_cast<size_t>(n));
  const auto eol = p->reply.find("\r\n");
  if (eol == std::string::npos && n > 0 && p->reply.size() < 4096) {
    const timeval timeout = to_timeval(pool->config_.health.timeout);
    event_add(p->event.get(), &timeout);
    return;
  }
  // "HTTP/1.1 200 OK": the status is the second word.
  int status = 0;
  if (eol != std::string::npos && p->reply.starts_with("HTTP/1.") && p->reply.size() > 12) {
    status = std::atoi(p->reply.c_str() + 9);
  }
  const int expect = pool->config_.health.expect;
  const bool ok = expect ? status == expect : (status >= 200 && status < 400);
  pool->probe_done(i, ok,
                   status ? "answered " + std::to_string(status)
                          : std::string(n == 0 ? "closed the connection without a status line"
                                               : "sent no status line"));
}

void UpstreamPool::probe_done(size_t i, bool ok, const std::string& why) {
  Server& s = servers_[i];
  s.probe.reset();
  const auto& h = config_.health;
  if (ok) {
    s.streak = s.streak > 0 ? s.streak + 1 : 1;
    if (s.down && s.streak >= h.rise) {
      s.down = false;
      spdlog::warn("upstream \"{}\" server {} is up: {} health checks passed", config_.name,
                   config_.servers[i].text, s.streak);
    }
  } else {
    s.streak = s.streak < 0 ? s.streak - 1 : -1;
    if (!s.down && -s.streak >= h.fall) {
      s.down = true;
      spdlog::warn("upstream \"{}\" server {} is down: {} health checks failed, the last {}",
                   config_.name, config_.servers[i].text, -s.streak, why);
    }
  }
}

size_t UpstreamPool::choose(const std::vector<size_t>& tried) {
  const size_t n = config_.servers.size();
  size_t in = 0;
  for (size_t i = 0; i < n; ++i) in += available(i) && !was_tried(tried, i) ? 1 : 0;
  auto untried = [&](size_t i) {
    if (in > 0 && !available(i)) return false;  // out of health, while another is in
    if (tried.size() >= n) return true;         // every one tried: any will do
    return !was_tried(tried, i);
  };
  switch (config_.balance) {
    case Balance::kRoundRobin: {
      // Smooth weighted round robin: every candidate gains its weight, the highest is
      // chosen and pays the total back (weights 1: plain turns; 5:1:1 spreads the five).
      size_t best = n;
      int total = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!untried(i)) continue;
        servers_[i].current_weight += config_.servers[i].weight;
        total += config_.servers[i].weight;
        if (best == n || servers_[i].current_weight > servers_[best].current_weight) best = i;
      }
      if (best == n) break;
      servers_[best].current_weight -= total;
      return best;
    }
    case Balance::kLeastOutstanding: {
      size_t best = n;
      for (size_t k = 0; k < n; ++k) {
        const size_t i = (next_ + k) % n;  // ties go round
        if (untried(i) && (best == n || less_loaded(i, best))) best = i;
      }
      ++next_;
      if (best < n) return best;
      break;
    }
    case Balance::kRandomTwo: {
      // Two picks, each in proportion to the weights; the less loaded one serves.
      int total = 0;
      for (size_t i = 0; i < n; ++i) total += untried(i) ? config_.servers[i].weight : 0;
      if (total == 0) break;
      auto pick = [&] {
        int at = static_cast<int>(random_() % static_cast<unsigned>(total));
        for (size_t i = 0; i < n; ++i) {
          if (!untried(i)) continue;
          at -= config_.servers[i].weight;
          if (at < 0) return i;
        }
        return n - 1;
      };
      const size_t a = pick();
      const size_t b = pick();
      return less_loaded(b, a) ? b : a;
    }
  }
  return 0;
}

UpstreamConnection::UpstreamConnection(UpstreamPool& p, size_t s, UniqueFd f)
    : pool(p), server(s), fd(std::move(f)) {
  read_ev.reset(event_new(pool.base(), fd.get(), EV_READ | EV_PERSIST, on_read, this));
  write_ev.reset(event_new(pool.base(), fd.get(), EV_WRITE | EV_PERSIST, on_write, this));
}

void UpstreamConnection::set_reading(bool on) {
  if (on == reading) return;
  reading = on;
  if (on) {
    event_add(read_ev.get(), nullptr);
  } else {
    event_del(read_ev.get());
  }
}

void UpstreamConnection::set_writing(bool on) {
  if (on == writing) return;
  writing = on;
  if (on) {
    event_add(write_ev.get(), nullptr);
  } else {
    event_del(write_ev.get());
  }
}

void UpstreamConnection::on_read(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->owner) {
    self->owner->upstream_readable();
  } else {
    self->pool.idle_readable(self);  // frees `self`
  }
}

void UpstreamConnection::on_write(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<UpstreamConnection*>(arg);
  if (self->owner) {
    self->owner->upstream_writable();
  } else {
    self->set_writing(false);
  }
}

std::unique_ptr<UpstreamConnection> UpstreamPool::wrap(size_t server, UniqueFd fd) {
  auto connection = std::make_unique<UpstreamConnection>(*this, server, std::move(fd));
  if (!connection->read_ev || !connection->write_ev) return nullptr;
  connection->addresses_version = servers_[server].addresses_version;
  return connection;
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle(size_t server) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
    if ((*it)->server != server) continue;
    std::unique_ptr<UpstreamConnection> connection = std::move(*it);
    idle_.erase(std::next(it).base());
    char byte;
    const ssize_t n = ::recv(connection->fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    const bool fresh_enough = now - connection->idle_since < config_.idle_timeout;
    if (fresh_enough && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return connection;
    // Closed (0), reset, bytes nobody asked for, or idle too long: not reusable. Look on.
    return take_idle(server);
  }
  return nullptr;
}

void UpstreamPool::give_back(std::unique_ptr<UpstreamConnection> connection) {
  if (config_.keepalive <= 0) return;  // closed as it goes
  if (connection->addresses_version != servers_[connection->server].addresses_version) return;
  if (idle_.size() >= static_cast<size_t>(config_.keepalive)) idle_.pop_front();  // the oldest
  connection->owner = nullptr;
  connection->set_writing(false);
  connection->set_reading(true);  // an EOF from the upstream closes it
  connection->idle_since = std::chrono::steady_clock::now();
  idle_.push_back(std::move(connection));
  if (!sweep_) sweep_.reset(evtimer_new(base_, on_sweep, this));
  if (sweep_ && !evtimer_pending(sweep_.get(), nullptr)) {
    const timeval after = to_timeval(config_.idle_timeout);
    evtimer_add(sweep_.get(), &after);
  }
}

void UpstreamPool::idle_readable(UpstreamConnection* connection) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->get() == connection) {
      idle_.erase(it);
      return;
    }
  }
}

void UpstreamPool::on_sweep(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  static_cast<UpstreamPool*>(arg)->sweep();
}

void UpstreamPool::sweep() {
  const auto now = std::chrono::steady_clock::now();
  // The oldest first: close those idle past idle_timeout, then wait for the next to be.
  while (!idle_.empty() && now - idle_.front()->idle_since >= config_.idle_timeout) {
    idle_.pop_front();
  }
  if (idle_.empty()) return;
  const auto left =
      std::chrono::duration_cast<Millis>(idle_.front()->idle_since + config_.idle_timeout - now);
  const timeval after = to_timeval(std::max(left, Millis(1)));
  evtimer_add(sweep_.get(), &after);
}

void UpstreamPool::set_metrics(metrics::Recorder* recorder) {
  metrics_ = recorder;
  cells_ = recorder && recorder->on() ? recorder->layout()->upstream(config_.name) : nullptr;
  if (cells_ && cells_->servers.size() != servers_.size()) cells_ = nullptr;
}

void UpstreamPool::count_exchange(size_t server, int failure_status) {
  if (!cells_) return;
  const auto& cells = cells_->servers[server];
  metrics_->add(cells.requests);
  if (failure_status == 504) {
    metrics_->add(cells.errors_504);
  } else if (failure_status != 0) {
    metrics_->add(cells.errors_502);
  }
}

void UpstreamPool::publish_metrics() const {
  if (!cells_) return;
  const size_t worker = metrics_->ordinal();
  for (size_t s = 0; s < servers_.size(); ++s) {
    const auto& up = cells_->servers[s].up;
    if (worker < up.size()) metrics_->set(up[worker], available(s) ? 1 : 0);
  }
  if (worker < cells_->idle.size()) metrics_->set(cells_->idle[worker], idle_.size());
}

}  // namespace shoal::proxy
