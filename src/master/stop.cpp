// Master: stopping, gracefully (drain_delay, then SIGQUIT to every generation and a deadline)
// or fast (SIGTERM, then SIGKILL at a deadline), and a generation's end. See master.hpp.
#include <signal.h>
#include <spdlog/spdlog.h>

#include "master/master.hpp"
#include "util/channel.hpp"
#include "util/timeval.hpp"

namespace shoal {

void Master::graceful_stop() {
  const auto delay = site_ ? site_->config.drain_delay : Millis(0);
  if (!stopping_ && !lame_duck_ && delay.count() > 0) {
    lame_duck_ = true;
    notifier_.stopping();
    spdlog::info(
        "graceful stop: draining for {} ms first (health routes answer 503, every response "
        "closes its connection, listeners stay open)",
        delay.count());
    for (const auto& g : generations_) {
      for (const auto& slot : g->slots()) {
        if (slot->pid > 0) channel_send(slot->channel.get(), "lame");
      }
    }
    auto tv = to_timeval(delay);
    evtimer_add(drain_delay_timer_.get(), &tv);
    log_status();
    return;
  }
  if (lame_duck_ && !stopping_) spdlog::info("graceful stop: drain_delay cut short");
  stop(SIGQUIT, (site_ ? site_->config.shutdown_timeout : kDefaultShutdownTimeout) +
                    std::chrono::seconds(2));
}

void Master::on_drain_delay(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  spdlog::info("graceful stop: drain_delay is over; stopping");
  self->graceful_stop();
}

void Master::stop(int worker_signal, std::chrono::milliseconds deadline) {
  if (stopping_ && (fast_stop_ || worker_signal == SIGQUIT)) return;
  evtimer_del(drain_delay_timer_.get());
  if (!stopping_ && !lame_duck_) notifier_.stopping();
  stopping_ = true;
  fast_stop_ = worker_signal == SIGTERM;
  reload_waiters_.finish(false, "the server is stopping");
  queued_reload_waiters_.finish(false, "the server is stopping");
  reload_queued_ = false;
  upgrade_waiters_.finish(false, "the server is stopping");
  for (auto& g : generations_) {
    g->deadline.reset();
    for (auto& slot : g->slots()) {
      slot->restart_timer.reset();
      if (slot->pid <= 0) continue;
      if (worker_signal == SIGQUIT && g->state == Generation::State::kDraining) continue;
      if (worker_signal != SIGQUIT || !channel_send(slot->channel.get(), "drain")) {
        kill(slot->pid, worker_signal);
      }
    }
  }
  auto tv = to_timeval(deadline);
  evtimer_add(kill_timer_.get(), &tv);
  std::erase_if(generations_, [](const auto& g) { return g->running() == 0; });
  if (generations_.empty()) event_base_loopexit(base_.get(), nullptr);
}

void Master::on_kill_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  for (const auto& g : self->generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->pid > 0) {
        spdlog::warn("worker {} (pid {}) did not stop in time; sending SIGKILL", slot->index,
                     slot->pid);
        kill(slot->pid, SIGKILL);
      }
    }
  }
}

void Master::on_generation_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* generation = static_cast<Generation*>(arg);
  Master* self = generation->master;
  if (generation->state == Generation::State::kStarting) {
    std::string why = "not every new worker was ready within " +
                      std::to_string(kReadyTimeout.count() / 1000) + " s";
    for (const auto& slot : generation->slots()) {
      if (!slot->ready && !slot->last_error.empty()) {
        why += "; worker " + std::to_string(slot->index) + ": " + slot->last_error;
        break;
      }
    }
    self->abort_reload(*generation, why);
    return;
  }
  for (const auto& slot : generation->slots()) {
    if (slot->pid > 0) {
      spdlog::warn(
          "worker {} of draining generation {} (pid {}) passed shutdown_timeout; "
          "sending SIGKILL",
          slot->index, generation->number(), slot->pid);
      kill(slot->pid, SIGKILL);
    }
  }
}

void Master::send_drain(Generation& generation) {
  generation.state = Generation::State::kDraining;
  publish_rows();
  for (auto& slot : generation.slots()) {
    slot->restart_timer.reset();
    if (slot->pid > 0 && !channel_send(slot->channel.get(), "drain")) kill(slot->pid, SIGQUIT);
  }
  // The master's own deadline: a worker that ignores its shutdown_timeout is killed.
  const auto timeout = (generation.site() ? generation.site()->config.shutdown_timeout
                        : site_           ? site_->config.shutdown_timeout
                                          : kDefaultShutdownTimeout) +
                       std::chrono::seconds(2);
  generation.deadline.reset(evtimer_new(base_.get(), on_generation_deadline, &generation));
  auto tv = to_timeval(timeout);
  evtimer_add(generation.deadline.get(), &tv);
}

void Master::generation_gone(Generation* generation) {
  spdlog::info("generation {} has exited", generation->number());
  std::erase_if(generations_, [generation](const auto& g) { return g.get() == generation; });
  if (stopping_) {
    if (generations_.empty()) event_base_loopexit(base_.get(), nullptr);
    return;
  }
  reclaim_metrics();  // the series only it had
  log_status();
  after_generation_change();
}

}  // namespace shoal
