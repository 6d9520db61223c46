// HelperPool: helper processes as seen from the worker's loop. Everything here is
// non-blocking except fork() when a helper is (re)started, which is rare and short.
#include "helpers/helper_pool.hpp"

#include <event2/buffer.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "helpers/frame.hpp"
#include "helpers/helper_process.hpp"
#include "util/event_ptr.hpp"
#include "util/spawn.hpp"
#include "util/syscall.hpp"
#include "util/timeval.hpp"

namespace shoal::helpers {

namespace {

constexpr size_t kBodyBacklog = 64 * 1024;       // body bytes buffered before the client waits
constexpr size_t kOutputReadLimit = 256 * 1024;  // helper output read ahead of the client
constexpr auto kQuickDeath = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::milliseconds(30'000);

struct BuffereventDeleter {
  void operator()(bufferevent* bev) const { bufferevent_free(bev); }
};

// In the new helper: put the two pipe ends on fds 3 and 4 and close everything else the
// worker had open (listeners, clients, its epoll), so the helper holds nothing of the worker.
// Closing first leaves at most five fds open, so this works at any RLIMIT_NOFILE of 7 or more
// (it once dup'ed to fd 100 first, which fails below 101).
void keep_only_pipes(int in_fd, int out_fd) {
  // The worker's error log goes first: its fd number may be reused below, and a helper
  // reports through LOG frames, never by writing a file.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("helper"));
  close_fds_except({in_fd, out_fd});
  // Above 4 first, so that dup2 onto 3 and 4 can never overwrite the other end.
  const int in_moved = fcntl(in_fd, F_DUPFD, 5);
  const int out_moved = fcntl(out_fd, F_DUPFD, 5);
  if (in_moved < 0 || out_moved < 0) _exit(4);
  ::close(in_fd);
  ::close(out_fd);
  if (dup2(in_moved, 3) != 3 || dup2(out_moved, 4) != 4) _exit(4);
  ::close(in_moved);
  ::close(out_moved);
  fcntl(3, F_SETFD, FD_CLOEXEC);  // never inherited by a CGI program
  fcntl(4, F_SETFD, FD_CLOEXEC);
}

}  // namespace

struct HelperPool::Job : JobHandle {
  std::string start_frame;  // JOB_START, sent when a helper takes the job
  JobSink* sink = nullptr;
  Helper* helper = nullptr;  // set while running
  std::string pending;       // BODY/BODY_END frames waiting for a helper
  bool output_paused = false;
  std::unique_ptr<event, EventDeleter> deadline;
  std::uint64_t queued_ns = 0;   // submitted (metrics on)
  std::uint64_t started_ns = 0;  // a helper took it
};

struct HelperPool::Helper {
  enum class State { kStarting, kIdle, kBusy, kDead };
  HelperPool* pool = nullptr;
  int index = 0;
  ChildPid pid;  // forgotten once reaped (see dying_)
  // The process group of the CGI program its job runs (PROGRAM frame), killed with the
  // helper: the program's own children would outlive it otherwise.
  pid_t program_group = 0;
  State state = State::kStarting;
  std::unique_ptr<bufferevent, BuffereventDeleter> to;    // worker -> helper (write end)
  std::unique_ptr<bufferevent, BuffereventDeleter> from;  // helper -> worker (read end)
  Job* job = nullptr;
  std::chrono::steady_clock::time_point started;
  int quick_deaths = 0;
  bool killed_on_purpose = false;
  std::unique_ptr<event, EventDeleter> respawn;
};

HelperPool::HelperPool(event_base* base, const HelpersConfig& config, HelperEntry entry)
    : base_(base), config_(config), entry_(entry ? entry : helper_main) {}

HelperPool::~HelperPool() {
  // Jobs belong to connections, which the worker destroys first; close the pipes so idle
  // helpers see EOF, kill busy ones, and reap them all (blocking is fine: we are exiting).
  queue_.clear();
  jobs_.clear();
  for (auto& h : helpers_) {
    h->to.reset();
    h->from.reset();
    h->respawn.reset();
    h->pid.kill_and_wait();
  }
  dying_.clear();  // each one killed (already) and waited for
}

void HelperPool::start() {
  for (int i = 0; i < config_.count; ++i) {
    auto h = std::make_unique<Helper>();
    h->pool = this;
    h->index = i;
    h->respawn.reset(evtimer_new(base_, on_respawn, h.get()));
    helpers_.push_back(std::move(h));
    if (!spawn(*helpers_.back())) throw StartupError("cannot start helper processes");
  }
}

bool HelperPool::spawn(Helper& h) {
  int down[2];  // worker writes [1], helper reads [0]
  int up[2];    // helper writes [1], worker reads [0]
  if (pipe2(down, O_CLOEXEC) != 0) {
    spdlog::error("{}", errno_text("pipe2() for a helper", errno));
    return false;
  }
  if (pipe2(up, O_CLOEXEC) != 0) {
    spdlog::error("{}", errno_text("pipe2() for a helper", errno));
    ::close(down[0]);
    ::close(down[1]);
    return false;
  }
  const pid_t worker = getpid();
  const pid_t pid = fork_child([&] {
    // Ignore what a terminal aims at the process group; leave when the worker goes.
    for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE}) signal(sig, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != worker) _exit(0);
    keep_only_pipes(down[0], up[1]);
    // Below the loops' priority (helpers.nice); if refused, the helper still works.
    [[maybe_unused]] int niceness = nice(config_.nice);
    if (config_.sched_idle) {
      sched_param param{};
      sched_setscheduler(0, SCHED_IDLE, &param);
    }
    entry_(3, 4);
    _exit(0);
  });
  const int fork_errno = errno;
  ::close(down[0]);
  ::close(up[1]);
  if (pid < 0) {
    spdlog::error("{}", errno_text("fork() of a helper", fork_errno));
    ::close(down[1]);
    ::close(up[0]);
    return false;
  }
  evutil_make_socket_nonblocking(down[1]);
  evutil_make_socket_nonblocking(up[0]);
  h.pid = ChildPid(pid);
  h.started = std::chrono::steady_clock::now();
  h.killed_on_purpose = false;
  h.to.reset(bufferevent_socket_new(base_, down[1], BEV_OPT_CLOSE_ON_FREE));
  h.from.reset(bufferevent_socket_new(base_, up[0], BEV_OPT_CLOSE_ON_FREE));
  bufferevent_setcb(h.to.get(), nullptr, on_helper_drained, on_helper_event, &h);
  bufferevent_setcb(h.from.get(), on_helper_output, nullptr, on_helper_event, &h);
  bufferevent_setwatermark(h.from.get(), EV_READ, 0, kOutputReadLimit);
  bufferevent_enable(h.to.get(), EV_WRITE);
  bufferevent_enable(h.from.get(), EV_READ);
  h.state = Helper::State::kIdle;
  spdlog::debug("helper {} started with pid {}", h.index, pid);
  dispatch_queued(h);
  publish();
  return true;
}

