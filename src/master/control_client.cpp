// The client end of the control socket (server: control.cpp). Blocking I/O is fine here:
// this is a short-lived CLI process, not an event loop.
#include "master/control_client.hpp"

#include <sys/socket.h>
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

}  // namespace

bool is_control_command(const std::string& name) { return known_command(name); }

int run_control_command(const std::string& name, const std::string& config_path) {
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
              << " sets no pid_file, so the running master cannot be found\n";
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
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return stale_pid_file(pid_file, path, errno);
    }
    std::cerr << "shoal: cannot connect to " << path << " (" << std::strerror(errno) << ")\n";
    return 1;
  }
  const std::string request = name + "\n";
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
