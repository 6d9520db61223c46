// Request targets and path normalisation: decoding, dot segments, and traversal attempts.
#include "http/path.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

std::string norm(std::string_view p) { return normalize_path(p).value_or("<400>"); }

TEST(Path, KeepsOrdinaryPaths) {
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("/index.html"), "/index.html");
  EXPECT_EQ(norm("/docs/"), "/docs/");
  EXPECT_EQ(norm("/a/b/c.txt"), "/a/b/c.txt");
}

TEST(Path, DecodesPercentEscapes) {
  EXPECT_EQ(norm("/a%20b.txt"), "/a b.txt");
  EXPECT_EQ(norm("/%41%62c"), "/Abc");
  EXPECT_EQ(norm("/%252e%252e/x"), "/%2e%2e/x");  // decoded once only
}

TEST(Path, RemovesDotSegmentsAndRepeatedSlashes) {
  EXPECT_EQ(norm("/a/./b"), "/a/b");
  EXPECT_EQ(norm("/a/../b"), "/b");
  EXPECT_EQ(norm("/a//b///c"), "/a/b/c");
  EXPECT_EQ(norm("/a/b/.."), "/a/");
  EXPECT_EQ(norm("/a/."), "/a/");
  EXPECT_EQ(norm("/a/%2e%2e/b"), "/b");
  EXPECT_EQ(norm("/a/b%2f..%2fc"), "/a/c");
  EXPECT_EQ(norm("/.hidden"), "/.hidden");
  EXPECT_EQ(norm("/..."), "/...");
}

TEST(Path, OnlyPlainPathsSkipNormalisation) {
  // Each byte pattern that needs work ('%', NUL, "//", "/.") at the start, middle and end.
  EXPECT_EQ(norm("//a"), "/a");
  EXPECT_EQ(norm("/a//b"), "/a/b");
  EXPECT_EQ(norm("/a//"), "/a/");
  EXPECT_EQ(norm("/./a"), "/a");
  EXPECT_EQ(norm("/a/./b"), "/a/b");
  EXPECT_EQ(norm("/a/.."), "/");
  EXPECT_EQ(norm("/%61"), "/a");
  EXPECT_EQ(norm("/a%2Fb"), "/a/b");
  EXPECT_EQ(norm("/a%2F"), "/a/");
  EXPECT_FALSE(normalize_path(std::string_view("\0/a", 3)));
  EXPECT_FALSE(normalize_path(std::string_view("/a\0", 3)));
  // Dots and slashes that need nothing stay as they are.
  EXPECT_EQ(norm("/a.b/c."), "/a.b/c.");
  EXPECT_EQ(norm("/a/b.c/"), "/a/b.c/");
}

TEST(Path, NeverClimbsAboveTheRoot) {
  for (const char* p :
       {"/..", "/../etc/passwd", "/a/../../etc/passwd", "/%2e%2e/etc/passwd",
        "/%2E%2E%2Fetc%2Fpasswd", "/a/%2e%2e%2f%2e%2e%2fetc", "/./../x", "/a/b/../../../x"}) {
    EXPECT_FALSE(normalize_path(p)) << p;
  }
}

TEST(Path, RejectsBadEscapesAndNul) {
  EXPECT_FALSE(normalize_path("/%"));
  EXPECT_FALSE(normalize_path("/%4"));
  EXPECT_FALSE(normalize_path("/%zz"));
  EXPECT_FALSE(normalize_path("/a%00b"));
  EXPECT_FALSE(normalize_path(std::string_view("/a\0b", 4)));  // raw NUL (found by fuzzing)
  EXPECT_FALSE(normalize_path(std::string_view("/\0", 2)));
  EXPECT_FALSE(normalize_path("relative"));
  EXPECT_FALSE(normalize_path(""));
}

TEST(Target, OriginForm) {
  auto t = parse_target("/a/b?x=1&y=%20#frag");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "x=1&y=%20");
  EXPECT_EQ(t->host, "");
}

TEST(Target, AbsoluteForm) {
  auto t = parse_target("http://Example.com:8080/x/../y?q");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/y");
  EXPECT_EQ(t->query, "q");
  EXPECT_EQ(t->host, "Example.com:8080");
  auto bare = parse_target("HTTP://host");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
  EXPECT_FALSE(parse_target("http://user@host/"));
  EXPECT_FALSE(parse_target("http:///x"));
}

TEST(Target, OtherFormsAreBadRequests) {
  EXPECT_FALSE(parse_target("*"));
  EXPECT_FALSE(parse_target("example.com:443"));
  EXPECT_FALSE(parse_target(""));
}

TEST(Path, PercentEncodeForLocation) {
  EXPECT_EQ(percent_encode_path("/a b/c%d"), "/a%20b/c%25d");
  EXPECT_EQ(percent_encode_path("/ok-._~/x"), "/ok-._~/x");
}

}  // namespace
}  // namespace shoal::http
