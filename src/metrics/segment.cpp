// The metrics segment: a series directory and rows of cells in one memfd (see segment.hpp).
#include "metrics/segment.hpp"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace shoal::metrics {

namespace {

constexpr std::uint64_t kMagic = 0x73686f616c6d7431;  // "shoalmt1"
constexpr std::uint32_t kLayoutVersion = 4;           // what an upgraded image checks
// An entry's family when it was reclaimed (Segment::reclaim): skipped by every reader.
constexpr std::uint16_t kFreeEntry = 0xffff;

// Runs `copy` until it ran while `sequence` stayed the same even number: a seqlock reader.
// A writer takes microseconds; one that lasts longer than kFoldWaitNs stopped in the middle
// (SIGSTOP, a debugger), and the reader gives up rather than stall its worker's loop.
template <typename Copy>
bool read_consistent(const std::atomic<std::uint64_t>& sequence, Copy&& copy) {
  std::uint64_t deadline = 0;
  while (true) {
    const auto before = sequence.load(std::memory_order_acquire);
    if (before & 1) {
      const auto now = monotonic_ns();
      if (deadline == 0) deadline = now + kFoldWaitNs;
      if (now > deadline) return false;
      sched_yield();
      continue;
    }
    copy();
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sequence.load(std::memory_order_relaxed) == before) return true;
  }
}

// A text of at most kBoardTextBytes, longer ones cut.
struct Text {
  std::uint32_t size;
  char bytes[kBoardTextBytes];
  void set(std::string_view text) {
    size = static_cast<std::uint32_t>(std::min(text.size(), kBoardTextBytes));
    std::memcpy(bytes, text.data(), size);
  }
  std::string get() const { return std::string(bytes, std::min<size_t>(size, kBoardTextBytes)); }
};

struct OutcomeSlot {
  std::uint32_t present;
  std::uint32_t ok;
  std::uint64_t unix_time;
  Text message;
  void set(const std::optional<Outcome>& outcome) {
    present = outcome ? 1 : 0;
    ok = outcome && outcome->ok ? 1 : 0;
    unix_time = outcome ? outcome->unix_time : 0;
    message.set(outcome ? std::string_view(outcome->message) : std::string_view());
  }
  std::optional<Outcome> get() const {
    if (!present) return std::nullopt;
    return Outcome{ok != 0, unix_time, message.get()};
  }
};

// The board (board.hpp). Per worker row: the first eight written by the master, the rest
// by the row's worker.
struct RowBoard {
  std::atomic<std::uint32_t> generation;
  std::atomic<std::uint32_t> ordinal;
  std::atomic<std::uint32_t> state;
  std::atomic<std::uint32_t> ready;
  std::atomic<std::uint64_t> rss;
  std::atomic<std::uint64_t> fds;
  std::atomic<std::uint64_t> helpers;
  std::atomic<std::uint64_t> helpers_rss;
  std::atomic<std::uint64_t> oldest_job_ns;
  std::atomic<std::uint64_t> lags_written;
  std::atomic<std::uint64_t> lag_at[kLagSamples];
  std::atomic<std::uint64_t> lag_ns[kLagSamples];
};

}  // namespace

struct Segment::Shared {
  struct Entry {
    std::uint16_t family;
    std::uint16_t cells;
    std::uint32_t first;
    char labels[kLabelBytes];  // NUL-terminated
  };
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t cells_per_row;
  std::atomic<std::uint32_t> series_count;   // entries [0, count) are complete
  std::atomic<std::uint32_t> next_cell;      // cells [1, next_cell) belong to a series
  std::atomic<std::uint64_t> fold_sequence;  // odd while the master folds a row
  std::atomic<std::uint32_t> worker_rows;    // the file holds worker rows [0, worker_rows)
  Entry entries[kMaxSeries];
  // Written by the master only, under `sequence` (odd while it writes).
  struct MasterSlot {
    std::atomic<std::uint64_t> sequence;
    std::int32_t pid;
    std::uint32_t generation;
    std::uint32_t degraded;
    std::uint32_t config_hash;
    std::uint64_t start_time;
    std::uint64_t config_time;
    Text config_path;
    OutcomeSlot last_reload;
    OutcomeSlot last_upgrade;
    std::uint64_t samples_written;
    std::uint64_t sample_ms[kRequestSamples];
    std::uint64_t sample_classes[kRequestSamples][5];
  } master;
  alignas(4096) std::uint64_t retired[kCellsPerRow];
  std::uint64_t master_row[kCellsPerRow];
};

