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
#include "status/status_json.hpp"
#include "util/text.hpp"

namespace shoal {

namespace {

constexpr timeval kMetricsTick{1, 0};
constexpr int kFactsEveryTicks = 5;  // process facts every 5 s

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

std::uint64_t unix_now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// The status class of a requests_total series: 'server="a",route="/",code="2xx"' is 2.
int status_class(std::string_view labels) {
  const auto code = metrics::label_value(labels, "code");
  return !code.empty() && code[0] >= '1' && code[0] <= '5' ? code[0] - '0' : 0;
}

metrics::RowState row_state(Generation::State state) {
  switch (state) {
    case Generation::State::kActive:
      return metrics::RowState::kServing;
    case Generation::State::kStarting:
      return metrics::RowState::kStarting;
    case Generation::State::kDraining:
      return metrics::RowState::kDraining;
  }
  return metrics::RowState::kFree;
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
  return metrics::row_state_name(row_state(state));
}

}  // namespace

void Master::start_metrics() {
  if (!metrics_) {
    try {
      // Rows for the first generation and the next one a reload starts beside it; more are
      // added when a spawn finds none free (a reload with more workers, an upgrade).
      const size_t workers = site_ ? static_cast<size_t>(std::max(site_->config.workers, 1)) : 1;
      metrics_ = std::make_shared<metrics::Segment>(metrics::Segment::create(2 * workers));
    } catch (const std::exception& e) {
      spdlog::warn("metrics are off: {}", e.what());
      return;
    }
    master_cells_ = metrics::register_master(*metrics_);
    // The history's points are differences between samples: a first one of zeros, before
    // any worker exists, so that the requests of the first second are in a point too.
    metrics::RequestSample start;
    start.unix_ms = unix_now_ms();
    metrics_->add_request_sample(start);
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
  // What the previous image last reloaded and upgraded stays on the board.
  if (auto board = metrics_->master_board()) {
    last_reload_ = board->info.last_reload;
    last_upgrade_ = board->info.last_upgrade;
  }
}

void Master::register_layout(Generation& generation) {
  if (!metrics_ || !generation.site() || generation.layout) return;
  generation.layout = std::make_shared<const metrics::Layout>(*metrics_, generation.site()->config,
                                                              generation.workers());
  layout_ = generation.layout;
  if (!layout_->complete()) {
    // Only after an upgrade, beside series the adopted generations may still write.
    spdlog::error(
        "metrics: generation {} has series that did not fit in the segment; they count nothing "
        "until a reload after the old generation exits",
        generation.number());
  }
  auto* row = metrics_->row(metrics::kMasterRow);
  const auto& m = master_cells_;
  if (load(row, m.start_time) == 0) {
    store(row, m.start_time,
          static_cast<std::uint64_t>(std::chrono::system_clock::to_time_t(started_at_)));
  }
}

void Master::reclaim_metrics() {
  if (!metrics_) return;
  std::vector<std::uint32_t> live = metrics::master_cells(master_cells_);
  for (const auto& g : generations_) {
    if (!g->layout) return;  // adopted: what it writes is not known here
    live.insert(live.end(), g->layout->firsts().begin(), g->layout->firsts().end());
  }
  if (layout_) live.insert(live.end(), layout_->firsts().begin(), layout_->firsts().end());
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  if (const auto freed = metrics_->reclaim(live)) {
    spdlog::info("metrics: {} series of generations that are gone were freed ({} in use)", freed,
                 metrics_->series_in_use());
  }
}

std::string Master::metrics_room(const Config& config,
                                 std::shared_ptr<const metrics::Layout>& layout) {
  if (!metrics_ || !config.metrics) return "";
  reclaim_metrics();
  const auto workers = static_cast<size_t>(config.workers);
  if (metrics_->free_rows() < workers) {
    return "metrics: " + std::to_string(workers) + " new workers need a row each and only " +
           std::to_string(metrics_->free_rows()) + " are free beside the running generation's";
  }
  layout = std::make_shared<const metrics::Layout>(*metrics_, config, workers);
  if (layout->complete()) return "";
  layout.reset();
  reclaim_metrics();  // what it registered before the directory filled
  // A reload overlaps the running generation: a large site that renames most of its routes at
  // once needs room for both sets of series until the old one exits.
  return "metrics: the series of this configuration do not fit beside those of the running "
         "generation; apply it in two reloads (fewer renamed routes each) or with a restart";
}

void Master::give_row(WorkerSlot& slot) {
  slot.metrics_row = -1;
  if (!metrics_) return;
  slot.metrics_row = metrics_->take_row();
  if (slot.metrics_row < 0) {
    spdlog::warn(
        "metrics: no worker row left ({} taken, at most {}); worker {} of generation {} counts "
        "nothing",
        metrics_->worker_rows(), metrics::kMaxWorkerRows, slot.index, slot.generation->number());
    return;
  }
  metrics::RowInfo info;
  info.generation = static_cast<std::uint32_t>(slot.generation->number());
  info.ordinal = static_cast<std::uint32_t>(slot.index);
  info.state = metrics::RowState::kStarting;
  metrics_->set_row_info(slot.metrics_row, info);
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
  publish_rows();
  publish_board();
}

void Master::note_reload(bool ok, const std::string& text) {
  auto& note = upgrade_commit_ ? last_upgrade_ : last_reload_;
  note = metrics::Outcome{ok, unix_now(), text};
  if (upgrade_commit_) {
    count(ok ? &metrics::MasterCells::upgrades_ok : &metrics::MasterCells::upgrades_failed);
    upgrade_commit_ = false;
  } else {
    count(ok ? &metrics::MasterCells::reloads_ok : &metrics::MasterCells::reloads_failed);
  }
  publish_board();
}

void Master::note_upgrade_failed(const std::string& text) {
  last_upgrade_ = metrics::Outcome{false, unix_now(), text};
  count(&metrics::MasterCells::upgrades_failed);
  publish_board();
}

void Master::publish_board() {
  if (!metrics_) return;
  const auto* row = metrics_->row(metrics::kMasterRow);
  metrics::MasterInfo info;
  info.pid = getpid();
  // The first image's start, kept in the segment across upgrades (the pid stays the same).
  info.start_time = load(row, master_cells_.start_time);
  if (info.start_time == 0) {
    info.start_time = static_cast<std::uint64_t>(std::chrono::system_clock::to_time_t(started_at_));
  }
  const Generation* current = active();
  info.generation = current ? static_cast<std::uint32_t>(current->number()) : 0;
  info.degraded = degraded_;
  info.config_path = options_.config_path;
  info.config_time = load(row, master_cells_.config_time);
  info.config_hash = static_cast<std::uint32_t>(load(row, master_cells_.config_hash));
  info.last_reload = last_reload_;
  info.last_upgrade = last_upgrade_;
  metrics_->publish_master(info);
}

void Master::publish_rows() {
  if (!metrics_) return;
  for (const auto& g : generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->metrics_row < 0) continue;
      metrics::RowInfo info;
      info.pid = slot->pid;
      info.generation = static_cast<std::uint32_t>(g->number());
      info.ordinal = static_cast<std::uint32_t>(slot->index);
      info.state = row_state(g->state);
      info.ready = slot->ready;
      if (auto f = facts_.find(slot->pid); f != facts_.end()) {
        info.rss = f->second.rss;
        info.fds = f->second.fds;
        info.helpers = f->second.helpers;
        info.helpers_rss = f->second.helpers_rss;
      }
      metrics_->set_row_info(slot->metrics_row, info);
    }
  }
}

