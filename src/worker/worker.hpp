// Worker: one process's event loop. Accepts on the inherited listen sockets, owns its
// connections, and obeys its master: over the channel ("drain", "reopen"; it answers
// "ready" and "reopened") and by signal (TERM, INT: fast stop; QUIT: drain).
#pragma once

#include <event2/event.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "http1/session.hpp"
#include "worker/site.hpp"
#include "worker/worker_start.hpp"

namespace shoal {

// The worker process's main (a WorkerEntry): opens its error log, runs a Worker, and when the
// start fails says why on the channel before returning 2.
int worker_main(WorkerStart start);

class Worker final : private Siblings {
 public:
  Worker(const Site& site, const std::vector<ListenSocket>& sockets, int index, int generation,
         pid_t master, UniqueFd channel, WorkerPeers peers = {}, WorkerMetrics metrics = {});
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() override;

  // Serves until told to stop; returns the process exit status.
  int run();

 private:
  struct Listening {
    Worker* worker = nullptr;
    int fd = -1;  // the master's socket (this process's copy); never closed by the worker
    std::unique_ptr<event, EventDeleter> ready;
    const http::VirtualHosts* hosts = nullptr;
    const tls::TlsListen* tls = nullptr;  // null: plain HTTP
    bool proxy_protocol = false;          // a PROXY header comes first
    bool http2 = true;                    // h2 by ALPN (TLS) or the h2c preface (plain)
  };

  static void on_acceptable(evutil_socket_t fd, short what, void* arg) noexcept;
  void accept_error(int err);
  static void on_signal(evutil_socket_t sig, short what, void* arg) noexcept;
  static void on_resume_accept(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_drain_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_channel(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_hand_off(evutil_socket_t fd, short what, void* arg) noexcept;
  // Every kLagPeriod: how late this timer fired (loop lag), and the gauges of this worker.
  static void on_metrics_tick(evutil_socket_t fd, short what, void* arg) noexcept;
  void arm_metrics_tick();
  void publish_gauges();

  // Siblings: connections of a job whose helpers here are all busy go to a sibling with an
  // idle one (see worker/handoff.hpp and helpers/occupancy.hpp).
  bool better_elsewhere() override;
  bool hand_over(int fd, const http::VirtualHosts& hosts, std::string_view bytes) override;
  int idle_sibling();

  void start_drain();
  void reopen_logs();
  void connection_closed(Http1Session* connection);
  std::vector<Http1Session*> all_connections() const;
  size_t connection_count() const { return timers_->lists().size(); }
  // Parks every keep-alive connection idle for kParkAfter or longer (idle_park.hpp).
  static void on_park_sweep(evutil_socket_t fd, short what, void* arg) noexcept;
  void set_accepting(bool on);

  const Site& site_;
  int index_;
  int generation_;
  pid_t master_;
  UniqueFd channel_;  // the worker's end; see util/channel.hpp
  std::unique_ptr<event, EventDeleter> channel_event_;
  std::unique_ptr<event_base, EventBaseDeleter> base_;
  std::vector<std::unique_ptr<Listening>> listening_;
  // Connections accepted per readiness of a listening socket. When every worker shares one
  // socket, 1: each wake-up takes one connection, so a burst spreads over the workers
  // instead of the fastest one taking it all (nginx's multi_accept off).
  int accept_batch_ = 1;
  std::vector<std::unique_ptr<event, EventDeleter>> signals_;
  std::unique_ptr<event, EventDeleter> resume_accept_;
  std::unique_ptr<event, EventDeleter> drain_deadline_;
  http::DateCache dates_;
  http::FileCache files_;
  RepeatLimiter log_limiter_;
  std::string scratch_;  // one read buffer for every connection of this worker
  AccessLog access_log_;
  std::unique_ptr<helpers::HelperPool> helpers_;
  std::unique_ptr<proxy::Proxy> proxy_;
  SessionContext context_;
  // Connections are owned through the deadline lists (each is on exactly one): created with
  // make_unique and released there, destroyed by destroy_connection().
  std::unique_ptr<ConnectionTimers> timers_;
  std::unique_ptr<Http1StreamPool> streams_;
  std::unique_ptr<EventSlab> events_;
  std::unique_ptr<IdlePark> park_;
  std::unique_ptr<event, EventDeleter> park_sweep_;  // every kParkAfter: parks the idle
  WorkerPeers peers_;
  std::unique_ptr<event, EventDeleter> hand_off_event_;
  std::string hand_off_buffer_;
  struct Handed {
    std::uint32_t version = 0;  // the sibling's slot version when these were handed
    std::int32_t jobs = 0;      // handed since, not yet visible in its numbers
  };
  std::vector<Handed> handed_;
  bool accepting_ = true;
  WorkerMetrics metrics_;
  metrics::Recorder recorder_;
  std::unique_ptr<metrics::RequestClock> clock_;  // while metrics are on
  std::unique_ptr<event, EventDeleter> metrics_tick_;
  std::uint64_t tick_due_ns_ = 0;
};

// How often a worker measures its loop's lag and publishes its gauges.
inline constexpr std::uint64_t kLagPeriodNs = 100'000'000;

}  // namespace shoal