// One worker's row, after the Shared part: its owner, its board, its cells.
struct Segment::WorkerRow {
  std::atomic<std::int32_t> owner;  // 0: free; -1: taken, not forked yet; its pid
  RowBoard board;
  alignas(4096) std::uint64_t cells[kCellsPerRow];
};

size_t Segment::file_size(size_t worker_rows) {
  static_assert(sizeof(Shared) % 4096 == 0 && sizeof(WorkerRow) % 4096 == 0);
  return sizeof(Shared) + worker_rows * sizeof(WorkerRow);
}

Segment::WorkerRow& Segment::worker(size_t index) const {
  auto* base = reinterpret_cast<char*>(shared_) + sizeof(Shared);
  return *reinterpret_cast<WorkerRow*>(base + index * sizeof(WorkerRow));
}

size_t Segment::worker_rows() const { return shared_->worker_rows.load(std::memory_order_acquire); }

template <typename Each>
void Segment::for_each_summed_row(Each&& each) const {
  each(static_cast<const std::uint64_t*>(shared_->retired));
  each(static_cast<const std::uint64_t*>(shared_->master_row));
  const auto rows = worker_rows();
  for (size_t r = 0; r < rows; ++r) {
    const auto& w = worker(r);
    if (w.owner.load(std::memory_order_relaxed) != 0)
      each(static_cast<const std::uint64_t*>(w.cells));
  }
}

Segment Segment::create(size_t worker_rows) {
  worker_rows = std::min(worker_rows, kMaxWorkerRows);
  // The memfd is zeros: only the header needs writing (placement-new would touch every page).
  auto mapping = MemfdMapping::create_growable("shoal-metrics", file_size(worker_rows),
                                               file_size(kMaxWorkerRows), "the metrics");
  auto* shared = static_cast<Shared*>(mapping.memory());
  shared->magic = kMagic;
  shared->layout_version = kLayoutVersion;
  shared->cells_per_row = kCellsPerRow;
  shared->worker_rows.store(static_cast<std::uint32_t>(worker_rows), std::memory_order_release);
  shared->next_cell.store(1, std::memory_order_relaxed);
  return Segment(std::move(mapping));
}

std::optional<Segment> Segment::adopt(int fd) {
  auto mapping = MemfdMapping::adopt_growable(fd, file_size(kMaxWorkerRows));
  if (!mapping || mapping->file_size() < sizeof(Shared)) return std::nullopt;
  const auto* shared = static_cast<const Shared*>(mapping->memory());
  const auto rows = shared->worker_rows.load(std::memory_order_acquire);
  if (shared->magic != kMagic || shared->layout_version != kLayoutVersion ||
      shared->cells_per_row != kCellsPerRow || rows > kMaxWorkerRows ||
      mapping->file_size() != file_size(rows)) {
    return std::nullopt;
  }
  return Segment(std::move(*mapping));
}

Segment::Segment(MemfdMapping mapping)
    : mapping_(std::move(mapping)), shared_(static_cast<Shared*>(mapping_.memory())) {}

Segment::Segment(Segment&& other) noexcept
    : mapping_(std::move(other.mapping_)),
      shared_(std::exchange(other.shared_, nullptr)),
      index_(std::move(other.index_)),
      free_(std::move(other.free_)),
      indexed_(std::exchange(other.indexed_, 0)) {}

