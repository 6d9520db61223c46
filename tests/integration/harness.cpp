// Integration harness implementation: process control with fork/exec/waitpid and sockets.
#include "harness.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace shoal::test {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "shoal-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  // Workers started by root run as nobody (the default user): they must be able to read
  // what a test puts here, as they would a document root.
  std::filesystem::permissions(
      path_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                 std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                 std::filesystem::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  ::close(fd);
  return ntohs(sin.sin_port);
}

int listen_on_loopback(int port, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      ::listen(fd, backlog) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

ShoalServer::ShoalServer(const std::string& config_body, bool wait_ready,
                         const std::string& binary) {
  port_ = free_port();
  rewrite_config(config_body);

  pid_ = fork();
  if (pid_ == 0) {
    int out = ::open((dir_ / "stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    std::string conf = dir_ / "shoal.yaml";
    execl(binary.c_str(), binary.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (!wait_ready) return;
  bool ready = wait_until([&] {
    int status = 0;
    if (!exited_ && waitpid(pid_, &status, WNOHANG) == pid_) exited_ = true;
    if (exited_) return true;
    int fd = connect_to(port_);
    if (fd < 0) return false;
    ::close(fd);
    return error_log().find("shoal started") != std::string::npos;
  });
  if (!ready || exited_) {
    ADD_FAILURE() << "shoal did not start; its output:\n"
                  << read_file(dir_ / "stderr.log") << error_log();
  }
}

ShoalServer::~ShoalServer() {
  if (!exited_ && pid_ > 0) {
    // Graceful first, then fast, then forced: the server never outlives its test.
    if (!signal_and_wait(SIGQUIT, 10s) && !signal_and_wait(SIGTERM, 5s)) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      ADD_FAILURE() << "shoal had to be killed with SIGKILL";
    }
  }
  auto log = error_log() + read_file(dir_ / "stderr.log");
  EXPECT_EQ(log.find("[critical]"), std::string::npos) << log;
  EXPECT_EQ(log.find("Sanitizer"), std::string::npos) << log;
}

void ShoalServer::rewrite_config(const std::string& config_body, const ConfigHeader& header) {
  std::string config;
  if (config_body.find("pid_file") == std::string::npos) config += "pid_file: shoal.pid\n";
  if (config_body.find("mime_types") == std::string::npos) {
    config += "mime_types: " SHOAL_SOURCE_DIR "/conf/mime.types\n";
  }
  config +=
      "log:\n"
      "  error: { path: error.log, level: debug }\n"
      "  access: { path: \"" +
      header.access_log + "\" }\n";
  config +=
      replace_all(replace_all(config_body, "@PORT@", std::to_string(port_)), "@DIR@", dir_.path());
  write_file(dir_ / "shoal.yaml.tmp", config);
  std::rename((dir_ / "shoal.yaml.tmp").c_str(), (dir_ / "shoal.yaml").c_str());
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

CommandResult run_shoal(const std::vector<std::string>& args, const TempDir& dir) {
  std::string out_path = dir / "cmd.out";
  pid_t pid = fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> argv{const_cast<char*>(SHOAL_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(SHOAL_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out_path)};
}

CommandResult run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(("exec 2>&1 </dev/null; " + command).c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool alive(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close = stat.rfind(')');
  return close != std::string::npos && stat[close + 2] != 'Z';
}

std::string ShoalServer::error_log() const { return read_file(dir_ / "error.log"); }

std::optional<int> ShoalServer::signal_and_wait(int sig, std::chrono::milliseconds timeout) {
  if (exited_) return std::nullopt;
  kill(pid_, sig);
  int status = 0;
  if (wait_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) {
    exited_ = true;
    return status;
  }
  return std::nullopt;
}

std::vector<pid_t> ShoalServer::children() const { return children_of(pid_); }

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto stat = read_file(entry.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(std::stoi(name));
  }
  return out;
}

namespace {

// Field `n` (1-based, as in proc(5)) of /proc/PID/stat; -100 if unreadable.
int stat_field(pid_t pid, int n) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -100;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= n; ++i) rest >> field;  // fields start at 3 after "pid (comm)"
  return std::stoi(field);
}

}  // namespace

std::vector<TcpSocketRow> loopback_sockets_on(int port) {
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  std::istringstream table(read_file("/proc/net/tcp"));
  std::string line;
  std::vector<TcpSocketRow> rows;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, address, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> address >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (address != local) continue;
    const auto colon = queues.find(':');
    rows.push_back({state, std::strtol(queues.substr(0, colon).c_str(), nullptr, 16),
                    std::strtol(queues.substr(colon + 1).c_str(), nullptr, 16), inode});
  }
  return rows;
}

int nice_of(pid_t pid) { return stat_field(pid, 19); }
int policy_of(pid_t pid) { return stat_field(pid, 41); }

std::string Response::header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return "";
}

bool Response::has_header(const std::string& name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return true;
  }
  return false;
}

HttpClient::HttpClient(int port) : fd_(connect_to(port)) {
  if (fd_ < 0) throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpClient::send(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void HttpClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool HttpClient::wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (!fill(deadline)) return false;
  }
  return true;
}

PreloadedShim::PreloadedShim(const char* library, std::string name, const std::string& value)
    : name_(std::move(name)) {
  if (const char* asan = getenv("ASAN_OPTIONS")) saved_asan_ = asan;
  setenv("LD_PRELOAD", library, 1);
  setenv(name_.c_str(), value.c_str(), 1);
  setenv("ASAN_OPTIONS",
         ((saved_asan_ ? *saved_asan_ + ":" : std::string()) + "verify_asan_link_order=0").c_str(),
         1);
}

PreloadedShim::~PreloadedShim() {
  unsetenv("LD_PRELOAD");
  unsetenv(name_.c_str());
  if (saved_asan_) {
    setenv("ASAN_OPTIONS", saved_asan_->c_str(), 1);
  } else {
    unsetenv("ASAN_OPTIONS");
  }
}

std::optional<std::string> HttpClient::read_bytes(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::optional<std::string> HttpClient::read_until(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
  if (!wait_for(needle, timeout)) return std::nullopt;
  return read_bytes(buffer_.find(needle) + needle.size(), timeout);
}

bool HttpClient::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

namespace {

struct ResponseParse {
  Response response;
  std::string field;
  bool in_value = false;
  bool head = false;
  bool complete = false;
};

int on_field(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<ResponseParse*>(p->data);
  if (s->in_value || s->response.headers.empty()) s->response.headers.emplace_back();
  if (s->in_value) s->in_value = false;
  s->response.headers.back().first.append(at, len);
  return 0;
}

int on_value(llhttp_t* p, const char* at, size_t len) {
  auto* s = static_cast<ResponseParse*>(p->data);
  s->in_value = true;
  s->response.headers.back().second.append(at, len);
  return 0;
}

int on_headers_complete(llhttp_t* p) {
  auto* s = static_cast<ResponseParse*>(p->data);
  s->response.status = p->status_code;
  s->response.http_minor = p->http_minor;
  s->response.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (p->status_code >= 100 && p->status_code < 200) s->response.headers.clear();
  return s->head ? 1 : 0;  // 1: no body follows (HEAD)
}

int on_body(llhttp_t* p, const char* at, size_t len) {
  static_cast<ResponseParse*>(p->data)->response.body.append(at, len);
  return 0;
}

int on_message_complete(llhttp_t* p) {
  auto* s = static_cast<ResponseParse*>(p->data);
  if (s->response.status >= 100 && s->response.status < 200) return 0;  // skip 100 Continue
  s->complete = true;
  return HPE_PAUSED;
}

}  // namespace

std::optional<Response> HttpClient::read_response(bool head_request,
                                                  std::chrono::milliseconds timeout) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_header_field = on_field;
  settings.on_header_value = on_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &settings);
  ResponseParse state;
  state.head = head_request;
  parser.data = &state;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t fed = 0;
  while (true) {
    if (fed < buffer_.size()) {
      auto err = llhttp_execute(&parser, buffer_.data() + fed, buffer_.size() - fed);
      if (err == HPE_PAUSED) {
        size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser) - buffer_.data());
        buffer_.erase(0, used);
        return state.response;
      }
      if (err != HPE_OK) {
        ADD_FAILURE() << "bad response: " << llhttp_get_error_reason(&parser);
        return std::nullopt;
      }
      fed = buffer_.size();
    }
    if (!fill(deadline)) {
      // EOF: a response delimited by close completes here.
      if (llhttp_finish(&parser) == HPE_OK && state.complete) {
        buffer_.clear();
        return state.response;
      }
      return std::nullopt;
    }
  }
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    buffer_.append(buf, static_cast<size_t>(n));
  }
  return false;
}

