// drop_privileges: group first (setgid needs root), then the user; the order nginx and every
// daemon use. A failed step stops the worker: serving as root by accident is worse.
#include "worker/privileges.hpp"

#include <grp.h>
#include <unistd.h>

#include "util/syscall.hpp"

namespace shoal {

void drop_privileges(const Config& config) {
  if (geteuid() != 0 || (!config.uid && !config.gid)) return;
  check_syscall(setgroups(0, nullptr), "setgroups(0) before dropping privileges");
  if (config.gid) {
    check_syscall(setgid(*config.gid), "setgid(" + std::to_string(*config.gid) + ")");
  }
  if (config.uid) {
    check_syscall(setuid(*config.uid), "setuid(" + std::to_string(*config.uid) + ")");
    if (*config.uid != 0 && setuid(0) == 0) {
      throw StartupError("root privileges could be regained after setuid(" +
                         std::to_string(*config.uid) + ")");
    }
  }
}

}  // namespace shoal