std::string Segment::key_of(Family family, std::string_view labels) {
  std::string key(1, static_cast<char>(family));
  key += labels;
  return key;
}

void Segment::index_new_entries() {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  for (; indexed_ < count; ++indexed_) {
    const auto& e = shared_->entries[indexed_];
    if (e.family == kFreeEntry) {
      free_.emplace(e.cells, indexed_);
    } else {
      index_.emplace(key_of(static_cast<Family>(e.family), e.labels), indexed_);
    }
  }
}

Segment::~Segment() = default;

std::uint32_t Segment::series(Family family, std::string_view labels) {
  index_new_entries();
  auto key = key_of(family, labels);
  if (auto it = index_.find(key); it != index_.end()) return shared_->entries[it->second].first;
  const auto count = shared_->series_count.load(std::memory_order_relaxed);
  const auto cells = cells_of(info(family).type);
  Shared::Entry* reusable = nullptr;
  if (auto it = free_.find(static_cast<std::uint16_t>(cells));
      it != free_.end() && labels.size() < kLabelBytes) {
    reusable = &shared_->entries[it->second];
    index_.emplace(std::move(key), it->second);
    free_.erase(it);
  }
  if (reusable) {
    // Readers may be walking the directory: the entry changes under the fold sequence, as a
    // fold does, so a scrape meanwhile is retried. Its cells were zeroed when it was freed.
    shared_->fold_sequence.fetch_add(1, std::memory_order_acq_rel);
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(reusable->labels, labels.data(), labels.size());
    reusable->labels[labels.size()] = '\0';
    reusable->family = static_cast<std::uint16_t>(family);
    shared_->fold_sequence.fetch_add(1, std::memory_order_release);
    return reusable->first;
  }
  const auto first = shared_->next_cell.load(std::memory_order_relaxed);
  if (count >= kMaxSeries || labels.size() >= kLabelBytes || first + cells > kCellsPerRow) {
    return kSinkCell;
  }
  auto& e = shared_->entries[count];
  e.family = static_cast<std::uint16_t>(family);
  e.cells = static_cast<std::uint16_t>(cells);
  e.first = first;
  std::memcpy(e.labels, labels.data(), labels.size());
  e.labels[labels.size()] = '\0';
  shared_->next_cell.store(first + cells, std::memory_order_relaxed);
  shared_->series_count.store(count + 1, std::memory_order_release);
  index_.emplace(std::move(key), count);
  indexed_ = count + 1;
  return first;
}

size_t Segment::reclaim(const std::vector<std::uint32_t>& live) {
  index_new_entries();
  const auto count = shared_->series_count.load(std::memory_order_relaxed);
  // A dead counter or histogram keeps its counts in its "(removed)" series (folded_labels),
  // registered first (it may reuse an entry freed earlier): those are never freed.
  struct Dead {
    std::uint32_t entry;
    std::uint32_t into;  // kSinkCell: a gauge, or nothing to fold
  };
  std::vector<Dead> dead;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (e.family == kFreeEntry || std::binary_search(live.begin(), live.end(), e.first)) continue;
    if (std::string_view(e.labels).find(kRemoved) != std::string_view::npos) continue;
    const auto family = static_cast<Family>(e.family);
    std::uint32_t into = kSinkCell;
    if (info(family).type != Type::kGauge) {
      const auto target = folded_labels(family, e.labels);
      if (!target) continue;  // nothing to fold into: kept
      into = series(family, *target);
      if (into == kSinkCell) continue;  // no room to fold: kept, counted as it is
    }
    dead.push_back({i, into});
  }
  if (dead.empty()) return 0;
  auto* retired = shared_->retired;
  // Every row that may hold counts of a dead series: the worker rows free or not (a free
  // one is zeros).
  std::vector<std::uint64_t*> rows{shared_->retired, shared_->master_row};
  for (size_t r = 0; r < worker_rows(); ++r) rows.push_back(worker(r).cells);
  shared_->fold_sequence.fetch_add(1, std::memory_order_acq_rel);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  for (const auto& d : dead) {
    auto& e = shared_->entries[d.entry];
    if (d.into != kSinkCell) {
      // Its counts, over every row that holds any, go to the retired row's cells of the
      // folded series (no live process writes the dead series' cells).
      for (std::uint32_t c = 0; c < e.cells; ++c) {
        std::uint64_t total = 0;
        for (auto* row : rows) total += load_cell(row[e.first + c]);
        store_cell(retired[d.into + c], load_cell(retired[d.into + c]) + total);
      }
    }
    for (auto* row : rows) {
      for (std::uint32_t c = e.first; c < e.first + e.cells; ++c) store_cell(row[c], 0);
    }
    index_.erase(key_of(static_cast<Family>(e.family), e.labels));
    free_.emplace(e.cells, d.entry);
    e.family = kFreeEntry;
    e.labels[0] = '\0';
  }
  shared_->fold_sequence.fetch_add(1, std::memory_order_release);
  return dead.size();
}

