// Channel messages over a SOCK_SEQPACKET socketpair: datagram boundaries are kept, EOF is a
// zero-length read, and MSG_NOSIGNAL spares a process whose peer died a SIGPIPE.
#include "util/channel.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "util/syscall.hpp"

namespace shoal {

namespace {
constexpr size_t kMaxMessage = 256;
}  // namespace

ChannelPair make_channel() {
  int fds[2];
  check_syscall(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds),
                "socketpair() for a worker channel");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool channel_send(int fd, std::string_view message) {
  while (true) {
    ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(message.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

ChannelRead channel_receive(int fd) {
  char buf[kMaxMessage];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) return {ChannelRead::Kind::kMessage, std::string(buf, static_cast<size_t>(n))};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {};
    return {ChannelRead::Kind::kClosed, {}};
  }
}

}  // namespace shoal
