// Segment: shoal's counters in shared memory. A memfd the master creates before its first fork
// (or adopts from the previous image of an upgrade) and maps once; every worker inherits the
// mapping. It holds a directory of series (family + label text -> cells) that only the master
// appends to, and one row of cells per writer: one `retired` row that keeps the counts of
// workers that exited, one for the master, and worker rows, as many as the configuration needs
// (the file grows when a reload or an upgrade needs more; the mapping never moves). Each row has
// one writer, so counting is a plain store, without locks or messages; a scrape sums the rows. When
// a worker is reaped the master folds its counters into the retired row under a sequence count, so
// a sum taken meanwhile is retried, and no counter ever goes down while the memfd lives. See
// src/DESIGN.md, Metrics.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/board.hpp"
#include "metrics/families.hpp"
#include "util/memfd_mapping.hpp"

namespace shoal::metrics {

// Worker rows: as many as the configuration needs, two generations' worth at the start (a
// reload overlaps them), grown one at a time when a spawn finds none free, up to two
// generations of kMaxWorkers. Series: room for about 1,000 routes with the per-worker series.
// `shoal -t` and a reload check that a configuration fits (check_fits, Master::metrics_room),
// so nothing is ever counted nowhere without a word. The memfd is sparse: only the cells in
// use take memory; all of it is mapped (address space: about 200 MB) so that growing never
// moves it.
inline constexpr size_t kMaxWorkers = 256;
inline constexpr size_t kMaxWorkerRows = 2 * kMaxWorkers;
inline constexpr size_t kRetiredRow = kMaxWorkerRows;     // row() of the retired row
inline constexpr size_t kMasterRow = kMaxWorkerRows + 1;  // row() of the master's
inline constexpr std::uint32_t kCellsPerRow = 49152;
inline constexpr size_t kMaxSeries = 12288;
inline constexpr size_t kLabelBytes = 244;
// How long a reader waits for a fold to end before it gives up (a scrape then answers 503).
inline constexpr std::uint64_t kFoldWaitNs = 20'000'000;
// Cell 0 of every row is a sink: what a series that did not fit in the directory counts.
inline constexpr std::uint32_t kSinkCell = 0;

// One series as a scrape reads it: the sum of its cells over the rows.
struct SeriesValue {
  Family family;
  std::string labels;  // 'server="a",route="/"' (escaped), or ""
  std::vector<std::uint64_t> cells;
  std::uint32_t first = kSinkCell;  // its first cell in the segment
};

class Segment {
 public:
  // A new memfd of zeros with `worker_rows` worker rows. Throws StartupError.
  static Segment create(size_t worker_rows = 4);
  // The memfd a previous image passed over an upgrade; nullopt when it is not one.
  static std::optional<Segment> adopt(int fd);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&&) = delete;
  Segment(const Segment&) = delete;
  ~Segment();

  int fd() const { return mapping_.fd(); }

  // Master only, before the forks that use it: the first cell of the series `family{labels}`,
  // added if new (in a reclaimed entry of the same size when there is one); kSinkCell when the
  // directory or the rows are full.
  std::uint32_t series(Family family, std::string_view labels);
  // Master only: frees every series whose first cell is not in `live` (sorted), which no
  // process writes any more (the generations that had them are gone): their cells are zeroed
  // in every row and the entry is left for a later series of the same size. A scrape then no
  // longer shows them. Returns how many were freed.
  size_t reclaim(const std::vector<std::uint32_t>& live);
  // What is in use: series in the directory (freed ones not counted) and cells handed out.
  size_t series_in_use() const;
  // Room left for new series: entries and cells, reclaimed ones included.
  struct Room {
    size_t series = 0;
    size_t cells = 0;
  };
  Room room() const;

  // Master only: a free worker row for the process about to be forked (the file grows by one
  // when none is free), or -1 when kMaxWorkerRows are taken or the file cannot grow.
  int take_row();
  // Rows take_row() can still give: free ones and those the file can grow by.
  size_t free_rows() const;
  // Worker rows the file holds now (taken or free).
  size_t worker_rows() const;
  // Master only: the row's process, once forked (an upgraded master finds its rows by pid).
  void set_owner(int row, pid_t pid);
  // The row owned by `pid`, or -1.
  int row_of(pid_t pid) const;
  // Rows taken whose owner is not in `alive` (an upgraded master retires them).
  std::vector<int> rows_not_owned_by(const std::vector<pid_t>& alive) const;
  // Master only, after the row's process is gone: adds its counters and histograms to the
  // retired row, zeroes the row (gauges included) and frees it.
  void retire_row(int row);

