// ControlServer: the master's control socket, a Unix stream socket beside the pid file
// (owner-only). A client sends one command line ("reload", "reopen", "quit", "stop",
// "upgrade") and reads the answer: lines of text, then "ok SUMMARY" or "error SUMMARY".
// ControlReply is one waiting client; the master keeps it until the outcome is known.
// The client side (`shoal -s`) is control_client.hpp.
#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

// A request: the command's line, then "deadline=MS" on a line of its own when the client waits
// only until then (CLOCK_REALTIME, milliseconds since the epoch). A command read after its
// deadline is not carried out: its client has given up and said so (a master that was stopped
// or hung reads its queue later). The deadline is a line of its own so that a master of the
// previous release, which reads the first line only, still understands a newer `shoal -s`
// (a binary installed before its upgrade), and an older client's lone line still works here.
struct ControlCommand {
  std::string name;              // "reload", "status json", ...
  std::int64_t deadline_ms = 0;  // 0: none
};
std::string format_control_request(const ControlCommand& command);
// nullopt while the request is not whole yet.
std::optional<ControlCommand> parse_control_request(std::string_view input);
std::int64_t realtime_ms();

// "/run/shoal/shoal.pid" -> "/run/shoal/shoal.sock"; any other name gets ".sock" appended.
std::string control_socket_path(const std::string& pid_file);

// Binds and listens on `path` (replacing a stale socket file), mode 0600, close-on-exec and
// non-blocking. Throws StartupError. The master binds it before it writes the pid file, so a
// pid file whose master is running always has a control socket that answers.
UniqueFd bind_control_socket(const std::string& path);
// Throws StartupError when a master answers on `path`: this configuration's server runs.
void refuse_if_a_master_answers(const std::string& path);

class ControlReply {
 public:
  ControlReply() = default;
  explicit ControlReply(UniqueFd fd) : fd_(std::move(fd)) {}

  // A line of detail (a config error, a note). Never blocks: answers are small, and a client
  // that stopped reading loses the rest.
  void line(std::string_view text);
  // The last line; the connection closes when this object is destroyed.
  void finish(bool ok, std::string_view summary);
  bool valid() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  // For the upgrade state: the fd stays open across execve and the new image answers.
  [[nodiscard]] int release() { return fd_.release(); }

 private:
  UniqueFd fd_;
};

class ControlServer {
 public:
  using Handler = std::function<void(const std::string& command, ControlReply reply)>;

  // Binds `path` (bind_control_socket). Throws StartupError.
  ControlServer(event_base* base, std::string path, Handler handler);
  // Adopts a socket already bound and listening (bound before -d forked, or across an
  // upgrade); this process removes the file when the server is destroyed.
  ControlServer(event_base* base, std::string path, UniqueFd fd, Handler handler);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  // Removes the socket file, except in a forked child.
  ~ControlServer();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  struct Pending {
    ControlServer* server = nullptr;
    UniqueFd fd;
    std::unique_ptr<event, EventDeleter> ev;
    std::string input;
  };
  static void on_accept(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_request(evutil_socket_t fd, short what, void* arg) noexcept;
  void start(event_base* base);
  void finish_pending(Pending* pending);

  std::string path_;
  pid_t owner_ = 0;
  UniqueFd fd_;
  Handler handler_;
  event_base* base_ = nullptr;
  std::unique_ptr<event, EventDeleter> accept_event_;
  std::list<Pending> pending_;
};

}  // namespace shoal
