// Listener: a listening socket the master binds once and every worker inherits.
#pragma once

#include <vector>

#include "config/address.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

struct Listener {
  ListenAddress address;
  UniqueFd fd;  // non-blocking, close-on-exec, listening
};

// Binds and listens on each address. Throws StartupError naming the address and errno.
std::vector<Listener> bind_listeners(const std::vector<ListenAddress>& addresses);

}  // namespace shoal
