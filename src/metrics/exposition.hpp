// The text a scrape gets: Prometheus exposition format 0.0.4, or OpenMetrics 1.0.0 when the
// scraper's Accept asks for it. Each family once, with HELP and TYPE, its series in the order
// they were registered.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/segment.hpp"

namespace shoal::metrics {

enum class Format { kPrometheus, kOpenMetrics };

// OpenMetrics when `accept` names application/openmetrics-text, else 0.0.4.
Format negotiate(std::string_view accept);
std::string_view content_type(Format format);
std::string expose(const std::vector<SeriesValue>& series, Format format);

}  // namespace shoal::metrics
