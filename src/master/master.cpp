// Master process: supervision only. Signals and control commands arrive as libevent events
// (never work in a handler); children are forked with every signal blocked and start with
// default handlers. Reload is in reload.cpp, upgrade in upgrade.cpp.
#include "master/master.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "log/logging.hpp"
#include "master/daemon.hpp"
#include "master/open_file_limit.hpp"
#include "master/socket_activation.hpp"
#include "util/channel.hpp"
#include "util/spawn.hpp"
#include "util/syscall.hpp"
#include "util/timeval.hpp"

namespace shoal {

namespace {

constexpr int kMasterSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
constexpr auto kFastStopDeadline = std::chrono::milliseconds(3000);
constexpr auto kReopenDeadline = std::chrono::milliseconds(5000);
// A start right after a SIGKILLed master can find its dying workers still on the port.
constexpr int kBindTries = 5;
constexpr auto kBindPause = std::chrono::milliseconds(500);

double random_jitter() {
  static std::mt19937 engine{std::random_device{}()};  // this process's own
  return std::uniform_real_distribution<double>(-1.0, 1.0)(engine);
}

}  // namespace

void Master::Waiters::line(std::string_view text) {
  for (auto& r : replies) r.line(text);
}

void Master::Waiters::finish(bool ok, std::string_view summary) {
  for (auto& r : replies) r.finish(ok, summary);
  replies.clear();
}

Master::Master(MasterOptions options, std::shared_ptr<const Site> site)
    : options_(std::move(options)), site_(std::move(site)), tickets_(options_.tickets) {}

Master::~Master() {
  // `shoal -s quit` waits for its connection to close: let that happen when this process
  // exits, after everything else here is cleaned up (the pid file removed).
  for (auto& waiter : stop_waiters_) (void)waiter.release();
  // Events belong to base_: free them before it.
  generations_.clear();
  control_.reset();
  signals_.clear();
  kill_timer_.reset();
  drain_delay_timer_.reset();
  reopen_timer_.reset();
  check_output_event_.reset();
  upgrade_timer_.reset();
  ticket_timer_.reset();
  metrics_timer_.reset();
}

void Master::on_ticket_rotation(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  try {
    self->tickets_->rotate();
    spdlog::debug("session ticket keys rotated");
  } catch (const std::exception& e) {
    spdlog::error("session ticket keys not rotated: {}", e.what());
  }
}

void Master::start_watchdog() {
  std::uint64_t usec = 0;
  // WATCHDOG_PID, when set, names the main process: the trial child of an upgrade is not it.
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  watchdog_timer_.reset(event_new(base_.get(), -1, EV_PERSIST, on_watchdog, this));
  const auto half = std::chrono::microseconds(usec / 2);
  const timeval every = to_timeval(std::chrono::duration_cast<Millis>(half));
  if (!watchdog_timer_ || event_add(watchdog_timer_.get(), &every) != 0) {
    spdlog::error("cannot arm the systemd watchdog timer; systemd will restart this master");
    return;
  }
  notifier_.watchdog();
  spdlog::info("systemd watchdog: a ping every {} ms", usec / 2000);
}

void Master::on_watchdog(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  static_cast<Master*>(arg)->notifier_.watchdog();
}

void Master::schedule_ticket_rotation() {
  if (!tickets_ || !base_ || !site_) return;
  const Millis period = site_->config.tls.enabled ? site_->config.tls.rotation : Millis(0);
  if (period == ticket_period_) return;
  ticket_period_ = period;
  ticket_timer_.reset();
  if (period.count() == 0) return;
  ticket_timer_.reset(event_new(base_.get(), -1, EV_PERSIST, on_ticket_rotation, this));
  const timeval every = to_timeval(period);
  if (!ticket_timer_ || event_add(ticket_timer_.get(), &every) != 0) {
    spdlog::error("cannot arm the session ticket key rotation; the keys stay as they are");
  }
}

void Master::setup_loop() {
  // Writes to a closed socket must fail with EPIPE, not kill the process; inherited by workers.
  signal(SIGPIPE, SIG_IGN);
  base_.reset(event_base_new());
  if (!base_) throw StartupError("event_base_new() failed");
  for (int sig : kMasterSignals) {
    signals_.emplace_back(evsignal_new(base_.get(), sig, on_signal, this));
    if (!signals_.back() || evsignal_add(signals_.back().get(), nullptr) != 0) {
      throw StartupError(std::string("evsignal_add() failed for ") + strsignal(sig));
    }
  }
  kill_timer_.reset(evtimer_new(base_.get(), on_kill_deadline, this));
  drain_delay_timer_.reset(evtimer_new(base_.get(), on_drain_delay, this));
  reopen_timer_.reset(evtimer_new(base_.get(), on_reopen_deadline, this));
}

int Master::run(std::optional<UpgradeState> adopted) {
  std::vector<std::shared_ptr<Listener>> listeners;
  UniqueFd control_fd;
  if (!adopted) {
    // Everything that can fail with a message for the terminal happens before -d detaches.
    const auto& config = site_->config;
    // Before binding anything (with reuse_port a second master could join the port's group).
    if (!config.pid_file.empty()) {
      refuse_if_a_master_answers(control_socket_path(config.pid_file));
    }
    auto activated = take_activated_sockets();
    for (const auto& address : distinct_listen_addresses(config)) {
      if (auto passed = activated.find(address.text); passed != activated.end()) {
        spdlog::info("listening on {} through the socket systemd passed", address.text);
        auto l = std::make_shared<Listener>();
        l->address = address;
        l->fds.push_back(std::move(passed->second));  // one socket, shared by every worker
        activated.erase(passed);
        listeners.push_back(std::move(l));
        continue;
      }
      auto bound = bind_listeners_patiently({address}, config.reuse_port ? config.workers : 1,
                                            kBindTries, kBindPause);
      listeners.push_back(std::make_shared<Listener>(std::move(bound.at(0))));
    }
    for (const auto& [text, fd] : activated) {
      spdlog::warn("systemd passed a socket for {}, which no server listens on; closing it", text);
    }
    if (!config.pid_file.empty()) {
      // The control socket first: while the pid file names this master, it answers.
      make_pid_file_directory(config.pid_file);
      control_fd = bind_control_socket(control_socket_path(config.pid_file));
      pid_file_ = std::make_unique<PidFile>(config.pid_file);
    }
    if (options_.daemon) {
      if (config.log.error.path == "stderr") {
        std::fprintf(stderr,
                     "shoal: warning: log.error.path is stderr, which -d sends to /dev/null\n");
      }
      daemon_ready_ = daemonize();
      if (pid_file_) pid_file_ = std::make_unique<PidFile>(config.pid_file);  // the new pid
    }
  }
  auto handler = [this](const std::string& command, ControlReply reply) {
    on_command(command, std::move(reply));
  };
  if (adopted) {
    try {
      setup_loop();
      start_watchdog();
      adopt(*adopted);
      start_metrics();
      if (!control_ && site_ && !site_->config.pid_file.empty()) {
        control_ = std::make_unique<ControlServer>(
            base_.get(), control_socket_path(site_->config.pid_file), handler);
      }
    } catch (const std::exception& e) {
      // Nothing serves from this image yet and every handed-over fd is still open: the
      // previous image can take them back.
      if (options_.fall_back) options_.fall_back(e.what());
      throw;
    }
    options_.fall_back = nullptr;  // this image is in charge: the way back closes
    if (!tickets_) tickets_ = std::make_shared<tls::TicketKeys>(tls::TicketKeys::create());
    // The new image serves with a new generation exactly as a reload does.
    reload_queued_ = true;
    after_generation_change();
  } else {
    setup_loop();
    start_watchdog();
    start_metrics();
    if (!tickets_) tickets_ = std::make_shared<tls::TicketKeys>(tls::TicketKeys::create());
    schedule_ticket_rotation();
    const auto& config = site_->config;
    if (control_fd) {
      control_ = std::make_unique<ControlServer>(base_.get(), control_socket_path(config.pid_file),
                                                 std::move(control_fd), handler);
    }
    start_generation(add_generation(std::make_unique<Generation>(
        ++last_generation_, site_, std::move(listeners), static_cast<size_t>(config.workers))));
  }

  if (event_base_dispatch(base_.get()) < 0) {
    spdlog::critical("event_base_dispatch() failed in the master");
    return 1;
  }
  spdlog::info("shoal stopped");
  return exit_status_;
}

void Master::trial() { setup_loop(); }

Generation* Master::in_state(Generation::State state) const {
  for (const auto& g : generations_) {
    if (g->state == state) return g.get();
  }
  return nullptr;
}

Generation& Master::add_generation(std::unique_ptr<Generation> generation) {
  generation->master = this;
  return *generations_.emplace_back(std::move(generation));
}

Generation* Master::active() const { return in_state(Generation::State::kActive); }

void Master::on_command(const std::string& command, ControlReply reply) {
  spdlog::info("control socket: {}", command);
  if (command == "reload") {
    request_reload(std::move(reply));
  } else if (command == "reopen") {
    request_reopen(std::move(reply));
  } else if (command == "upgrade") {
    request_upgrade(std::move(reply));
  } else if (command == "status" || command == "status json") {
    const std::string report = status_report(command == "status json");
    size_t start = 0;
    while (start <= report.size()) {
      size_t eol = report.find('\n', start);
      if (eol == std::string::npos) eol = report.size();
      reply.line(std::string_view(report).substr(start, eol - start));
      start = eol + 1;
    }
    reply.finish(true, "status");
  } else if (command == "quit" || command == "stop") {
    // The client reads until the connection closes, which is when this process exits.
    reply.line("stopping pid " + std::to_string(getpid()));
    stop_waiters_.push_back(std::move(reply));
    if (command == "quit") {
      graceful_stop();
    } else {
      stop(SIGTERM, kFastStopDeadline);
    }
  } else {
    reply.finish(false, "unknown command \"" + command + "\"");
  }
}

void Master::spawn(WorkerSlot& slot) {
  ChannelPair channel;
  try {
    channel = make_channel();
  } catch (const StartupError& e) {
    worker_not_started(slot, e.what());
    return;
  }
  give_row(slot);
  const pid_t pid = fork_child([&] { become_worker(slot, std::move(channel.worker_end)); });
  if (pid < 0) {
    retire_row(slot);
    worker_not_started(slot, errno_text("fork() of worker " + std::to_string(slot.index), errno));
    return;
  }
  if (metrics_) metrics_->set_owner(slot.metrics_row, pid);
  slot.last_error.clear();
  slot.pid = pid;
  slot.ready = false;
  slot.started = std::chrono::steady_clock::now();
  slot.channel = std::move(channel.master_end);
  slot.channel_event.reset(
      event_new(base_.get(), slot.channel.get(), EV_READ | EV_PERSIST, on_channel, &slot));
  if (slot.channel_event) event_add(slot.channel_event.get(), nullptr);
  spdlog::debug("worker {} of generation {} started with pid {}", slot.index,
                slot.generation->number(), pid);
}

void Master::start_generation(Generation& generation) {
  register_layout(generation);  // before the forks: every worker inherits its cells
  // Workers inherit the limit when they are forked: raise it first.
  if (const auto& site = generation.site()) {
    const auto& config = site->config;
    const auto warning = raise_open_file_limit(
        open_files_needed(config),
        "limits.max_connections (" + std::to_string(config.limits.max_connections) + ")");
    if (!warning.empty()) spdlog::warn("{}", warning);
  }
  // Every starting generation, the first one too, must be ready within kReadyTimeout.
  generation.deadline.reset(evtimer_new(base_.get(), on_generation_deadline, &generation));
  auto tv = to_timeval(kReadyTimeout);
  evtimer_add(generation.deadline.get(), &tv);
  // A failed fork may abandon the generation, which can destroy it: look it up again (by
  // number) before each spawn instead of touching what may be freed.
  const int number = generation.number();
  for (size_t i = 0;; ++i) {
    Generation* alive = nullptr;
    for (const auto& g : generations_) {
      if (g->number() == number) alive = g.get();
    }
    if (!alive || alive->state != Generation::State::kStarting || i >= alive->slots().size()) {
      break;
    }
    spawn(*alive->slots()[i]);
  }
}

void Master::worker_not_started(WorkerSlot& slot, const std::string& why) {
  Generation& generation = *slot.generation;
  slot.last_error = why;
  spdlog::error("cannot start worker {} of generation {}: {}", slot.index, generation.number(),
                why);
  const auto step = after_failed_start(generation.state, active() != nullptr);
  if (step == FailedStart::kAbandon) {
    abort_reload(generation, "worker " + std::to_string(slot.index) + ": " + why);
  } else {
    schedule_restart(slot, true);  // within the ready deadline, or as any dead worker
  }
}

void Master::become_worker(WorkerSlot& slot, UniqueFd channel) {
  // The child keeps what its worker is given, by number: its generation's sockets, its
  // channel and stdio. Everything else this process holds (other workers' channels, the
  // control socket, the upgrade's pipe, -d's pipe, the error log, libevent's epoll and signal
  // pipe) is closed without being named, and no object of the master is used again.
  Generation& generation = *slot.generation;
  WorkerStart start;
  start.site = generation.site();
  for (const auto& [fd, address] : generation.sockets_for(slot.index)) {
    start.sockets.push_back({fd, address});
  }
  start.index = slot.index;
  start.generation = generation.number();
  start.master = getppid();
  start.channel = std::move(channel);
  start.peers = generation.peers_for(slot.index);
  if (metrics_ && generation.site() && generation.site()->config.metrics) {
    start.metrics = {metrics_, generation.layout, slot.metrics_row};
  }
  std::vector<int> keep{start.channel.get()};
  if (metrics_) keep.push_back(metrics_->fd());  // the worker's Segment closes it at exit
  for (const auto& socket : start.sockets) keep.push_back(socket.fd);
  if (start.peers.handoff_in >= 0) keep.push_back(start.peers.handoff_in);
  for (int fd : start.peers.handoff_out) {
    if (fd >= 0) keep.push_back(fd);
  }
  // libevent's base is the one object let go of explicitly: its epoll instance is shared
  // with the master until event_reinit gives the child its own, and freeing it frees the
  // process-wide signal slot the worker's base takes next.
  event_reinit(base_.get());
  event_base_free(base_.release());
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("worker"));  // its fd goes now
  close_fds_except(std::move(keep));
  signal(SIGPIPE, SIG_IGN);  // a write to a closed socket fails with EPIPE instead
  _exit(options_.run_worker(std::move(start)));
}