std::optional<Response> get(int port, const std::string& path,
                            const std::map<std::string, std::string>& headers,
                            const std::string& method) {
  HttpClient client(port);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "Connection: close\r\n\r\n";
  client.send(request);
  return client.read_response(method == "HEAD");
}

MetricSamples parse_metrics(const std::string& text) {
  MetricSamples samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double metric_sum(const MetricSamples& samples, const std::string& name,
                  const std::vector<std::string>& parts) {
  double total = 0;
  for (const auto& [key, value] : samples) {
    if (key != name && !key.starts_with(name + "{")) continue;
    bool all = true;
    for (const auto& p : parts) all = all && key.find(p) != std::string::npos;
    if (all) total += value;
  }
  return total;
}

Upstream::Upstream(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    ::close(out[0]);
    std::vector<std::string> all{"python3", SHOAL_SOURCE_DIR "/tests/upstream/upstream.py"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp("python3", argv.data());
    _exit(127);
  }
  ::close(out[1]);
  FILE* in = fdopen(out[0], "r");
  char line[64] = {};
  if (in && std::fgets(line, sizeof line, in)) std::sscanf(line, "ready %d", &port_);
  if (in) std::fclose(in);
  EXPECT_GT(port_, 0) << "the test upstream did not start";
}

Upstream::~Upstream() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

}  // namespace shoal::test
