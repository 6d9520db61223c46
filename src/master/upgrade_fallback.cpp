// exec_previous_image: fexecve of the old image with the upgrade state and the failure.
#include "master/upgrade_fallback.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "master/upgrade_state.hpp"

namespace shoal {

void exec_previous_image(const std::string& state_text, const std::string& why) {
  std::string error;
  auto state = decode_upgrade_state(state_text, error);
  if (!state || state->fallback_fd < 0 || !state->failed.empty() || state->config_path.empty()) {
    return;  // nothing to go back to, or we are the previous image already: no loop
  }
  state->failed = why;
  for (int fd : upgrade_state_fds(*state)) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  setenv(kUpgradeStateVariable, encode_upgrade_state(*state).c_str(), 1);
  unsetenv(kUpgradeTrialVariable);
  // The previous image's own arguments, whatever this one was given.
  std::string argv0 = "shoal";
  std::string flag = "-c";
  std::string config = state->config_path;
  char* argv[] = {argv0.data(), flag.data(), config.data(), nullptr};
  std::fprintf(stderr, "shoal: the new binary could not start (%s); executing the previous one\n",
               why.c_str());
  std::fflush(nullptr);
  fexecve(state->fallback_fd, argv, environ);
  std::fprintf(stderr, "shoal: fexecve() of the previous binary failed (%d: %s)\n", errno,
               std::strerror(errno));
}

}  // namespace shoal
