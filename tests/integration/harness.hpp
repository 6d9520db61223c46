// Integration test harness: ShoalServer starts the real build/shoal with a temp config on an
// ephemeral port and always stops it (QUIT, then TERM, then KILL); HttpClient talks HTTP/1.1
// over a real socket and parses responses with llhttp (never by hand).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shoal::test {

using namespace std::chrono_literals;

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
// How many times `needle` occurs in `text` (non-overlapping).
size_t count(const std::string& text, const std::string& needle);

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A TCP port nobody listens on right now.
int free_port();
// A socket listening on 127.0.0.1:`port`, close-on-exec (so a server started next does not
// inherit it); -1 when bind or listen fails. The caller closes it.
int listen_on_loopback(int port, int backlog = 16);

// Live (not zombie) child processes of `parent`, from /proc.
std::vector<pid_t> children_of(pid_t parent);
// Field 19 of /proc/PID/stat: the process's nice value.
int nice_of(pid_t pid);
// Field 41 of /proc/PID/stat: the scheduling policy (0 normal, 5 SCHED_IDLE).
int policy_of(pid_t pid);

// One IPv4 loopback socket from /proc/net/tcp on `port` (as its local port).
struct TcpSocketRow {
  std::string state;  // "0A" listening, "01" established
  long tx_queue = 0;  // bytes queued for sending
  long rx_queue = 0;  // bytes received and unread; for a listening socket, connections
                      // waiting to be accepted
  std::string inode;  // the socket's identity: the same inode is the same socket
};
std::vector<TcpSocketRow> loopback_sockets_on(int port);

// Polls `condition` every 10 ms until it holds or `timeout` passes.
template <typename F>
bool wait_until(F condition, std::chrono::milliseconds timeout = 10s);

// An LD_PRELOAD shim (tests/shim) for the processes started while this lives, with its one
// variable `name`=`value`; the environment is put back when it goes. Under AddressSanitizer
// the shim comes before the runtime in the library list, which ASan is told to accept.
class PreloadedShim {
 public:
  PreloadedShim(const char* library, std::string name, const std::string& value);
  ~PreloadedShim();
  PreloadedShim(const PreloadedShim&) = delete;
  PreloadedShim& operator=(const PreloadedShim&) = delete;

 private:
  std::string name_;
  std::optional<std::string> saved_asan_;
};

// What ShoalServer's generated header says besides the pid file and MIME table.
struct ConfigHeader {
  std::string access_log = "access.log";  // relative to the temp dir, or any path
};

class ShoalServer {
 public:
  // `config_body` is YAML placed after a generated header that sets the error log, the pid
  // file and mime_types (each left out when the body mentions pid_file or mime_types, even in
  // a comment);
  // "@PORT@" and "@DIR@" in it are replaced by the port and temp dir.
  // `binary` is the executable to run (a copy, for the upgrade tests).
  explicit ShoalServer(const std::string& config_body, bool wait_ready = true,
                       const std::string& binary = SHOAL_BINARY);
  ~ShoalServer();
  ShoalServer(const ShoalServer&) = delete;
  ShoalServer& operator=(const ShoalServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const TempDir& dir() const { return dir_; }
  std::string error_log() const;
  std::string config_path() const { return dir_ / "shoal.yaml"; }
  // Writes a new config (generated header, same port) for a reload to pick up.
  void rewrite_config(const std::string& config_body, const ConfigHeader& header = {});

  // Sends `sig` to the master and waits for it to exit; returns its wait status.
  std::optional<int> signal_and_wait(int sig, std::chrono::milliseconds timeout = 10s);
  // The pids of the master's children, from /proc.
  std::vector<pid_t> children() const;

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool exited_ = false;
};

struct Response {
  int status = 0;
  int http_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;

  // The first header with this name (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
};

// The test upstream (tests/upstream/upstream.py) on an ephemeral port, stopped when this goes.
class Upstream {
 public:
  explicit Upstream(const std::vector<std::string>& args = {});
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class HttpClient {
 public:
  explicit HttpClient(int port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void send(const std::string& bytes);
  // Reads one response; `head_request` says the request was HEAD (no body follows).
  // nullopt if the connection closed or timed out before a whole response arrived.
  std::optional<Response> read_response(bool head_request = false,
                                        std::chrono::milliseconds timeout = 10s);
  // True when the server closed the connection (EOF) within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout = 10s);
  // Reads raw bytes until `needle` has arrived; false on close or timeout. The bytes stay
  // buffered for read_response.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s);
  // Exactly `n` raw bytes (after what read_response left buffered); nullopt on close or
  // timeout first.
  std::optional<std::string> read_bytes(size_t n, std::chrono::milliseconds timeout = 10s);
  // The raw bytes up to and including `needle` (e.g. a head that read_response would not
  // take: a 101's); nullopt on close or timeout first.
  std::optional<std::string> read_until(const std::string& needle,
                                        std::chrono::milliseconds timeout = 10s);
  // Shuts down our sending side.
  void shutdown_write();

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
};

struct CommandResult {
  int status = -1;     // exit status, -1 when killed
  std::string output;  // stdout and stderr together
};
// Runs build/shoal with `args` to completion (e.g. `-s reload -c FILE`).
CommandResult run_shoal(const std::vector<std::string>& args, const TempDir& dir);

// Runs `command` with /bin/sh to completion, stdin from /dev/null unless the command says
// otherwise (e.g. curl, openssl s_client).
CommandResult run_command(const std::string& command);

// A Prometheus text scrape as 'name{labels}' -> value (comments skipped).
using MetricSamples = std::map<std::string, double>;
MetricSamples parse_metrics(const std::string& text);
// The sum of the samples of `name` whose label text holds every one of `parts`.
double metric_sum(const MetricSamples& samples, const std::string& name,
                  const std::vector<std::string>& parts = {});

// True while `pid` exists and is not a zombie.
bool alive(pid_t pid);

// One request on a new connection: "GET path HTTP/1.1" with Host and Connection: close.
std::optional<Response> get(int port, const std::string& path,
                            const std::map<std::string, std::string>& headers = {},
                            const std::string& method = "GET");

template <typename F>
bool wait_until(F condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    struct timespec ts {
      0, 10'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return condition();
}

}  // namespace shoal::test
