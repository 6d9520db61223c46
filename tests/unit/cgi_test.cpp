// CGI logic without processes: the program's header block, meta-variables, program lookup.
#include "helpers/cgi.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace shoal::helpers {
namespace {

CgiHeadResult parse(std::string_view out, CgiHead& head, size_t& offset) {
  return parse_cgi_head(out, head, offset);
}

TEST(CgiHead, ContentTypeAndBody) {
  CgiHead head;
  size_t offset = 0;
  std::string out = "Content-Type: text/html\nX-A:  b \n\n<p>hi";
  ASSERT_EQ(parse(out, head, offset), CgiHeadResult::kDone);
  EXPECT_EQ(head.status, 200);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[1], (std::pair<std::string, std::string>{"X-A", "b"}));
  EXPECT_EQ(out.substr(offset), "<p>hi");
}

TEST(CgiHead, StatusAndLocation) {
  CgiHead head;
  size_t offset = 0;
  ASSERT_EQ(parse("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n", head, offset),
            CgiHeadResult::kDone);
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.headers.size(), 1u);  // Status is not passed on as a header
  ASSERT_EQ(parse("Location: /elsewhere\n\n", head, offset), CgiHeadResult::kDone);
  EXPECT_EQ(head.status, 302);
  ASSERT_EQ(parse("Status: 301\nLocation: /x\n\n", head, offset), CgiHeadResult::kDone);
  EXPECT_EQ(head.status, 301);
}

TEST(CgiHead, FramingHeadersAreDropped) {
  CgiHead head;
  size_t offset = 0;
  ASSERT_EQ(parse("Content-Type: a/b\nContent-Length: 99\nTransfer-Encoding: x\n\n", head, offset),
            CgiHeadResult::kDone);
  EXPECT_EQ(head.headers.size(), 1u);
}

TEST(CgiHead, IncompleteAndInvalid) {
  CgiHead head;
  size_t offset = 0;
  EXPECT_EQ(parse("Content-Type: text/plain\n", head, offset), CgiHeadResult::kIncomplete);
  EXPECT_EQ(parse("", head, offset), CgiHeadResult::kIncomplete);
  EXPECT_EQ(parse("hello world\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("X-Only: 1\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("Status: abc\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("Status: 999\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("Bad Name: x\nContent-Type: a/b\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("Content-Type: a\x01z\n\n", head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse(std::string(20000, 'a'), head, offset), CgiHeadResult::kInvalid);
  EXPECT_EQ(parse("\n", head, offset), CgiHeadResult::kInvalid);  // empty block
}

TEST(CgiEnvironment, MetaVariablesAndHeaders) {
  std::vector<std::pair<std::string, std::string>> headers{
      {"Host", "example.test"}, {"Content-Type", "text/plain"}, {"Content-Length", "3"},
      {"X-Custom-Thing", "a"},  {"x-custom-thing", "b"},        {"Proxy", "evil:1"},
      {"Bad Header", "dropped"}};
  auto env = cgi_environment({"POST", "/cgi-bin/a?x=1", "x=1", "HTTP/1.1", "example.test", 8080,
                              "127.0.0.1", 5555, &headers});
  auto has = [&](const std::string& e) {
    return std::find(env.begin(), env.end(), e) != env.end();
  };
  EXPECT_TRUE(has("GATEWAY_INTERFACE=CGI/1.1"));
  EXPECT_TRUE(has("SERVER_PROTOCOL=HTTP/1.1"));
  EXPECT_TRUE(has("SERVER_NAME=example.test"));
  EXPECT_TRUE(has("SERVER_PORT=8080"));
  EXPECT_TRUE(has("REQUEST_METHOD=POST"));
  EXPECT_TRUE(has("REQUEST_URI=/cgi-bin/a?x=1"));
  EXPECT_TRUE(has("QUERY_STRING=x=1"));
  EXPECT_TRUE(has("REMOTE_ADDR=127.0.0.1"));
  EXPECT_TRUE(has("REMOTE_PORT=5555"));
  EXPECT_TRUE(has("CONTENT_TYPE=text/plain"));
  EXPECT_TRUE(has("HTTP_HOST=example.test"));
  EXPECT_TRUE(has("HTTP_X_CUSTOM_THING=a, b"));
  for (const auto& e : env) {
    EXPECT_FALSE(e.starts_with("HTTP_PROXY=")) << e;
    EXPECT_FALSE(e.starts_with("HTTP_CONTENT_LENGTH=")) << e;
    EXPECT_EQ(e.find("dropped"), std::string::npos) << e;
  }
}

class CgiLocate : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("shoal-cgi-" + std::to_string(getpid()));
    std::filesystem::create_directories(root_ / "sub");
    write(root_ / "run.sh", 0755);
    write(root_ / "sub/deep.sh", 0755);
    write(root_ / "plain.txt", 0644);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  static void write(const std::filesystem::path& p, int mode) {
    std::ofstream(p) << "#!/bin/sh\n";
    chmod(p.c_str(), static_cast<mode_t>(mode));
  }
  std::filesystem::path root_;
};

TEST_F(CgiLocate, FindsTheProgramAndPathInfo) {
  auto loc = locate_cgi_script(root_.string(), "/cgi-bin/", "/cgi-bin/run.sh/a/b");
  EXPECT_EQ(loc.status, 0);
  EXPECT_EQ(loc.filename, (root_ / "run.sh").string());
  EXPECT_EQ(loc.script_name, "/cgi-bin/run.sh");
  EXPECT_EQ(loc.path_info, "/a/b");
  auto deep = locate_cgi_script(root_.string(), "/cgi", "/cgi/sub/deep.sh");
  EXPECT_EQ(deep.status, 0);
  EXPECT_EQ(deep.script_name, "/cgi/sub/deep.sh");
  EXPECT_EQ(deep.path_info, "");
}

TEST_F(CgiLocate, MissingIs404AndNotExecutableIs403) {
  EXPECT_EQ(locate_cgi_script(root_.string(), "/cgi-bin/", "/cgi-bin/nope.sh").status, 404);
  EXPECT_EQ(locate_cgi_script(root_.string(), "/cgi-bin/", "/cgi-bin/plain.txt").status, 403);
  EXPECT_EQ(locate_cgi_script(root_.string(), "/cgi-bin/", "/cgi-bin/").status, 403);
  EXPECT_EQ(locate_cgi_script(root_.string(), "/cgi-bin/", "/cgi-bin/sub/").status, 403);
}

}  // namespace
}  // namespace shoal::helpers