size_t Segment::series_in_use() const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  size_t used = 0;
  for (std::uint32_t i = 0; i < count; ++i) used += shared_->entries[i].family != kFreeEntry;
  return used;
}

Segment::Room Segment::room() const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  Room room;
  room.series = kMaxSeries - count;
  room.cells = kCellsPerRow - shared_->next_cell.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (shared_->entries[i].family == kFreeEntry) {
      ++room.series;
      room.cells += shared_->entries[i].cells;
    }
  }
  return room;
}

size_t Segment::free_rows() const {
  const auto rows = worker_rows();
  size_t free = kMaxWorkerRows - rows;
  for (size_t i = 0; i < rows; ++i) free += worker(i).owner.load(std::memory_order_acquire) == 0;
  return free;
}

int Segment::take_row() {
  const auto rows = worker_rows();
  for (size_t i = 0; i < rows; ++i) {
    std::int32_t expected = 0;
    if (worker(i).owner.compare_exchange_strong(expected, -1)) return static_cast<int>(i);
  }
  // None free: one more row at the end. Every process maps the whole reserve, so the new row
  // is there for all of them once the file has it; the count says so after.
  if (rows >= kMaxWorkerRows || !mapping_.grow(file_size(rows + 1))) return -1;
  worker(rows).owner.store(-1, std::memory_order_relaxed);
  shared_->worker_rows.store(static_cast<std::uint32_t>(rows + 1), std::memory_order_release);
  return static_cast<int>(rows);
}

void Segment::set_owner(int row, pid_t pid) {
  if (row >= 0 && static_cast<size_t>(row) < worker_rows()) {
    worker(static_cast<size_t>(row)).owner.store(pid, std::memory_order_release);
  }
}

