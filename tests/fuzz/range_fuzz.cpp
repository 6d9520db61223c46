// Fuzz target: Range, If-Range and conditional header values against a file size. A range we
// would serve must lie inside the file.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http/conditional.hpp"
#include "http/http_date.hpp"
#include "http/range.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  std::uint64_t file_size = 0;
  std::memcpy(&file_size, data, 8);
  file_size %= (1ull << 40);
  std::string header(reinterpret_cast<const char*>(data) + 8, size - 8);
  auto decision = shoal::http::evaluate_range(header, file_size);
  if (decision.kind == shoal::http::RangeKind::kSatisfiable) {
    const auto& r = decision.range;
    if (r.first > r.last || r.last >= file_size) std::abort();
    auto text = shoal::http::content_range(r, file_size);
    if (text.rfind("bytes ", 0) != 0) std::abort();
  }
  if (auto date = shoal::http::parse_http_date(header)) {
    // Whatever we accept, we can write back and read again to the same second.
    if (*date >= 0 && *date < 253402300799 &&
        shoal::http::parse_http_date(shoal::http::format_http_date(*date)) != *date) {
      std::abort();
    }
  }
  const std::string etag = shoal::http::make_etag(1700000000, file_size);
  shoal::http::Validators v{etag, 1700000000};
  shoal::http::etag_list_matches(header, etag, true);
  shoal::http::if_range_holds(header, v);
  shoal::http::ConditionalHeaders h{&header, &header, &header, &header};
  shoal::http::evaluate_preconditions(h, v);
  return 0;
}
