// The control socket's server side: accept, check the peer's uid, read one command line
// with a deadline, hand it to the master. Everything non-blocking on the master's loop.
#include "master/control.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "util/syscall.hpp"

namespace shoal {

namespace {

constexpr size_t kMaxCommand = 96;
constexpr timeval kRequestTimeout{5, 0};

void send_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away or stopped reading: it loses the rest
    text.remove_prefix(static_cast<size_t>(n));
  }
}

bool allowed_peer(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == 0 || cred.uid == geteuid();
}

}  // namespace

constexpr std::string_view kDeadlineField = "deadline=";

std::string format_control_request(const ControlCommand& command) {
  std::string text = command.name + "\n";
  if (command.deadline_ms > 0) {
    text += std::string(kDeadlineField) + std::to_string(command.deadline_ms) + "\n";
  }
  return text;
}

std::optional<ControlCommand> parse_control_request(std::string_view input) {
  const auto eol = input.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  ControlCommand command;
  auto name = input.substr(0, eol);
  if (!name.empty() && name.back() == '\r') name.remove_suffix(1);
  command.name = std::string(name);
  const auto rest = input.substr(eol + 1);
  // An older client sends the command alone: nothing follows it.
  if (rest.empty() ||
      !std::string_view(kDeadlineField).starts_with(rest.substr(0, kDeadlineField.size()))) {
    return command;
  }
  const auto end = rest.find('\n');
  if (end == std::string_view::npos) return std::nullopt;  // the deadline's line is coming
  auto digits = rest.substr(kDeadlineField.size(), end - kDeadlineField.size());
  if (!digits.empty() && digits.back() == '\r') digits.remove_suffix(1);
  std::int64_t value = 0;
  auto [stop, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc() && stop == digits.data() + digits.size() && value > 0) {
    command.deadline_ms = value;
  }
  return command;
}

std::int64_t realtime_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string control_socket_path(const std::string& pid_file) {
  constexpr std::string_view kSuffix = ".pid";
  if (pid_file.size() > kSuffix.size() && pid_file.ends_with(kSuffix)) {
    return pid_file.substr(0, pid_file.size() - kSuffix.size()) + ".sock";
  }
  return pid_file + ".sock";
}

void ControlReply::line(std::string_view text) {
  if (!fd_) return;
  std::string out(text);
  out += '\n';
  send_all(fd_.get(), out);
}

void ControlReply::finish(bool ok, std::string_view summary) {
  line(std::string(ok ? "ok " : "error ") + std::string(summary));
  fd_.reset();
}

void refuse_if_a_master_answers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return;  // bind_control_socket says why
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    throw StartupError("another shoal master answers on " + path +
                       "; stop it first (or give this configuration another pid_file)");
  }
}

UniqueFd bind_control_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    throw StartupError("control socket path " + path + " is longer than " +
                       std::to_string(sizeof addr.sun_path - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // A socket file is replaced only when nobody answers on it (a master that did not exit
  // cleanly): a master that answers is running with this pid file, and a second one must not
  // take its control socket (nor, next, its pid file).
  refuse_if_a_master_answers(path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) check_syscall(-1, "socket() for the control socket");
  ::unlink(path.c_str());  // a socket file left by a master that did not exit cleanly
  // Owner-only from the start: bind() creates the file with the umask's mode.
  mode_t old_mask = umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  umask(old_mask);
  errno = err;
  check_syscall(rc, "bind() of control socket " + path);
  check_syscall(::listen(fd.get(), 16), "listen() on control socket " + path);
  return fd;
}

ControlServer::ControlServer(event_base* base, std::string path, Handler handler)
    : ControlServer(base, path, bind_control_socket(path), std::move(handler)) {}

ControlServer::ControlServer(event_base* base, std::string path, UniqueFd fd, Handler handler)
    : path_(std::move(path)), owner_(getpid()), fd_(std::move(fd)), handler_(std::move(handler)) {
  start(base);
}

void ControlServer::start(event_base* base) {
  base_ = base;
  accept_event_.reset(event_new(base, fd_.get(), EV_READ | EV_PERSIST, on_accept, this));
  if (!accept_event_ || event_add(accept_event_.get(), nullptr) != 0) {
    throw StartupError("event_add() failed for the control socket");
  }
}

ControlServer::~ControlServer() {
  pending_.clear();
  accept_event_.reset();
  if (getpid() == owner_ && !path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::on_accept(evutil_socket_t fd, short /*what*/, void* arg) noexcept {
  auto* self = static_cast<ControlServer*>(arg);
  while (true) {
    UniqueFd client(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        spdlog::error("accept4() on the control socket failed ({})", std::strerror(errno));
      }
      return;
    }
    if (!allowed_peer(client.get())) {
      spdlog::warn("control socket: refused a client of another user");
      send_all(client.get(), "error permission denied\n");
      continue;
    }
    auto& p = self->pending_.emplace_back();
    p.server = self;
    p.fd = std::move(client);
    p.ev.reset(event_new(self->base_, p.fd.get(), EV_READ | EV_PERSIST, on_request, &p));
    if (!p.ev || event_add(p.ev.get(), &kRequestTimeout) != 0) {
      self->pending_.pop_back();
      continue;
    }
  }
}

void ControlServer::on_request(evutil_socket_t fd, short what, void* arg) noexcept {
  auto* p = static_cast<Pending*>(arg);
  if (what & EV_TIMEOUT) {
    p->server->finish_pending(p);
    return;
  }
  char buf[kMaxCommand];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    p->server->finish_pending(p);  // closed before a whole command: nothing to do
    return;
  }
  p->input.append(buf, static_cast<size_t>(n));
  const auto parsed = parse_control_request(p->input);
  if (!parsed) {
    if (p->input.size() > kMaxCommand) {
      send_all(fd, "error command too long\n");
      p->server->finish_pending(p);
    }
    return;
  }
  const ControlCommand command = *parsed;
  ControlServer* server = p->server;
  if (command.deadline_ms > 0 && realtime_ms() > command.deadline_ms) {
    // This process was stopped or too busy to read it in time; the client has reported
    // that it got no answer, so acting now would surprise whoever asked.
    spdlog::warn(
        "control socket: \"{}\" was read {} ms after its client stopped waiting; "
        "not carried out",
        command.name, realtime_ms() - command.deadline_ms);
    server->finish_pending(p);
    return;
  }
  ControlReply reply(std::move(p->fd));
  server->finish_pending(p);
  server->handler_(command.name, std::move(reply));
}

void ControlServer::finish_pending(Pending* pending) {
  pending_.remove_if([pending](const Pending& p) { return &p == pending; });
}

}  // namespace shoal
