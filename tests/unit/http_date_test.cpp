// HTTP dates: the one format we write and the three we read.
#include "http/http_date.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

constexpr std::time_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, Formats) {
  EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesAllThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
}

TEST(HttpDate, RejectsOtherText) {
  EXPECT_FALSE(parse_http_date(""));
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
}

TEST(HttpDate, RoundTrips) {
  for (std::time_t t : {std::time_t{0}, kRfcExample, std::time_t{1700000000}}) {
    EXPECT_EQ(parse_http_date(format_http_date(t)), t);
  }
}

TEST(HttpDate, CacheGivesTheCurrentSecond) {
  DateCache cache;
  auto now = std::time(nullptr);
  auto parsed = parse_http_date(cache.now());
  ASSERT_TRUE(parsed);
  EXPECT_LE(*parsed - now, 1);
}

}  // namespace
}  // namespace shoal::http
