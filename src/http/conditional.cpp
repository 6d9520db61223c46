// Conditional request evaluation: pure functions over header values and validators.
#include "http/conditional.hpp"

#include <cstdio>

#include "http/http_date.hpp"
#include "util/text.hpp"

namespace shoal::http {

std::string make_etag(std::time_t mtime, std::uint64_t size) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%llx-%llx\"", static_cast<unsigned long long>(mtime),
                static_cast<unsigned long long>(size));
  return buf;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  list = trim_ows(list);
  if (list == "*") return true;
  if (etag.empty()) return false;  // a representation without an ETag matches only "*"
  while (!list.empty()) {
    auto comma = list.find(',');
    auto tag = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    bool is_weak = tag.starts_with("W/");
    if (is_weak) {
      if (!weak) continue;
      tag.remove_prefix(2);
    }
    if (tag == etag) return true;
  }
  return false;
}

Precondition evaluate_preconditions(const ConditionalHeaders& h, const Validators& v) {
  if (h.if_match) {
    if (!etag_list_matches(*h.if_match, v.etag, /*weak=*/false)) return Precondition::kFailed;
  } else if (h.if_unmodified_since && v.last_modified != 0) {
    // An invalid date is ignored (RFC 9110 section 13.1.4).
    if (auto date = parse_http_date(trim_ows(*h.if_unmodified_since));
        date && v.last_modified > *date) {
      return Precondition::kFailed;
    }
  }
  if (h.if_none_match) {
    return etag_list_matches(*h.if_none_match, v.etag, /*weak=*/true) ? Precondition::kNotModified
                                                                      : Precondition::kProceed;
  }
  if (h.if_modified_since && v.last_modified != 0) {
    if (auto date = parse_http_date(trim_ows(*h.if_modified_since));
        date && v.last_modified <= *date) {
      return Precondition::kNotModified;
    }
  }
  return Precondition::kProceed;
}

bool if_range_holds(std::string_view if_range, const Validators& v) {
  if_range = trim_ows(if_range);
  if (if_range.starts_with("\"")) return if_range == v.etag;
  if (if_range.starts_with("W/")) return false;  // weak tags never validate a range
  auto date = parse_http_date(if_range);
  return date && *date == v.last_modified;
}

}  // namespace shoal::http
