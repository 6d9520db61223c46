// Request targets (RFC 9112 section 3.2): origin-form and absolute-form, percent-decoding and
// dot-segment removal. The normalised path can never climb above "/", so appending it to a
// root directory can never leave that root.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace shoal::http {

struct Target {
  std::string path;   // decoded and normalised, starts with "/"
  std::string query;  // as received, without the "?"
  std::string host;   // the authority's host from an absolute-form target, else empty
};

// nullopt means 400 Bad Request: not origin- or absolute-form, a bad escape, %00, or a path
// that climbs above the root.
std::optional<Target> parse_target(std::string_view raw);

// Percent-decodes `encoded` and removes dot segments and repeated slashes.
std::optional<std::string> normalize_path(std::string_view encoded);

// Encodes what may not stand in a path as it is, for a Location header.
std::string percent_encode_path(std::string_view path);

}  // namespace shoal::http
