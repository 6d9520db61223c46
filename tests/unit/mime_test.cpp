// MIME table parsing and lookups, including the table shipped in conf/.
#include "http/mime.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "config/loader.hpp"

namespace shoal::http {
namespace {

TEST(Mime, ParsesAndLooksUpByExtension) {
  auto table = MimeTypes::parse("# comment\ntext/html html htm\n\nimage/png .PNG # trailing\n", "t",
                                "application/octet-stream");
  EXPECT_EQ(table.type_for_path("/a/index.html"), "text/html");
  EXPECT_EQ(table.type_for_path("/A.HTM"), "text/html");
  EXPECT_EQ(table.type_for_path("/x.png"), "image/png");
  EXPECT_EQ(table.type_for_path("/x.unknown"), "application/octet-stream");
  EXPECT_EQ(table.type_for_path("/noext"), "application/octet-stream");
  EXPECT_EQ(table.type_for_path("/dir.html/file"), "application/octet-stream");
  EXPECT_EQ(table.type_for_path("/trailingdot."), "application/octet-stream");
}

TEST(Mime, ErrorsNameTheLine) {
  try {
    MimeTypes::parse("text/html html\nnonsense\ntext/css\n  also-bad x\n", "mime.types", "x/y");
    FAIL() << "expected errors";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_EQ(e.errors()[0].to_string(),
              "mime.types:2:1: expected a media type such as text/html, got \"nonsense\"");
    EXPECT_EQ(e.errors()[1].to_string(),
              "mime.types:4:3: expected a media type such as text/html, got \"also-bad\"");
  }
}

// Debian's /etc/mime.types lists many types with no extension; they are valid and map nothing.
TEST(Mime, TypesWithoutExtensionsAreValid) {
  auto table = MimeTypes::parse(
      "application/1d-interleaved-parityfec\napplication/json\t\t\t\tjson\n"
      "text/html\t\t\t\t\thtml htm shtml\n",
      "mime.types", "x/y");
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.type_for_path("/a.json"), "application/json");
  EXPECT_EQ(table.type_for_path("/a.shtml"), "text/html");
}

TEST(Mime, TheSystemTableLoadsWhenPresent) {
  if (::access(kSystemMimeTypes, R_OK) != 0) GTEST_SKIP() << "no " << kSystemMimeTypes;
  auto table = MimeTypes::load(kSystemMimeTypes, "application/octet-stream");
  EXPECT_GT(table.size(), 100u);
  EXPECT_EQ(table.type_for_path("/index.html"), "text/html");
  EXPECT_EQ(table.type_for_path("/site.css"), "text/css");
}

TEST(Mime, TheBuiltinTableCoversTheWebTypes) {
  auto table = MimeTypes::builtin("application/octet-stream");
  const std::pair<const char*, const char*> expected[] = {
      {"a.html", "text/html"},        {"a.css", "text/css"},
      {"a.js", "text/javascript"},    {"a.mjs", "text/javascript"},
      {"a.json", "application/json"}, {"a.svg", "image/svg+xml"},
      {"a.png", "image/png"},         {"a.JPG", "image/jpeg"},
      {"a.gif", "image/gif"},         {"a.webp", "image/webp"},
      {"a.avif", "image/avif"},       {"a.ico", "image/x-icon"},
      {"a.woff", "font/woff"},        {"a.woff2", "font/woff2"},
      {"a.txt", "text/plain"},        {"a.xml", "text/xml"},
      {"a.pdf", "application/pdf"},   {"a.wasm", "application/wasm"},
      {"a.mp4", "video/mp4"},         {"a.webm", "video/webm"},
      {"a.mp3", "audio/mpeg"},        {"a.bin", "application/octet-stream"}};
  for (const auto& [path, type] : expected) EXPECT_EQ(table.type_for_path(path), type) << path;
}

TEST(Mime, TheShippedTableCoversTheCommonTypes) {
  auto table = MimeTypes::load(SHOAL_SOURCE_DIR "/conf/mime.types", "application/octet-stream");
  EXPECT_EQ(table.type_for_path("a.html"), "text/html");
  EXPECT_EQ(table.type_for_path("a.css"), "text/css");
  EXPECT_EQ(table.type_for_path("a.js"), "text/javascript");
  EXPECT_EQ(table.type_for_path("a.json"), "application/json");
  EXPECT_EQ(table.type_for_path("a.txt"), "text/plain");
  EXPECT_EQ(table.type_for_path("a.png"), "image/png");
  EXPECT_EQ(table.type_for_path("a.jpg"), "image/jpeg");
  EXPECT_EQ(table.type_for_path("a.svg"), "image/svg+xml");
  EXPECT_EQ(table.type_for_path("a.wasm"), "application/wasm");
}

}  // namespace
}  // namespace shoal::http
