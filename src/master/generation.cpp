// Generation bookkeeping: which worker is whose, who is ready, which sockets a slot serves.
#include "master/generation.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "util/syscall.hpp"

namespace shoal {

Generation::Generation(int number, std::shared_ptr<const Site> site,
                       std::vector<std::shared_ptr<Listener>> listeners, size_t workers)
    : number_(number), site_(std::move(site)), listeners_(std::move(listeners)) {
  for (size_t i = 0; i < workers; ++i) {
    auto slot = std::make_unique<WorkerSlot>();
    slot->generation = this;
    slot->index = static_cast<int>(i);
    slots_.push_back(std::move(slot));
  }
  make_peers();
}

void Generation::make_peers() {
  // Hand-over between workers needs two of them, and a configuration to serve jobs from.
  if (slots_.size() < 2 || !site_) return;
  try {
    occupancy_ = std::make_shared<helpers::Occupancy>(slots_.size());
  } catch (const std::exception& e) {
    spdlog::error("generation {}: no hand-over between workers: {}", number_, e.what());
    return;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
      spdlog::error("generation {}: no hand-over between workers: {}", number_,
                    errno_text("socketpair()", errno));
      occupancy_.reset();
      handoff_in_.clear();
      handoff_out_.clear();
      return;
    }
    handoff_in_.emplace_back(pair[0]);
    handoff_out_.emplace_back(pair[1]);
  }
}

WorkerPeers Generation::peers_for(int slot) const {
  WorkerPeers peers;
  if (!occupancy_ || slot < 0 || static_cast<size_t>(slot) >= handoff_in_.size()) return peers;
  peers.occupancy = occupancy_;
  peers.handoff_in = handoff_in_[static_cast<size_t>(slot)].get();
  for (size_t i = 0; i < handoff_out_.size(); ++i) {
    peers.handoff_out.push_back(static_cast<int>(i) == slot ? -1 : handoff_out_[i].get());
  }
  return peers;
}

WorkerSlot& Generation::add_slot(int index) {
  auto slot = std::make_unique<WorkerSlot>();
  slot->generation = this;
  slot->index = index;
  slots_.push_back(std::move(slot));
  return *slots_.back();
}

size_t Generation::running() const {
  size_t n = 0;
  for (const auto& slot : slots_) n += slot->pid > 0 ? 1 : 0;
  return n;
}

size_t Generation::workers() const {
  size_t n = 0;
  for (const auto& slot : slots_) n += slot->retiring ? 0 : 1;
  return n;
}

size_t Generation::ready_count() const {
  size_t n = 0;
  for (const auto& slot : slots_) n += !slot->retiring && slot->pid > 0 && slot->ready ? 1 : 0;
  return n;
}

bool Generation::all_ready() const {
  for (const auto& slot : slots_) {
    if (!slot->retiring && (slot->pid <= 0 || !slot->ready)) return false;
  }
  return true;
}

WorkerSlot* Generation::find(pid_t pid) {
  for (auto& slot : slots_) {
    if (slot->pid == pid) return slot.get();
  }
  return nullptr;
}

std::vector<std::pair<int, std::string>> Generation::sockets_for(int slot) const {
  std::vector<std::pair<int, std::string>> out;
  const size_t workers = this->workers();
  for (const auto& l : listeners_) {
    if (l->fds.size() <= 1) {
      out.emplace_back(l->fds.at(0).get(), l->address.text);
      continue;
    }
    for (size_t j = 0; j < l->fds.size(); ++j) {
      if (j % workers == static_cast<size_t>(slot))
        out.emplace_back(l->fds[j].get(), l->address.text);
    }
  }
  return out;
}

std::string Generation::describe() const {
  return "generation " + std::to_string(number_) + " (" + std::to_string(workers()) +
         (workers() == 1 ? " worker)" : " workers)");
}

FailedStart after_failed_start(Generation::State state, bool another_serves) {
  if (state == Generation::State::kStarting && another_serves) return FailedStart::kAbandon;
  return FailedStart::kRetry;
}

}  // namespace shoal
