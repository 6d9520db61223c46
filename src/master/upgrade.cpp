// Binary upgrade in place (SIGUSR2): check the new binary with `-t` in a child, then execve it
// with the same pid, handing over listen sockets, control socket and running workers; the new
// image adopts them and starts a generation as a reload does.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "master/master.hpp"
#include "util/channel.hpp"
#include "util/syscall.hpp"

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

std::string describe_check_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

}  // namespace

void Master::request_upgrade(ControlReply reply) {
  if (stopping_) {
    reply.finish(false, "the server is stopping");
    return;
  }
  if (check_pid_ != 0) {
    upgrade_waiters_.add(std::move(reply));  // merged with the check already running
    return;
  }
  if (in_state(Generation::State::kStarting)) {
    reply.finish(false, "a reload is in progress; ask again when it has finished");
    return;
  }
  const std::string binary = current_binary();
  int pipe_fds[2];
  if (binary.empty() || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    reply.finish(false, "cannot find or check the binary: " + std::string(std::strerror(errno)));
    return;
  }
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &previous);
  pid_t pid = fork();
  if (pid == 0) {
    for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) {
      signal(sig, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    dup2(write_end.get(), 1);
    dup2(write_end.get(), 2);
    execl(binary.c_str(), binary.c_str(), "-t", "-c", options_.config_path.c_str(),
          static_cast<char*>(nullptr));
    const std::string error = std::string("exec failed: ") + std::strerror(errno) + "\n";
    (void)!::write(2, error.data(), error.size());
    _exit(127);
  }
  int err = errno;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) {
    reply.finish(false, std::string("fork() failed: ") + std::strerror(err));
    return;
  }
  spdlog::info("upgrade: checking {} with -t", binary);
  check_pid_ = pid;
  check_binary_ = binary;
  check_output_.clear();
  check_output_fd_ = std::move(read_end);
  check_output_event_.reset(event_new(base_.get(), check_output_fd_.get(), EV_READ | EV_PERSIST,
                                      on_check_output, this));
  if (check_output_event_) event_add(check_output_event_.get(), nullptr);
  upgrade_waiters_.add(std::move(reply));
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
    if (n == 0) event_del(self->check_output_event_.get());  // EOF: the check has ended
    return;
  }
}

void Master::check_finished(int status) {
  check_pid_ = 0;
  if (check_output_fd_) on_check_output(check_output_fd_.get(), EV_READ, this);
  check_output_event_.reset();
  check_output_fd_.reset();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    exec_upgrade();
  } else {
    spdlog::error("upgrade refused: `{} -t` {}; the running binary keeps serving", check_binary_,
                  describe_check_exit(status));
    size_t start = 0;
    while (start < check_output_.size()) {
      size_t eol = check_output_.find('\n', start);
      if (eol == std::string::npos) eol = check_output_.size();
      const std::string line = check_output_.substr(start, eol - start);
      if (!line.empty()) {
        spdlog::error("upgrade check: {}", line);
        upgrade_waiters_.line(line);
      }
      start = eol + 1;
    }
    upgrade_waiters_.finish(false, "new binary " + check_binary_ + " failed its check (" +
                                       describe_check_exit(status) +
                                       "); the running binary keeps serving");
  }
  after_generation_change();  // a reload that waited for the check may start now
}

void Master::exec_upgrade() {
  if (stopping_ || in_state(Generation::State::kStarting)) {
    upgrade_waiters_.finish(false, "a reload started meanwhile; ask again");
    return;
  }
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
  for (const auto& r : upgrade_waiters_.replies) state.reply_fds.push_back(r.fd());
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
  spdlog::error("upgrade failed: execv({}) failed ({}); the running binary keeps serving",
                check_binary_, std::strerror(err));
  upgrade_waiters_.finish(false, "execv() of " + check_binary_ + " failed: " + std::strerror(err));
}

void Master::adopt(const UpgradeState& state) {
  last_generation_ = state.generation;
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
      g->state = w.generation == state.active ? Generation::State::kActive
                                              : Generation::State::kDraining;
    }
    set_cloexec(w.channel_fd, true);
    WorkerSlot& slot = g->add_slot(w.slot);
    slot.pid = w.pid;
    slot.ready = true;
    slot.started = std::chrono::steady_clock::now();
    slot.channel.reset(w.channel_fd);
    slot.channel_event.reset(
        event_new(base_.get(), w.channel_fd, EV_READ | EV_PERSIST, on_channel, &slot));
    if (slot.channel_event) event_add(slot.channel_event.get(), nullptr);
  }
  for (auto& [number, g] : by_number) {
    if (g->state == Generation::State::kDraining) send_drain(*g);  // re-arms its deadline
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
  for (int fd : state.reply_fds) {
    set_cloexec(fd, true);
    queued_reload_waiters_.add(ControlReply(UniqueFd(fd)));
  }
  spdlog::info("upgrade: this binary adopted {} workers of generation(s) up to {}",
               state.workers.size(), state.generation);
  // A worker may have exited while the old image was exec'ing: its SIGCHLD is gone.
  reap();
}

}  // namespace shoal
