// Listener: a listening socket the master binds once and every worker inherits.
#pragma once

#include <chrono>
#include <vector>

#include "config/address.hpp"
#include "util/syscall.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

struct Listener {
  ListenAddress address;
  // Non-blocking, close-on-exec, listening. One socket shared by every worker, or with
  // SO_REUSEPORT one per worker slot (fds[i] is worker i's), so the kernel spreads new
  // connections evenly instead of waking every worker for each.
  std::vector<UniqueFd> fds;
};

// A bind() that failed, with its errno (the start-up retries EADDRINUSE).
class BindError : public StartupError {
 public:
  BindError(const std::string& what, int err) : StartupError(what), err_(err) {}
  int err() const { return err_; }

 private:
  int err_;
};

// One listening socket on `address` (with SO_REUSEPORT when asked). Throws StartupError, and
// BindError when bind() itself failed.
UniqueFd bind_listen_socket(const ListenAddress& address, bool reuse_port);

// For every socket of `listener`: TCP_DEFER_ACCEPT on (or off), so the kernel completes a
// connection only once the client's first bytes arrived (or, for a silent client, after about
// three seconds) and a worker is woken once per connection with the request there to read;
// and TCP_QUICKACK off, which new connections inherit, so the first request is not ACKed
// on its own but by its reply (the worker asks for the ACK when no reply is ready at once).
// Returns false with errno set when the kernel refuses.
bool set_accept_options(const Listener& listener, bool defer_accept);

// Binds and listens on each address, `sockets_per_address` times with SO_REUSEPORT when it is
// more than one. Throws StartupError naming the address and errno.
std::vector<Listener> bind_listeners(const std::vector<ListenAddress>& addresses,
                                     int sockets_per_address);

// bind_listeners at start: an address still in use (a killed master's workers dying and
// holding the port) is tried `tries` times, `pause` apart, each failure logged, as nginx does.
// Only for the start: it blocks, which is fine before the loop runs.
std::vector<Listener> bind_listeners_patiently(const std::vector<ListenAddress>& addresses,
                                               int sockets_per_address, int tries,
                                               std::chrono::milliseconds pause);

}  // namespace shoal
