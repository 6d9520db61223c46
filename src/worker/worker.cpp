// Worker process: the libevent loop, accept, connection ownership, drain and stop.
#include "worker/worker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "log/logging.hpp"
#include "util/channel.hpp"
#include "util/syscall.hpp"
#include "util/timeval.hpp"
#include "worker/handoff.hpp"
#include "worker/privileges.hpp"

namespace shoal {

namespace {

bool needs_helpers(const Config& config) {
  if (proxy::Proxy::has_names(config.upstreams)) return true;  // looked up in helpers
  for (const auto& server : config.servers) {
    for (const auto& route : server.routes) {
      if (std::holds_alternative<JobAction>(route.action) ||
          std::holds_alternative<CgiAction>(route.action)) {
        return true;
      }
    }
  }
  return false;
}

constexpr timeval kAcceptRetry{0, 100'000};  // after EMFILE/ENFILE: try again in 100 ms

}  // namespace

Worker::Worker(const Site& site, const std::vector<ListenSocket>& sockets, int index,
               int generation, pid_t master, UniqueFd channel, WorkerPeers peers,
               WorkerMetrics metrics)
    : site_(site),
      index_(index),
      generation_(generation),
      master_(master),
      channel_(std::move(channel)),
      base_(event_base_new()),
      access_log_(open_access_log(site.config.log.access), site.config.log.access.format),
      metrics_(std::move(metrics)) {
  if (!base_) throw StartupError("event_base_new() failed");
  if (metrics_.segment && metrics_.layout && metrics_.row >= 0 &&
      static_cast<size_t>(index_) < metrics_.layout->workers()) {
    recorder_ = metrics::Recorder(metrics_.segment->row(static_cast<size_t>(metrics_.row)),
                                  metrics_.layout, static_cast<size_t>(index_));
  }
  if (recorder_.on()) clock_ = std::make_unique<metrics::RequestClock>();
  context_.clock = clock_.get();
  context_.metrics = &recorder_;
  context_.segment = metrics_.segment.get();
  context_.generation = generation_;
  if (!site_.config.real_ip_from.empty()) context_.real_ip_from = &site_.config.real_ip_from;
  context_.proxy_protocol_from = &site_.config.proxy_protocol_from;
  context_.http2 = &site_.config.http2;
  context_.worker = index_;
  context_.base = base_.get();
  context_.limits = &site_.config.limits;
  context_.mime = &site_.mime;
  context_.dates = &dates_;
  context_.files = &files_;
  scratch_.resize(64 * 1024);
  context_.scratch = &scratch_;
  context_.access_log = &access_log_;
  helpers_ = std::make_unique<helpers::HelperPool>(base_.get(), site_.config.helpers);
  helpers_->set_metrics(&recorder_);
  context_.helpers = helpers_.get();
  if (!site_.config.upstreams.empty()) {
    proxy_ = std::make_unique<proxy::Proxy>(base_.get(), site_.config.upstreams);
    proxy_->set_metrics(&recorder_);
    context_.proxy = proxy_.get();
  }
  context_.on_closed = [this](Http1Session* c) { connection_closed(c); };
  timers_ = std::make_unique<ConnectionTimers>(
      base_.get(), connection_timeouts(site_.config.limits, site_.config.http2),
      [](DeadlineNode* node) { static_cast<Http1Session*>(node)->on_timeout(); });
  context_.timers = timers_.get();
  // A connection gives its stream back when it goes idle and the next busy one takes it:
  // a few dozen spares cover a busy loop and cost an idle worker only some kilobytes.
  streams_ = std::make_unique<Http1StreamPool>(site_.config.limits, context_, 32);
  context_.streams = streams_.get();
  // A connection handed over from a sibling comes on top of this worker's own limit.
  // Four empty pages stay resident (128 events): connections that come and go reuse them.
  events_ = std::make_unique<EventSlab>(
      2 * static_cast<size_t>(site_.config.limits.max_connections) + 64, 4);
  context_.events = events_.get();
  park_ = std::make_unique<IdlePark>(base_.get(), &Http1Session::on_unparked);
  context_.park = park_.get();
  park_sweep_.reset(event_new(base_.get(), -1, EV_PERSIST, on_park_sweep, this));
  const timeval every = to_timeval(kParkAfter);
  if (!park_sweep_ || event_add(park_sweep_.get(), &every) != 0) {
    throw StartupError("event_add() failed for the idle sweep");
  }
  context_.log_limiter = &log_limiter_;

  const bool shared = !site_.config.reuse_port && site_.config.workers > 1;
  accept_batch_ = shared ? 1 : 64;
  for (const auto& socket : sockets) {
    auto hosts = site_.hosts_by_address.find(socket.address);
    if (hosts == site_.hosts_by_address.end()) continue;  // no server of this config uses it
    auto l = std::make_unique<Listening>();
    l->worker = this;
    l->fd = socket.fd;
    l->hosts = &hosts->second;
    l->tls = site_.tls ? site_.tls->listen(socket.address) : nullptr;
    for (const auto& server : site_.config.servers) {
      for (const auto& address : server.listen) {
        if (address.text == socket.address && address.proxy_protocol) l->proxy_protocol = true;
        if (address.text == socket.address && !address.http2) l->http2 = false;
      }
    }
    l->ready.reset(event_new(base_.get(), socket.fd, EV_READ | EV_PERSIST, on_acceptable, l.get()));
    if (!l->ready || event_add(l->ready.get(), nullptr) != 0) {
      throw StartupError("event_add() failed for listening socket " + socket.address);
    }
    listening_.push_back(std::move(l));
  }
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) {
    signals_.emplace_back(evsignal_new(base_.get(), sig, on_signal, this));
    if (!signals_.back() || evsignal_add(signals_.back().get(), nullptr) != 0) {
      throw StartupError("evsignal_add() failed");
    }
  }
  resume_accept_.reset(evtimer_new(base_.get(), on_resume_accept, this));
  drain_deadline_.reset(evtimer_new(base_.get(), on_drain_deadline, this));
  if (recorder_.on()) {
    metrics_tick_.reset(evtimer_new(base_.get(), on_metrics_tick, this));
    if (!metrics_tick_) throw StartupError("evtimer_new() failed for the metrics timer");
  }
  peers_ = std::move(peers);
  if (peers_.occupancy && peers_.handoff_in >= 0 &&
      static_cast<size_t>(index_) < peers_.occupancy->size()) {
    helpers_->share_occupancy(peers_.occupancy.get(), static_cast<size_t>(index_));
    context_.siblings = this;
    hand_off_event_.reset(
        event_new(base_.get(), peers_.handoff_in, EV_READ | EV_PERSIST, on_hand_off, this));
    if (!hand_off_event_ || event_add(hand_off_event_.get(), nullptr) != 0) {
      throw StartupError("event_add() failed for the hand-over socket");
    }
  }
  if (channel_) {
    channel_event_.reset(
        event_new(base_.get(), channel_.get(), EV_READ | EV_PERSIST, on_channel, this));
    if (!channel_event_ || event_add(channel_event_.get(), nullptr) != 0) {
      throw StartupError("event_add() failed for the master channel");
    }
  }
}

Worker::~Worker() {
  // Connections hold events of base_ and jobs of the helper pool: free them first.
  for (Http1Session* c : all_connections()) std::unique_ptr<Http1Session> doomed(c);
  timers_.reset();
  park_sweep_.reset();
  park_.reset();
  events_.reset();
  proxy_.reset();
  helpers_.reset();
  listening_.clear();
  signals_.clear();
  resume_accept_.reset();
  drain_deadline_.reset();
  metrics_tick_.reset();
  channel_event_.reset();
  hand_off_event_.reset();
}

int Worker::run() {
  // Logs and listeners are open: root is no longer needed. Before PDEATHSIG, because a change
  // of credentials clears it.
  drop_privileges(site_.config);
  // Die with the master (no orphans), and catch the case where it died before prctl.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != master_) return 1;
  // Helpers are forked before the first client, and only when a route needs them.
  if (needs_helpers(site_.config)) helpers_->start();
  if (proxy_ && proxy::Proxy::has_names(site_.config.upstreams)) proxy_->start_lookups(*helpers_);
  // Set-up is over: the master may now let this generation replace the previous one.
  if (channel_ && !channel_send(channel_.get(), "ready")) {
    spdlog::error("worker {}: cannot report ready to the master", index_);
    return 1;
  }
  if (context_.siblings) peers_.occupancy->slot(index_).taking.store(1);
  if (metrics_tick_) arm_metrics_tick();
  spdlog::debug("worker {} of generation {} serving", index_, generation_);
  if (event_base_dispatch(base_.get()) < 0) {
    spdlog::error("worker {}: event_base_dispatch() failed", index_);
    return 1;
  }
  return 0;
}

void Worker::on_acceptable(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* from = static_cast<Listening*>(arg);
  Worker* self = from->worker;
  for (int i = 0; i < self->accept_batch_ && self->accepting_; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int client =
        ::accept4(fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) self->accept_error(errno);
      return;  // EAGAIN: another worker took it, or the queue is empty
    }
    // Owned by the deadline lists from here on (see worker.hpp).
    Http1Session* connection =
        std::make_unique<Http1Session>(self->context_, *from->hosts, client,
                                       PeerAddress(reinterpret_cast<const sockaddr*>(&addr)))
            .release();
    if (static_cast<int>(self->connection_count()) >= self->site_.config.limits.max_connections) {
      self->set_accepting(false);  // resumed when a connection closes
    }
    self->recorder_.accepted();
    // May answer and close it at once.
    connection->start(from->tls, from->proxy_protocol, from->http2 && !from->tls);
  }
}