HelperPool::Helper* HelperPool::idle_helper() {
  for (auto& h : helpers_) {
    if (h->state == Helper::State::kIdle) return h.get();
  }
  return nullptr;
}

size_t HelperPool::idle_helpers() const {
  return static_cast<size_t>(std::count_if(helpers_.begin(), helpers_.end(), [](const auto& h) {
    return h->state == Helper::State::kIdle;
  }));
}

size_t HelperPool::busy_helpers() const {
  return static_cast<size_t>(std::count_if(helpers_.begin(), helpers_.end(), [](const auto& h) {
    return h->state == Helper::State::kBusy;
  }));
}

std::uint64_t HelperPool::oldest_job_started_ns() const {
  std::uint64_t oldest = 0;
  for (const auto& h : helpers_) {
    if (h->state != Helper::State::kBusy || !h->job || h->job->started_ns == 0) continue;
    if (oldest == 0 || h->job->started_ns < oldest) oldest = h->job->started_ns;
  }
  return oldest;
}

void HelperPool::share_occupancy(Occupancy* table, size_t slot) {
  occupancy_ = table && slot < table->size() ? table : nullptr;
  slot_ = slot;
  publish();
}

void HelperPool::publish() {
  if (!occupancy_) return;
  auto& mine = occupancy_->slot(slot_);
  mine.idle.store(static_cast<std::int32_t>(idle_helpers()), std::memory_order_relaxed);
  mine.queued.store(static_cast<std::int32_t>(queue_.size()), std::memory_order_relaxed);
  mine.version.fetch_add(1, std::memory_order_release);
}

// helpers.queue counts the generation's waiting jobs, wherever they wait.
bool HelperPool::queue_full() const {
  const std::int64_t waiting =
      occupancy_ ? occupancy_->total_queued() : static_cast<std::int64_t>(queue_.size());
  return waiting >= config_.queue;
}