int Segment::row_of(pid_t pid) const {
  const auto rows = worker_rows();
  for (size_t i = 0; i < rows; ++i) {
    if (worker(i).owner.load(std::memory_order_acquire) == pid) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> Segment::rows_not_owned_by(const std::vector<pid_t>& alive) const {
  std::vector<int> rows;
  const auto count = worker_rows();
  for (size_t i = 0; i < count; ++i) {
    const auto owner = worker(i).owner.load(std::memory_order_acquire);
    if (owner != 0 && std::find(alive.begin(), alive.end(), owner) == alive.end()) {
      rows.push_back(static_cast<int>(i));
    }
  }
  return rows;
}

void Segment::retire_row(int index) {
  if (index < 0 || static_cast<size_t>(index) >= worker_rows()) return;
  auto& row = worker(static_cast<size_t>(index));
  auto* retired = shared_->retired;
  auto* gone = row.cells;
  shared_->fold_sequence.fetch_add(1, std::memory_order_acq_rel);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (e.family == kFreeEntry || kFamilies[e.family].type == Type::kGauge) continue;
    for (std::uint32_t c = e.first; c < e.first + e.cells; ++c) {
      store_cell(retired[c], load_cell(retired[c]) + load_cell(gone[c]));
    }
  }
  const auto used = shared_->next_cell.load(std::memory_order_relaxed);
  for (std::uint32_t c = 0; c < used; ++c) store_cell(gone[c], 0);
  shared_->fold_sequence.fetch_add(1, std::memory_order_release);
  auto& board = row.board;
  for (auto* field : {&board.generation, &board.ordinal, &board.state, &board.ready}) {
    field->store(0, std::memory_order_relaxed);
  }
  for (auto* field : {&board.rss, &board.fds, &board.helpers, &board.helpers_rss,
                      &board.oldest_job_ns, &board.lags_written}) {
    field->store(0, std::memory_order_relaxed);
  }
  row.owner.store(0, std::memory_order_release);
}

std::uint64_t* Segment::row(size_t index) {
  if (index == kRetiredRow) return shared_->retired;
  if (index == kMasterRow) return shared_->master_row;
  return worker(index).cells;
}

const std::uint64_t* Segment::row(size_t index) const {
  return const_cast<Segment*>(this)->row(index);
}

std::uint32_t Segment::cells_used() const {
  return shared_->next_cell.load(std::memory_order_acquire);
}

bool Segment::sum_rows(std::uint32_t first, std::uint32_t end, std::uint64_t* totals) const {
  return read_consistent(shared_->fold_sequence, [&] {
    std::fill(totals, totals + (end - first), 0);
    for_each_summed_row([&](const std::uint64_t* cells) {
      for (std::uint32_t c = first; c < end; ++c) totals[c - first] += load_cell(cells[c]);
    });
  });
}

std::optional<std::vector<SeriesValue>> Segment::read() const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  const auto used = shared_->next_cell.load(std::memory_order_acquire);
  std::vector<std::uint64_t> totals(used);
  std::vector<SeriesValue> values;
  // The directory is read under the fold sequence too: a reclaimed entry may be reused.
  const bool ok = read_consistent(shared_->fold_sequence, [&] {
    std::fill(totals.begin(), totals.end(), 0);
    for_each_summed_row([&](const std::uint64_t* cells) {
      for (std::uint32_t c = 1; c < used; ++c) totals[c] += load_cell(cells[c]);
    });
    values.clear();
    values.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto& e = shared_->entries[i];
      if (e.family == kFreeEntry || e.first + e.cells > used) continue;
      SeriesValue v{static_cast<Family>(e.family), e.labels, {}, e.first};
      v.cells.assign(totals.begin() + e.first, totals.begin() + e.first + e.cells);
      values.push_back(std::move(v));
    }
  });
  if (!ok) return std::nullopt;
  return values;
}

std::optional<std::vector<SeriesValue>> Segment::read_values(
    std::span<const Family> families) const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  const auto used = shared_->next_cell.load(std::memory_order_acquire);
  std::vector<const Shared::Entry*> wanted;
  std::vector<std::uint64_t> totals;
  std::vector<SeriesValue> values;
  const bool ok = read_consistent(shared_->fold_sequence, [&] {
    wanted.clear();
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto& e = shared_->entries[i];
      if (e.family == kFreeEntry || e.first + e.cells > used) continue;
      if (std::find(families.begin(), families.end(), static_cast<Family>(e.family)) !=
          families.end()) {
        wanted.push_back(&e);
      }
    }
    totals.assign(wanted.size(), 0);
    for_each_summed_row([&](const std::uint64_t* cells) {
      for (size_t w = 0; w < wanted.size(); ++w) totals[w] += load_cell(cells[wanted[w]->first]);
    });
    values.clear();
    values.reserve(wanted.size());
    for (size_t w = 0; w < wanted.size(); ++w) {
      values.push_back({static_cast<Family>(wanted[w]->family),
                        wanted[w]->labels,
                        {totals[w]},
                        wanted[w]->first});
    }
  });
  if (!ok) return std::nullopt;
  return values;
}

std::optional<std::uint64_t> Segment::sum(std::uint32_t cell) const {
  std::uint64_t total = 0;
  if (!sum_rows(cell, cell + 1, &total)) return std::nullopt;
  return total;
}

