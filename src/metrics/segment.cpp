// The metrics segment: a series directory and rows of cells in one memfd (see segment.hpp).
#include "metrics/segment.hpp"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace shoal::metrics {

namespace {

constexpr std::uint64_t kMagic = 0x73686f616c6d7431;  // "shoalmt1"
constexpr std::uint32_t kLayoutVersion = 1;           // what an upgraded image checks

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
  std::uint32_t rows_per_segment;
  std::atomic<std::uint32_t> series_count;         // entries [0, count) are complete
  std::atomic<std::uint32_t> next_cell;            // cells [1, next_cell) belong to a series
  std::atomic<std::uint64_t> fold_sequence;        // odd while the master folds a row
  std::atomic<std::int32_t> owners[kWorkerSlots];  // 0: free; -1: taken, not forked yet; pid
  Entry entries[kMaxSeries];
  alignas(4096) std::uint64_t rows[kRows][kCellsPerRow];
};

Segment Segment::create() {
  // The memfd is zeros: only the header needs writing (placement-new would touch every page).
  auto mapping = MemfdMapping::create("shoal-metrics", sizeof(Shared), "the metrics");
  auto* shared = static_cast<Shared*>(mapping.memory());
  shared->magic = kMagic;
  shared->layout_version = kLayoutVersion;
  shared->rows_per_segment = kRows;
  shared->next_cell.store(1, std::memory_order_relaxed);
  return Segment(std::move(mapping));
}

std::optional<Segment> Segment::adopt(int fd) {
  auto mapping = MemfdMapping::adopt(fd, sizeof(Shared));
  if (!mapping) return std::nullopt;
  const auto* shared = static_cast<const Shared*>(mapping->memory());
  if (shared->magic != kMagic || shared->layout_version != kLayoutVersion ||
      shared->rows_per_segment != kRows) {
    return std::nullopt;
  }
  return Segment(std::move(*mapping));
}

Segment::Segment(MemfdMapping mapping)
    : mapping_(std::move(mapping)), shared_(static_cast<Shared*>(mapping_.memory())) {}

Segment::Segment(Segment&& other) noexcept
    : mapping_(std::move(other.mapping_)), shared_(std::exchange(other.shared_, nullptr)) {}

Segment::~Segment() = default;

std::uint32_t Segment::series(Family family, std::string_view labels) {
  const auto count = shared_->series_count.load(std::memory_order_relaxed);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (e.family == static_cast<std::uint16_t>(family) && labels == e.labels) return e.first;
  }
  const auto cells = cells_of(info(family).type);
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
  return first;
}

int Segment::take_row() {
  for (size_t i = 0; i < kWorkerSlots; ++i) {
    std::int32_t expected = 0;
    if (shared_->owners[i].compare_exchange_strong(expected, -1)) return static_cast<int>(i);
  }
  return -1;
}

void Segment::set_owner(int row, pid_t pid) {
  if (row >= 0) shared_->owners[row].store(pid, std::memory_order_release);
}

int Segment::row_of(pid_t pid) const {
  for (size_t i = 0; i < kWorkerSlots; ++i) {
    if (shared_->owners[i].load(std::memory_order_acquire) == pid) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> Segment::rows_not_owned_by(const std::vector<pid_t>& alive) const {
  std::vector<int> rows;
  for (size_t i = 0; i < kWorkerSlots; ++i) {
    const auto owner = shared_->owners[i].load(std::memory_order_acquire);
    if (owner != 0 && std::find(alive.begin(), alive.end(), owner) == alive.end()) {
      rows.push_back(static_cast<int>(i));
    }
  }
  return rows;
}

void Segment::retire_row(int index) {
  if (index < 0 || static_cast<size_t>(index) >= kWorkerSlots) return;
  auto& retired = shared_->rows[kRetiredRow];
  auto& gone = shared_->rows[index];
  shared_->fold_sequence.fetch_add(1, std::memory_order_acq_rel);  // odd: readers wait
  std::atomic_thread_fence(std::memory_order_release);
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (kFamilies[e.family].type == Type::kGauge) continue;
    for (std::uint32_t c = e.first; c < e.first + e.cells; ++c) {
      store_cell(retired[c], load_cell(retired[c]) + load_cell(gone[c]));
    }
  }
  const auto used = shared_->next_cell.load(std::memory_order_relaxed);
  for (std::uint32_t c = 0; c < used; ++c) store_cell(gone[c], 0);
  shared_->fold_sequence.fetch_add(1, std::memory_order_release);
  shared_->owners[index].store(0, std::memory_order_release);
}

std::uint64_t* Segment::row(size_t index) { return shared_->rows[index]; }
const std::uint64_t* Segment::row(size_t index) const { return shared_->rows[index]; }

std::uint32_t Segment::cells_used() const {
  return shared_->next_cell.load(std::memory_order_acquire);
}

bool Segment::sum_rows(std::uint32_t first, std::uint32_t end, std::uint64_t* totals) const {
  // A fold takes microseconds; one that lasts longer means the master stopped in it (SIGSTOP,
  // a debugger): the reader gives up rather than stall its worker's loop.
  std::uint64_t deadline = 0;
  while (true) {
    const auto before = shared_->fold_sequence.load(std::memory_order_acquire);
    if (before & 1) {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      const auto now = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
                       static_cast<std::uint64_t>(ts.tv_nsec);
      if (deadline == 0) deadline = now + kFoldWaitNs;
      if (now > deadline) return false;
      sched_yield();
      continue;
    }
    std::fill(totals, totals + (end - first), 0);
    for (size_t r = 0; r < kRows; ++r) {
      if (r < kWorkerSlots && shared_->owners[r].load(std::memory_order_relaxed) == 0) continue;
      const auto& cells = shared_->rows[r];
      for (std::uint32_t c = first; c < end; ++c) totals[c - first] += load_cell(cells[c]);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (shared_->fold_sequence.load(std::memory_order_relaxed) == before) return true;
  }
}

std::optional<std::vector<SeriesValue>> Segment::read() const {
  const auto count = shared_->series_count.load(std::memory_order_acquire);
  const auto used = shared_->next_cell.load(std::memory_order_acquire);
  std::vector<std::uint64_t> totals(used);
  if (!sum_rows(1, used, totals.data() + 1)) return std::nullopt;
  std::vector<SeriesValue> values;
  values.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& e = shared_->entries[i];
    if (e.first + e.cells > used) continue;
    SeriesValue v{static_cast<Family>(e.family), e.labels, {}};
    v.cells.assign(totals.begin() + e.first, totals.begin() + e.first + e.cells);
    values.push_back(std::move(v));
  }
  return values;
}

std::optional<std::uint64_t> Segment::sum(std::uint32_t cell) const {
  std::uint64_t total = 0;
  if (!sum_rows(cell, cell + 1, &total)) return std::nullopt;
  return total;
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

}  // namespace shoal::metrics
