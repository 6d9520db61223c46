// UniqueFd: closing, retried never (Linux closes the fd even when close() returns EINTR).
#include "util/unique_fd.hpp"

#include <unistd.h>

namespace shoal {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

}  // namespace shoal