std::uint32_t Segment::find(Family family, std::string_view labels) const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (e.family == static_cast<std::uint16_t>(family) && labels == e.labels) return e.first;
  }
  return kSinkCell;
}

void Segment::set_row_info(int row, const RowInfo& info) {
  if (row < 0 || static_cast<size_t>(row) >= worker_rows()) return;
  auto& b = worker(static_cast<size_t>(row)).board;
  b.generation.store(info.generation, std::memory_order_relaxed);
  b.ordinal.store(info.ordinal, std::memory_order_relaxed);
  b.state.store(static_cast<std::uint32_t>(info.state), std::memory_order_relaxed);
  b.ready.store(info.ready ? 1 : 0, std::memory_order_relaxed);
  b.rss.store(info.rss, std::memory_order_relaxed);
  b.fds.store(info.fds, std::memory_order_relaxed);
  b.helpers.store(info.helpers, std::memory_order_relaxed);
  b.helpers_rss.store(info.helpers_rss, std::memory_order_relaxed);
}

std::vector<std::pair<int, RowInfo>> Segment::row_infos() const {
  std::vector<std::pair<int, RowInfo>> rows;
  const auto count = worker_rows();
  for (size_t i = 0; i < count; ++i) {
    const auto owner = worker(i).owner.load(std::memory_order_acquire);
    if (owner <= 0) continue;
    const auto& b = worker(i).board;
    RowInfo info;
    info.pid = owner;
    info.generation = b.generation.load(std::memory_order_relaxed);
    info.ordinal = b.ordinal.load(std::memory_order_relaxed);
    const auto state = b.state.load(std::memory_order_relaxed);
    info.state = state <= static_cast<std::uint32_t>(RowState::kDraining) ? RowState(state)
                                                                          : RowState::kFree;
    info.ready = b.ready.load(std::memory_order_relaxed) != 0;
    info.rss = b.rss.load(std::memory_order_relaxed);
    info.fds = b.fds.load(std::memory_order_relaxed);
    info.helpers = b.helpers.load(std::memory_order_relaxed);
    info.helpers_rss = b.helpers_rss.load(std::memory_order_relaxed);
    rows.emplace_back(static_cast<int>(i), info);
  }
  return rows;
}

void Segment::note_lag(size_t row, LagSample sample) {
  if (row >= worker_rows()) return;
  auto& b = worker(row).board;
  const auto n = b.lags_written.load(std::memory_order_relaxed);
  b.lag_at[n % kLagSamples].store(sample.at_ns, std::memory_order_relaxed);
  b.lag_ns[n % kLagSamples].store(sample.lag_ns, std::memory_order_relaxed);
  b.lags_written.store(n + 1, std::memory_order_release);
}

void Segment::set_oldest_job(size_t row, std::uint64_t started_ns) {
  if (row < worker_rows()) {
    worker(row).board.oldest_job_ns.store(started_ns, std::memory_order_relaxed);
  }
}

std::vector<LagSample> Segment::lag_samples(size_t row) const {
  std::vector<LagSample> samples;
  if (row >= worker_rows()) return samples;
  const auto& b = worker(row).board;
  const auto n =
      std::min<std::uint64_t>(b.lags_written.load(std::memory_order_acquire), kLagSamples);
  for (size_t i = 0; i < n; ++i) {
    samples.push_back(
        {b.lag_at[i].load(std::memory_order_relaxed), b.lag_ns[i].load(std::memory_order_relaxed)});
  }
  return samples;
}

std::uint64_t Segment::oldest_job(size_t row) const {
  return row < worker_rows() ? worker(row).board.oldest_job_ns.load(std::memory_order_relaxed) : 0;
}