void Worker::accept_error(int err) {
  // EMFILE repeats at every retry while the limit is reached: one line a second.
  if (auto held_back = log_limiter_.admit("accept4:" + std::to_string(err), coarse_now_ms())) {
    spdlog::error("{}{}", errno_text("accept4()", err), suppressed_note(*held_back));
  }
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
    // Out of descriptors: stop polling the listeners for a moment instead of spinning.
    set_accepting(false);
    evtimer_add(resume_accept_.get(), &kAcceptRetry);
  }
}

void Worker::on_resume_accept(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  if (!self->context_.draining) self->set_accepting(true);
}

void Worker::set_accepting(bool on) {
  if (on == accepting_) return;
  accepting_ = on;
  for (auto& l : listening_) {
    if (on) {
      event_add(l->ready.get(), nullptr);
    } else {
      event_del(l->ready.get());
    }
  }
}

std::vector<Http1Session*> Worker::all_connections() const {
  std::vector<Http1Session*> all;
  all.reserve(connection_count());
  timers_->lists().for_each([&](DeadlineNode* n) { all.push_back(static_cast<Http1Session*>(n)); });
  return all;
}

void Worker::on_park_sweep(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  const std::int64_t idle_since = now_ms() - kParkAfter.count();
  const std::int64_t keepalive = self->site_.config.limits.keepalive_timeout.count();
  // The keep-alive list is in arming order: from its head, the connections idle longest.
  self->timers_->lists().for_each_of(TimerKind::kKeepAlive, [&](DeadlineNode* node) {
    if (node->due_ms - keepalive > idle_since) return false;  // this one and the rest: too soon
    static_cast<Http1Session*>(node)->park();
    return true;
  });
}

