// Master process: supervision only. Signals arrive as libevent events (never work in a
// handler); children are forked with every signal blocked and start with default handlers.
#include "master/master.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "util/syscall.hpp"

namespace shoal {

namespace {

constexpr int kMasterSignals[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD};
constexpr auto kFastStopDeadline = std::chrono::milliseconds(3000);
constexpr auto kRespawnDelay = std::chrono::milliseconds(1000);
constexpr auto kShortLife = std::chrono::seconds(1);

// Exit status of a worker that could not start (as opposed to one that crashed serving).
constexpr int kWorkerStartupFailed = 2;

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped";
}

}  // namespace

Master::Master(std::unique_ptr<Site> site) : site_(std::move(site)) {}

Master::~Master() {
  signals_.clear();
  respawn_timer_.reset();
  kill_timer_.reset();
}

int Master::run() {
  const auto& config = site_->config;
  listeners_ =
      bind_listeners(distinct_listen_addresses(config), config.reuse_port ? config.workers : 1);
  if (!config.pid_file.empty()) pid_file_ = std::make_unique<PidFile>(config.pid_file);

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
  respawn_timer_.reset(evtimer_new(base_.get(), on_respawn, this));
  kill_timer_.reset(evtimer_new(base_.get(), on_kill_deadline, this));

  slots_.resize(static_cast<size_t>(config.workers));
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].index = static_cast<int>(i);
    spawn(slots_[i]);
  }
  std::string addresses;
  for (const auto& l : listeners_) addresses += (addresses.empty() ? "" : ", ") + l.address.text;
  spdlog::info("shoal started: {} workers, listening on {}", slots_.size(), addresses);

  if (event_base_dispatch(base_.get()) < 0) {
    spdlog::critical("event_base_dispatch() failed in the master");
    return 1;
  }
  spdlog::info("shoal stopped");
  return 0;
}

void Master::spawn(WorkerSlot& slot) {
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &previous);  // no signal may run a handler in a half-made child
  pid_t pid = fork();
  if (pid == 0) {
    for (int sig : kMasterSignals) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    run_worker(slot);
  }
  int err = errno;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) {
    spdlog::error("fork() of worker {} failed ({}); trying again in {} ms", slot.index,
                  std::strerror(err), kRespawnDelay.count());
    auto tv = to_timeval(kRespawnDelay);
    evtimer_add(respawn_timer_.get(), &tv);
    return;
  }
  slot.pid = pid;
  slot.started = std::chrono::steady_clock::now();
  spdlog::debug("worker {} started with pid {}", slot.index, pid);
}

void Master::run_worker(const WorkerSlot& slot) {
  // The child must not drive the master's loop: give it private backend fds, then drop it.
  event_reinit(base_.get());
  signals_.clear();
  respawn_timer_.reset();
  kill_timer_.reset();
  base_.reset();
  int status = 0;
  try {
    std::vector<ListenSocket> sockets;
    for (const auto& l : listeners_) {
      const auto& fd = l.fds.size() > 1 ? l.fds[static_cast<size_t>(slot.index)] : l.fds[0];
      sockets.push_back({fd.get(), l.address.text});
    }
    Worker worker(*site_, sockets, slot.index, getppid());
    status = worker.run();
  } catch (const std::exception& e) {
    spdlog::critical("worker {} failed to start: {}", slot.index, e.what());
    status = kWorkerStartupFailed;
  }
  spdlog::default_logger()->flush();
  _exit(status);
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
      self->stop(SIGQUIT, self->site_->config.shutdown_timeout + std::chrono::seconds(2));
      break;
    default:
      spdlog::warn("received {}: not supported by this version; ignored",
                   strsignal(static_cast<int>(sig)));
      break;
  }
}

void Master::stop(int worker_signal, std::chrono::milliseconds deadline) {
  if (stopping_ && (fast_stop_ || worker_signal == SIGQUIT)) return;
  stopping_ = true;
  fast_stop_ = worker_signal == SIGTERM;
  evtimer_del(respawn_timer_.get());
  for (const auto& slot : slots_) {
    if (slot.pid > 0) kill(slot.pid, worker_signal);
  }
  auto tv = to_timeval(deadline);
  evtimer_add(kill_timer_.get(), &tv);
  if (running() == 0) event_base_loopexit(base_.get(), nullptr);
}

void Master::on_kill_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  for (const auto& slot : self->slots_) {
    if (slot.pid > 0) {
      spdlog::warn("worker {} (pid {}) did not stop in time; sending SIGKILL", slot.index,
                   slot.pid);
      kill(slot.pid, SIGKILL);
    }
  }
}

size_t Master::running() const {
  size_t n = 0;
  for (const auto& slot : slots_) n += slot.pid > 0 ? 1 : 0;
  return n;
}

void Master::reap() {
  int status = 0;
  pid_t pid;
  bool respawn_later = false;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& slot : slots_) {
      if (slot.pid != pid) continue;
      slot.pid = 0;
      if (stopping_) {
        spdlog::debug("worker {} (pid {}) {}", slot.index, pid, describe_exit(status));
        break;
      }
      const bool startup = WIFEXITED(status) && WEXITSTATUS(status) == kWorkerStartupFailed;
      spdlog::error("worker {} (pid {}) {}{}; replacing it", slot.index, pid, describe_exit(status),
                    startup ? " during start-up" : "");
      if (startup || std::chrono::steady_clock::now() - slot.started < kShortLife) {
        respawn_later = true;  // it dies at once: do not fork in a tight loop
      } else {
        spawn(slot);
      }
      break;
    }
  }
  if (stopping_ && running() == 0) {
    event_base_loopexit(base_.get(), nullptr);
    return;
  }
  if (respawn_later && !evtimer_pending(respawn_timer_.get(), nullptr)) {
    auto tv = to_timeval(kRespawnDelay);
    evtimer_add(respawn_timer_.get(), &tv);
  }
}

void Master::on_respawn(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  if (self->stopping_) return;
  for (auto& slot : self->slots_) {
    if (slot.pid == 0) self->spawn(slot);
  }
}

}  // namespace shoal
