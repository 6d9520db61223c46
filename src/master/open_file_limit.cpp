// open_files_needed and raise_open_file_limit (see the header).
#include "master/open_file_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

#include "http/file_cache.hpp"

namespace shoal {

std::uint64_t open_files_needed(const Config& config) {
  constexpr std::uint64_t kMargin = 64;  // logs, epoll, channel, stdio, a CGI body memfd...
  std::uint64_t listeners = 0;
  for (const auto& server : config.servers) listeners += server.listen.size();
  if (config.reuse_port) listeners *= static_cast<std::uint64_t>(std::max(config.workers, 1));
  return static_cast<std::uint64_t>(config.limits.max_connections) + http::FileCache::kMaxEntries +
         2 * static_cast<std::uint64_t>(std::max(config.helpers.count, 0)) + listeners + kMargin;
}

std::string raise_open_file_limit(std::uint64_t needed, const std::string& why) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur =
        limit.rlim_max == RLIM_INFINITY ? needed : std::min<rlim_t>(needed, limit.rlim_max);
    if (raised.rlim_cur > limit.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) return {};
  return why + " needs " + std::to_string(needed) +
         " open files per worker, but RLIMIT_NOFILE is " + std::to_string(limit.rlim_cur) +
         " (hard limit " + std::to_string(limit.rlim_max) +
         "): connections beyond it are refused until some close; raise it (LimitNOFILE= in the "
         "unit, ulimit -n)";
}

}  // namespace shoal
