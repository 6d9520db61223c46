// Faults around the server, not in it: a full disk under a log, no descriptors left. The
// server keeps serving, says so in the error log, and never floods it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

#include "harness.hpp"

namespace shoal::test {
namespace {

// Issue 14, defect 9: an access log on a full disk (/dev/full: every write is ENOSPC) is
// reported in the error log, a line a second at most, and every request is still served.
TEST(FaultsTest, AFullDiskUnderTheAccessLogIsReportedAndServingGoesOn) {
  const std::string body =
      "workers: 1\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: { status: 200, body: \"ok\" }\n";
  ShoalServer server(body);
  server.rewrite_config(body, {"/dev/full"});
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(reload.status, 0) << reload.output;
  constexpr int kRequests = 50;
  HttpClient client(server.port());
  for (int i = 0; i < kRequests; ++i) {
    client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  const std::string report =
      "write() to access log \"/dev/full\" failed (28: No space left on device)";
  ASSERT_TRUE(wait_until([&] { return server.error_log().find(report) != std::string::npos; }));
  const auto log = server.error_log();
  EXPECT_NE(log.find("1 line lost so far; serving goes on"), std::string::npos) << log;
  EXPECT_LT(count(log, report), static_cast<size_t>(kRequests)) << log;  // not one per line
}

// Issue 14, defect 8: with no descriptor left, accept4's EMFILE (retried every 100 ms) is
// logged once a second with a count of what was held back, and a request on a connection
// already open that needs a file gets a 500 whose cause is in the error log.
TEST(FaultsTest, RunningOutOfDescriptorsIsLoggedOnceASecondWithACount) {
  TempDir bin;
  const std::string wrapper = bin / "shoal";
  write_file(wrapper, std::string("#!/bin/sh\nulimit -n 48\nexec ") + SHOAL_BINARY + " \"$@\"\n");
  chmod(wrapper.c_str(), 0755);
  TempDir site;
  write_file(site / "www/a.txt", "a\n");
  ShoalServer server(
      "workers: 1\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /\n"
      "        static: { root: " +
          site / "www" + " }\n",
      true, wrapper);
  auto first = std::make_unique<HttpClient>(server.port());
  first->send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n");  // accepted while there is room
  ASSERT_TRUE(first->read_response());
  std::vector<std::unique_ptr<HttpClient>> crowd;
  for (int i = 0; i < 64; ++i) crowd.push_back(std::make_unique<HttpClient>(server.port()));
  const std::string emfile = "accept4() failed (24: Too many open files)";
  ASSERT_TRUE(wait_until([&] {
    return server.error_log().find(emfile + " (") != std::string::npos;  // "(N similar ...)"
  })) << server.error_log();
  const auto log = server.error_log();
  EXPECT_NE(log.find("similar lines suppressed"), std::string::npos) << log;
  // A file not in the cache yet cannot be opened now: 500, and the reason is logged.
  write_file(site / "www/b.txt", "b\n");
  first->send("GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = first->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("b.txt\" failed (24: Too many open files), client: ") !=
           std::string::npos;
  })) << server.error_log();
  crowd.clear();
}

}  // namespace
}  // namespace shoal::test
