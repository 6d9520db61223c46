// The board's plain values: names, an outcome's line, request rates and lag percentiles
// (see board.hpp).
#include "metrics/board.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "util/text.hpp"

namespace shoal::metrics {

const char* row_state_name(RowState state) {
  switch (state) {
    case RowState::kFree:
      return "free";
    case RowState::kStarting:
      return "starting";
    case RowState::kServing:
      return "serving";
    case RowState::kDraining:
      return "draining";
  }
  return "?";
}

std::string Outcome::line() const {
  return std::string(ok ? "ok" : "failed") + " at " + iso_time(unix_time) + ": " + message;
}

std::uint64_t RequestSample::total() const {
  std::uint64_t n = 0;
  for (auto c : by_class) n += c;
  return n;
}

double request_rate(const std::vector<RequestSample>& samples, size_t seconds) {
  if (samples.size() < 2 || seconds == 0) return 0;
  const size_t span = std::min(seconds, samples.size() - 1);
  const auto& newest = samples.back();
  const auto& oldest = samples[samples.size() - 1 - span];
  if (newest.unix_ms <= oldest.unix_ms || newest.total() < oldest.total()) return 0;
  return static_cast<double>(newest.total() - oldest.total()) * 1000.0 /
         static_cast<double>(newest.unix_ms - oldest.unix_ms);
}

LagSummary summarize_lag(std::vector<LagSample> samples, std::uint64_t now_ns,
                         std::uint64_t window_ns) {
  std::vector<std::uint64_t> lags;
  for (const auto& s : samples) {
    if (s.at_ns <= now_ns && now_ns - s.at_ns <= window_ns) lags.push_back(s.lag_ns);
  }
  LagSummary summary;
  summary.samples = lags.size();
  if (lags.empty()) return summary;
  std::sort(lags.begin(), lags.end());
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  auto rank = [&](size_t percent) { return lags[(lags.size() * percent + 99) / 100 - 1]; };
  summary.p50_ns = rank(50);
  summary.p99_ns = rank(99);
  summary.max_ns = lags.back();
  return summary;
}

}  // namespace shoal::metrics
