// Config helpers that need no YAML: listen address sets and the CPU count for `workers: auto`.
#include "config/config.hpp"

#include <sched.h>

#include <algorithm>

namespace shoal {

std::vector<ListenAddress> distinct_listen_addresses(const Config& config) {
  std::vector<ListenAddress> out;
  for (const auto& server : config.servers) {
    for (const auto& address : server.listen) {
      if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
    }
  }
  return out;
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

}  // namespace shoal