JobHandle* HelperPool::submit(const JobSpec& spec, JobSink* sink) {
  Helper* idle = queue_.empty() ? idle_helper() : nullptr;
  if (!idle && queue_full()) {
    metrics_->job(metrics::JobOutcome::kQueueFull);
    return nullptr;
  }
  auto job = std::make_unique<Job>();
  if (metrics_->on()) job->queued_ns = metrics::monotonic_ns();
  append_frame(job->start_frame, FrameType::kJobStart, encode_job(spec));
  job->sink = sink;
  Job* raw = job.get();
  jobs_.emplace(raw, std::move(job));
  if (idle) {
    dispatch(raw, *idle);
  } else {
    queue_.push_back(raw);
  }
  publish();
  return raw;
}

void HelperPool::dispatch(Job* job, Helper& h) {
  h.state = Helper::State::kBusy;
  h.job = job;
  job->helper = &h;
  if (metrics_->on()) {
    job->started_ns = metrics::monotonic_ns();
    metrics_->observe(metrics_->worker().queue_wait, job->started_ns - job->queued_ns);
  }
  spdlog::debug("helper {} (pid {}) takes a job", h.index, h.pid.get());
  auto* out = bufferevent_get_output(h.to.get());
  evbuffer_add(out, job->start_frame.data(), job->start_frame.size());
  if (!job->pending.empty()) {
    evbuffer_add(out, job->pending.data(), job->pending.size());
    job->pending.clear();
    job->pending.shrink_to_fit();
  }
  job->deadline.reset(evtimer_new(base_, on_deadline, &h));
  auto tv = to_timeval(config_.timeout);
  evtimer_add(job->deadline.get(), &tv);
  if (!job->output_paused) bufferevent_enable(h.from.get(), EV_READ);
}

void HelperPool::dispatch_queued(Helper& h) {
  while (h.state == Helper::State::kIdle && !queue_.empty()) {
    Job* job = queue_.front();
    queue_.pop_front();
    dispatch(job, h);
    // Its body may have been held back while queued: let it flow into the pipe now.
    if (job->sink) job->sink->on_job_writable();
  }
}

void HelperPool::write_to(Job* job, std::string frames) {
  if (job->helper) {
    evbuffer_add(bufferevent_get_output(job->helper->to.get()), frames.data(), frames.size());
  } else {
    job->pending += frames;
  }
}

void HelperPool::send_body(JobHandle* handle, std::string_view bytes) {
  auto* job = static_cast<Job*>(handle);
  while (!bytes.empty()) {
    auto n = std::min(bytes.size(), kDataChunk);
    std::string frame;
    append_frame(frame, FrameType::kBody, bytes.substr(0, n));
    write_to(job, std::move(frame));
    bytes.remove_prefix(n);
  }
}

void HelperPool::end_body(JobHandle* handle) {
  auto* job = static_cast<Job*>(handle);
  std::string frame;
  append_frame(frame, FrameType::kBodyEnd, {});
  write_to(job, std::move(frame));
}

bool HelperPool::body_backlogged(const JobHandle* handle) const {
  const auto* job = static_cast<const Job*>(handle);
  if (job->helper) {
    return evbuffer_get_length(bufferevent_get_output(job->helper->to.get())) > kBodyBacklog;
  }
  return job->pending.size() > kBodyBacklog;
}

void HelperPool::pause_output(JobHandle* handle) {
  auto* job = static_cast<Job*>(handle);
  job->output_paused = true;
  if (job->helper) bufferevent_disable(job->helper->from.get(), EV_READ);
}

void HelperPool::resume_output(JobHandle* handle) {
  auto* job = static_cast<Job*>(handle);
  if (!job->output_paused) return;
  job->output_paused = false;
  if (!job->helper) return;
  Helper& h = *job->helper;
  bufferevent_enable(h.from.get(), EV_READ);
  process_output(h);  // frames already read while paused
}

std::unique_ptr<HelperPool::Job> HelperPool::take(Job* job) {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return nullptr;
  auto owned = std::move(it->second);
  jobs_.erase(it);
  return owned;
}

void HelperPool::cancel(JobHandle* handle) {
  auto* job = static_cast<Job*>(handle);
  auto owned = take(job);
  if (!owned) return;
  metrics_->job(metrics::JobOutcome::kCancelled);
  queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
  if (Helper* h = job->helper) {
    // The helper may be deep in a blocking job; killing it is the only way to free it now.
    spdlog::info("client left during a job; killing helper {} (pid {})", h->index, h->pid.get());
    h->job = nullptr;
    h->killed_on_purpose = true;
    h->pid.signal(SIGKILL);
    helper_died(*h, "was killed: its client went away");
  }
  publish();
}

