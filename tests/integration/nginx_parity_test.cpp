// Parity with nginx 1.22: the same requests for the same files, served by shoal and by a real
// nginx (from Debian's package) side by side, must get the same status, Content-Length,
// Content-Range, Content-Type, Last-Modified, ETag and body. Error-page bodies and redirect
// Locations are each server's own and are not compared. Skipped when nginx is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace shoal::test {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

// nginx's `types` block made from shoal's conf/mime.types, so both use one table.
std::string nginx_types() {
  std::istringstream in(read_file(SHOAL_SOURCE_DIR "/conf/mime.types"));
  std::string line;
  std::string out = "types {\n";
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    out += "  " + line + ";\n";
  }
  return out + "}\n";
}

class Nginx {
 public:
  Nginx(const TempDir& dir, const std::string& root) : dir_(dir), port_(free_port()) {
    std::string conf = std::string(geteuid() == 0 ? "user root;\n" : "") +
                       "worker_processes 1;\n"
                       "error_log " +
                       (dir / "nginx-error.log") +
                       ";\n"
                       "pid " +
                       (dir / "nginx.pid") +
                       ";\n"
                       "events { worker_connections 64; }\n"
                       "http {\n" +
                       nginx_types() +
                       "  default_type application/octet-stream;\n"
                       "  access_log off;\n"
                       "  client_body_temp_path " +
                       (dir / "body") +
                       ";\n"
                       "  server {\n"
                       "    listen 127.0.0.1:" +
                       std::to_string(port_) +
                       ";\n"
                       "    root " +
                       root +
                       ";\n"
                       "    index index.html;\n"
                       "  }\n"
                       "}\n";
    write_file(dir / "nginx.conf", conf);
    pid_ = fork();
    if (pid_ == 0) {
      std::string c = dir / "nginx.conf";
      std::string p = dir.path() + "/";
      execl(kNginx, kNginx, "-p", p.c_str(), "-c", c.c_str(), "-g", "daemon off;",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    ready_ = wait_until([&] {
      try {
        HttpClient probe(port_);
        return true;
      } catch (const std::exception&) {
        return false;
      }
    });
  }
  ~Nginx() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  bool ready() const { return ready_; }

 private:
  const TempDir& dir_;
  int port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

struct Case {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;
};

TEST(NginxParity, SameAnswersForTheSameFiles) {
  if (access(kNginx, X_OK) != 0) GTEST_SKIP() << "nginx is not installed";
  TempDir files;
  write_file(files / "www/index.html", "<h1>home</h1>\n");
  write_file(files / "www/hello.txt", "Hello, parity!\n");
  write_file(files / "www/data.json", "{\"a\": 1}\n");
  write_file(files / "www/pic.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
  write_file(files / "www/app.js", "console.log(1)\n");
  write_file(files / "www/blob", std::string(70000, 'z'));
  write_file(files / "www/empty.txt", "");
  write_file(files / "www/docs/index.html", "<h1>docs</h1>\n");
  write_file(files / "www/noindex/x.txt", "x\n");

  ShoalServer shoal(
      "workers: 1\nservers:\n  - listen: 127.0.0.1:@PORT@\n    routes:\n"
      "      - match: /\n        static: { root: " +
      (files / "www") + " }\n");
  Nginx nginx(files, files / "www");
  ASSERT_TRUE(nginx.ready()) << read_file(files / "nginx-error.log");

  auto etag = get(nginx.port(), "/hello.txt")->header("ETag");
  auto last_modified = get(nginx.port(), "/hello.txt")->header("Last-Modified");
  const std::vector<Case> cases = {
      {"GET", "/", {}},
      {"GET", "/index.html", {}},
      {"GET", "/hello.txt", {}},
      {"HEAD", "/hello.txt", {}},
      {"GET", "/data.json", {}},
      {"GET", "/pic.svg", {}},
      {"GET", "/app.js", {}},
      {"GET", "/blob", {}},
      {"GET", "/empty.txt", {}},
      {"GET", "/docs/", {}},
      {"GET", "/docs", {}},
      {"GET", "/noindex/", {}},
      {"GET", "/missing", {}},
      {"GET", "/hello.txt/", {}},
      {"GET", "/../hello.txt", {}},
      {"GET", "/docs/../hello.txt", {}},
      {"GET", "/%68ello.txt", {}},
      {"GET", "http://localhost/hello.txt", {}},
      {"GET", "/hello.txt", {{"If-None-Match", etag}}},
      {"GET", "/hello.txt", {{"If-None-Match", "\"other\""}}},
      {"GET", "/hello.txt", {{"If-Modified-Since", last_modified}}},
      {"GET", "/hello.txt", {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=0-4"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=7-"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=-3"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=3-1000"}}},
      {"GET", "/blob", {{"Range", "bytes=65536-"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=100-"}}},
      {"GET", "/hello.txt", {{"Range", "items=0-1"}}},
      {"GET", "/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", etag}}},
      {"GET", "/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", "\"stale\""}}},
      {"HEAD", "/hello.txt", {{"Range", "bytes=0-1"}}},
      {"POST", "/hello.txt", {}},
      {"DELETE", "/hello.txt", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    auto ours = get(shoal.port(), c.path, c.headers, c.method);
    auto theirs = get(nginx.port(), c.path, c.headers, c.method);
    ASSERT_TRUE(ours);
    ASSERT_TRUE(theirs);
    ASSERT_EQ(theirs->header("Server").rfind("nginx", 0), 0u);  // really two servers
    EXPECT_EQ(ours->status, theirs->status);
    for (const char* h : {"Content-Range", "Last-Modified", "ETag"}) {
      EXPECT_EQ(ours->header(h), theirs->header(h)) << h;
    }
    if (ours->status < 300) {
      EXPECT_EQ(ours->header("Content-Type"), theirs->header("Content-Type"));
      EXPECT_EQ(ours->header("Content-Length"), theirs->header("Content-Length"));
      EXPECT_EQ(ours->body, theirs->body);
    }
  }
}

}  // namespace
}  // namespace shoal::test
