// Binary upgrade in place (SIGUSR2): check the new binary with `-t` in a child, then give it a
// trial start in a child, then execve it with the same pid, handing over listen sockets,
// control socket, running workers and an fd of the old image to fall back to; the new image
// adopts them and starts a generation as a reload does. See src/DESIGN.md, Upgrade safety.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <utility>

#include "master/master.hpp"
#include "util/channel.hpp"
#include "util/spawn.hpp"
#include "util/syscall.hpp"
#include "util/timeval.hpp"

namespace shoal {

namespace {

constexpr size_t kMaxCheckOutput = 64 * 1024;

// The file this process runs from, as it is named now: after a package manager replaced it
// /proc/self/exe reads "PATH (deleted)", and PATH holds the new binary.
std::string current_binary() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
}

void set_cloexec(int fd, bool on) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return;
  fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
}

}  // namespace

void Master::request_upgrade(ControlReply reply) {
  if (stopping_ || lame_duck_) {
    reply.finish(false, "the server is stopping");
    return;
  }
  if (upgrade_step_ != UpgradeStep::kIdle) {
    upgrade_waiters_.add(std::move(reply));  // merged with the upgrade already under way
    return;
  }
  if (in_state(Generation::State::kStarting)) {
    reply.finish(false, "a reload is in progress; ask again when it has finished");
    return;
  }
  for (const auto& g : generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->retiring) {
        reply.finish(false,
                     "a worker is being replaced for its memory (worker_max_rss); ask again when "
                     "it has drained");
        return;
      }
    }
  }
  check_binary_ = current_binary();
  if (check_binary_.empty()) {
    reply.finish(false, "cannot find the binary: " + std::string(std::strerror(errno)));
    return;
  }
  upgrade_waiters_.add(std::move(reply));
  start_upgrade_step(UpgradeStep::kCheck);
}

// Runs the new binary in a child, its stdout and stderr into check_output_: `-t -c CONFIG`
// for the check; `-c CONFIG` with kUpgradeTrialVariable set for the trial start.
void Master::start_upgrade_step(UpgradeStep step) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    upgrade_failed(errno_text("pipe2() for the upgrade", errno));
    return;
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  std::vector<std::string> argv{check_binary_};
  if (step == UpgradeStep::kCheck) argv.emplace_back("-t");
  argv.insert(argv.end(), {"-c", options_.config_path});
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    if (!entry.starts_with(kUpgradeTrialVariable) && !entry.starts_with(kUpgradeStateVariable)) {
      env_text.emplace_back(*e);
    }
  }
  // The trial adopts a copy of what the exec would hand over (no waiting client: it answers no
  // one), so a new image that fails or hangs while adopting does so here, where the old
  // master can kill it, and not after the exec, where nothing could.
  UpgradeState trial_state;
  if (step == UpgradeStep::kTrial) {
    env_text.push_back(std::string(kUpgradeTrialVariable) + "=1");
    trial_state = upgrade_state();
    env_text.push_back(std::string(kUpgradeStateVariable) + "=" +
                       encode_upgrade_state(trial_state));
  }
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out = write_end.get();
  // The trial inherits the state's descriptors for as long as the fork takes (this loop is
  // the only thread); it only looks at them.
  const auto shared = upgrade_state_fds(trial_state);
  for (int fd : shared) set_cloexec(fd, false);
  const ProgramSpawn spawned = spawn_program(
      check_binary_, argv, envp.data(), [out] { return dup2(out, 1) == 1 && dup2(out, 2) == 2; });
  for (int fd : shared) set_cloexec(fd, true);
  if (spawned.pid < 0) {
    upgrade_failed(
        errno_text(spawned.exec_failed ? "execve() of " + check_binary_ : std::string("fork()"),
                   spawned.error) +
        "; the running binary keeps serving");
    return;
  }
  upgrade_step_ = step;
  upgrade_child_ = ChildPid(spawned.pid);
  spdlog::info("upgrade: {} {} (pid {})",
               step == UpgradeStep::kCheck ? "checking" : "trial start of", check_binary_,
               spawned.pid);
  check_output_.clear();
  check_output_fd_ = std::move(read_end);
  check_output_event_.reset(
      event_new(base_.get(), check_output_fd_.get(), EV_READ | EV_PERSIST, on_check_output, this));
  if (check_output_event_) event_add(check_output_event_.get(), nullptr);
  // A binary that hangs is as bad as one that fails: the step has a deadline.
  upgrade_timer_.reset(evtimer_new(base_.get(), on_upgrade_deadline, this));
  auto tv = to_timeval(kUpgradeStepTimeout);
  evtimer_add(upgrade_timer_.get(), &tv);
}

