// Socket activation: listening sockets systemd passes (shoal.socket, sd_listen_fds(3)). The
// master uses one for each listen address of the config it matches and binds the others
// itself; reloads and upgrades then keep them like any other listening socket.
#pragma once

#include <map>
#include <string>

#include "util/unique_fd.hpp"

namespace shoal {

// The TCP listening sockets passed to this process, by ListenAddress::text, made
// non-blocking and close-on-exec; LISTEN_FDS and friends are removed from the environment
// so that no child takes them for its own. Sockets of another kind are closed with a warning.
std::map<std::string, UniqueFd> take_activated_sockets();

}  // namespace shoal
