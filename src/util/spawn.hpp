// The one way shoal starts a child process (workers, helpers, CGI programs, the upgrade's
// check and trial): h2o's spawn pattern. Signals are blocked across fork(); the child starts
// with every disposition at its default and an empty mask (an ignored signal would survive
// execve into a CGI program); an exec error comes back over a close-on-exec pipe, so the
// parent knows at once whether the program started. ChildPid owns the pid until it is reaped.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace shoal {

// Forks. In the child: default dispositions, empty mask, then `child()`, which must not return
// (it execs or calls _exit; a return is _exit(127)). In the parent the mask is restored.
// Returns the pid, or -1 with errno set.
pid_t fork_child(const std::function<void()>& child);

// Every signal back to SIG_DFL and an empty mask: what a freshly exec'd program expects.
void reset_signals_for_child();

// Closes every descriptor of this process above 2 that is not in `keep` (close_range over the
// gaps, /proc/self/fd where that is missing). A forked child keeps what it was given, by
// number, and nothing its parent happens to hold.
void close_fds_except(std::vector<int> keep);

struct ProgramSpawn {
  pid_t pid = -1;            // -1 when fork failed or the program could not be executed
  int error = 0;             // errno of fork or execve
  bool exec_failed = false;  // `error` is execve's (the program does not exist, ...)
};

// fork_child + execve(path, argv, envp). `setup` runs in the child just before execve
// (dup2 of stdio, chdir, setpgid); when it returns false, its errno is reported as exec's.
ProgramSpawn spawn_program(const std::string& path, const std::vector<std::string>& argv,
                           char* const* envp, const std::function<bool()>& setup);

// One child's pid, forgotten once reaped so that nothing ever signals or waits for a pid the
// kernel may have given to someone else.
class ChildPid {
 public:
  ChildPid() = default;
  explicit ChildPid(pid_t pid) : pid_(pid) {}
  ChildPid(ChildPid&& other) noexcept : pid_(other.pid_) { other.pid_ = 0; }
  ChildPid& operator=(ChildPid&& other) noexcept;
  ChildPid(const ChildPid&) = delete;
  ChildPid& operator=(const ChildPid&) = delete;
  // A child still running when its owner goes is killed and waited for.
  ~ChildPid() { kill_and_wait(); }

  pid_t get() const { return pid_; }
  bool running() const { return pid_ > 0; }
  explicit operator bool() const { return running(); }
  // kill(2) while the child is not reaped; false otherwise.
  bool signal(int sig) const;
  // The reaper found this pid: forget it.
  void reaped() { pid_ = 0; }
  // waitpid(WNOHANG): true (with the status) when it has exited, which also forgets it.
  bool try_reap(int& status);
  // SIGKILL and a blocking waitpid: for owners that are going away.
  void kill_and_wait();

 private:
  pid_t pid_ = 0;
};

// "exited with status 1", "was killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

}  // namespace shoal
