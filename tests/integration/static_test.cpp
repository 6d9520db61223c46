// Static routes against the real server: bytes, HEAD, conditionals, ranges, directories,
// errors and traversal attempts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>

#include "harness.hpp"

namespace shoal::test {
namespace {

class StaticTest : public ::testing::Test {
 protected:
  static std::string random_bytes(size_t n) {
    std::mt19937 rng(42);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng() & 0xff);
    return out;
  }

  void SetUp() override {
    www_ = std::make_unique<TempDir>();
    write_file(*www_ / "www/index.html", "<h1>home</h1>\n");
    write_file(*www_ / "www/hello.txt", "Hello, shoal!\n");
    write_file(*www_ / "www/big.bin", random_bytes(1 << 20));
    write_file(*www_ / "www/a b.txt", "spaced\n");
    write_file(*www_ / "www/style.css", "body{}\n");
    write_file(*www_ / "www/app.wasm", "\0asm");
    write_file(*www_ / "www/file.unknownext", "?\n");
    write_file(*www_ / "www/docs/index.html", "<h1>docs</h1>\n");
    write_file(*www_ / "www/noindex/file.txt", "x\n");
    write_file(*www_ / "secret.txt", "TOP SECRET\n");
    server_ = std::make_unique<ShoalServer>(
        "workers: 1\n"
        "servers:\n"
        "  - listen: 127.0.0.1:@PORT@\n"
        "    routes:\n"
        "      - match: /\n"
        "        static: { root: " +
        (*www_ / "www") + " }\n");
  }

  std::unique_ptr<TempDir> www_;
  std::unique_ptr<ShoalServer> server_;
};

TEST_F(StaticTest, ServesTheFileBytesExactly) {
  auto r = get(server_->port(), "/big.bin");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, read_file(*www_ / "www/big.bin"));
  EXPECT_EQ(r->header("Content-Length"), std::to_string(1 << 20));
  EXPECT_EQ(r->header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r->header("Server"), "shoal");
  EXPECT_FALSE(r->header("Date").empty());
  EXPECT_EQ(r->header("Accept-Ranges"), "bytes");
}

TEST_F(StaticTest, PipelinedLargeFilesArriveWholeAndInOrder) {
  HttpClient client(server_->port());
  std::string burst;
  for (int i = 0; i < 6; ++i) {
    burst += i % 2 ? "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                   : "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  client.send(burst);
  const auto big = read_file(*www_ / "www/big.bin");
  for (int i = 0; i < 6; ++i) {
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, i % 2 ? "Hello, shoal!\n" : big) << i;
  }
}

TEST_F(StaticTest, ALastResponseArrivesWholeBeforeTheClose) {
  // The last segment of a reply before the close is held back to travel with the FIN: it
  // must still arrive, for small replies from memory, files sent with sendfile and errors.
  const std::pair<std::string, std::string> cases[] = {
      {"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "Hello, shoal!\n"},
      {"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
       read_file(*www_ / "www/big.bin")},
      {"GET /big.bin HTTP/1.0\r\n\r\n", read_file(*www_ / "www/big.bin")},
      {"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", ""},
  };
  for (const auto& [request, body] : cases) {
    HttpClient client(server_->port());
    client.send(request);
    auto r = client.read_response();
    ASSERT_TRUE(r) << request;
    if (body.empty()) {
      EXPECT_EQ(r->status, 404) << request;
    } else {
      EXPECT_EQ(r->body, body) << request;
    }
    EXPECT_TRUE(client.closed_by_peer()) << request;
  }
}

TEST_F(StaticTest, AClientThatLeavesMidTransferHarmsNobody) {
  for (int i = 0; i < 5; ++i) {
    HttpClient quitter(server_->port());
    quitter.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  }  // closed with most of the file unsent
  auto r = get(server_->port(), "/hello.txt");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "Hello, shoal!\n");
}

TEST_F(StaticTest, ContentTypeComesFromTheMimeTable) {
  EXPECT_EQ(get(server_->port(), "/hello.txt")->header("Content-Type"), "text/plain");
  EXPECT_EQ(get(server_->port(), "/style.css")->header("Content-Type"), "text/css");
  EXPECT_EQ(get(server_->port(), "/app.wasm")->header("Content-Type"), "application/wasm");
  EXPECT_EQ(get(server_->port(), "/")->header("Content-Type"), "text/html");
  EXPECT_EQ(get(server_->port(), "/file.unknownext")->header("Content-Type"),
            "application/octet-stream");
}