void Worker::connection_closed(Http1Session* connection) {
  // Owned through the deadline lists (see worker.hpp); destroying it unlinks it there.
  std::unique_ptr<Http1Session>{connection}.reset();
  if (context_.draining) {
    if (connection_count() == 0) event_base_loopexit(base_.get(), nullptr);
    return;
  }
  if (!accepting_ && static_cast<int>(connection_count()) < site_.config.limits.max_connections &&
      !evtimer_pending(resume_accept_.get(), nullptr)) {
    set_accepting(true);
  }
}

void Worker::on_signal(evutil_socket_t sig, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  switch (sig) {
    case SIGTERM:
    case SIGINT:
      event_base_loopbreak(self->base_.get());
      break;
    case SIGQUIT:
      self->start_drain();
      break;
    case SIGCHLD:
      self->helpers_->reap();
      break;
    default:
      // SIGHUP, SIGUSR1, SIGUSR2 are the master's to act on; a worker ignores them.
      break;
  }
}

void Worker::on_channel(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  while (true) {
    auto r = channel_receive(fd);
    switch (r.kind) {
      case ChannelRead::Kind::kEmpty:
        return;
      case ChannelRead::Kind::kClosed:
        // The master is gone (it would have told us to drain): nobody supervises us now.
        spdlog::warn("worker {}: the master closed its channel; stopping", self->index_);
        event_del(self->channel_event_.get());
        event_base_loopbreak(self->base_.get());
        return;
      case ChannelRead::Kind::kMessage:
        if (r.message == "drain") {
          self->start_drain();
        } else if (r.message == "lame") {
          if (!self->context_.lame_duck) {
            spdlog::info(
                "worker {}: draining for the balancer: health answers 503, every "
                "response closes its connection",
                self->index_);
          }
          self->context_.lame_duck = true;
        } else if (r.message == "reopen") {
          self->reopen_logs();
          channel_send(fd, "reopened");
        } else {
          spdlog::warn("worker {}: unknown message \"{}\" from the master", self->index_,
                       r.message);
        }
        break;
    }
  }
}

