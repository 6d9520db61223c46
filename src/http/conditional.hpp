// Conditional requests (RFC 9110 section 13): ETag and Last-Modified validators, the
// precondition order of section 13.2.2, and If-Range.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace shoal::http {

// A representation without validators (a `return` body) has neither: then only "*" matches
// (RFC 9110 section 13.1.1-2) and the date conditions are ignored (sections 13.1.3-4).
struct Validators {
  std::string_view etag;          // strong, with quotes; empty: none
  std::time_t last_modified = 0;  // 0: none
};

// Header values as received; nullptr when absent.
struct ConditionalHeaders {
  const std::string* if_match = nullptr;
  const std::string* if_none_match = nullptr;
  const std::string* if_modified_since = nullptr;
  const std::string* if_unmodified_since = nullptr;
};

enum class Precondition { kProceed, kNotModified, kFailed };

// "\"<mtime hex>-<size hex>\"", the shape nginx uses, so caches keep working after a switch.
std::string make_etag(std::time_t mtime, std::uint64_t size);

// Whether a list of entity tags ("*" or comma-separated) matches `etag`. Weak comparison
// ignores a W/ prefix; strong comparison refuses weak tags.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

// 412, 304 (for GET and HEAD; another method turns it into 412) or go on.
Precondition evaluate_preconditions(const ConditionalHeaders& headers, const Validators& v);

// Whether a Range may be honoured under If-Range: a strong ETag match or the exact date.
bool if_range_holds(std::string_view if_range, const Validators& v);

}  // namespace shoal::http
