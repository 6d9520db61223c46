// Listener: a listening socket the master binds once and every worker inherits.
#pragma once

#include <vector>

#include "config/address.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

struct Listener {
  ListenAddress address;
  // Non-blocking, close-on-exec, listening. One socket shared by every worker, or with
  // SO_REUSEPORT one per worker slot (fds[i] is worker i's), so the kernel spreads new
  // connections evenly instead of waking every worker for each.
  std::vector<UniqueFd> fds;
};

// One listening socket on `address` (with SO_REUSEPORT when asked). Throws StartupError.
UniqueFd bind_listen_socket(const ListenAddress& address, bool reuse_port);

// TCP_DEFER_ACCEPT on (or off) for every socket of `listener`: the kernel completes a
// connection only once the client's first bytes arrived (or, for a silent client, after about
// three seconds), so a worker is woken once per connection and its first read finds the
// request. Returns false with errno set when the kernel refuses.
bool set_defer_accept(const Listener& listener, bool on);

// Binds and listens on each address, `sockets_per_address` times with SO_REUSEPORT when it is
// more than one. Throws StartupError naming the address and errno.
std::vector<Listener> bind_listeners(const std::vector<ListenAddress>& addresses,
                                     int sockets_per_address);

}  // namespace shoal