void Segment::publish_master(const MasterInfo& info) {
  auto& m = shared_->master;
  m.sequence.fetch_add(1, std::memory_order_acq_rel);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  m.pid = info.pid;
  m.generation = info.generation;
  m.degraded = info.degraded ? 1 : 0;
  m.config_hash = info.config_hash;
  m.start_time = info.start_time;
  m.config_time = info.config_time;
  m.config_path.set(info.config_path);
  m.last_reload.set(info.last_reload);
  m.last_upgrade.set(info.last_upgrade);
  m.sequence.fetch_add(1, std::memory_order_release);
}

void Segment::add_request_sample(const RequestSample& sample) {
  auto& m = shared_->master;
  m.sequence.fetch_add(1, std::memory_order_acq_rel);
  std::atomic_thread_fence(std::memory_order_release);
  const auto slot = m.samples_written % kRequestSamples;
  m.sample_ms[slot] = sample.unix_ms;
  std::copy(sample.by_class.begin(), sample.by_class.end(), m.sample_classes[slot]);
  ++m.samples_written;
  m.sequence.fetch_add(1, std::memory_order_release);
}

std::optional<MasterBoard> Segment::master_board() const {
  const auto& m = shared_->master;
  MasterBoard board;
  const bool ok = read_consistent(m.sequence, [&] {
    auto& info = board.info;
    info.pid = m.pid;
    info.generation = m.generation;
    info.degraded = m.degraded != 0;
    info.config_hash = m.config_hash;
    info.start_time = m.start_time;
    info.config_time = m.config_time;
    info.config_path = m.config_path.get();
    info.last_reload = m.last_reload.get();
    info.last_upgrade = m.last_upgrade.get();
    const auto written = m.samples_written;
    const auto n = std::min<std::uint64_t>(written, kRequestSamples);
    board.samples.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto slot = (written - n + i) % kRequestSamples;
      board.samples[i].unix_ms = m.sample_ms[slot];
      std::copy(std::begin(m.sample_classes[slot]), std::end(m.sample_classes[slot]),
                board.samples[i].by_class.begin());
    }
  });
  if (!ok) return std::nullopt;
  return board;
}

std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string label_value(std::string_view labels, std::string_view name) {
  size_t at = 0;
  while (at < labels.size()) {
    const auto eq = labels.find("=\"", at);
    if (eq == std::string_view::npos) break;
    const bool wanted = labels.substr(at, eq - at) == name;
    std::string value;
    size_t i = eq + 2;
    for (; i < labels.size() && labels[i] != '"'; ++i) {
      if (labels[i] == '\\' && i + 1 < labels.size()) {
        ++i;
        value += labels[i] == 'n' ? '\n' : labels[i];
      } else {
        value += labels[i];
      }
    }
    if (wanted) return value;
    at = i + 2;  // past the closing quote and the comma
  }
  return {};
}

std::optional<std::string> folded_labels(Family family, std::string_view labels) {
  std::string_view name;
  if (family == Family::kRequests || family == Family::kRequestDuration) {
    name = "route";
  } else if (family == Family::kUpstreamRequests || family == Family::kUpstreamErrors) {
    name = "server";
  } else if (labels.starts_with("worker=\"") || labels.find(",worker=\"") != labels.npos) {
    name = "worker";
  } else {
    return std::nullopt;
  }
  // Rebuilt pair by pair: values may hold escaped quotes and commas.
  std::string out;
  size_t at = 0;
  bool found = false;
  while (at < labels.size()) {
    const auto eq = labels.find("=\"", at);
    if (eq == std::string_view::npos) return std::nullopt;
    const auto key = labels.substr(at, eq - at);
    size_t i = eq + 2;
    while (i < labels.size() && labels[i] != '"') i += labels[i] == '\\' ? 2 : 1;
    if (i >= labels.size()) return std::nullopt;
    if (!out.empty()) out += ',';
    if (key == name) {
      out += label(key, kRemoved);
      found = true;
    } else {
      out += labels.substr(at, i + 1 - at);
    }
    at = i + 2;  // past the closing quote and the comma
  }
  if (!found) return std::nullopt;
  return out;
}

}  // namespace shoal::metrics
