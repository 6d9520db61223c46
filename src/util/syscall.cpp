// System call helpers: errno text with context.
#include "util/syscall.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace shoal {

std::string errno_text(std::string_view what, int err) {
  std::string text(what);
  text += " failed (";
  text += std::to_string(err);
  text += ": ";
  text += std::strerror(err);
  text += ")";
  return text;
}

int check_syscall(int ret, std::string_view what) {
  if (ret < 0) throw StartupError(errno_text(what, errno));
  return ret;
}

}  // namespace shoal
