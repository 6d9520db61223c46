// HTTP dates (RFC 9110 section 5.6.7): formatting IMF-fixdate and parsing all three forms.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::http {

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string format_http_date(std::time_t t);

// IMF-fixdate, obsolete RFC 850 and asctime forms; nullopt for anything else.
std::optional<std::time_t> parse_http_date(std::string_view text);

// The Date header value for "now", formatted at most once a second.
class DateCache {
 public:
  std::string_view now();

 private:
  std::time_t second_ = -1;
  std::string text_;
};

}  // namespace shoal::http