void Master::on_signal(evutil_socket_t sig, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  switch (sig) {
    case SIGCHLD:
      self->reap();
      break;
    case SIGTERM:
    case SIGINT:
      spdlog::info("received {}: fast stop", strsignal(static_cast<int>(sig)));
      self->stop(SIGTERM, kFastStopDeadline);
      break;
    case SIGQUIT:
      spdlog::info("received SIGQUIT: graceful stop");
      self->graceful_stop();
      break;
    case SIGHUP:
      spdlog::info("received SIGHUP: reload");
      self->request_reload({});
      break;
    case SIGUSR1:
      spdlog::info("received SIGUSR1: reopen logs");
      self->request_reopen({});
      break;
    case SIGUSR2:
      spdlog::info("received SIGUSR2: binary upgrade");
      self->request_upgrade({});
      break;
    default:
      break;
  }
}

void Master::on_channel(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* slot = static_cast<WorkerSlot*>(arg);
  Master* self = slot->generation->master;
  while (true) {
    auto r = channel_receive(fd);
    if (r.kind == ChannelRead::Kind::kEmpty) return;
    if (r.kind == ChannelRead::Kind::kClosed) {
      // The worker is exiting; SIGCHLD does the rest. Stop polling a dead socket.
      event_del(slot->channel_event.get());
      return;
    }
    if (r.message == "ready") {
      self->worker_ready(*slot);
      return;  // the slot's generation may have changed state; read the rest next time
    }
    if (r.message == "reopened") {
      self->worker_reopened(*slot);
    } else if (r.message.starts_with("failed ")) {
      slot->last_error = r.message.substr(7);  // the reason, for the exit that follows
    } else {
      spdlog::warn("worker {} (pid {}) sent an unknown message \"{}\"", slot->index, slot->pid,
                   r.message);
    }
  }
}