void Worker::reopen_logs() {
  try {
    setup_error_log(site_.config.log.error);
    access_log_.reopen(open_access_log(site_.config.log.access));
  } catch (const std::exception& e) {
    spdlog::error("worker {}: reopening logs failed: {}", index_, e.what());
  }
}

void Worker::start_drain() {
  if (context_.draining) return;
  context_.draining = true;
  if (context_.siblings) peers_.occupancy->slot(index_).taking.store(0);
  listening_.clear();  // stop accepting: the other workers (or none) take new clients
  auto deadline = site_.config.shutdown_timeout;
  timeval tv{static_cast<time_t>(deadline.count() / 1000),
             static_cast<suseconds_t>((deadline.count() % 1000) * 1000)};
  evtimer_add(drain_deadline_.get(), &tv);
  // Idle connections get a short grace; busy ones close after their reply (Connection: close).
  for (Http1Session* c : all_connections()) c->drain();
  if (connection_count() == 0) event_base_loopexit(base_.get(), nullptr);
}

void Worker::on_drain_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  spdlog::warn("worker {}: shutdown_timeout passed with {} connections open; closing them",
               self->index_, self->connection_count());
  event_base_loopbreak(self->base_.get());
}

int Worker::idle_sibling() {
  const auto& table = *peers_.occupancy;
  handed_.resize(table.size());
  std::vector<helpers::SlotView> slots(table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const auto& slot = table.slot(i);
    // Jobs handed to a sibling count against it until its own numbers move (it has taken
    // them): a burst handed in one turn of this loop does not all go to the same sibling.
    const auto version = slot.version.load(std::memory_order_acquire);
    if (version != handed_[i].version) handed_[i] = {version, 0};
    slots[i].idle = slot.idle.load(std::memory_order_relaxed) - handed_[i].jobs;
    slots[i].queued = slot.queued.load(std::memory_order_relaxed);
    if (slots[i].idle < 0) {
      slots[i].queued -= slots[i].idle;
      slots[i].idle = 0;
    }
    slots[i].taking = slot.taking.load(std::memory_order_relaxed) != 0;
  }
  return helpers::choose_sibling(slots, static_cast<size_t>(index_));
}

bool Worker::better_elsewhere() { return idle_sibling() >= 0; }

bool Worker::hand_over(int fd, const http::VirtualHosts& hosts, std::string_view bytes) {
  const int sibling = idle_sibling();
  if (sibling < 0 || static_cast<size_t>(sibling) >= peers_.handoff_out.size()) return false;
  const std::string* address = nullptr;
  for (const auto& [text, vhosts] : site_.hosts_by_address) {
    if (&vhosts == &hosts) address = &text;
  }
  if (!address || !send_hand_off(peers_.handoff_out[sibling], fd, *address, bytes)) {
    return false;
  }
  ++handed_[static_cast<size_t>(sibling)].jobs;
  spdlog::debug("worker {}: a job's connection goes to worker {}, whose helpers are less busy",
                index_, sibling);
  return true;
}

