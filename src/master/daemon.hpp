// daemonize(): `shoal -d`, the classic double fork (setsid between), stdio to /dev/null,
// cwd "/". The original process does not return: it waits until the daemon says it serves
// (or dies) and exits 0 or 2 with one line, so `shoal -d` fails visibly when start-up fails.
#pragma once

#include "util/unique_fd.hpp"

namespace shoal {

// Returns in the daemon with the write end of the readiness pipe: write the pid (as text)
// once serving; closing it unwritten tells the waiting process that start-up failed.
// Throws StartupError if a fork or the pipe fails.
UniqueFd daemonize();

// Writes "PID\n" to `ready` and closes it.
void report_daemon_ready(UniqueFd& ready);

}  // namespace shoal
