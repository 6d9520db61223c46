// Master: binds the listen sockets, runs generations of workers and supervises them. It
// turns signals and control-socket commands into reload (a new generation, then drain the
// old), reopen, upgrade (re-exec in place), graceful and fast stop, and restarts dead
// workers with backoff. It knows nothing of HTTP. See src/DESIGN.md, Supervision.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "master/backoff.hpp"
#include "master/control.hpp"
#include "master/generation.hpp"
#include "master/listeners.hpp"
#include "master/pid_file.hpp"
#include "master/service_notify.hpp"
#include "master/upgrade_state.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"
#include "tls/ticket_keys.hpp"
#include "util/event_ptr.hpp"
#include "util/spawn.hpp"
#include "worker/site.hpp"
#include "worker/worker_start.hpp"

namespace shoal {

// How long a draining generation may take when no configuration says (shutdown_timeout).
inline constexpr auto kDefaultShutdownTimeout = std::chrono::milliseconds(30'000);

struct MasterOptions {
  std::string config_path;  // absolute: reload and upgrade read it after a chdir
  bool daemon = false;      // -d: detach once the sockets are bound (see daemon.hpp)
  // The new image of an upgrade: called (and not expected to return) when the start fails
  // before the loop runs, to exec the previous image again (upgrade_fallback.hpp).
  std::function<void(const std::string& why)> fall_back;
  // A worker process's main (worker_main); the master forks, hands it a WorkerStart, exits.
  WorkerEntry run_worker;
  // The session ticket keys `site` was loaded with; null: the master makes them (or adopts
  // the previous image's).
  std::shared_ptr<tls::TicketKeys> tickets;
};

// How long a new generation's workers have to say "ready" before a reload is abandoned.
inline constexpr std::chrono::milliseconds kReadyTimeout{10'000};

// How long the new binary's `-t` check and its trial start may each take (upgrade).
inline constexpr std::chrono::milliseconds kUpgradeStepTimeout{5'000};

// The master's exit status when its first generation could not start (as for a bind error).
inline constexpr int kExitStartupStatus = 2;

class Master {
 public:
  // `site` is the loaded configuration; null only when an upgraded image could not load
  // it (it then adopts the running workers and keeps them serving).
  Master(MasterOptions options, std::shared_ptr<const Site> site);
  Master(const Master&) = delete;
  Master& operator=(const Master&) = delete;
  ~Master();

  // Serves until stopped; returns the exit status. Throws StartupError before serving.
  // `adopted`: the state handed over by the previous image (SIGUSR2).
  int run(std::optional<UpgradeState> adopted = std::nullopt);
  // The upgrade's trial start: builds the loop and its signal events, then returns.
  void trial();

 private:
  struct Waiters {
    std::vector<ControlReply> replies;
    void add(ControlReply reply) {
      if (reply.valid()) replies.push_back(std::move(reply));
    }
    void line(std::string_view text);
    void finish(bool ok, std::string_view summary);
  };

  // Event callbacks (master.cpp).
  static void on_signal(evutil_socket_t sig, short what, void* arg) noexcept;
  static void on_channel(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_restart(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_kill_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_generation_deadline(evutil_socket_t fd, short what, void* arg) noexcept;

  void setup_loop();
  void on_command(const std::string& command, ControlReply reply);
  void start_generation(Generation& generation);
  void spawn(WorkerSlot& slot);
  void worker_not_started(WorkerSlot& slot, const std::string& why);
  [[noreturn]] void become_worker(WorkerSlot& slot, UniqueFd channel);
  void reap();
  void worker_exited(WorkerSlot& slot, int status);
  void schedule_restart(WorkerSlot& slot, bool startup_failure);
  void worker_ready(WorkerSlot& slot);
  // worker_max_rss (recycle.cpp): after each /proc sample, a serving worker above the limit
  // for two samples is replaced; its successor starts and, once ready, the old one drains.
  void check_worker_memory();
  void recycle(WorkerSlot& slot, std::uint64_t rss);
  void drain_replaced(WorkerSlot& successor);
  void retired_worker_exited(WorkerSlot& slot, pid_t pid, int status);
  // What an upgrade hands the new image (without the waiting clients or the way back): for the
  // exec, and a copy for the trial start to adopt.
  UpgradeState upgrade_state() const;
  static void on_drain_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_successor_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  // A successor that could not start, kept failing or never said ready: the old worker takes
  // its slot back and serves on; the successor (if running) is killed and reaped as retiring.
  void abandon_replacement(WorkerSlot& successor, const std::string& why);
  void stop(int worker_signal, std::chrono::milliseconds deadline);
  // SIGQUIT or `-s quit`: with drain_delay, first that long of health routes answering 503
  // and every response closing its connection, listeners open; then stop(SIGQUIT). A second
  // one during the delay ends it at once.
  void graceful_stop();
  static void on_drain_delay(evutil_socket_t fd, short what, void* arg) noexcept;
  void send_drain(Generation& generation);
  void generation_gone(Generation* generation);
  void log_status();
  Generation* active() const;
  Generation& add_generation(std::unique_ptr<Generation> generation);
  Generation* in_state(Generation::State state) const;

  // Reload (reload.cpp).
  void request_reload(ControlReply reply);
  void start_reload();
  std::vector<std::shared_ptr<Listener>> plan_listeners(const Config& config);
  void commit_reload(Generation& fresh);
  void abort_reload(Generation& fresh, const std::string& why);
  void after_generation_change();

  // Reopen (master.cpp).
  void request_reopen(ControlReply reply);
  void worker_reopened(WorkerSlot& slot);
  static void on_reopen_deadline(evutil_socket_t fd, short what, void* arg) noexcept;

  // Upgrade (upgrade.cpp): the new binary's `-t` check, then its trial start, then the exec.
  enum class UpgradeStep { kIdle, kCheck, kTrial };
  void request_upgrade(ControlReply reply);
  void start_upgrade_step(UpgradeStep step);
  static void on_check_output(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_upgrade_deadline(evutil_socket_t fd, short what, void* arg) noexcept;
  void upgrade_step_finished(int status);
  void exec_upgrade();
  void adopt(const UpgradeState& state);
  // An upgrade that did not happen: counted, noted for `-s status`, and told to its waiters.
  void upgrade_failed(const std::string& why);

  // Metrics (master_metrics.cpp): the segment made before the first fork or adopted, a row
  // per worker, the master's own series, process facts and requests per second on a timer,
  // and `-s status`.
  void start_metrics();
  void adopt_metrics(const UpgradeState& state);
  void register_layout(Generation& generation);
  // Frees the series no live generation's layout has (metrics::Segment::reclaim); not while a
  // generation adopted from an upgrade has no layout to say what it writes.
  void reclaim_metrics();
  // Why a generation of `config` cannot be counted beside the running one (no free rows, or no
  // room in the directory for its series), or "" with `layout` registered for it.
  std::string metrics_room(const Config& config, std::shared_ptr<const metrics::Layout>& layout);
  void give_row(WorkerSlot& slot);
  void retire_row(WorkerSlot& slot);
  void count(std::uint32_t metrics::MasterCells::*cell);
  void config_loaded(const Generation& generation);
  static void on_metrics_tick(evutil_socket_t fd, short what, void* arg) noexcept;
  void gather_facts();
  std::string status_report(bool json) const;
  void note_reload(bool ok, const std::string& text);
  void note_upgrade_failed(const std::string& text);
  // The master's part of the board (metrics/board.hpp): its facts, and each row's process.
  void publish_board();
  void publish_rows();

  // Session ticket keys: turned every tls.ticket_rotation of the active configuration.
  static void on_ticket_rotation(evutil_socket_t fd, short what, void* arg) noexcept;
  // systemd's watchdog (WatchdogSec=): WATCHDOG=1 from this loop every half interval, so a
  // master whose loop stops (a hung new image after an upgrade, a deadlock) is restarted.
  void start_watchdog();
  static void on_watchdog(evutil_socket_t fd, short what, void* arg) noexcept;
  EventPtr watchdog_timer_;
  void schedule_ticket_rotation();

  MasterOptions options_;
  std::shared_ptr<const Site> site_;  // the active generation's configuration
  // Shared by every generation and passed on by an upgrade (see tls/ticket_keys.hpp).
  std::shared_ptr<tls::TicketKeys> tickets_;
  EventPtr ticket_timer_;
  std::shared_ptr<metrics::Segment> metrics_;
  std::shared_ptr<const metrics::Layout> layout_;  // the newest generation's
  metrics::MasterCells master_cells_;              // the master's own series
  EventPtr metrics_timer_;
  int metrics_ticks_ = 0;
  // What `-s status` and the status page show; the board in the segment holds a copy
  // (publish_board), which an upgraded image reads back.
  std::optional<metrics::Outcome> last_reload_;
  std::optional<metrics::Outcome> last_upgrade_;
  bool upgrade_commit_ = false;  // the next commit is this new image's first generation
  struct ProcessFacts {
    std::uint64_t rss = 0;
    std::uint64_t fds = 0;
    std::uint64_t helpers_rss = 0;
    std::uint64_t helpers_fds = 0;
    size_t helpers = 0;
  };
  std::map<pid_t, ProcessFacts> facts_;  // by worker pid, from the last gather_facts
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
  Millis ticket_period_{0};
  std::unique_ptr<PidFile> pid_file_;
  EventBasePtr base_;
  std::vector<EventPtr> signals_;
  EventPtr kill_timer_;
  // drain_delay (graceful_stop): the workers are told "lame" and this fires the stop.
  EventPtr drain_delay_timer_;
  bool lame_duck_ = false;
  std::unique_ptr<ControlServer> control_;
  std::list<std::unique_ptr<Generation>> generations_;
  int last_generation_ = 0;
  RestartPolicy restart_policy_;
  ServiceNotifier notifier_;
  bool stopping_ = false;
  bool fast_stop_ = false;
  bool degraded_ = false;
  int exit_status_ = 0;
  std::string status_;                      // one line: generations, workers running, degraded
  std::vector<ControlReply> stop_waiters_;  // closed when the master exits
  UniqueFd daemon_ready_;  // -d: told the master's pid once the first generation serves

  // A reload in progress (a generation starting) and reloads waiting behind it.
  Waiters reload_waiters_;
  bool reload_queued_ = false;
  Waiters queued_reload_waiters_;

  // A reopen in progress: the workers that have not answered yet.
  Waiters reopen_waiters_;
  std::set<pid_t> reopen_pending_;
  size_t reopen_count_ = 0;
  EventPtr reopen_timer_;

  // An upgrade in progress: its step, the child running the new binary for it.
  Waiters upgrade_waiters_;
  UpgradeStep upgrade_step_ = UpgradeStep::kIdle;
  ChildPid upgrade_child_;
  EventPtr upgrade_timer_;
  bool upgrade_timed_out_ = false;
  std::string check_binary_;
  UniqueFd check_output_fd_;
  EventPtr check_output_event_;
  std::string check_output_;
};

}  // namespace shoal