void Worker::on_hand_off(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  while (auto handoff = receive_hand_off(fd, self->hand_off_buffer_)) {
    auto hosts = self->site_.hosts_by_address.find(handoff->address);
    if (hosts == self->site_.hosts_by_address.end() || !handoff->fd) {
      spdlog::error("worker {}: a damaged hand-over from a sibling; closing that connection",
                    self->index_);
      continue;  // its fd closes here
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    getpeername(handoff->fd.get(), reinterpret_cast<sockaddr*>(&peer), &len);
    // Owned by the deadline lists from here on, as an accepted one (see worker.hpp).
    Http1Session* connection =
        std::make_unique<Http1Session>(self->context_, hosts->second, handoff->fd.release(),
                                       PeerAddress(reinterpret_cast<const sockaddr*>(&peer)))
            .release();
    connection->start_handed_over(std::move(handoff->bytes));  // may answer and close it
  }
}

void Worker::arm_metrics_tick() {
  tick_due_ns_ = metrics::monotonic_ns() + kLagPeriodNs;
  const timeval tv{0, static_cast<suseconds_t>(kLagPeriodNs / 1000)};
  evtimer_add(metrics_tick_.get(), &tv);
}

void Worker::on_metrics_tick(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Worker*>(arg);
  const auto now = metrics::monotonic_ns();
  // libevent may fire a timer up to a millisecond early (it rounds to its clock): not lag.
  const auto lag = now > self->tick_due_ns_ ? now - self->tick_due_ns_ : 0;
  self->recorder_.observe(self->recorder_.worker().loop_lag, lag);
  if (self->metrics_.segment && self->metrics_.row >= 0) {
    // The board's recent samples, for the status page's p50/p99 of the last seconds.
    const auto row = static_cast<size_t>(self->metrics_.row);
    self->metrics_.segment->note_lag(row, {now, lag});
    self->metrics_.segment->set_oldest_job(row, self->helpers_->oldest_job_started_ns());
  }
  self->publish_gauges();
  self->clock_->recalibrate();
  self->arm_metrics_tick();
}

void Worker::publish_gauges() {
  const auto& cells = recorder_.worker();
  const auto& lists = timers_->lists();
  const auto idle = lists.count(TimerKind::kKeepAlive) + lists.count(TimerKind::kDrainGrace) +
                    lists.count(TimerKind::kHttp2Idle);
  recorder_.set(cells.active, lists.size());
  recorder_.set(cells.reading, lists.count(TimerKind::kHeader));
  recorder_.set(cells.writing, lists.count(TimerKind::kSend));
  recorder_.set(cells.idle, idle);
  recorder_.set(cells.helpers_busy, helpers_->busy_helpers());
  recorder_.set(cells.helpers_idle, helpers_->idle_helpers());
  recorder_.set(cells.queue_depth, helpers_->queued_jobs());
  if (proxy_) proxy_->publish_metrics();
}

namespace {

// For the worker_max_rss test only: the first worker to take (unlink) the file that
// SHOAL_TEST_WORKER_BALLAST names holds as many MiB as the file says, touched, so that its
// resident memory is over a limit the test sets. Read before the privileges drop.
std::vector<char> take_test_ballast() {
  const char* path = getenv("SHOAL_TEST_WORKER_BALLAST");
  if (!path) return {};
  std::ifstream in(path);
  size_t mebibytes = 0;
  if (!(in >> mebibytes) || ::unlink(path) != 0) return {};
  return std::vector<char>(mebibytes << 20, 1);
}

}  // namespace

int worker_main(WorkerStart start) {
  // Exit status of a worker that could not start (as opposed to one that crashed serving).
  constexpr int kStartupFailed = 2;
  const auto ballast = take_test_ballast();
  const Site& site = *start.site;
  // The worker owns its channel; this copy tells the master why a start failed.
  UniqueFd report(fcntl(start.channel.get(), F_DUPFD_CLOEXEC, 0));
  int status = 0;
  try {
    setup_error_log(site.config.log.error);
    Worker worker(site, start.sockets, start.index, start.generation, start.master,
                  std::move(start.channel), std::move(start.peers), std::move(start.metrics));
    report.reset();
    status = worker.run();
  } catch (const std::exception& e) {
    spdlog::error("worker {} of generation {} failed to start: {}", start.index, start.generation,
                  e.what());
    if (report) channel_send(report.get(), std::string("failed ") + e.what());
    status = kStartupFailed;
  }
  spdlog::default_logger()->flush();
  return status;
}

}  // namespace shoal
