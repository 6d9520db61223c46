// Conditional requests: ETag lists, the precondition order, If-Range.
#include "http/conditional.hpp"

#include <gtest/gtest.h>

#include "http/http_date.hpp"

namespace shoal::http {
namespace {

const std::string kEtag = make_etag(1700000000, 1234);
const Validators kV{kEtag, 1700000000};

Precondition eval(const char* im, const char* inm, const char* ims, const char* ius) {
  std::string a = im ? im : "", b = inm ? inm : "", c = ims ? ims : "", d = ius ? ius : "";
  ConditionalHeaders h{im ? &a : nullptr, inm ? &b : nullptr, ims ? &c : nullptr,
                       ius ? &d : nullptr};
  return evaluate_preconditions(h, kV);
}

TEST(Conditional, EtagShape) { EXPECT_EQ(kEtag, "\"6553f100-4d2\""); }

TEST(Conditional, EtagLists) {
  EXPECT_TRUE(etag_list_matches("*", kEtag, true));
  EXPECT_TRUE(etag_list_matches("\"a\", " + kEtag, kEtag, true));
  EXPECT_TRUE(etag_list_matches("W/" + kEtag, kEtag, true));
  EXPECT_FALSE(etag_list_matches("W/" + kEtag, kEtag, false));
  EXPECT_FALSE(etag_list_matches("\"other\"", kEtag, true));
}

// A `return` body: a current representation with neither ETag nor Last-Modified.
TEST(Conditional, WithoutValidatorsOnlyAStarMatchesAndDatesAreIgnored) {
  const Validators none{};
  const std::string star = "*", tag = "\"a\"", empty = ",", date = format_http_date(4000000000);
  EXPECT_EQ(evaluate_preconditions({nullptr, &star, nullptr, nullptr}, none),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate_preconditions({nullptr, &tag, nullptr, nullptr}, none),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions({nullptr, &empty, nullptr, nullptr}, none),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions({&star, nullptr, nullptr, nullptr}, none),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions({&tag, nullptr, nullptr, nullptr}, none), Precondition::kFailed);
  EXPECT_EQ(evaluate_preconditions({nullptr, nullptr, &date, nullptr}, none),
            Precondition::kProceed);
  const std::string old_date = format_http_date(1);
  EXPECT_EQ(evaluate_preconditions({nullptr, nullptr, nullptr, &old_date}, none),
            Precondition::kProceed);
}

TEST(Conditional, IfNoneMatchGives304) {
  EXPECT_EQ(eval(nullptr, kEtag.c_str(), nullptr, nullptr), Precondition::kNotModified);
  EXPECT_EQ(eval(nullptr, "\"x\"", nullptr, nullptr), Precondition::kProceed);
}

TEST(Conditional, IfModifiedSince) {
  auto same = format_http_date(1700000000);
  auto later = format_http_date(1700000001);
  auto earlier = format_http_date(1699999999);
  EXPECT_EQ(eval(nullptr, nullptr, same.c_str(), nullptr), Precondition::kNotModified);
  EXPECT_EQ(eval(nullptr, nullptr, later.c_str(), nullptr), Precondition::kNotModified);
  EXPECT_EQ(eval(nullptr, nullptr, earlier.c_str(), nullptr), Precondition::kProceed);
  EXPECT_EQ(eval(nullptr, nullptr, "not a date", nullptr), Precondition::kProceed);
  // If-None-Match takes precedence over If-Modified-Since (RFC 9110 section 13.2.2).
  EXPECT_EQ(eval(nullptr, "\"x\"", same.c_str(), nullptr), Precondition::kProceed);
}

TEST(Conditional, IfMatchAndIfUnmodifiedSinceGive412) {
  EXPECT_EQ(eval("\"x\"", nullptr, nullptr, nullptr), Precondition::kFailed);
  EXPECT_EQ(eval(kEtag.c_str(), nullptr, nullptr, nullptr), Precondition::kProceed);
  auto earlier = format_http_date(1699999999);
  EXPECT_EQ(eval(nullptr, nullptr, nullptr, earlier.c_str()), Precondition::kFailed);
}

TEST(Conditional, IfRange) {
  EXPECT_TRUE(if_range_holds(kEtag, kV));
  EXPECT_FALSE(if_range_holds("\"x\"", kV));
  EXPECT_FALSE(if_range_holds("W/" + kEtag, kV));
  EXPECT_TRUE(if_range_holds(format_http_date(1700000000), kV));
  EXPECT_FALSE(if_range_holds(format_http_date(1700000001), kV));
}

}  // namespace
}  // namespace shoal::http
