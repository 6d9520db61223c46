// send_hand_off, receive_hand_off (see the header).
#include "worker/handoff.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace shoal {

namespace {

constexpr char kMagic[4] = {'S', 'H', 'O', '1'};
constexpr size_t kPrefix = sizeof kMagic + sizeof(std::uint32_t);  // magic, address length

}  // namespace

bool send_hand_off(int socket, int client_fd, std::string_view address, std::string_view bytes) {
  if (address.size() > 1024 || kPrefix + address.size() + bytes.size() > kMaxHandOffBytes) {
    return false;
  }
  char prefix[kPrefix];
  std::memcpy(prefix, kMagic, sizeof kMagic);
  const auto length = static_cast<std::uint32_t>(address.size());
  std::memcpy(prefix + sizeof kMagic, &length, sizeof length);
  iovec parts[3] = {{prefix, sizeof prefix},
                    {const_cast<char*>(address.data()), address.size()},
                    {const_cast<char*>(bytes.data()), bytes.size()}};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = 3;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &client_fd, sizeof client_fd);
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof prefix + address.size() + bytes.size());
}

std::optional<HandOff> receive_hand_off(int socket, std::string& buffer) {
  buffer.resize(kMaxHandOffBytes);
  iovec part{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &part;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  HandOff handoff;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      handoff.fd.reset(fd);
    }
  }
  const auto size = static_cast<size_t>(n);
  std::uint32_t length = 0;
  if (size >= kPrefix) std::memcpy(&length, buffer.data() + sizeof kMagic, sizeof length);
  if (!handoff.fd || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || size < kPrefix ||
      std::memcmp(buffer.data(), kMagic, sizeof kMagic) != 0 || length > size - kPrefix) {
    HandOff damaged;  // its fd (if any) closes with `handoff`
    damaged.address = "?";
    return damaged;
  }
  handoff.address.assign(buffer.data() + kPrefix, length);
  handoff.bytes.assign(buffer.data() + kPrefix + length, size - kPrefix - length);
  return handoff;
}

}  // namespace shoal
