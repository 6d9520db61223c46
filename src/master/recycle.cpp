// worker_max_rss: a worker whose memory stays above the limit is replaced without a failed
// request (uWSGI's reload-on-rss; nginx has none). Its successor starts in the same slot; the
// old worker stays in the generation as `retiring` and drains, as a reload drains a whole
// generation, once the successor is ready. Neighbours: master_metrics.cpp samples /proc,
// master.cpp reaps.
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <algorithm>

#include "master/master.hpp"
#include "util/channel.hpp"
#include "util/spawn.hpp"
#include "util/timeval.hpp"

namespace shoal {

namespace {

// Two samples in a row (10 s): one spike (a large response being built) is not a leak.
constexpr int kSamplesOverLimit = 2;

double mebibytes(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

void Master::check_worker_memory() {
  if (stopping_ || lame_duck_ || upgrade_step_ != UpgradeStep::kIdle) return;
  Generation* g = active();
  if (!g || !g->site() || g->site()->config.worker_max_rss == 0) return;
  const auto limit = g->site()->config.worker_max_rss;
  // One at a time: a generation never runs more than one extra process for this.
  const bool replacing =
      std::any_of(g->slots().begin(), g->slots().end(), [](const auto& s) { return s->retiring; });
  WorkerSlot* over = nullptr;
  std::uint64_t over_rss = 0;
  for (const auto& slot : g->slots()) {
    if (slot->retiring || slot->pid <= 0 || !slot->ready) continue;
    const auto facts = facts_.find(slot->pid);
    if (facts == facts_.end()) continue;
    slot->over_rss = facts->second.rss > limit ? slot->over_rss + 1 : 0;
    if (slot->over_rss >= kSamplesOverLimit && !over) {
      over = slot.get();
      over_rss = facts->second.rss;
    }
  }
  if (over && !replacing) recycle(*over, over_rss);
}

void Master::recycle(WorkerSlot& slot, std::uint64_t rss) {
  Generation& g = *slot.generation;
  const auto limit = g.site()->config.worker_max_rss;
  // The running worker moves to a slot of its own (its events point at that object, which
  // keeps its address); a fresh slot with the same index takes its place for the successor.
  auto& slots = g.slots();
  const auto at =
      std::find_if(slots.begin(), slots.end(), [&](const auto& s) { return s.get() == &slot; });
  if (at == slots.end()) return;
  const auto i = static_cast<size_t>(at - slots.begin());
  auto successor = std::make_unique<WorkerSlot>();
  successor->generation = &g;
  successor->index = slot.index;
  successor->replaces = &slot;
  slot.retiring = true;
  slot.over_rss = 0;
  WorkerSlot& old = slot;
  std::unique_ptr<WorkerSlot> held = std::move(slots[i]);
  slots[i] = std::move(successor);
  slots.push_back(std::move(held));  // may move the vector: index from here on
  WorkerSlot& fresh = *slots[i];
  spdlog::warn(
      "worker {} of generation {} (pid {}) uses {:.1f} MiB, above worker_max_rss ({:.1f} MiB) "
      "for {} samples: starting its replacement, then it drains",
      old.index, g.number(), old.pid, mebibytes(rss), mebibytes(limit), kSamplesOverLimit);
  count(&metrics::MasterCells::restarts_rss);
  spawn(fresh);
  if (fresh.pid <= 0) {
    abandon_replacement(fresh, "it could not be started");  // fork failed: `fresh` is gone
    return;
  }
  // A successor that fails at start is restarted with the usual backoff; one that is not
  // serving within kReadyTimeout, whatever the reason, is given up.
  fresh.ready_deadline.reset(evtimer_new(base_.get(), on_successor_deadline, &fresh));
  const auto tv = to_timeval(kReadyTimeout);
  if (fresh.ready_deadline) evtimer_add(fresh.ready_deadline.get(), &tv);
  log_status();
}

void Master::on_successor_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* successor = static_cast<WorkerSlot*>(arg);
  if (successor->ready || !successor->replaces) return;
  successor->generation->master->abandon_replacement(
      *successor,
      "it was not serving within " + std::to_string(kReadyTimeout.count() / 1000) + " s");
}

void Master::abandon_replacement(WorkerSlot& successor, const std::string& why) {
  WorkerSlot* old = std::exchange(successor.replaces, nullptr);
  Generation& g = *successor.generation;
  auto& slots = g.slots();
  const auto find = [&](const WorkerSlot* s) {
    return std::find_if(slots.begin(), slots.end(), [&](const auto& p) { return p.get() == s; });
  };
  const auto at_new = find(&successor);
  const auto at_old = find(old);
  if (!old || at_new == slots.end() || at_old == slots.end()) return;
  spdlog::error(
      "the replacement of worker {} of generation {} (pid {}) is given up: {}; it "
      "serves on",
      old->index, g.number(), old->pid, why);
  old->retiring = false;
  successor.ready_deadline.reset();
  successor.restart_timer.reset();  // a failed start waiting out its backoff
  std::iter_swap(at_new, at_old);   // the old worker back in its place
  if (successor.pid > 0) {
    successor.retiring = true;  // reaped as one, never restarted
    kill(successor.pid, SIGKILL);
  } else {
    slots.erase(find(&successor));
  }
  // A failed start of the successor counted as degraded: the generation is whole again.
  if (g.state == Generation::State::kActive && g.all_ready()) degraded_ = false;
  log_status();
}

void Master::drain_replaced(WorkerSlot& successor) {
  successor.ready_deadline.reset();
  WorkerSlot* old = std::exchange(successor.replaces, nullptr);
  if (!old || old->pid <= 0) return;
  spdlog::info("worker {} of generation {} (pid {}) is ready: pid {} drains", successor.index,
               successor.generation->number(), successor.pid, old->pid);
  if (!channel_send(old->channel.get(), "drain")) kill(old->pid, SIGQUIT);
  const auto& config = successor.generation->site()->config;
  old->drain_deadline.reset(evtimer_new(base_.get(), on_drain_deadline, old));
  const auto tv = to_timeval(config.shutdown_timeout + std::chrono::seconds(2));
  if (old->drain_deadline) evtimer_add(old->drain_deadline.get(), &tv);
}

void Master::on_drain_deadline(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* slot = static_cast<WorkerSlot*>(arg);
  if (slot->pid <= 0) return;
  spdlog::warn("worker {} (pid {}) did not finish draining in time; killed", slot->index,
               slot->pid);
  kill(slot->pid, SIGKILL);
}

void Master::retired_worker_exited(WorkerSlot& slot, pid_t pid, int status) {
  Generation& g = *slot.generation;
  spdlog::info("replaced worker {} of generation {} (pid {}) {}", slot.index, g.number(), pid,
               describe_wait_status(status));
  auto& slots = g.slots();
  for (auto& other : slots) {
    if (other->replaces == &slot) other->replaces = nullptr;  // it left before its drain
  }
  std::erase_if(slots, [&](const auto& s) { return s.get() == &slot; });
  if ((stopping_ || g.state == Generation::State::kDraining) && g.running() == 0) {
    generation_gone(&g);
    return;
  }
  log_status();
}

}  // namespace shoal