void Master::on_upgrade_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  spdlog::error("upgrade: {} did not finish within {} s; killing it", self->check_binary_,
                kUpgradeStepTimeout.count() / 1000);
  self->upgrade_timed_out_ = true;
  self->upgrade_child_.signal(SIGKILL);  // reaped as usual; upgrade_step_finished says why
}

void Master::on_check_output(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      if (self->check_output_.size() < kMaxCheckOutput) {
        self->check_output_.append(buf, static_cast<size_t>(n));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) event_del(self->check_output_event_.get());  // EOF: the child has ended
    return;
  }
}

void Master::upgrade_step_finished(int status) {
  const UpgradeStep step = upgrade_step_;
  const bool timed_out = std::exchange(upgrade_timed_out_, false);
  upgrade_step_ = UpgradeStep::kIdle;
  upgrade_timer_.reset();
  if (check_output_fd_) on_check_output(check_output_fd_.get(), EV_READ, this);
  check_output_event_.reset();
  check_output_fd_.reset();
  const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (step == UpgradeStep::kCheck && exited_ok && !timed_out) {
    start_upgrade_step(UpgradeStep::kTrial);
    if (upgrade_step_ == UpgradeStep::kIdle) after_generation_change();
    return;
  }
  if (step == UpgradeStep::kTrial && exited_ok && !timed_out &&
      check_output_.find(kUpgradeTrialOk) != std::string::npos) {
    exec_upgrade();
    after_generation_change();  // the exec failed: a reload that waited may start now
    return;
  }
  const std::string what =
      step == UpgradeStep::kCheck ? "failed its check (-t)" : "failed its trial start";
  const std::string how =
      timed_out
          ? "hung for " + std::to_string(kUpgradeStepTimeout.count() / 1000) + " s and was killed"
      : exited_ok ? "exited without saying it could start"
                  : describe_wait_status(status);
  spdlog::error("upgrade refused: {} {} ({}); the running binary keeps serving", check_binary_,
                what, how);
  size_t start = 0;
  while (start < check_output_.size()) {
    size_t eol = check_output_.find('\n', start);
    if (eol == std::string::npos) eol = check_output_.size();
    const std::string line = check_output_.substr(start, eol - start);
    if (!line.empty()) {
      spdlog::error("upgrade {}: {}", step == UpgradeStep::kCheck ? "check" : "trial", line);
      upgrade_waiters_.line(line);
    }
    start = eol + 1;
  }
  upgrade_failed("new binary " + check_binary_ + " " + what + " (" + how +
                 "); the running binary keeps serving");
  after_generation_change();  // a reload that waited for the upgrade may start now
}

UpgradeState Master::upgrade_state() const {
  UpgradeState state;
  state.generation = last_generation_;
  state.active = active() ? active()->number() : 0;
  std::map<const Listener*, bool> seen;
  for (const auto& g : generations_) {
    for (const auto& l : g->listeners()) {
      if (seen[l.get()]) continue;
      seen[l.get()] = true;
      UpgradeState::Listen listen{l->address.text, {}};
      for (const auto& fd : l->fds) listen.fds.push_back(fd.get());
      state.listeners.push_back(std::move(listen));
    }
    for (const auto& slot : g->slots()) {
      if (slot->pid > 0) {
        state.workers.push_back({g->number(), slot->index, slot->pid, slot->channel.get()});
      }
    }
  }
  if (control_) state.control_fd = control_->fd();
  state.config_path = options_.config_path;
  if (tickets_) state.tickets_fd = tickets_->fd();
  if (metrics_) state.metrics_fd = metrics_->fd();
  return state;
}

