// PidFile: written atomically (temp file + rename) so readers never see a partial pid.
#include "master/pid_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/syscall.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

void make_pid_file_directory(const std::string& pid_file) {
  // `make install` then `shoal -d` without systemd: nothing made /run/shoal (RuntimeDirectory=
  // does under systemd). Create what is missing, 0755, owned by this (the master's) user.
  std::filesystem::path partial;
  for (const auto& part : std::filesystem::path(pid_file).parent_path()) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0755) == 0) {
      ::chmod(partial.c_str(), 0755);  // whatever the umask says
    } else if (errno != EEXIST) {
      check_syscall(-1, "mkdir() of " + partial.string() + " for the pid file");
    }
  }
}

PidFile::PidFile(std::string path) : path_(std::move(path)), pid_(getpid()) {
  make_pid_file_directory(path_);
  const std::string tmp = path_ + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) check_syscall(-1, "open() of pid file " + tmp);
  const std::string text = std::to_string(pid_) + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ::unlink(tmp.c_str());
    check_syscall(-1, "write() of pid file " + tmp);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    check_syscall(-1, "rename() of pid file to " + path_);
  }
}

PidFile::~PidFile() {
  if (path_.empty() || getpid() != pid_) return;  // a forked child never removes it
  std::ifstream in(path_);
  pid_t written = 0;
  if (in >> written && written == pid_) ::unlink(path_.c_str());
}

}  // namespace shoal
