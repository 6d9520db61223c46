// take_activated_sockets: sd_listen_fds + getsockname to name each socket as the config would.
#include "master/socket_activation.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "config/address.hpp"

namespace shoal {

namespace {

// "127.0.0.1:8080" or "[::1]:8080", as parse_listen_address writes it; "" if not TCP/IP.
std::string address_text(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char host[INET6_ADDRSTRLEN] = {};
  std::string text;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    text = std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    text = "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  } else {
    return "";
  }
  std::string error;
  auto canonical = parse_listen_address(text, error);
  return canonical ? canonical->text : "";
}

}  // namespace

std::map<std::string, UniqueFd> take_activated_sockets() {
  std::map<std::string, UniqueFd> sockets;
  const int n = sd_listen_fds(1);  // 1: unset LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES
  if (n < 0) spdlog::warn("socket activation: sd_listen_fds() failed ({})", -n);
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; ++fd) {
    UniqueFd socket(fd);
    const std::string text =
        sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0 ? address_text(fd) : "";
    if (text.empty()) {
      spdlog::warn("socket activation: fd {} is not a listening TCP socket; closing it", fd);
      continue;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    sockets.emplace(text, std::move(socket));
  }
  return sockets;
}

}  // namespace shoal