void Master::worker_ready(WorkerSlot& slot) {
  slot.ready = true;
  publish_rows();
  if (slot.replaces) drain_replaced(slot);  // worker_max_rss: its predecessor drains now
  if (lame_duck_) channel_send(slot.channel.get(), "lame");  // one started in the drain_delay
  Generation& generation = *slot.generation;
  spdlog::debug("worker {} of generation {} (pid {}) is ready", slot.index, generation.number(),
                slot.pid);
  if (generation.state == Generation::State::kStarting) {
    if (generation.all_ready()) commit_reload(generation);
    return;
  }
  if (generation.state == Generation::State::kActive && degraded_ && generation.all_ready()) {
    degraded_ = false;
    spdlog::info("all {} workers of generation {} are serving again", generation.workers(),
                 generation.number());
    log_status();
  }
}

void Master::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == upgrade_child_.get()) {
      upgrade_child_.reaped();
      upgrade_step_finished(status);
      continue;
    }
    for (auto& generation : generations_) {
      if (WorkerSlot* slot = generation->find(pid)) {
        worker_exited(*slot, status);  // may destroy the generation: look no further
        break;
      }
    }
  }
}

void Master::worker_exited(WorkerSlot& slot, int status) {
  Generation& generation = *slot.generation;
  const pid_t pid = slot.pid;
  const bool was_ready = slot.ready;
  // Its last words may still wait in the channel (SIGCHLD can come first): why it failed.
  if (slot.channel) {
    for (auto r = channel_receive(slot.channel.get()); r.kind == ChannelRead::Kind::kMessage;
         r = channel_receive(slot.channel.get())) {
      if (r.message.starts_with("failed ")) slot.last_error = r.message.substr(7);
    }
  }
  slot.pid = 0;
  slot.ready = false;
  retire_row(slot);  // its counts go to the retired row: no counter goes down
  slot.channel_event.reset();
  slot.channel.reset();
  if (reopen_pending_.erase(pid) > 0 && reopen_pending_.empty()) worker_reopened(slot);
  if (slot.retiring) {
    slot.drain_deadline.reset();
    retired_worker_exited(slot, pid, status);  // replaced already: never restarted
    return;
  }

  if (stopping_ || generation.state == Generation::State::kDraining) {
    spdlog::debug("worker {} of generation {} (pid {}) {}", slot.index, generation.number(), pid,
                  describe_wait_status(status));
    if (generation.running() == 0) generation_gone(&generation);
    return;
  }
  const bool startup = !was_ready;
  // A worker that could not start said why before it exited: that is the news, not status 2.
  const std::string how =
      startup && !slot.last_error.empty()
          ? "could not start: " + slot.last_error
          : describe_wait_status(status) + (startup ? " during start-up" : " while serving");
  spdlog::error("worker {} of generation {} (pid {}) {}", slot.index, generation.number(), pid,
                how);
  if (generation.state == Generation::State::kStarting) {
    abort_reload(generation, "worker " + std::to_string(slot.index) + " (pid " +
                                 std::to_string(pid) + ") " + how);
    return;
  }
  if (!startup) {
    count(WIFSIGNALED(status) ? &metrics::MasterCells::restarts_signal
                              : &metrics::MasterCells::restarts_exit);
  }
  if (!generation.site()) {
    spdlog::error(
        "cannot restart worker {}: no valid configuration was loaded since the "
        "upgrade; fix it and reload",
        slot.index);
    degraded_ = true;
    log_status();
    return;
  }
  schedule_restart(slot, startup);
}

