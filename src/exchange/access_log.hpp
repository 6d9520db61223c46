// AccessLog: one line per response in the combined (or common) log format.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/request.hpp"

namespace shoal {

struct AccessEntry {
  std::string_view remote_addr;
  const http::Request* request = nullptr;  // nullptr when no complete request line arrived
  std::string_view request_line;  // "GET /x HTTP/1.1" (a bad request: as received); "" if none
  int status = 0;
  std::uint64_t body_bytes = 0;
  std::string_view tls_protocol;  // "TLSv1.3"; "" on a plain connection
  std::string_view tls_cipher;    // "TLS_AES_256_GCM_SHA384"
};

class AccessLog {
 public:
  AccessLog(std::shared_ptr<spdlog::logger> sink, AccessLogFormat format)
      : sink_(std::move(sink)), format_(format) {}
  bool enabled() const { return sink_ != nullptr; }
  // After logrotate renamed the file: the new sink writes to a fresh one.
  void reopen(std::shared_ptr<spdlog::logger> sink) { sink_ = std::move(sink); }
  void write(const AccessEntry& entry);

 private:
  std::shared_ptr<spdlog::logger> sink_;
  AccessLogFormat format_;
  std::time_t second_ = -1;
  std::string time_local_;  // "[23/Nov/2026:08:00:00 +0000]", formatted once a second
};

// $remote_user: the user name of "Authorization: Basic <base64 of user:password>", or
// nullopt when the header is not well-formed Basic credentials (logged "-"), as nginx does.
std::optional<std::string> basic_auth_user(std::string_view authorization);

}  // namespace shoal
