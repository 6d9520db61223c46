// `shoal -s NAME`: find the master through the config's pid_file, ask it over the control
// socket and wait for the outcome. Without an answering control socket the pid file is stale:
// say so and signal nothing (the pid may belong to anyone now).
#pragma once

#include <string>

namespace shoal {

// The signal names `-s` accepts: reload, reopen, quit, stop, upgrade.
bool is_control_command(const std::string& name);

// Prints the answer (details and failures on stderr, the summary of a success on stdout) and
// returns the exit status: 0 done, 1 failed or no master running.
int run_control_command(const std::string& name, const std::string& config_path);

}  // namespace shoal
