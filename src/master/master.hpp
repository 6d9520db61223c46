// Master: binds the listen sockets once, forks the workers, and supervises them: it reaps and
// replaces a worker that died, and turns TERM/INT (fast) and QUIT (graceful) into a stop.
// It knows nothing of HTTP; workers get the Site and the sockets at fork.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <vector>

#include "master/listeners.hpp"
#include "master/pid_file.hpp"
#include "worker/site.hpp"
#include "worker/worker.hpp"

namespace shoal {

class Master {
 public:
  explicit Master(std::unique_ptr<Site> site);
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;
  ~Master();

  // Serves until stopped; returns the exit status. Throws StartupError before serving.
  int run();

 private:
  struct WorkerSlot {
    int index = 0;
    pid_t pid = 0;  // 0: not running
    std::chrono::steady_clock::time_point started;
  };

  static void on_signal(evutil_socket_t sig, short what, void* arg) noexcept;
  static void on_respawn(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_kill_deadline(evutil_socket_t fd, short what, void* arg) noexcept;

  void spawn(WorkerSlot& slot);
  void reap();
  void stop(int worker_signal, std::chrono::milliseconds deadline);
  size_t running() const;
  [[noreturn]] void run_worker(const WorkerSlot& slot);

  std::unique_ptr<Site> site_;
  std::vector<Listener> listeners_;
  std::unique_ptr<PidFile> pid_file_;
  std::unique_ptr<event_base, EventBaseDeleter> base_;
  std::vector<std::unique_ptr<event, EventDeleter>> signals_;
  std::unique_ptr<event, EventDeleter> respawn_timer_;
  std::unique_ptr<event, EventDeleter> kill_timer_;
  std::vector<WorkerSlot> slots_;
  bool stopping_ = false;
  bool fast_stop_ = false;
};

}  // namespace shoal
