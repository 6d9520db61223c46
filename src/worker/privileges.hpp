// Dropping root in a worker: the user and group of the config, no supplementary groups. The
// master keeps its privileges (a reload may bind a port below 1024).
#pragma once

#include "config/config.hpp"

namespace shoal {

// As root with `user`/`group` set: setgroups(0), setgid, setuid, then checks that root cannot
// be regained. Not root: nothing to do (the config's user is then ignored, as nginx does).
// Throws StartupError when a step fails.
void drop_privileges(const Config& config);

}  // namespace shoal
