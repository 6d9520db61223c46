// Binding listen sockets: SO_REUSEADDR so a restart does not wait out TIME_WAIT, IPV6_V6ONLY
// so "[::]:80" and "0.0.0.0:80" can both be configured.
#include "master/listeners.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include "util/syscall.hpp"

namespace shoal {

namespace {

constexpr int kBacklog = 511;  // the kernel caps it at net.core.somaxconn

}  // namespace

UniqueFd bind_listen_socket(const ListenAddress& address, bool reuse_port) {
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const std::string where = " for " + address.text;
  if (!fd) check_syscall(-1, "socket()" + where);
  int one = 1;
  check_syscall(setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one),
                "setsockopt(SO_REUSEADDR)" + where);
  if (reuse_port) {
    check_syscall(setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one),
                  "setsockopt(SO_REUSEPORT)" + where);
  }
  if (address.family() == AF_INET6) {
    check_syscall(setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one),
                  "setsockopt(IPV6_V6ONLY)" + where);
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.addr), address.addr_len) != 0) {
    const int err = errno;
    throw BindError(errno_text("bind() to " + address.text, err), err);
  }
  check_syscall(::listen(fd.get(), kBacklog), "listen() on " + address.text);
  return fd;
}

bool set_accept_options(const Listener& listener, bool defer_accept) {
  // The value is the seconds a silent client may wait before it is accepted anyway (the
  // kernel rounds it to SYN-ACK retransmissions); header_timeout counts from then.
  const int seconds = defer_accept ? 1 : 0;
  const int quick_ack = 0;
  for (const auto& fd : listener.fds) {
    if (setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds) != 0 ||
        setsockopt(fd.get(), IPPROTO_TCP, TCP_QUICKACK, &quick_ack, sizeof quick_ack) != 0) {
      return false;
    }
  }
  return true;
}

std::vector<Listener> bind_listeners(const std::vector<ListenAddress>& addresses,
                                     int sockets_per_address) {
  std::vector<Listener> out;
  const bool reuse_port = sockets_per_address > 1;
  for (const auto& address : addresses) {
    Listener l{address, {}};
    l.fds.push_back(bind_listen_socket(address, reuse_port));
    if (reuse_port && address.port() == 0) {
      // An ephemeral port is chosen at the first bind; the others must join that same port.
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      getsockname(l.fds[0].get(), reinterpret_cast<sockaddr*>(&bound), &len);
      l.address.addr = bound;
    }
    for (int i = 1; i < sockets_per_address; ++i)
      l.fds.push_back(bind_listen_socket(l.address, true));
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<Listener> bind_listeners_patiently(const std::vector<ListenAddress>& addresses,
                                               int sockets_per_address, int tries,
                                               std::chrono::milliseconds pause) {
  for (int attempt = 1;; ++attempt) {
    try {
      return bind_listeners(addresses, sockets_per_address);
    } catch (const BindError& e) {
      if (e.err() != EADDRINUSE || attempt >= tries) throw;
      spdlog::warn("{}; trying again in {} ms ({} of {})", e.what(), pause.count(), attempt, tries);
      std::this_thread::sleep_for(pause);
    }
  }
}

}  // namespace shoal
