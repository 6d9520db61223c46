// UpstreamPool: one upstream group as one worker sees it: its servers (with the requests
// each has outstanding, for the balancing policy) and its idle keep-alive connections. A
// connection's read event is registered once, from the connect to the close, whoever holds
// it: while pooled, the upstream closing it (or sending anything) closes it; a sweep closes
// those idle past idle_timeout, and take_idle never returns one past it and peeks for an EOF
// not yet seen. Health: passive (max_fails failures within
// fail_timeout take a server out for fail_timeout) and active (a GET of health.path on every
// server every health.interval; `fall` failures in a row take it out, `rise` successes bring
// it back). A server out of either is skipped while another is in; with none in, all are tried.
// Weights: smooth weighted round robin; least_outstanding and random_two compare requests in
// flight per unit of weight. A server given by DNS name has the addresses the worker's
// Resolver last got for it, tried in turn.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "metrics/layout.hpp"
#include "util/event_ptr.hpp"
#include "util/socket_address.hpp"
#include "util/unique_fd.hpp"

namespace shoal::proxy {

class UpstreamPool;

// Where a server can be reached: its numeric address, or one its DNS name resolved to.
using Address = SocketAddress;

// An exchange waiting for a server's first addresses (a DNS name not resolved yet).
class AddressWaiter {
 public:
  virtual void addresses_changed() = 0;

 protected:
  ~AddressWaiter() = default;
};

// One connection to an upstream server and its two events (EV_PERSIST). The read event stays
// added while the connection lives (no epoll_ctl per request); the write event only while a
// write waits.
struct UpstreamConnection {
  // Whoever uses the connection for an exchange; null while it is pooled.
  class Owner {
   public:
    virtual void upstream_readable() = 0;
    virtual void upstream_writable() = 0;

   protected:
    ~Owner() = default;
  };
  UpstreamConnection(UpstreamPool& pool, size_t server, UniqueFd fd);
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  void set_reading(bool on);
  void set_writing(bool on);
  static void on_read(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_write(evutil_socket_t fd, short what, void* arg) noexcept;

  UpstreamPool& pool;
  size_t server;
  UniqueFd fd;  // declared before the events: closed after they are freed
  EventPtr read_ev;
  EventPtr write_ev;
  Owner* owner = nullptr;
  bool reading = false;
  bool writing = false;
  std::chrono::steady_clock::time_point idle_since;
  std::uint32_t addresses_version = 0;  // the server's, when this connected (see resolved())
};

class UpstreamPool {
 public:
  UpstreamPool(event_base* base, const UpstreamConfig& config);
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;
  ~UpstreamPool();

  // Starts the active health checks, when the group has them.
  void start_health_checks();
  // Passive health: what an exchange saw of `server`.
  void failed(size_t server);
  void succeeded(size_t server);
  // In the choice now: has an address, and is not out by either kind of health.
  bool available(size_t server) const;
  // The next of the server's addresses, in turn; null while it has none.
  const Address* address(size_t server);
  size_t address_count(size_t server) const { return servers_[server].addresses.size(); }
  // A DNS name's lookup: its addresses (kept, and logged when they change), or its failure
  // (the last addresses are kept, with a warning). Either wakes the waiters.
  void resolved(size_t server, std::vector<Address> addresses);
  void resolution_failed(size_t server, const std::string& why);
  // True until the first lookup of the server's name has answered.
  bool awaiting_first_lookup(size_t server) const { return servers_[server].awaiting_lookup; }
  void wait_for_addresses(AddressWaiter* waiter) { waiters_.push_back(waiter); }
  void stop_waiting(AddressWaiter* waiter);

  const UpstreamConfig& config() const { return config_; }
  // The server for the next attempt by the group's policy, avoiding those in `tried` while
  // another one is left.
  size_t choose(const std::vector<size_t>& tried);
  // A new connection (a socket, maybe still connecting) to `server`.
  std::unique_ptr<UpstreamConnection> wrap(size_t server, UniqueFd fd);
  // A pooled connection to `server` that is still open and not past idle_timeout; null when
  // there is none.
  std::unique_ptr<UpstreamConnection> take_idle(size_t server);
  // A connection whose exchange ended cleanly: pooled while there is room, else closed.
  void give_back(std::unique_ptr<UpstreamConnection> connection);
  // A pooled connection became readable (closed, or bytes nobody asked for): closed.
  void idle_readable(UpstreamConnection* connection);
  event_base* base() const { return base_; }
  void started(size_t server) { ++servers_[server].outstanding; }
  void finished(size_t server) { --servers_[server].outstanding; }
  size_t idle_count() const { return idle_.size(); }
  std::uint32_t outstanding(size_t server) const { return servers_[server].outstanding; }

  // Metrics: requests and errors by server as exchanges end, and (publish_metrics, on the
  // worker's metrics tick) which servers are in the choice and how many connections idle.
  void set_metrics(metrics::Recorder* recorder);
  void count_exchange(size_t server, int failure_status);  // 0: it ended well
  void publish_metrics() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Probe;
  struct Server {
    std::vector<Address> addresses;  // the numeric one, or what the name resolved to
    size_t next_address = 0;
    std::uint32_t addresses_version = 0;  // changes with the addresses: older connections go
    bool awaiting_lookup = false;         // a name whose first lookup has not answered
    int current_weight = 0;               // smooth weighted round robin
    std::uint32_t outstanding = 0;
    int fails = 0;                // passive, within the window
    Clock::time_point window;     // when the first of `fails` happened
    Clock::time_point out_until;  // passive: out of the choice until then
    bool down = false;            // active: out until `rise` good checks
    int streak = 0;               // active: good (> 0) or bad (< 0) checks in a row
    std::unique_ptr<Probe> probe;
  };
  static void on_sweep(evutil_socket_t fd, short what, void* arg) noexcept;
  void sweep();
  static void on_health_timer(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_probe(evutil_socket_t fd, short what, void* arg) noexcept;
  void probe(size_t server);
  void probe_done(size_t server, bool ok, const std::string& why);

  event_base* base_;
  const UpstreamConfig& config_;
  std::vector<Server> servers_;
  EventPtr health_timer_;
  void wake_waiters();
  // outstanding(a) / weight(a) < outstanding(b) / weight(b)
  bool less_loaded(size_t a, size_t b) const;

  std::list<std::unique_ptr<UpstreamConnection>> idle_;  // the most recently used last
  std::vector<AddressWaiter*> waiters_;
  EventPtr sweep_;
  size_t next_ = 0;  // round robin
  std::minstd_rand random_;
  metrics::Recorder* metrics_ = nullptr;
  const metrics::UpstreamCells* cells_ = nullptr;  // set while metrics are on
};

}  // namespace shoal::proxy