  // The row a process writes: a worker its own, the master kMasterRow.
  std::uint64_t* row(size_t index);
  const std::uint64_t* row(size_t index) const;

  // Every series, summed over the retired, master and taken worker rows; consistent with
  // respect to folds (retried while one runs); nullopt when a fold has not ended within
  // kFoldWaitNs (the master stopped in the middle of one).
  std::optional<std::vector<SeriesValue>> read() const;
  // As read(), but only the series of `families`, and only their first cell (a counter's or
  // gauge's value): what the status page needs, without a histogram's buckets.
  std::optional<std::vector<SeriesValue>> read_values(std::span<const Family> families) const;
  // The sum of one cell over the rows, as read() does.
  std::optional<std::uint64_t> sum(std::uint32_t cell) const;
  std::uint32_t cells_used() const;
  // The first cell of `family{labels}` when registered, else kSinkCell (any process).
  std::uint32_t find(Family family, std::string_view labels) const;

  // The board (board.hpp). Master only: a taken row's process; the pid stays set_owner's.
  void set_row_info(int row, const RowInfo& info);
  // Any process: the taken rows (owner set) and what the master wrote of each.
  std::vector<std::pair<int, RowInfo>> row_infos() const;
  // A worker, its own row: one loop-lag sample; the start of its oldest running job (0: none).
  void note_lag(size_t row, LagSample sample);
  void set_oldest_job(size_t row, std::uint64_t started_ns);
  std::vector<LagSample> lag_samples(size_t row) const;
  std::uint64_t oldest_job(size_t row) const;
  // Master only: its facts, and one more sample of the requests (the oldest goes past 300).
  void publish_master(const MasterInfo& info);
  void add_request_sample(const RequestSample& sample);
  // Any process; nullopt when the master stopped mid-write for longer than kFoldWaitNs.
  std::optional<MasterBoard> master_board() const;

 private:
  struct Shared;
  struct WorkerRow;
  explicit Segment(MemfdMapping mapping);
  static size_t file_size(size_t worker_rows);
  WorkerRow& worker(size_t index) const;
  // Calls `each(cells)` for every row a sum covers: the retired and master rows and the
  // worker rows taken.
  template <typename Each>
  void for_each_summed_row(Each&& each) const;
  // totals[c - first] = cell c summed over the summed rows, for c in [first, end), as of one
  // moment between folds (retried while one runs).
  bool sum_rows(std::uint32_t first, std::uint32_t end, std::uint64_t* totals) const;
  // The master's index of the directory (this process's memory, not the segment's): series
  // by family and labels, and freed entries by size. Built from the directory as it grows,
  // so an adopted segment is indexed on first use. A reload of a large site registers
  // thousands of series: a scan per series made that quadratic.
  void index_new_entries();
  static std::string key_of(Family family, std::string_view labels);
  MemfdMapping mapping_;
  Shared* shared_ = nullptr;
  std::unordered_map<std::string, std::uint32_t> index_;  // key_of -> entry
  std::multimap<std::uint16_t, std::uint32_t> free_;      // cells -> freed entry
  std::uint32_t indexed_ = 0;                             // entries [0, indexed_) are in
};

// A cell as its one writer and any reader touch it: a relaxed atomic load or store (a plain
// mov on x86-64; no lock prefix, since each cell has one writer).
inline std::uint64_t load_cell(const std::uint64_t& cell) {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(cell))
      .load(std::memory_order_relaxed);
}
inline void store_cell(std::uint64_t& cell, std::uint64_t value) {
  std::atomic_ref<std::uint64_t>(cell).store(value, std::memory_order_relaxed);
}

// Prometheus label text: `name="value"` with \, " and newline escaped.
std::string label(std::string_view name, std::string_view value);
// The value of label `name` in a series' labels ('a="1",b="x\"y"'), unescaped; "" if absent.
std::string label_value(std::string_view labels, std::string_view name);
// The series a freed counter or histogram of `family{labels}` is folded into, so that no
// family total ever goes down: the same labels with the most specific one (route, an
// upstream's server, worker) set to kRemoved. nullopt for a series with none of those, which
// is never freed.
inline constexpr std::string_view kRemoved = "(removed)";
std::optional<std::string> folded_labels(Family family, std::string_view labels);

}  // namespace shoal::metrics
