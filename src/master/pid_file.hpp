// PidFile: writes the master's pid on creation and removes the file when destroyed, unless
// another process has written its own pid there since.
#pragma once

#include <string>

namespace shoal {

// Creates the pid file's missing directories, 0755, owned by this (the master's) user: after
// `make install`, `shoal -d` without systemd has no /run/shoal. Throws StartupError.
void make_pid_file_directory(const std::string& pid_file);

class PidFile {
 public:
  PidFile() = default;
  explicit PidFile(std::string path);  // throws StartupError
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

 private:
  std::string path_;
  pid_t pid_ = 0;
};

}  // namespace shoal
