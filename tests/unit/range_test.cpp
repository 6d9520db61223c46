// Range header evaluation (RFC 9110 section 14).
#include "http/range.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

std::string eval(std::string_view header, std::uint64_t size) {
  auto d = evaluate_range(header, size);
  switch (d.kind) {
    case RangeKind::kIgnore:
      return "ignore";
    case RangeKind::kUnsatisfiable:
      return "416";
    case RangeKind::kSatisfiable:
      return std::to_string(d.range.first) + "-" + std::to_string(d.range.last);
  }
  return "?";
}

TEST(Range, SingleRanges) {
  EXPECT_EQ(eval("bytes=0-0", 10), "0-0");
  EXPECT_EQ(eval("bytes=0-4", 10), "0-4");
  EXPECT_EQ(eval("bytes=5-", 10), "5-9");
  EXPECT_EQ(eval("bytes=5-100", 10), "5-9");
  EXPECT_EQ(eval("bytes=-3", 10), "7-9");
  EXPECT_EQ(eval("bytes=-30", 10), "0-9");
  EXPECT_EQ(eval(" Bytes = 1-2 ", 10), "1-2");
  EXPECT_EQ(eval("bytes=1-2,", 10), "1-2");
}

TEST(Range, Unsatisfiable) {
  EXPECT_EQ(eval("bytes=10-", 10), "416");
  EXPECT_EQ(eval("bytes=10-20", 10), "416");
  EXPECT_EQ(eval("bytes=-0", 10), "416");
  EXPECT_EQ(eval("bytes=0-", 0), "416");
  EXPECT_EQ(eval("bytes=-5", 0), "416");
  EXPECT_EQ(eval("bytes=5-2", 10), "416");
  EXPECT_EQ(eval("bytes=abc", 10), "416");
  EXPECT_EQ(eval("bytes=", 10), "416");
  EXPECT_EQ(eval("bytes=1-x", 10), "416");
}

TEST(Range, IgnoredRanges) {
  EXPECT_EQ(eval("items=0-4", 10), "ignore");
  EXPECT_EQ(eval("garbage", 10), "ignore");
  EXPECT_EQ(eval("bytes=0-1,3-4", 10), "ignore");
}

TEST(Range, ContentRange) {
  EXPECT_EQ(content_range({0, 99}, 1000), "bytes 0-99/1000");
  EXPECT_EQ((ByteRange{5, 9}.length()), 5u);
}

}  // namespace
}  // namespace shoal::http