void Master::exec_upgrade() {
  if (stopping_ || in_state(Generation::State::kStarting)) {
    upgrade_failed("a reload started meanwhile; ask again");
    return;
  }
  UpgradeState state = upgrade_state();
  for (const auto& r : upgrade_waiters_.replies) state.reply_fds.push_back(r.fd());
  // A reload asked while the check or trial ran waits for the upgrade: the new image starts a
  // generation from the configuration read again, which is that reload's outcome too, so its
  // clients go across with the upgrade's own and hear of that generation.
  for (const auto& r : queued_reload_waiters_.replies) state.reply_fds.push_back(r.fd());
  if (!queued_reload_waiters_.replies.empty()) {
    spdlog::info("upgrade: {} waiting reload request(s) will be answered by the new image",
                 queued_reload_waiters_.replies.size());
  }
  // The way back: this image, open for fexecve, for a new image that fails before it serves.
  // /proc/self/exe opens the running file even when a package manager replaced or deleted it.
  UniqueFd fallback(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!fallback) {
    upgrade_failed(errno_text("open() of /proc/self/exe for the fallback", errno));
    return;
  }
  state.fallback_fd = fallback.get();
  const auto fds = upgrade_state_fds(state);
  for (int fd : fds) set_cloexec(fd, false);
  setenv(kUpgradeStateVariable, encode_upgrade_state(state).c_str(), 1);
  // The new image runs in the foreground of this very process: -d is not repeated.
  std::vector<std::string> args{check_binary_, "-c", options_.config_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  spdlog::info("upgrade: executing {} (pid {} stays)", check_binary_, getpid());
  spdlog::default_logger()->flush();
  execv(check_binary_.c_str(), argv.data());
  const int err = errno;
  unsetenv(kUpgradeStateVariable);
  for (int fd : fds) set_cloexec(fd, true);
  fallback.reset();
  spdlog::error("upgrade failed: execv({}) failed ({}); the running binary keeps serving",
                check_binary_, std::strerror(err));
  upgrade_failed("execv() of " + check_binary_ + " failed: " + std::strerror(err));
}

void Master::upgrade_failed(const std::string& why) {
  note_upgrade_failed(why);
  upgrade_waiters_.finish(false, why);
}

void Master::adopt(const UpgradeState& state) {
  last_generation_ = state.generation;
  adopt_metrics(state);
  std::vector<std::shared_ptr<Listener>> listeners;
  for (const auto& l : state.listeners) {
    auto listener = std::make_shared<Listener>();
    listener->address.text = l.address;
    for (int fd : l.fds) {
      set_cloexec(fd, true);
      listener->fds.emplace_back(fd);
    }
    socklen_t len = sizeof listener->address.addr;
    getsockname(l.fds.at(0), reinterpret_cast<sockaddr*>(&listener->address.addr), &len);
    listener->address.addr_len = len;
    listeners.push_back(std::move(listener));
  }
  std::map<int, Generation*> by_number;
  for (const auto& w : state.workers) {
    Generation*& g = by_number[w.generation];
    if (!g) {
      g = &add_generation(std::make_unique<Generation>(w.generation, nullptr, listeners, 0));
      g->state =
          w.generation == state.active ? Generation::State::kActive : Generation::State::kDraining;
    }
    set_cloexec(w.channel_fd, true);
    WorkerSlot& slot = g->add_slot(w.slot);
    slot.pid = w.pid;
    slot.ready = true;
    slot.started = std::chrono::steady_clock::now();
    slot.channel.reset(w.channel_fd);
    slot.metrics_row = metrics_ ? metrics_->row_of(w.pid) : -1;
    slot.channel_event.reset(
        event_new(base_.get(), w.channel_fd, EV_READ | EV_PERSIST, on_channel, &slot));
    if (slot.channel_event) event_add(slot.channel_event.get(), nullptr);
  }
  for (auto& [number, g] : by_number) {
    if (g->state == Generation::State::kDraining) send_drain(*g);  // re-arms its deadline
  }
  if (state.tickets_fd >= 0) {
    if (auto keys = tls::TicketKeys::adopt(state.tickets_fd)) {
      tickets_ = std::make_shared<tls::TicketKeys>(std::move(*keys));
    } else {
      spdlog::warn(
          "upgrade: the session ticket keys passed on could not be read; new keys "
          "(sessions made before the upgrade will not resume)");
    }
  }
  if (state.control_fd >= 0) {
    set_cloexec(state.control_fd, true);
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    getsockname(state.control_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    control_ = std::make_unique<ControlServer>(
        base_.get(), std::string(addr.sun_path), UniqueFd(state.control_fd),
        [this](const std::string& command, ControlReply reply) {
          on_command(command, std::move(reply));
        });
  }
  Waiters asked;
  for (int fd : state.reply_fds) {
    set_cloexec(fd, true);
    asked.add(ControlReply(UniqueFd(fd)));
  }
  if (state.failed.empty()) {
    upgrade_commit_ = true;  // the generation this image starts next is the upgrade's outcome
    queued_reload_waiters_.replies = std::move(asked.replies);  // they hear of the generation
  } else {
    // This is the previous image again: the new one could not start.
    spdlog::error(
        "upgrade failed: the new binary could not start ({}); the previous binary "
        "took its workers back",
        state.failed);
    asked.line("the new binary could not start: " + state.failed);
    note_upgrade_failed("the new binary could not start: " + state.failed);
    asked.finish(false, "the new binary could not start; the previous binary (pid " +
                            std::to_string(getpid()) + ") keeps serving");
  }
  spdlog::info("upgrade: this binary adopted {} workers of generation(s) up to {}",
               state.workers.size(), state.generation);
  // A worker may have exited while the old image was exec'ing: its SIGCHLD is gone.
  reap();
}

}  // namespace shoal