void Master::schedule_restart(WorkerSlot& slot, bool startup_failure) {
  if (stopping_) return;
  // Only start-up failures grow the slot's delay (backoff.hpp): a worker that served was fine.
  slot.failures = startup_failure ? slot.failures + 1 : 0;
  // A starting generation is not serving yet: its retries degrade nothing.
  if (slot.generation->state == Generation::State::kActive) degraded_ = true;
  size_t serving = 0;
  if (const Generation* g = active()) {
    for (const auto& other : g->slots()) serving += other->pid > 0 && other->ready ? 1 : 0;
  }
  const auto delay = next_restart_delay(
      restart_policy_, {!startup_failure, slot.failures, serving == 0}, random_jitter());
  if (delay.count() == 0) {
    spawn(slot);
    log_status();
    return;
  }
  if (!slot.restart_timer) {
    slot.restart_timer.reset(evtimer_new(base_.get(), on_restart, &slot));
  }
  auto tv = to_timeval(delay);
  evtimer_add(slot.restart_timer.get(), &tv);
  spdlog::warn("restarting worker {} in {} ms ({} failures in a row)", slot.index, delay.count(),
               slot.failures);
  log_status();
}

void Master::on_restart(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* slot = static_cast<WorkerSlot*>(arg);
  Master* self = slot->generation->master;
  if (self->stopping_ || slot->pid != 0 ||
      slot->generation->state == Generation::State::kDraining) {
    return;
  }
  self->spawn(*slot);
}