void HelperPool::on_helper_output(bufferevent* /*bev*/, void* arg) noexcept {
  auto* h = static_cast<Helper*>(arg);
  h->pool->process_output(*h);
}

void HelperPool::process_output(Helper& h) {
  // A callback below may kill and replace this helper (new pipes): stop as soon as that
  // happens, so nothing reads the dead helper's buffer.
  bufferevent* const from = h.from.get();
  if (!from) return;
  auto* in = bufferevent_get_input(from);
  while (h.from.get() == from &&
         (h.state == Helper::State::kBusy || h.state == Helper::State::kIdle)) {
    if (h.job && h.job->output_paused) {
      bufferevent_disable(h.from.get(), EV_READ);
      return;
    }
    unsigned char header_bytes[kFrameHeaderSize];
    if (evbuffer_copyout(in, header_bytes, sizeof header_bytes) <
        static_cast<ev_ssize_t>(sizeof header_bytes)) {
      return;
    }
    auto header = parse_frame_header(header_bytes);
    if (!header) {
      kill_helper(h, "broke the frame protocol");
      return;
    }
    if (evbuffer_get_length(in) < kFrameHeaderSize + header->length) return;
    evbuffer_drain(in, kFrameHeaderSize);
    std::string payload(header->length, '\0');
    evbuffer_remove(in, payload.data(), header->length);

    if (header->type == FrameType::kLog) {
      auto fields = decode_fields(payload);
      if (fields && fields->size() == 2) {
        const auto& level = (*fields)[0];
        auto lvl = level == "error"  ? spdlog::level::err
                   : level == "warn" ? spdlog::level::warn
                                     : spdlog::level::info;
        spdlog::log(lvl, "helper {} (pid {}): {}", h.index, h.pid.get(), (*fields)[1]);
      }
      continue;
    }
    Job* job = h.job;
    if (!job) {
      kill_helper(h, "answered without a job");
      return;
    }
    if (header->type == FrameType::kProgram) {
      auto fields = decode_fields(payload);
      const int group = fields && fields->size() == 1 ? std::atoi((*fields)[0].c_str()) : 0;
      if (group <= 1) {
        kill_helper(h, "sent a malformed program frame");
        return;
      }
      h.program_group = group;
      continue;
    }
    switch (header->type) {
      case FrameType::kHead: {
        auto fields = decode_fields(payload);
        if (!fields || fields->empty() || fields->size() % 2 != 1) {
          kill_helper(h, "sent a malformed head");
          return;
        }
        HeaderList headers;
        for (size_t i = 1; i + 1 < fields->size(); i += 2) {
          headers.emplace_back((*fields)[i], (*fields)[i + 1]);
        }
        job->sink->on_job_head(std::atoi((*fields)[0].c_str()), std::move(headers));
        break;
      }
      case FrameType::kData:
        job->sink->on_job_data(payload);
        break;
      case FrameType::kEnd:
        finish(h, 0);
        break;
      case FrameType::kError: {
        auto fields = decode_fields(payload);
        int status = fields && !fields->empty() ? std::atoi((*fields)[0].c_str()) : 502;
        if (fields && fields->size() > 1 && status >= 500) {
          spdlog::warn("helper {} (pid {}): job failed: {}", h.index, h.pid.get(), (*fields)[1]);
        }
        finish(h, status < 400 || status > 599 ? 502 : status);
        break;
      }
      default:
        kill_helper(h, "sent a frame meant for helpers");
        return;
    }
  }
}

void HelperPool::finish(Helper& h, int failure_status) {
  Job* job = h.job;
  h.job = nullptr;
  h.program_group = 0;  // the helper has reaped its program
  if (h.state == Helper::State::kBusy) h.state = Helper::State::kIdle;
  auto owned = take(job);
  if (owned)
    ended(*owned, failure_status == 0 ? metrics::JobOutcome::kOk : metrics::JobOutcome::kError);
  // The helper takes the next queued job and the siblings see the new numbers before the
  // client hears the end of this one: a client that answers at once with a new job finds
  // them current.
  dispatch_queued(h);
  publish();
  if (owned && owned->sink) {
    JobSink* sink = owned->sink;
    owned.reset();
    if (failure_status == 0) {
      sink->on_job_end();
    } else {
      sink->on_job_failed(failure_status);
    }
  }
}

void HelperPool::ended(const Job& job, metrics::JobOutcome outcome) {
  if (!metrics_->on()) return;
  metrics_->job(outcome);
  if (job.started_ns)
    metrics_->observe(metrics_->worker().run_time, metrics::monotonic_ns() - job.started_ns);
}