// A new user's first config names no mime_types and has no mime.types beside it: pages must
// still render as pages (the system table or the built-in one), not download as octet-stream.
TEST_F(StaticTest, WithoutMimeTypesTheWebTypesAreStillKnown) {
  ShoalServer server(
      "# mime_types: not set, the defaults apply\n"
      "workers: 1\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /\n"
      "        static: { root: " +
      (*www_ / "www") + " }\n");
  EXPECT_EQ(get(server.port(), "/")->header("Content-Type"), "text/html");
  EXPECT_EQ(get(server.port(), "/style.css")->header("Content-Type"), "text/css");
  EXPECT_EQ(get(server.port(), "/hello.txt")->header("Content-Type"), "text/plain");
  EXPECT_EQ(get(server.port(), "/app.wasm")->header("Content-Type"), "application/wasm");
  EXPECT_EQ(get(server.port(), "/file.unknownext")->header("Content-Type"),
            "application/octet-stream");
}

// nginx's error-log lines for static failures: the call, the path, errno, client, request.
TEST_F(StaticTest, FailuresAreExplainedInTheErrorLog) {
  write_file(*www_ / "www/locked.txt", "no\n");
  ::chmod((*www_ / "www/locked.txt").c_str(), 0);  // workers never run as root here
  EXPECT_EQ(get(server_->port(), "/locked.txt")->status, 403);
  EXPECT_EQ(get(server_->port(), "/missing.txt")->status, 404);
  EXPECT_EQ(get(server_->port(), "/noindex/")->status, 403);
  const std::string root = *www_ / "www";
  const auto line_with = [&](const std::string& text) {
    std::string found;
    wait_until([&] {
      const auto log = server_->error_log();
      const auto at = log.find(text);
      if (at == std::string::npos) return false;
      const auto start = log.rfind('\n', at) + 1;  // npos + 1 == 0
      found = log.substr(start, log.find('\n', at) - start);
      return true;
    });
    return found;
  };
  const auto denied =
      line_with("open() \"" + root + "/locked.txt\" failed (13: Permission denied)");
  EXPECT_NE(denied.find("[error] "), std::string::npos) << denied;
  EXPECT_NE(denied.find(", client: 127.0.0.1, request: \"GET /locked.txt HTTP/1.1\""),
            std::string::npos)
      << denied;
  // A 404 is routine: info, which `level: warn` leaves out.
  const auto missing =
      line_with("open() \"" + root + "/missing.txt\" failed (2: No such file or directory)");
  EXPECT_NE(missing.find("[info] "), std::string::npos) << missing;
  const auto forbidden = line_with("directory index of \"" + root + "/noindex/\" is forbidden");
  EXPECT_NE(forbidden.find("[error] "), std::string::npos) << forbidden;
}

TEST_F(StaticTest, LastModifiedAndEtagDescribeTheFile) {
  struct stat st {};
  ASSERT_EQ(stat((*www_ / "www/hello.txt").c_str(), &st), 0);
  auto r = get(server_->port(), "/hello.txt");
  ASSERT_TRUE(r);
  char etag[64];
  snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_mtime),
           static_cast<unsigned long long>(st.st_size));
  EXPECT_EQ(r->header("ETag"), etag);
  char date[64];
  std::tm tm{};
  gmtime_r(&st.st_mtime, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  EXPECT_EQ(r->header("Last-Modified"), date);
}

TEST_F(StaticTest, HeadSendsHeadersWithoutBody) {
  HttpClient client(server_->port());
  client.send(
      "HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = client.read_response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "14");
  EXPECT_EQ(head->body, "");
  // The next response on the connection starts right after the head: no stray body bytes.
  auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "Hello, shoal!\n");
}

TEST_F(StaticTest, ConditionalRequestsGive304) {
  auto first = get(server_->port(), "/hello.txt");
  ASSERT_TRUE(first);
  auto by_etag = get(server_->port(), "/hello.txt", {{"If-None-Match", first->header("ETag")}});
  EXPECT_EQ(by_etag->status, 304);
  EXPECT_EQ(by_etag->body, "");
  EXPECT_EQ(by_etag->header("ETag"), first->header("ETag"));
  auto by_date =
      get(server_->port(), "/hello.txt", {{"If-Modified-Since", first->header("Last-Modified")}});
  EXPECT_EQ(by_date->status, 304);
  auto old =
      get(server_->port(), "/hello.txt", {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}});
  EXPECT_EQ(old->status, 200);
  auto other = get(server_->port(), "/hello.txt", {{"If-None-Match", "\"nope\""}});
  EXPECT_EQ(other->status, 200);
  auto failed = get(server_->port(), "/hello.txt", {{"If-Match", "\"nope\""}});
  EXPECT_EQ(failed->status, 412);
}

