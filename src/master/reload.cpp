// Reload: load the file into a new Site, plan the listen sockets, start a generation, and
// commit (drain the old) only once every new worker said "ready"; otherwise abandon it and
// keep the old one serving. At most two generations: later requests wait and are merged.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/loader.hpp"
#include "log/logging.hpp"
#include "master/daemon.hpp"
#include "master/listeners.hpp"
#include "master/master.hpp"
#include "util/syscall.hpp"
#include "util/timeval.hpp"

namespace shoal {

void Master::request_reload(ControlReply reply) {
  if (stopping_ || lame_duck_) {
    reply.finish(false, "the server is stopping");
    return;
  }
  queued_reload_waiters_.add(std::move(reply));
  if (reload_queued_) {
    spdlog::info("reload: merged with the reload already waiting");
    return;
  }
  reload_queued_ = true;
  after_generation_change();
}

void Master::after_generation_change() {
  if (!reload_queued_ || stopping_ || upgrade_step_ != UpgradeStep::kIdle) return;
  const Generation* busy = in_state(Generation::State::kStarting);
  if (!busy) busy = in_state(Generation::State::kDraining);
  if (busy) {
    const std::string note =
        "reload waits for generation " + std::to_string(busy->number()) +
        (busy->state == Generation::State::kStarting ? " to start" : " to finish draining");
    spdlog::info("{}", note);
    queued_reload_waiters_.line(note);
    return;
  }
  reload_queued_ = false;
  for (auto& r : queued_reload_waiters_.replies) reload_waiters_.add(std::move(r));
  queued_reload_waiters_.replies.clear();
  start_reload();
}

void Master::start_reload() {
  // Every path below ends in READY=1: commit_reload, abort_reload or a refusal here.
  notifier_.reloading();
  const Generation* current = active();
  const std::string keeps = current ? "; " + current->describe() + " keeps serving" : "";
  std::shared_ptr<const Site> site;
  try {
    site = load_site(options_.config_path, tickets_.get());
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) {
      spdlog::error("reload: {}", error.to_string());
      reload_waiters_.line(error.to_string());
    }
    spdlog::error("reload refused: configuration {} is invalid{}", options_.config_path, keeps);
    note_reload(false, "configuration " + options_.config_path + " is invalid");
    reload_waiters_.finish(false, "configuration " + options_.config_path + " is invalid" + keeps);
    notifier_.ready(status_ + "; last reload refused: invalid configuration");
    return;
  } catch (const std::exception& e) {
    spdlog::error("reload refused: {}: {}{}", options_.config_path, e.what(), keeps);
    note_reload(false, options_.config_path + ": " + e.what());
    reload_waiters_.finish(false, options_.config_path + ": " + e.what() + keeps);
    notifier_.ready(status_ + "; last reload refused");
    return;
  }
  if (site_) {
    std::string restart_only;
    if (site->config.pid_file != site_->config.pid_file) restart_only = "pid_file";
    if (site->config.reuse_port != site_->config.reuse_port) restart_only = "reuse_port";
    if (!restart_only.empty()) {
      const std::string why = restart_only + " cannot change on reload; restart shoal to change it";
      spdlog::error("reload refused: {}{}", why, keeps);
      note_reload(false, why);
      reload_waiters_.finish(false, why + keeps);
      notifier_.ready(status_ + "; last reload refused");
      return;
    }
  }
  std::shared_ptr<const metrics::Layout> layout;
  if (auto why = metrics_room(site->config, layout); !why.empty()) {
    spdlog::error("reload refused: {}{}", why, keeps);
    note_reload(false, why);
    reload_waiters_.finish(false, why + keeps);
    notifier_.ready(status_ + "; last reload refused");
    return;
  }
  std::vector<std::shared_ptr<Listener>> listeners;
  try {
    listeners = plan_listeners(site->config);
  } catch (const std::exception& e) {
    spdlog::error("reload refused: {}{}", e.what(), keeps);
    note_reload(false, e.what());
    reload_waiters_.finish(false, std::string(e.what()) + keeps);
    notifier_.ready(status_ + "; last reload refused");
    return;
  }
  auto& fresh = add_generation(std::make_unique<Generation>(
      ++last_generation_, site, std::move(listeners), static_cast<size_t>(site->config.workers)));
  if (layout) {
    fresh.layout = std::move(layout);  // registered by metrics_room; register_layout keeps it
    layout_ = fresh.layout;
  }
  spdlog::info("reload: starting {}", fresh.describe());
  start_generation(fresh);
}

