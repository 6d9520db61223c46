// util/spawn: the one way to start a child. These start tiny real children (sh, true): what is
// tested is what the kernel shows of them.
#include "util/spawn.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace shoal {
namespace {

// The SigIgn and SigBlk lines a child sees, read by the child itself.
std::string signal_lines_of_a_child() {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork_child([&] {
    ::close(fds[0]);
    std::ifstream status("/proc/self/status");
    std::string line;
    std::string found;
    while (std::getline(status, line)) {
      if (line.rfind("SigIgn:", 0) == 0 || line.rfind("SigBlk:", 0) == 0) found += line + "\n";
    }
    (void)!::write(fds[1], found.data(), found.size());
    _exit(0);
  });
  ::close(fds[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return text;
}

TEST(SpawnTest, AChildStartsWithDefaultSignalsAndAnEmptyMask) {
  // What a helper has: the terminal's signals ignored, and something blocked.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_hup {};
  struct sigaction old_usr1 {};
  sigaction(SIGHUP, &ignore, &old_hup);
  sigaction(SIGUSR1, &ignore, &old_usr1);
  sigset_t blocked;
  sigset_t old_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  sigprocmask(SIG_BLOCK, &blocked, &old_mask);

  const std::string lines = signal_lines_of_a_child();

  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  EXPECT_NE(lines.find("SigIgn:\t0000000000000000"), std::string::npos) << lines;
  EXPECT_NE(lines.find("SigBlk:\t0000000000000000"), std::string::npos) << lines;
}

TEST(SpawnTest, AnExecErrorIsReportedAtOnce) {
  char* env[] = {nullptr};
  auto missing = spawn_program("/nonexistent/program", {"program"}, env, nullptr);
  EXPECT_EQ(missing.pid, -1);
  EXPECT_TRUE(missing.exec_failed);
  EXPECT_EQ(missing.error, ENOENT);
  auto refused = spawn_program("/bin/true", {"true"}, env, [] {
    errno = EACCES;
    return false;  // a setup step (chdir, dup2) that failed
  });
  EXPECT_TRUE(refused.exec_failed);
  EXPECT_EQ(refused.error, EACCES);
  auto ok = spawn_program("/bin/true", {"true"}, env, nullptr);
  ASSERT_GT(ok.pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(ok.pid, &status, 0), ok.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// Issue 14, defect 6: a reaped pid is forgotten, so nothing signals whoever gets it next.
TEST(SpawnTest, AReapedChildIsForgotten) {
  ChildPid child(fork_child([] { _exit(3); }));
  ASSERT_TRUE(child.running());
  int status = 0;
  while (!child.try_reap(status)) usleep(1000);
  EXPECT_EQ(describe_wait_status(status), "exited with status 3");
  EXPECT_FALSE(child.running());
  EXPECT_EQ(child.get(), 0);
  EXPECT_FALSE(child.signal(SIGKILL));  // nothing to signal: not kill(0, ...), not a stranger
  ChildPid other(fork_child([] { pause(); }));
  const pid_t pid = other.get();
  other.reaped();  // as when a reaper elsewhere waited for it
  EXPECT_FALSE(other.signal(SIGTERM));
  ::kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
}

TEST(SpawnTest, AnOwnerThatGoesKillsAndWaitsForItsChild) {
  pid_t pid = 0;
  {
    ChildPid child(fork_child([] { pause(); }));
    pid = child.get();
    ASSERT_GT(pid, 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped: not even a zombie
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(describe_wait_status(9), "was killed by signal 9 (Killed)");
}

}  // namespace
}  // namespace shoal