void HelperPool::on_helper_drained(bufferevent* /*bev*/, void* arg) noexcept {
  auto* h = static_cast<Helper*>(arg);
  if (h->job && h->job->sink) h->job->sink->on_job_writable();
}

void HelperPool::on_helper_event(bufferevent* /*bev*/, short what, void* arg) noexcept {
  auto* h = static_cast<Helper*>(arg);
  if (h->state == Helper::State::kDead) return;
  h->pid.signal(SIGKILL);  // whatever happened, this helper is done
  h->pool->helper_died(*h, (what & BEV_EVENT_EOF) ? "closed its pipe" : "pipe error");
}

void HelperPool::on_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* h = static_cast<Helper*>(arg);
  auto& pool = *h->pool;
  spdlog::warn("helper {} (pid {}): job passed helpers.timeout ({} ms); killing it", h->index,
               h->pid.get(), pool.config_.timeout.count());
  h->killed_on_purpose = true;
  h->pid.signal(SIGKILL);
  pool.helper_died(*h, "was killed at the job deadline");
}

void HelperPool::kill_helper(Helper& h, const std::string& why) {
  h.pid.signal(SIGKILL);
  helper_died(h, why);
}

void HelperPool::helper_died(Helper& h, const std::string& why) {
  if (h.state == Helper::State::kDead) return;
  const bool on_purpose = h.killed_on_purpose;
  if (on_purpose) {
    spdlog::info("helper {} (pid {}) {}", h.index, h.pid.get(), why);
  } else {
    spdlog::error("helper {} (pid {}) {}", h.index, h.pid.get(), why);
  }
  Job* job = h.job;
  h.job = nullptr;
  h.state = Helper::State::kDead;
  if (h.program_group > 0) {
    ::kill(-h.program_group, SIGKILL);  // the program and whatever it started
    h.program_group = 0;
  }
  // The process is reaped on SIGCHLD (and its status logged then); the pipes go now.
  if (h.pid) dying_.push_back({h.index, on_purpose, std::move(h.pid)});
  h.to.reset();
  h.from.reset();
  if (job) {
    job->helper = nullptr;
    auto owned = take(job);
    if (owned)
      ended(*owned, on_purpose ? metrics::JobOutcome::kTimeout : metrics::JobOutcome::kCrashed);
    if (owned && owned->sink) {
      JobSink* sink = owned->sink;
      owned.reset();
      sink->on_job_failed(on_purpose ? 504 : 502);
    }
  }
  metrics_->helper_restarted();
  if (!on_purpose && std::chrono::steady_clock::now() - h.started < kQuickDeath) {
    ++h.quick_deaths;
  } else if (!on_purpose) {
    h.quick_deaths = 0;
  }
  schedule_respawn(h);
  publish();
}

void HelperPool::schedule_respawn(Helper& h) {
  if (h.quick_deaths == 0) {
    if (!spawn(h)) {
      h.quick_deaths = 1;
    } else {
      return;
    }
  }
  auto delay = std::min<std::chrono::milliseconds>(
      kMaxBackoff, std::chrono::milliseconds(100) * (1 << std::min(h.quick_deaths, 10)));
  spdlog::warn("helper {} keeps failing; starting it again in {} ms", h.index, delay.count());
  auto tv = to_timeval(delay);
  evtimer_add(h.respawn.get(), &tv);
}

void HelperPool::on_respawn(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* h = static_cast<Helper*>(arg);
  if (h->state != Helper::State::kDead) return;
  if (!h->pool->spawn(*h)) h->pool->schedule_respawn(*h);
}

void HelperPool::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    const std::string how = describe_wait_status(status);
    auto dead = std::find_if(dying_.begin(), dying_.end(),
                             [pid](const Dying& d) { return d.pid.get() == pid; });
    if (dead != dying_.end()) {
      // Killed at a deadline or for a client that left: expected. Anything else (a crash,
      // an exit, the OOM killer's SIGKILL) is news, with the status that says which.
      spdlog::log(dead->killed_on_purpose ? spdlog::level::info : spdlog::level::warn,
                  "helper {} (pid {}) {}", dead->index, pid, how);
      dead->pid.reaped();
      dying_.erase(dead);
      continue;
    }
    for (auto& h : helpers_) {
      if (h->pid.get() != pid) continue;
      // Reaped before its pipe said so: its pipe's EOF, read next, fails its job.
      h->pid.reaped();
      spdlog::error("helper {} (pid {}) {}", h->index, pid, how);
      break;
    }
  }
}

}  // namespace shoal::helpers
