// Binding listen sockets: SO_REUSEADDR so a restart does not wait out TIME_WAIT, IPV6_V6ONLY
// so "[::]:80" and "0.0.0.0:80" can both be configured.
#include "master/listeners.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include "util/syscall.hpp"

namespace shoal {

namespace {

constexpr int kBacklog = 511;  // the kernel caps it at net.core.somaxconn

}  // namespace

std::vector<Listener> bind_listeners(const std::vector<ListenAddress>& addresses) {
  std::vector<Listener> out;
  for (const auto& address : addresses) {
    Listener l{address,
               UniqueFd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0))};
    const std::string where = " for " + address.text;
    if (!l.fd) check_syscall(-1, "socket()" + where);
    int one = 1;
    check_syscall(setsockopt(l.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one),
                  "setsockopt(SO_REUSEADDR)" + where);
    if (address.family() == AF_INET6) {
      check_syscall(setsockopt(l.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one),
                    "setsockopt(IPV6_V6ONLY)" + where);
    }
    check_syscall(
        ::bind(l.fd.get(), reinterpret_cast<const sockaddr*>(&address.addr), address.addr_len),
        "bind() to " + address.text);
    check_syscall(::listen(l.fd.get(), kBacklog), "listen() on " + address.text);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace shoal
