// RLIMIT_NOFILE and what a configuration needs: the master raises its soft limit (which the
// workers it forks inherit) as far as the hard limit allows, and says when that is not enough,
// as nginx warns that worker_connections exceed the open file limit.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace shoal {

// Descriptors one worker may hold at once: every connection, the file cache's open files,
// two pipes per helper, its listening sockets, and a margin for logs, epoll and the channel.
std::uint64_t open_files_needed(const Config& config);

// Raises the soft limit towards `needed` (never lowers it). Returns a warning for the error
// log when the limit stays below `needed`, or "" when it is enough.
std::string raise_open_file_limit(std::uint64_t needed, const std::string& why);

}  // namespace shoal
