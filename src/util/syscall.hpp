// System call helpers for start-up code: keep errno and what we were doing together.
// On the event loop failures are return values, not exceptions (STYLE.md).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace shoal {

// A start-up or configuration error, caught once at the CLI and printed as one line.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "what failed (errno: strerror)", as nginx words it.
std::string errno_text(std::string_view what, int err);

// Throws StartupError("what failed (strerror)") when ret < 0; returns ret otherwise.
int check_syscall(int ret, std::string_view what);

}  // namespace shoal
