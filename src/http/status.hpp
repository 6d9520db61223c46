// HTTP status codes: reason phrases and which statuses carry no body.
#pragma once

#include <string_view>

namespace shoal::http {

std::string_view reason_phrase(int status);

// 1xx, 204 and 304 responses never carry content (RFC 9110 section 6.4.1).
inline bool status_forbids_body(int status) {
  return status < 200 || status == 204 || status == 304;
}

}  // namespace shoal::http
