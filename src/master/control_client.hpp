// `shoal -s NAME`: find the master through the config's pid_file, ask it over the control
// socket and wait for the outcome. Without an answering control socket the pid file is stale:
// say so and signal nothing (the pid may belong to anyone now).
#pragma once

#include <chrono>
#include <string>

namespace shoal {

// The signal names `-s` accepts: reload, reopen, quit, stop, upgrade.
bool is_control_command(const std::string& name);

// How long `-s NAME` waits for the outcome unless --timeout says otherwise (shoal(8)): long
// enough for the work itself (a reload starts workers, a quit drains them), short enough that
// a stopped or hung master never holds a logrotate or a deploy script for good.
std::chrono::milliseconds default_control_timeout(const std::string& name);

// Prints the answer (details and failures on stderr, the summary of a success on stdout) and
// returns the exit status: 0 done, 1 failed, no master running, or no answer by `timeout`.
int run_control_command(const std::string& name, const std::string& config_path,
                        std::chrono::milliseconds timeout);

}  // namespace shoal
