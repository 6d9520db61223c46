// Request: the head of one HTTP request as the parser assembled it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/text.hpp"

namespace shoal::http {

struct Header {
  std::string name;  // as received
  std::string value;
};

struct Request {
  std::string method;
  int http_major = 1;
  int http_minor = 1;
  std::string target;  // as received
  std::vector<Header> headers;
  bool keep_alive = true;        // after this request, per version and Connection
  bool has_body = false;         // Content-Length > 0 or chunked
  bool upgrade = false;          // Connection: upgrade with an Upgrade field (not CONNECT)
  std::uint64_t body_bytes = 0;  // received so far

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  // The request as logs show it, from its parsed parts: "GET /x HTTP/1.1" ("HTTP/2.0" for
  // HTTP/2), whatever protocol carried it.
  std::string line() const;
  void clear();
};

using shoal::iequals;  // header names and values compare without ASCII case

}  // namespace shoal::http