std::vector<std::shared_ptr<Listener>> Master::plan_listeners(const Config& config) {
  const size_t wanted = config.reuse_port ? static_cast<size_t>(config.workers) : 1;
  std::vector<std::shared_ptr<Listener>> planned;
  for (const auto& address : distinct_listen_addresses(config)) {
    std::shared_ptr<Listener> existing;
    for (const auto& g : generations_) {
      for (const auto& l : g->listeners()) {
        if (l->address.text == address.text) existing = l;
      }
    }
    if (!existing) {
      auto bound = bind_listeners({address}, static_cast<int>(wanted));
      planned.push_back(std::make_shared<Listener>(std::move(bound.at(0))));
      continue;
    }
    if (existing->fds.size() >= wanted) {
      planned.push_back(existing);  // the very same sockets: never closed, never rebound
      continue;
    }
    // More workers on an SO_REUSEPORT group: the same sockets (dup'ed, so the old generation
    // keeps its own) plus new members, which close again if the reload is abandoned.
    auto grown = std::make_shared<Listener>();
    grown->address = existing->address;
    for (const auto& fd : existing->fds) {
      grown->fds.emplace_back(check_syscall(fcntl(fd.get(), F_DUPFD_CLOEXEC, 3),
                                            "fcntl(F_DUPFD_CLOEXEC) of " + address.text));
    }
    while (grown->fds.size() < wanted) {
      grown->fds.push_back(bind_listen_socket(grown->address, true));
    }
    planned.push_back(std::move(grown));
  }
  return planned;
}

void Master::commit_reload(Generation& fresh) {
  Generation* old = active();
  fresh.state = Generation::State::kActive;
  fresh.deadline.reset();
  site_ = fresh.site();
  schedule_ticket_rotation();
  for (const auto& l : fresh.listeners()) {
    // Applied when a configuration takes over, so an abandoned reload changes nothing.
    if (!set_accept_options(*l, site_->config.defer_accept)) {
      spdlog::error("cannot set TCP_DEFER_ACCEPT or TCP_QUICKACK on {}: {}", l->address.text,
                    std::strerror(errno));
    }
  }
  try {
    setup_error_log(site_->config.log.error);
  } catch (const std::exception& e) {
    spdlog::error("reload: the master keeps its old error log: {}", e.what());
  }
  if (!pid_file_ && !site_->config.pid_file.empty()) {
    try {
      pid_file_ = std::make_unique<PidFile>(site_->config.pid_file);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
    }
  }
  if (geteuid() == 0 && site_->config.uid == 0u) {
    // Said at every commit, since a reload may be what set it.
    spdlog::warn("workers, helpers and CGI programs run as root (user: root)");
  }
  if (!old) {
    std::string addresses;
    for (const auto& l : fresh.listeners()) {
      addresses += (addresses.empty() ? "" : ", ") + l->address.text;
    }
    spdlog::info("shoal started: {} workers, listening on {}", fresh.workers(), addresses);
    report_daemon_ready(daemon_ready_);
  } else {
    spdlog::info("reload: {} is serving; generation {} drains", fresh.describe(), old->number());
    send_drain(*old);
  }
  reload_waiters_.finish(true, fresh.describe() + " is serving");
  if (old || upgrade_commit_) note_reload(true, fresh.describe() + " is serving");
  config_loaded(fresh);
  log_status();
  notifier_.ready(status_);
  if (old && old->running() == 0) {
    generation_gone(old);  // calls after_generation_change
    return;
  }
  after_generation_change();
}

void Master::abort_reload(Generation& fresh, const std::string& why) {
  const Generation* current = active();
  if (!current && generations_.size() == 1) {
    // The very first generation could not start: this is a failed start, not a reload.
    spdlog::error("shoal could not start: {}", why);
    exit_status_ = kExitStartupStatus;
    stop(SIGTERM, std::chrono::milliseconds(3000));
    return;
  }
  const std::string keeps = current ? "; " + current->describe() + " keeps serving" : "";
  spdlog::error("reload abandoned: new {}: {}{}", fresh.describe(), why, keeps);
  note_reload(false, "new " + fresh.describe() + ": " + why);
  reload_waiters_.finish(false, "new " + fresh.describe() + ": " + why + keeps);
  notifier_.ready(status_ + "; last reload abandoned");
  // Workers of the new generation that did start may hold connections: let them finish.
  send_drain(fresh);
  if (fresh.running() == 0) {
    generation_gone(&fresh);
    return;
  }
  log_status();
}

}  // namespace shoal