TEST_F(StaticTest, OneRangeGives206) {
  auto r = get(server_->port(), "/hello.txt", {{"Range", "bytes=0-4"}});
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "Hello");
  EXPECT_EQ(r->header("Content-Range"), "bytes 0-4/14");
  EXPECT_EQ(r->header("Content-Length"), "5");
  auto suffix = get(server_->port(), "/hello.txt", {{"Range", "bytes=-7"}});
  EXPECT_EQ(suffix->status, 206);
  EXPECT_EQ(suffix->body, "shoal!\n");
  auto open_end = get(server_->port(), "/big.bin", {{"Range", "bytes=1048570-"}});
  EXPECT_EQ(open_end->status, 206);
  EXPECT_EQ(open_end->body, read_file(*www_ / "www/big.bin").substr(1048570));
  EXPECT_EQ(open_end->header("Content-Range"), "bytes 1048570-1048575/1048576");
}

TEST_F(StaticTest, UnsatisfiableRangeGives416AndOtherUnitsAreIgnored) {
  auto r = get(server_->port(), "/hello.txt", {{"Range", "bytes=100-200"}});
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->header("Content-Range"), "bytes */14");
  auto unit = get(server_->port(), "/hello.txt", {{"Range", "items=0-1"}});
  EXPECT_EQ(unit->status, 200);
  EXPECT_EQ(unit->body, "Hello, shoal!\n");
  auto stale =
      get(server_->port(), "/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", "\"stale-etag\""}});
  EXPECT_EQ(stale->status, 200);
}

TEST_F(StaticTest, DirectoriesRedirectServeIndexOrForbid) {
  auto redirect = get(server_->port(), "/docs?x=1");
  EXPECT_EQ(redirect->status, 301);
  EXPECT_EQ(redirect->header("Location"), "/docs/?x=1");
  auto index = get(server_->port(), "/docs/");
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<h1>docs</h1>\n");
  EXPECT_EQ(get(server_->port(), "/noindex/")->status, 403);
  EXPECT_EQ(get(server_->port(), "/missing.html")->status, 404);
  EXPECT_EQ(get(server_->port(), "/hello.txt/")->status, 404);
}

TEST_F(StaticTest, PercentDecodingAndAbsoluteForm) {
  auto spaced = get(server_->port(), "/a%20b.txt");
  EXPECT_EQ(spaced->status, 200);
  EXPECT_EQ(spaced->body, "spaced\n");
  auto absolute = get(server_->port(), "http://localhost/hello.txt");
  EXPECT_EQ(absolute->status, 200);
  EXPECT_EQ(absolute->body, "Hello, shoal!\n");
  auto inside = get(server_->port(), "/docs/%2e%2e/hello.txt");
  EXPECT_EQ(inside->status, 200);
  EXPECT_EQ(inside->body, "Hello, shoal!\n");
}

TEST_F(StaticTest, TraversalNeverLeavesTheRoot) {
  for (const char* path :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/docs/..%2f..%2fsecret.txt", "/docs/../../secret.txt", "/./../secret.txt",
        "/%252e%252e/secret.txt", "/..%5csecret.txt", "/docs/%2e%2e%2f%2e%2e%2fsecret.txt"}) {
    auto r = get(server_->port(), path);
    ASSERT_TRUE(r) << path;
    EXPECT_NE(r->status, 200) << path;
    EXPECT_EQ(r->body.find("TOP SECRET"), std::string::npos) << path;
  }
  EXPECT_EQ(get(server_->port(), "/../secret.txt")->status, 400);
  EXPECT_EQ(get(server_->port(), "/bad%zzescape")->status, 400);
  EXPECT_EQ(get(server_->port(), "/nul%00byte")->status, 400);
}

TEST_F(StaticTest, OtherMethodsGet405WithAllow) {
  auto r = get(server_->port(), "/hello.txt", {}, "DELETE");
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace shoal::test