void Master::log_status() {
  std::string status;
  for (const auto& g : generations_) {
    if (!status.empty()) status += "; ";
    status += "generation " + std::to_string(g->number()) + " " +
              (g->state == Generation::State::kActive
                   ? "serving"
                   : (g->state == Generation::State::kStarting ? "starting" : "draining")) +
              " with " + std::to_string(g->ready_count()) + "/" + std::to_string(g->workers()) +
              " workers";
  }
  if (degraded_) status += "; degraded";
  if (lame_duck_ && !stopping_) status = "draining before a graceful stop (health 503); " + status;
  if (status == status_) return;
  status_ = status;
  spdlog::info("status: {}", status_);
  notifier_.status(status_);
}

void Master::request_reopen(ControlReply reply) {
  if (site_) {
    try {
      setup_error_log(site_->config.log.error);
    } catch (const std::exception& e) {
      spdlog::error("reopen: {}", e.what());
      reply.finish(false, std::string("the master could not reopen its error log: ") + e.what());
      return;
    }
  }
  spdlog::info("reopened the error log");
  for (const auto& g : generations_) {
    if (!g->site()) continue;
    const auto& config = g->site()->config;
    if (auto errors = prepare_log_files_for(config.log, config.uid, config.gid); !errors.empty()) {
      spdlog::error("reopen: {}", errors);
    }
  }
  reopen_waiters_.add(std::move(reply));
  for (const auto& g : generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->pid > 0 && channel_send(slot->channel.get(), "reopen")) {
        reopen_pending_.insert(slot->pid);
      }
    }
  }
  reopen_count_ = 0;
  for (const auto& g : generations_) reopen_count_ += g->running();
  if (reopen_pending_.empty()) {
    reopen_waiters_.finish(
        true, "reopened the logs of the master and " + std::to_string(reopen_count_) + " workers");
    return;
  }
  auto tv = to_timeval(kReopenDeadline);
  evtimer_add(reopen_timer_.get(), &tv);
}

void Master::worker_reopened(WorkerSlot& slot) {
  reopen_pending_.erase(slot.pid);
  if (!reopen_pending_.empty()) return;
  evtimer_del(reopen_timer_.get());
  spdlog::info("every worker reopened its logs");
  reopen_waiters_.finish(
      true, "reopened the logs of the master and " + std::to_string(reopen_count_) + " workers");
}

void Master::on_reopen_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  std::string pids;
  for (pid_t pid : self->reopen_pending_) pids += " " + std::to_string(pid);
  spdlog::error("workers did not reopen their logs within {} s:{}", kReopenDeadline.count() / 1000,
                pids);
  self->reopen_pending_.clear();
  self->reopen_waiters_.finish(false, "workers did not reopen their logs in time:" + pids);
}

}  // namespace shoal
