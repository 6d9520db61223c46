// Logging: the error log (spdlog's default logger) and the access log sink, both opened from
// the config. Processes call setup_error_log once after loading the config.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

#include "config/config.hpp"

namespace shoal {

// Makes the error log described by `config` the default spdlog logger. Throws StartupError
// when the file cannot be opened.
void setup_error_log(const ErrorLogConfig& config);

// A logger that writes access-log lines verbatim to `path` ("stdout", "stderr" or a file);
// nullptr for "off". Throws StartupError when the file cannot be opened.
std::shared_ptr<spdlog::logger> open_access_log(const AccessLogConfig& config);

// Before workers that run as another user reopen their logs (SIGUSR1): creates the files the
// master as root can create and they could not, and gives them to that user, as nginx does.
// Does nothing unless this process is root and `uid` is set. Returns errors as text.
std::string prepare_log_files_for(const LogConfig& config, std::optional<uid_t> uid,
                                  std::optional<gid_t> gid);

}  // namespace shoal
