// Double fork: the first child leads a new session and forks the daemon, which can never
// regain a controlling terminal; the original process reports the outcome.
#include "master/daemon.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "util/syscall.hpp"

namespace shoal {

namespace {

[[noreturn]] void wait_for_daemon(UniqueFd ready, pid_t first_child) {
  std::string text;
  char buf[32];
  while (true) {
    ssize_t n = ::read(ready.get(), buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  waitpid(first_child, nullptr, 0);
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    std::printf("shoal: running in the background, master pid %s\n", text.c_str());
    std::fflush(stdout);
    _exit(0);
  }
  std::fprintf(stderr, "shoal: the daemon failed to start; its error log says why\n");
  _exit(2);
}

}  // namespace

UniqueFd daemonize() {
  int fds[2];
  check_syscall(pipe2(fds, O_CLOEXEC), "pipe2() for -d");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  std::fflush(nullptr);
  pid_t pid = check_syscall(fork(), "fork() for -d");
  if (pid > 0) {
    write_end.reset();
    wait_for_daemon(std::move(read_end), pid);
  }
  read_end.reset();
  if (setsid() < 0) _exit(2);
  pid = fork();
  if (pid < 0) _exit(2);
  if (pid > 0) _exit(0);
  if (chdir("/") != 0) _exit(2);
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null) {
    for (int fd = 0; fd <= 2; ++fd) dup2(null.get(), fd);
  }
  return write_end;
}

void report_daemon_ready(UniqueFd& ready) {
  if (!ready) return;
  const std::string text = std::to_string(getpid()) + "\n";
  (void)!::write(ready.get(), text.data(), text.size());
  ready.reset();
}

}  // namespace shoal
