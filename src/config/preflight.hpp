// What `shoal -t` checks beyond the file itself, as `nginx -t` does: that the start will be
// able to open what the configuration names (log files, the pid file's directory).
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/loader.hpp"

namespace shoal {

// One error per path the start would fail on, with the key's file:line:col where it was
// written (line 0 for a default). Checked as the user running the check, who is the one that
// opens these at start (the master opens the logs before the workers drop privileges).
std::vector<ConfigError> check_startup_paths(const Config& config);

}  // namespace shoal
