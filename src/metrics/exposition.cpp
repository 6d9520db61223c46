// Exposition: series values to the Prometheus or OpenMetrics text format.
#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <array>

#include "util/text.hpp"

namespace shoal::metrics {

namespace {

// kBucketsNs in seconds, as OpenMetrics writes a float (also valid in 0.0.4).
constexpr std::array<std::string_view, kBucketsNs.size()> kBucketLabels{
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",    "0.5",    "1.0",   "2.5",    "5.0",   "10.0", "25.0",  "60.0"};

std::string_view type_word(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void sample(std::string& out, std::string_view name, std::string_view suffix,
            std::string_view labels, std::string_view extra, std::uint64_t value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) out += ',';
    out += extra;
    out += '}';
  }
  out += ' ';
  fmt::format_to(std::back_inserter(out), "{}\n", value);
}

}  // namespace

Format negotiate(std::string_view accept) {
  constexpr std::string_view kType = "application/openmetrics-text";
  for (size_t i = 0; i + kType.size() <= accept.size(); ++i) {
    if (iequals(accept.substr(i, kType.size()), kType)) {
      return Format::kOpenMetrics;
    }
  }
  return Format::kPrometheus;
}

std::string_view content_type(Format format) {
  return format == Format::kOpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

std::string expose(const std::vector<SeriesValue>& series, Format format) {
  std::array<std::vector<const SeriesValue*>, kFamilies.size()> by_family;
  for (const auto& s : series) by_family[static_cast<size_t>(s.family)].push_back(&s);
  std::string out;
  out.reserve(series.size() * 96 + 4096);
  for (size_t f = 0; f < kFamilies.size(); ++f) {
    if (by_family[f].empty()) continue;
    const auto& family = kFamilies[f];
    std::string_view name = family.name;
    std::string_view declared = name;  // OpenMetrics names a counter family without _total
    if (format == Format::kOpenMetrics && family.type == Type::kCounter &&
        declared.ends_with("_total")) {
      declared.remove_suffix(6);
    }
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", declared, family.help,
                   declared, type_word(family.type));
    for (const auto* s : by_family[f]) {
      if (family.type != Type::kHistogram) {
        sample(out, name, "", s->labels, "", s->cells.at(0));
        continue;
      }
      std::uint64_t cumulative = 0;
      for (size_t b = 0; b < kBucketsNs.size(); ++b) {
        cumulative += s->cells.at(b);
        std::string le = "le=\"";
        le += kBucketLabels[b];
        le += '"';
        sample(out, name, "_bucket", s->labels, le, cumulative);
      }
      cumulative += s->cells.at(kBucketsNs.size());
      sample(out, name, "_bucket", s->labels, "le=\"+Inf\"", cumulative);
      // The sum in seconds: nanoseconds printed as a decimal fraction, exactly.
      const auto ns = s->cells.at(kHistogramSumCell);
      out += name;
      out += "_sum";
      if (!s->labels.empty()) fmt::format_to(std::back_inserter(out), "{{{}}}", s->labels);
      fmt::format_to(std::back_inserter(out), " {}.{:09d}\n", ns / 1'000'000'000,
                     ns % 1'000'000'000);
      sample(out, name, "_count", s->labels, "", cumulative);
    }
  }
  if (format == Format::kOpenMetrics) out += "# EOF\n";
  return out;
}

}  // namespace shoal::metrics
