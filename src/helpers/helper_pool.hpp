// HelperPool: a worker's side of its helpers. It forks `helpers.count` helper processes, each
// joined to the worker by two pipes (close-on-exec, non-blocking here, driven by libevent),
// dispatches jobs to idle helpers, queues up to `helpers.queue` more (then 503), streams
// bodies both ways with backpressure, kills a helper whose job passes `helpers.timeout` (504)
// and replaces any helper that dies (502 for its job), with backoff if it keeps dying.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "helpers/job.hpp"
#include "helpers/occupancy.hpp"
#include "metrics/layout.hpp"
#include "util/spawn.hpp"

namespace shoal::helpers {

// A helper process's main: reads jobs from `in_fd`, answers on `out_fd`, never returns.
// helper_main in production; tests give a scripted one.
using HelperEntry = void (*)(int in_fd, int out_fd);

class HelperPool final : public JobRunner {
 public:
  struct Job;

  HelperPool(event_base* base, const HelpersConfig& config, HelperEntry entry = nullptr);
  HelperPool(const HelperPool&) = delete;
  HelperPool& operator=(const HelperPool&) = delete;
  ~HelperPool();

  // Forks the helpers. Throws StartupError when a fork or pipe fails.
  void start();

  // Queues or starts a job; nullptr when the queue is full (answer 503).
  JobHandle* submit(const JobSpec& spec, JobSink* sink);
  void send_body(JobHandle* job, std::string_view bytes) override;
  void end_body(JobHandle* job) override;
  // True while more than a bounded amount of body waits for the helper: stop reading the
  // client until JobSink::on_job_writable.
  bool body_backlogged(const JobHandle* job) const override;
  // The client's socket is full: stop reading the helper's output until resumed.
  void pause_output(JobHandle* job) override;
  void resume_output(JobHandle* job) override;
  // The client went away: forget the job; a running one gets its helper killed and replaced.
  void cancel(JobHandle* job) override;

  // Reaps exited helpers (the worker calls this on SIGCHLD).
  void reap();

  size_t idle_helpers() const;
  size_t busy_helpers() const;
  // Counts job outcomes, queue waits, run times and restarts in `recorder` (the worker's).
  void set_metrics(metrics::Recorder* recorder) { metrics_ = recorder; }
  size_t queued_jobs() const { return queue_.size(); }
  // When the longest-running job a helper runs now started (metrics::monotonic_ns, metrics
  // on), or 0 when no helper runs one.
  std::uint64_t oldest_job_started_ns() const;
  // Publishes this pool's idle helpers and queued jobs in `slot` of the generation's table
  // from now on, and counts the queue limit over the whole table.
  void share_occupancy(Occupancy* table, size_t slot);

 private:
  struct Helper;

  static void on_helper_output(bufferevent* bev, void* arg) noexcept;
  static void on_helper_drained(bufferevent* bev, void* arg) noexcept;
  static void on_helper_event(bufferevent* bev, short what, void* arg) noexcept;
  static void on_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_respawn(evutil_socket_t fd, short what, void* arg) noexcept;

  bool spawn(Helper& helper);
  void dispatch(Job* job, Helper& helper);
  void dispatch_queued(Helper& helper);
  void process_output(Helper& helper);
  void finish(Helper& helper, int failure_status);
  // A job's end, counted in the metrics: its outcome and how long it ran.
  void ended(const Job& job, metrics::JobOutcome outcome);
  void helper_died(Helper& helper, const std::string& why);
  // A helper that broke the frame protocol: killed, then replaced as helper_died does.
  void kill_helper(Helper& helper, const std::string& why);
  void schedule_respawn(Helper& helper);
  void write_to(Job* job, std::string frames);
  Helper* idle_helper();
  std::unique_ptr<Job> take(Job* job);
  void publish();
  bool queue_full() const;

  event_base* base_;
  const HelpersConfig& config_;
  HelperEntry entry_;
  std::vector<std::unique_ptr<Helper>> helpers_;
  std::unordered_map<Job*, std::unique_ptr<Job>> jobs_;
  std::deque<Job*> queue_;
  Occupancy* occupancy_ = nullptr;  // shared with the generation's other workers, or none
  metrics::Recorder no_metrics_;
  metrics::Recorder* metrics_ = &no_metrics_;
  size_t slot_ = 0;
  // Helpers killed or gone whose process is not reaped yet: their pids stay owned here until
  // waitpid says so, and are never signalled after that.
  struct Dying {
    int index = 0;
    bool killed_on_purpose = false;
    ChildPid pid;
  };
  std::vector<Dying> dying_;
};

}  // namespace shoal::helpers
