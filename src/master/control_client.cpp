// The client end of the control socket (server: control.cpp). Blocking I/O is fine here:
// this is a short-lived CLI process, not an event loop.
#include "master/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "config/loader.hpp"
#include "master/control.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

namespace {

bool known_command(const std::string& name) {
  for (const char* known : {"reload", "reopen", "quit", "stop", "upgrade", "status"}) {
    if (name == known) return true;
  }
  return false;
}

// A pid file whose master is running always has a control socket that answers (the master
// binds it before writing the pid): with none, the pid file is stale, and the process it names
// (a reused pid: a user's shell, say) is never signalled. This only says what is there.
int stale_pid_file(const std::string& pid_file, const std::string& socket_path, int connect_errno) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!in) {
    std::cerr << "shoal: no running master: cannot read pid file " << pid_file << " ("
              << std::strerror(errno) << ")\n";
    return 1;
  }
  if (!(in >> pid) || pid <= 1) {
    std::cerr << "shoal: pid file " << pid_file << " does not hold a pid\n";
    return 1;
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  if (::access(proc.c_str(), F_OK) != 0) {
    std::cerr << "shoal: no running master: pid file " << pid_file << " names pid " << pid
              << ", which is not running (a stale pid file)\n";
    return 1;
  }
  std::string comm;
  std::ifstream(proc + "/comm") >> comm;
  std::cerr << "shoal: stale pid file " << pid_file << ": pid " << pid << " ("
            << (comm.empty() ? "unknown" : comm) << ") is running but no shoal master answers on "
            << socket_path << " (" << std::strerror(connect_errno)
            << "), so it is not this configuration's master; no signal sent\n";
  return 1;
}

// The pid the pid file names, for messages only; 0 when unreadable.
long pid_in(const std::string& pid_file) {
  long pid = 0;
  std::ifstream(pid_file) >> pid;
  return pid;
}

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

std::chrono::milliseconds default_control_timeout(const std::string& name) {
  using std::chrono::seconds;
  if (name == "reload") return seconds(120);
  if (name == "upgrade") return seconds(300);
  if (name == "quit") return seconds(600);  // drain_delay + shutdown_timeout may be minutes
  if (name == "stop") return seconds(60);
  return seconds(30);  // reopen, status
}

bool is_control_command(const std::string& name) { return known_command(name); }

int run_control_command(const std::string& name, const std::string& config_path,
                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return std::max<long long>(0, left.count());
  };
  std::string pid_file;
  try {
    pid_file = find_pid_file(config_path);
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << "shoal: " << error.to_string() << "\n";
    std::cerr << "shoal: cannot find the master without the pid_file of " << config_path << "\n";
    return 1;
  }
  if (pid_file.empty()) {
    std::cerr << "shoal: " << config_path
              << ": pid_file is not a path, so the running master cannot be found\n";
    return 1;
  }
  const std::string path = control_socket_path(pid_file);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::cerr << "shoal: control socket path " << path << " is too long\n";
    return 1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto no_answer = [&](const char* doing) {
    const long pid = pid_in(pid_file);
    std::cerr << "shoal: " << name << ": no answer from the master"
              << (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) << " within "
              << seconds_text(timeout) << " " << doing
              << "; it may be stopped or hung (see its error log; --timeout waits longer)\n";
    return 1;
  };
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // A master that does not accept (stopped) fills its backlog, and then connect() blocks:
  // SO_SNDTIMEO bounds that wait on a Unix socket.
  const auto connect_ms = remaining_ms();
  timeval tv{static_cast<time_t>(connect_ms / 1000),
             static_cast<suseconds_t>(connect_ms % 1000 * 1000)};
  if (fd) setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return stale_pid_file(pid_file, path, errno);
    }
    if (errno == EAGAIN || errno == EINPROGRESS) return no_answer("to a connection");
    std::cerr << "shoal: cannot connect to " << path << " (" << std::strerror(errno) << ")\n";
    return 1;
  }
  // The master does not act on a command it reads after this moment (control.hpp).
  const std::string request =
      format_control_request({name, realtime_ms() + static_cast<std::int64_t>(remaining_ms())});
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    std::cerr << "shoal: cannot send to " << path << " (" << std::strerror(errno) << ")\n";
    return 1;
  }
  const bool stopping = name == "quit" || name == "stop";
  // A status report is the answer itself: its lines go to stdout as they are, no summary.
  const bool report = name == "status" || name == "status json";
  std::string buffer;
  bool saw_stopping = false;
  char chunk[4096];
  while (true) {
    pollfd readable{fd.get(), POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(remaining_ms()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (saw_stopping) {
        std::cerr << "shoal: " << name << ": the master is still stopping after "
                  << seconds_text(timeout) << "; it goes on without this command waiting\n";
        return 1;
      }
      return no_answer("to the command");
    }
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t eol;
    while ((eol = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, eol);
      buffer.erase(0, eol + 1);
      if (line.starts_with("ok ")) {
        if (!report) std::cout << "shoal: " << line.substr(3) << "\n";
        return 0;
      }
      if (line.starts_with("error ")) {
        std::cerr << "shoal: " << name << " failed: " << line.substr(6) << "\n";
        return 1;
      }
      if (stopping && line.starts_with("stopping")) saw_stopping = true;
      if (report) {
        std::cout << line << "\n";
        continue;
      }
      std::cerr << "shoal: " << line << "\n";
    }
  }
  if (stopping && saw_stopping) {
    // The master closes the connection by exiting.
    std::cout << "shoal: stopped\n";
    return 0;
  }
  std::cerr << "shoal: the master closed the control connection without an answer\n";
  return 1;
}

}  // namespace shoal
