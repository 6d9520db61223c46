// Loads shoal.yaml into a Config, collecting every error with file:line:col.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/syscall.hpp"

namespace shoal {

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is about the whole file
  int column = 0;
  std::string message;

  std::string to_string() const;  // "file:line:col: message"
};

// Thrown by load_config with every error found, in file order.
class ConfigErrors : public StartupError {
 public:
  explicit ConfigErrors(std::vector<ConfigError> errors);
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

// Reads and validates the file at `path`. Throws ConfigErrors.
Config load_config(const std::string& path);

// The whole of a configuration file (the config, a MIME table); ConfigErrors naming the file
// when it cannot be read.
std::string read_config_file(const std::string& path);

// The MIME table a config without `mime_types` uses: `beside` (mime.types next to the config
// file) if readable, else `system` if readable, else "" (the built-in table).
inline constexpr const char* kSystemMimeTypes = "/etc/mime.types";
// Whom workers run as when the master is root and the config names no user (nginx's default).
inline constexpr const char* kDefaultUser = "nobody";
std::string default_mime_types(const std::string& beside, const std::string& system);

// Same, from text already in memory; `path` names it in errors and anchors relative paths.
Config load_config_from_string(std::string_view yaml, const std::string& path);

// The pid file of a configuration that names none: root's is kRootPidFile (systemd's
// RuntimeDirectory=shoal, created when missing); anyone else's is shoal.pid beside the
// configuration file, where its owner can write (as nginx's is under its prefix).
inline constexpr const char* kRootPidFile = "/run/shoal/shoal.pid";
std::string default_pid_file(const std::string& config_dir);

// Only the `pid_file` of the file at `path`, resolved (default_pid_file when it sets none);
// "" when it is not a scalar. `shoal -s` uses
// it to find the master even when the rest of the file no longer validates (a reload of a
// broken file must reach the master, which reports every error). Throws ConfigErrors when
// the file cannot be read or is not YAML.
std::string find_pid_file(const std::string& path);

}  // namespace shoal
