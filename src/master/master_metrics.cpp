// The master's part of the metrics: it owns the segment (made before the first fork, or
// adopted across an upgrade), registers each generation's series before forking it, gives
// every worker a row and folds the row when the worker is reaped, counts its own events
// (reloads, upgrades, restarts), gathers process facts from /proc on a timer (off every
// worker's loop), and answers `-s status`. See src/DESIGN.md, Metrics.
#include <dirent.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "master/master.hpp"

namespace shoal {

namespace {

constexpr timeval kMetricsTick{1, 0};
constexpr int kFactsEveryTicks = 5;  // process facts every 5 s
constexpr size_t kRequestSamples = 61;

std::uint64_t resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0;
  std::uint64_t resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t open_fds(pid_t pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return 0;
  std::uint64_t n = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> children;
  pid_t child = 0;
  while (in >> child) children.push_back(child);
  return children;
}

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

std::string iso_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string mebibytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

void store(std::uint64_t* row, std::uint32_t cell, std::uint64_t value) {
  metrics::store_cell(row[cell], value);
}
std::uint64_t load(const std::uint64_t* row, std::uint32_t cell) {
  return metrics::load_cell(row[cell]);
}

const char* state_name(Generation::State state) {
  switch (state) {
    case Generation::State::kActive:
      return "serving";
    case Generation::State::kStarting:
      return "starting";
    case Generation::State::kDraining:
      return "draining";
  }
  return "?";
}

}  // namespace

std::string iso_time_now() { return iso_time(std::time(nullptr)); }

void Master::start_metrics() {
  if (!metrics_) {
    try {
      metrics_ = std::make_shared<metrics::Segment>(metrics::Segment::create());
    } catch (const std::exception& e) {
      spdlog::warn("metrics are off: {}", e.what());
      return;
    }
    master_cells_ = metrics::register_master(*metrics_);
  }
  metrics_timer_.reset(event_new(base_.get(), -1, EV_PERSIST, on_metrics_tick, this));
  if (metrics_timer_) evtimer_add(metrics_timer_.get(), &kMetricsTick);
}

void Master::adopt_metrics(const UpgradeState& state) {
  if (state.metrics_fd < 0) return;
  auto segment = metrics::Segment::adopt(state.metrics_fd);
  if (!segment) {
    spdlog::warn("upgrade: the metrics passed on could not be read; counting starts again");
    return;
  }
  metrics_ = std::make_shared<metrics::Segment>(std::move(*segment));
  master_cells_ = metrics::register_master(*metrics_);
  // Rows of workers that exited while the previous image was exec'ing: their counts go to
  // the retired row now (reap() finds the others).
  std::vector<pid_t> alive;
  for (const auto& w : state.workers) alive.push_back(w.pid);
  for (int row : metrics_->rows_not_owned_by(alive)) metrics_->retire_row(row);
}

void Master::register_layout(Generation& generation) {
  if (!metrics_ || !generation.site() || generation.layout) return;
  generation.layout = std::make_shared<const metrics::Layout>(*metrics_, generation.site()->config,
                                                              generation.slots().size());
  layout_ = generation.layout;
  auto* row = metrics_->row(metrics::kMasterRow);
  const auto& m = master_cells_;
  if (load(row, m.start_time) == 0) {
    store(row, m.start_time,
          static_cast<std::uint64_t>(std::chrono::system_clock::to_time_t(started_at_)));
  }
}

void Master::give_row(WorkerSlot& slot) {
  slot.metrics_row = -1;
  if (!metrics_) return;
  slot.metrics_row = metrics_->take_row();
  if (slot.metrics_row < 0) {
    spdlog::warn("metrics: all {} worker rows are taken; worker {} of generation {} counts nothing",
                 metrics::kWorkerSlots, slot.index, slot.generation->number());
  }
}

void Master::retire_row(WorkerSlot& slot) {
  if (metrics_ && slot.metrics_row >= 0) metrics_->retire_row(slot.metrics_row);
  slot.metrics_row = -1;
}

void Master::count(std::uint32_t metrics::MasterCells::*cell) {
  if (!metrics_) return;
  auto* row = metrics_->row(metrics::kMasterRow);
  const auto c = master_cells_.*cell;
  store(row, c, load(row, c) + 1);
}

void Master::config_loaded(const Generation& generation) {
  if (!metrics_ || !generation.site()) return;
  const auto& config = generation.site()->config;
  auto* row = metrics_->row(metrics::kMasterRow);
  store(row, master_cells_.generation, static_cast<std::uint64_t>(generation.number()));
  store(row, master_cells_.config_time, unix_now());
  store(row, master_cells_.config_hash, config.text_hash);
}

void Master::note_reload(bool ok, const std::string& text) {
  auto& note = upgrade_commit_ ? last_upgrade_ : last_reload_;
  note = std::string(ok ? "ok" : "failed") + " at " + iso_time(std::time(nullptr)) + ": " + text;
  if (upgrade_commit_) {
    count(ok ? &metrics::MasterCells::upgrades_ok : &metrics::MasterCells::upgrades_failed);
    upgrade_commit_ = false;
  } else {
    count(ok ? &metrics::MasterCells::reloads_ok : &metrics::MasterCells::reloads_failed);
  }
}

void Master::on_metrics_tick(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  if (!self->metrics_) return;
  // Every requests_total series ever registered: a reload that drops a route drops none.
  if (auto all = self->metrics_->read()) {
    std::uint64_t total = 0;
    for (const auto& series : *all) {
      if (series.family == metrics::Family::kRequests) total += series.cells.at(0);
    }
    self->request_samples_.push_back(total);
    if (self->request_samples_.size() > kRequestSamples) self->request_samples_.pop_front();
  }
  auto* row = self->metrics_->row(metrics::kMasterRow);
  const auto& m = self->master_cells_;
  std::uint64_t serving = 0;
  std::uint64_t draining = 0;
  for (const auto& g : self->generations_) {
    (g->state == Generation::State::kDraining ? draining : serving) += g->running();
  }
  if (const Generation* a = self->active())
    store(row, m.generation, static_cast<std::uint64_t>(a->number()));
  store(row, m.serving, serving);
  store(row, m.draining, draining);
  if (self->metrics_ticks_++ % kFactsEveryTicks == 0) self->gather_facts();
}

void Master::gather_facts() {
  auto* row = metrics_->row(metrics::kMasterRow);
  const auto& m = master_cells_;
  store(row, m.rss, resident_bytes(getpid()));
  store(row, m.fds, open_fds(getpid()));
  facts_.clear();
  // Per worker ordinal, summed over the generations that overlap in a reload.
  std::map<std::uint32_t, std::uint64_t> cells;
  for (const auto& g : generations_) {
    const auto& layout = g->layout ? g->layout : layout_;
    if (!layout) continue;
    for (const auto& slot : g->slots()) {
      if (static_cast<size_t>(slot->index) < layout->workers()) {
        const auto& w = layout->worker(static_cast<size_t>(slot->index));
        for (auto c : {w.worker_rss, w.worker_fds, w.helpers_rss, w.helpers_fds}) cells[c] += 0;
      }
      if (slot->pid <= 0) continue;
      ProcessFacts facts;
      facts.rss = resident_bytes(slot->pid);
      facts.fds = open_fds(slot->pid);
      for (pid_t helper : children_of(slot->pid)) {
        facts.helpers_rss += resident_bytes(helper);
        facts.helpers_fds += open_fds(helper);
        ++facts.helpers;
      }
      facts_[slot->pid] = facts;
      if (static_cast<size_t>(slot->index) < layout->workers()) {
        const auto& w = layout->worker(static_cast<size_t>(slot->index));
        cells[w.worker_rss] += facts.rss;
        cells[w.worker_fds] += facts.fds;
        cells[w.helpers_rss] += facts.helpers_rss;
        cells[w.helpers_fds] += facts.helpers_fds;
      }
    }
  }
  for (const auto& [cell, value] : cells) store(row, cell, value);
}

std::string Master::status_report(bool json) const {
  const auto now = std::chrono::system_clock::now();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_at_).count();
  const Generation* current = active();
  std::uint64_t config_time = 0;
  std::uint64_t config_hash = 0;
  if (metrics_) {
    const auto* row = metrics_->row(metrics::kMasterRow);
    config_time = load(row, master_cells_.config_time);
    config_hash = load(row, master_cells_.config_hash);
  }
  auto rate = [&](size_t seconds) -> double {
    if (request_samples_.size() < 2) return 0;
    const size_t span = std::min(seconds, request_samples_.size() - 1);
    const auto newest = request_samples_.back();
    const auto oldest = request_samples_[request_samples_.size() - 1 - span];
    return static_cast<double>(newest - oldest) / static_cast<double>(span);
  };
  struct WorkerLine {
    const Generation* generation;
    const WorkerSlot* slot;
    std::array<std::uint64_t, 7> numbers{};  // active reading writing idle busy idle-helpers queue
    std::array<std::uint64_t, metrics::kJobOutcomes> jobs{};
    ProcessFacts facts;
  };
  std::vector<WorkerLine> lines;
  for (const auto& g : generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->pid <= 0) continue;
      WorkerLine line{g.get(), slot.get(), {}, {}, {}};
      const auto& layout = g->layout ? g->layout : layout_;
      if (metrics_ && layout && slot->metrics_row >= 0 &&
          static_cast<size_t>(slot->index) < layout->workers()) {
        const auto* row = metrics_->row(static_cast<size_t>(slot->metrics_row));
        const auto& w = layout->worker(static_cast<size_t>(slot->index));
        line.numbers = {load(row, w.active),       load(row, w.reading),
                        load(row, w.writing),      load(row, w.idle),
                        load(row, w.helpers_busy), load(row, w.helpers_idle),
                        load(row, w.queue_depth)};
        for (size_t o = 0; o < metrics::kJobOutcomes; ++o) line.jobs[o] = load(row, w.jobs[o]);
      }
      if (auto f = facts_.find(slot->pid); f != facts_.end()) line.facts = f->second;
      lines.push_back(line);
    }
  }
  if (json) {
    std::string out = fmt::format(
        "{{\"pid\":{},\"uptime_seconds\":{},\"generation\":{},\"config\":{{\"path\":{},"
        "\"loaded\":{},\"hash\":\"{:08x}\"}},\"last_reload\":{},\"last_upgrade\":{},"
        "\"requests_per_second\":{{\"1s\":{:.1f},\"10s\":{:.1f},\"60s\":{:.1f}}},\"workers\":[",
        getpid(), uptime, current ? current->number() : 0, json_string(options_.config_path),
        json_string(config_time ? iso_time(static_cast<std::time_t>(config_time)) : ""),
        config_hash, json_string(last_reload_), json_string(last_upgrade_), rate(1), rate(10),
        rate(60));
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto& l = lines[i];
      if (i > 0) out += ',';
      out += fmt::format(
          "{{\"generation\":{},\"index\":{},\"pid\":{},\"state\":\"{}\",\"ready\":{},"
          "\"connections\":{{\"active\":{},\"reading\":{},\"writing\":{},\"idle\":{}}},"
          "\"rss_bytes\":{},\"open_fds\":{},\"helpers\":{{\"processes\":{},\"busy\":{},\"idle\":{},"
          "\"queue\":{},\"rss_bytes\":{},\"jobs\":{{",
          l.generation->number(), l.slot->index, l.slot->pid, state_name(l.generation->state),
          l.slot->ready ? "true" : "false", l.numbers[0], l.numbers[1], l.numbers[2], l.numbers[3],
          l.facts.rss, l.facts.fds, l.facts.helpers, l.numbers[4], l.numbers[5], l.numbers[6],
          l.facts.helpers_rss);
      for (size_t o = 0; o < metrics::kJobOutcomes; ++o) {
        out += fmt::format("{}\"{}\":{}", o ? "," : "", metrics::kJobOutcomeNames[o], l.jobs[o]);
      }
      out += "}}}";
    }
    out += "]}";
    return out;
  }
  std::string out = fmt::format("master pid {}, up {}s, generation {}{}\n", getpid(), uptime,
                                current ? current->number() : 0, degraded_ ? " (degraded)" : "");
  out +=
      fmt::format("config {}, loaded {}, hash {:08x}\n", options_.config_path,
                  config_time ? iso_time(static_cast<std::time_t>(config_time)) : "-", config_hash);
  out += fmt::format("last reload: {}\n", last_reload_.empty() ? "none" : last_reload_);
  if (!last_upgrade_.empty()) out += fmt::format("last upgrade: {}\n", last_upgrade_);
  out += fmt::format("requests per second: {:.1f} (1 s), {:.1f} (10 s), {:.1f} (60 s)\n", rate(1),
                     rate(10), rate(60));
  for (const auto& l : lines) {
    out += fmt::format(
        "worker {} of generation {} pid {} {}{}: connections {} (reading {}, writing {}, idle {}), "
        "rss {}, fds {}; helpers {} ({} busy, {} idle, queue {}, rss {}); jobs",
        l.slot->index, l.generation->number(), l.slot->pid, state_name(l.generation->state),
        l.slot->ready ? "" : " (not ready)", l.numbers[0], l.numbers[1], l.numbers[2], l.numbers[3],
        mebibytes(l.facts.rss), l.facts.fds, l.facts.helpers, l.numbers[4], l.numbers[5],
        l.numbers[6], mebibytes(l.facts.helpers_rss));
    for (size_t o = 0; o < metrics::kJobOutcomes; ++o) {
      out += fmt::format(" {} {}", metrics::kJobOutcomeNames[o], l.jobs[o]);
    }
    out += '\n';
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace shoal
