// Fuzz target: the status route's query (`format=json`, `since=MS`). Any query gives either
// an error (a 400's reason) or a verdict, and a valid `since` reads back as written.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "status/status_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const auto q = shoal::status::parse_query(query);
  if (q.error.empty() && q.since_ms != 0) {
    const auto again = shoal::status::parse_query("since=" + std::to_string(q.since_ms));
    if (!again.error.empty() || again.since_ms != q.since_ms) std::abort();
  }
  if (q.json && query.find("format=json") == std::string_view::npos) std::abort();
  return 0;
}
