// fork_child and spawn_program: the h2o_spawnp pattern (STYLE.md), used by every process that
// starts another.
#include "util/spawn.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace shoal {

// Signals 32 and 33 are glibc's own (thread cancellation, setxid) and its sigaction refuses
// them, but an ignored disposition is inherited like any other: a parent that ignores them
// (seen under a CI runner) passes that to every program. Only an ignored one is reset, with
// the system call itself, so a handler glibc installed stays.
void reset_ignored_libc_signals() {
#if defined(__x86_64__) || defined(__aarch64__)
  struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    unsigned long mask;
  };
  for (int sig = 32; sig < SIGRTMIN; ++sig) {
    KernelSigaction old{};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof old.mask) != 0) continue;
    if (old.handler != reinterpret_cast<void*>(SIG_IGN)) continue;
    KernelSigaction dfl{};
    dfl.handler = reinterpret_cast<void*>(SIG_DFL);
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
  }
#endif
}

void reset_signals_for_child() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (sig >= 32 && sig < SIGRTMIN) continue;  // glibc's own: below
    sigaction(sig, &dfl, nullptr);
  }
  reset_ignored_libc_signals();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void close_fds_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  auto close_between = [](int first, int last) {  // both inclusive
    if (first > last) return;
    if (syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(last), 0U) ==
        0) {
      return;
    }
    std::vector<int> open_fds;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (dirent* entry = readdir(dir)) {
        const int fd = std::atoi(entry->d_name);
        if (fd >= first && fd <= last && fd != dirfd(dir)) open_fds.push_back(fd);
      }
      closedir(dir);
    }
    for (int fd : open_fds) ::close(fd);
  };
  int next = 3;
  for (int fd : keep) {
    if (fd < next) continue;
    close_between(next, fd - 1);
    next = fd + 1;
  }
  close_between(next, std::numeric_limits<int>::max());
}

pid_t fork_child(const std::function<void()>& child) {
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  // No handler may run in a half-made child, and the parent's handlers (libevent's signal
  // pipe) must never see the child's signals.
  sigprocmask(SIG_BLOCK, &all, &previous);
  const pid_t pid = ::fork();
  if (pid == 0) {
    reset_signals_for_child();
    child();
    _exit(127);
  }
  const int err = errno;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  errno = err;
  return pid;
}

ProgramSpawn spawn_program(const std::string& path, const std::vector<std::string>& argv,
                           char* const* envp, const std::function<bool()>& setup) {
  ProgramSpawn result;
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    result.error = errno;
    return result;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork_child([&] {
    ::close(status_pipe[0]);
    if (!setup || setup()) execve(path.c_str(), args.data(), envp);
    const int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    _exit(127);
  });
  const int fork_errno = errno;
  ::close(status_pipe[1]);
  if (pid < 0) {
    ::close(status_pipe[0]);
    result.error = fork_errno;
    return result;
  }
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(status_pipe[0], &exec_errno, sizeof exec_errno);  // EOF: execve worked
  } while (got < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int ignored;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    result.error = exec_errno;
    result.exec_failed = true;
    return result;
  }
  result.pid = pid;
  return result;
}

ChildPid& ChildPid::operator=(ChildPid&& other) noexcept {
  if (this != &other) {
    kill_and_wait();
    pid_ = other.pid_;
    other.pid_ = 0;
  }
  return *this;
}

bool ChildPid::signal(int sig) const { return pid_ > 0 && ::kill(pid_, sig) == 0; }

bool ChildPid::try_reap(int& status) {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = 0;
  return true;
}

void ChildPid::kill_and_wait() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = 0;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped";
}

}  // namespace shoal
