// HTTP date formatting and parsing, locale-independent (no strftime/strptime %a/%b).
#include "http/http_date.hpp"

#include <array>
#include <cstdio>

namespace shoal::http {

namespace {

constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_index(std::string_view m) {
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (m == kMonths[i]) return static_cast<int>(i);
  }
  return -1;
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

bool time_of_day(std::string_view s, size_t pos, std::tm& tm) {
  return digits(s, pos, 2, tm.tm_hour) && pos + 8 <= s.size() && s[pos + 2] == ':' &&
         digits(s, pos + 3, 2, tm.tm_min) && s[pos + 5] == ':' && digits(s, pos + 6, 2, tm.tm_sec);
}

std::optional<std::time_t> to_time(std::tm& tm) {
  if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return t;
}

}  // namespace

std::string format_http_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<std::time_t> parse_http_date(std::string_view s) {
  std::tm tm{};
  auto comma = s.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (s.size() != 29 || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[25] != ' ' || s.substr(26) != "GMT") {
      return std::nullopt;
    }
    int year = 0;
    if (!digits(s, 5, 2, tm.tm_mday) || !digits(s, 12, 4, year) || !time_of_day(s, 17, tm)) {
      return std::nullopt;
    }
    tm.tm_mon = month_index(s.substr(8, 3));
    tm.tm_year = year - 1900;
    return to_time(tm);
  }
  if (comma != std::string_view::npos) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    auto p = comma + 2;
    if (p + 22 != s.size() || s[comma + 1] != ' ' || s[p + 2] != '-' || s[p + 6] != '-' ||
        s[p + 9] != ' ' || s.substr(p + 19) != "GMT") {
      return std::nullopt;
    }
    int year = 0;
    if (!digits(s, p, 2, tm.tm_mday) || !digits(s, p + 7, 2, year) || !time_of_day(s, p + 10, tm)) {
      return std::nullopt;
    }
    tm.tm_mon = month_index(s.substr(p + 3, 3));
    tm.tm_year = year < 70 ? year + 100 : year;  // RFC 9110: two-digit years within 50 years
    return to_time(tm);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') {
    return std::nullopt;
  }
  int year = 0;
  int day = 0;
  if (s[8] == ' ') {
    if (!digits(s, 9, 1, day)) return std::nullopt;
  } else if (!digits(s, 8, 2, day)) {
    return std::nullopt;
  }
  if (!time_of_day(s, 11, tm) || !digits(s, 20, 4, year)) return std::nullopt;
  tm.tm_mday = day;
  tm.tm_mon = month_index(s.substr(4, 3));
  tm.tm_year = year - 1900;
  return to_time(tm);
}

std::string_view DateCache::now() {
  std::time_t t = std::time(nullptr);
  if (t != second_) {
    second_ = t;
    text_ = format_http_date(t);
  }
  return text_;
}

}  // namespace shoal::http
