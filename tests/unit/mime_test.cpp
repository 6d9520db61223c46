// MIME table parsing and lookups, including the table shipped in conf/.
#include "http/mime.hpp"

#include <gtest/gtest.h>

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
    MimeTypes::parse("text/html html\nnonsense\ntext/css\n", "mime.types", "x/y");
    FAIL() << "expected errors";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 2u);
    EXPECT_EQ(e.errors()[0].to_string(),
              "mime.types:2:1: expected a media type such as text/html, got \"nonsense\"");
    EXPECT_EQ(e.errors()[1].to_string(),
              "mime.types:3:9: expected one or more file extensions after \"text/css\"");
  }
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
