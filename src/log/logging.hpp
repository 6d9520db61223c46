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

}  // namespace shoal
