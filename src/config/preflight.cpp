// -t's checks of the paths the start opens (preflight.hpp). Reads the file system only:
// nothing is created, so a check leaves no trace.
#include "config/preflight.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace shoal {

namespace {

// Why a file at `path` could not be opened for appending (created if missing); nullopt when
// it could. Missing directories are a problem: the logs do not create them.
std::optional<std::string> why_not_writable_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return path + " is a directory";
    if (::access(path.c_str(), W_OK) != 0) {
      return "cannot write " + path + " (" + std::strerror(errno) + ")";
    }
    return std::nullopt;
  }
  if (errno != ENOENT) return "cannot reach " + path + " (" + std::strerror(errno) + ")";
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (::stat(dir.c_str(), &st) != 0) {
    return "directory " + dir + " of " + path + " does not exist";
  }
  if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return "cannot create " + path + " in " + dir + " (" + std::strerror(errno) + ")";
  }
  return std::nullopt;
}

// The pid file's missing directories are made at start (make_pid_file_directory): the first
// one that exists must let this user make the rest, or hold the file.
std::optional<std::string> why_not_pid_file(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  struct stat st {};
  while (!dir.empty() && ::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return "cannot reach " + dir.string() + " (" + std::strerror(errno) + ")";
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  if (!S_ISDIR(st.st_mode)) return dir.string() + " is not a directory";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return "cannot write the pid file " + path + ": no write access to " + dir.string() + " (" +
           std::strerror(errno) + ")";
  }
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + " is a directory";
  return std::nullopt;
}

bool is_stream_name(const std::string& path) {
  return path == "off" || path == "stderr" || path == "stdout";
}

}  // namespace

std::vector<ConfigError> check_startup_paths(const Config& config) {
  std::vector<ConfigError> errors;
  auto add = [&](const SourceMark& mark, const std::string& key, const std::string& why) {
    errors.push_back({config.path, mark.line, mark.column, key + ": " + why});
  };
  if (!is_stream_name(config.log.error.path)) {
    if (auto why = why_not_writable_file(config.log.error.path)) {
      add(config.log.error.mark, "log.error.path", *why);
    }
  }
  if (!is_stream_name(config.log.access.path)) {
    if (auto why = why_not_writable_file(config.log.access.path)) {
      add(config.log.access.mark, "log.access.path", *why);
    }
  }
  if (!config.pid_file.empty()) {
    if (auto why = why_not_pid_file(config.pid_file)) {
      add(config.pid_file_mark, config.pid_file_mark.line ? "pid_file" : "pid_file (default)",
          *why);
    }
  }
  return errors;
}

}  // namespace shoal