void Master::on_metrics_tick(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<Master*>(arg);
  if (!self->metrics_) return;
  // Every requests_total series ever registered: a reload that drops a route drops none.
  if (auto all = self->metrics_->read()) {
    metrics::RequestSample sample;
    sample.unix_ms = unix_now_ms();
    for (const auto& series : *all) {
      if (series.family != metrics::Family::kRequests) continue;
      if (const int cls = status_class(series.labels))
        sample.by_class[cls - 1] += series.cells.at(0);
    }
    self->metrics_->add_request_sample(sample);
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
  self->publish_rows();
  self->publish_board();
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
  check_worker_memory();
}

std::string Master::status_report(bool json) const {
  const auto now = std::chrono::system_clock::now();
  // One uptime with the status page: from the first image's start, which the segment keeps
  // across upgrades (this image's own start is the upgrade's time).
  auto start = std::chrono::system_clock::to_time_t(started_at_);
  std::uint64_t config_time = 0;
  std::uint64_t config_hash = 0;
  if (metrics_) {
    const auto* row = metrics_->row(metrics::kMasterRow);
    config_time = load(row, master_cells_.config_time);
    config_hash = load(row, master_cells_.config_hash);
    if (auto first = load(row, master_cells_.start_time)) start = static_cast<std::time_t>(first);
  }
  const auto uptime = std::max<long long>(
      0, static_cast<long long>(std::chrono::system_clock::to_time_t(now) - start));
  const Generation* current = active();
  std::vector<metrics::RequestSample> samples;
  if (metrics_) {
    if (auto board = metrics_->master_board()) samples = std::move(board->samples);
  }
  auto rate = [&](size_t seconds) { return metrics::request_rate(samples, seconds); };
  struct WorkerLine {
    const Generation* generation;
    const WorkerSlot* slot;
    std::array<std::uint64_t, 7> numbers{};  // active reading writing idle busy idle-helpers queue
    std::array<std::uint64_t, metrics::kJobOutcomes> jobs{};
    std::optional<ProcessFacts> facts;  // nullopt until the first /proc sample (every 5 s)
  };
  std::vector<WorkerLine> lines;
  for (const auto& g : generations_) {
    for (const auto& slot : g->slots()) {
      if (slot->pid <= 0) continue;
      WorkerLine line{g.get(), slot.get(), {}, {}, std::nullopt};
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
    // The same names and shapes as the status page's "master" object (status_json.cpp).
    std::string out = fmt::format(
        "{{\"pid\":{},\"started\":{},\"uptime_seconds\":{},\"generation\":{},\"degraded\":{},"
        "\"config\":{{\"path\":{},\"loaded\":{},\"hash\":\"{:08x}\"}},\"last_reload\":{},"
        "\"last_upgrade\":{},"
        "\"requests_per_second\":{{\"1s\":{:.1f},\"10s\":{:.1f},\"60s\":{:.1f}}},\"workers\":[",
        getpid(), json_quote(iso_time(start)), uptime, current ? current->number() : 0,
        degraded_ ? "true" : "false", json_quote(options_.config_path),
        config_time ? json_quote(iso_time(config_time)) : "null", config_hash,
        status::outcome_json(last_reload_), status::outcome_json(last_upgrade_), rate(1), rate(10),
        rate(60));
    // Facts not sampled yet are null, never a zero that reads as "no memory".
    auto fact = [](const std::optional<ProcessFacts>& f, std::uint64_t ProcessFacts::*member) {
      return f ? std::to_string((*f).*member) : std::string("null");
    };
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
          fact(l.facts, &ProcessFacts::rss), fact(l.facts, &ProcessFacts::fds),
          fact(l.facts, &ProcessFacts::helpers), l.numbers[4], l.numbers[5], l.numbers[6],
          fact(l.facts, &ProcessFacts::helpers_rss));
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
  out += fmt::format("config {}, loaded {}, hash {:08x}\n", options_.config_path,
                     config_time ? iso_time(config_time) : "-", config_hash);
  out += fmt::format("last reload: {}\n", last_reload_ ? last_reload_->line() : "none");
  if (last_upgrade_) out += fmt::format("last upgrade: {}\n", last_upgrade_->line());
  out += fmt::format("requests per second: {:.1f} (1 s), {:.1f} (10 s), {:.1f} (60 s)\n", rate(1),
                     rate(10), rate(60));
  for (const auto& l : lines) {
    out += fmt::format(
        "worker {} of generation {} pid {} {}{}: connections {} (reading {}, writing {}, idle "
        "{}), ",
        l.slot->index, l.generation->number(), l.slot->pid, state_name(l.generation->state),
        l.slot->ready ? "" : " (not ready)", l.numbers[0], l.numbers[1], l.numbers[2],
        l.numbers[3]);
    if (l.facts) {
      out += fmt::format("rss {}, fds {}; helpers {} ({} busy, {} idle, queue {}, rss {}); jobs",
                         mebibytes(l.facts->rss), l.facts->fds, l.facts->helpers, l.numbers[4],
                         l.numbers[5], l.numbers[6], mebibytes(l.facts->helpers_rss));
    } else {
      // Memory, descriptors and helper processes are read from /proc every 5 s.
      out += fmt::format(
          "rss and fds not sampled yet; helpers ({} busy, {} idle, queue {}, not sampled yet); "
          "jobs",
          l.numbers[4], l.numbers[5], l.numbers[6]);
    }
    for (size_t o = 0; o < metrics::kJobOutcomes; ++o) {
      out += fmt::format(" {} {}", metrics::kJobOutcomeNames[o], l.jobs[o]);
    }
    out += '\n';
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace shoal
