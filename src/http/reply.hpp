// Reply: what a handler answers (status, fields, body from memory or from a file). A session
// writes it its way (HTTP/1.1: http1/wire.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/file_cache.hpp"
#include "util/fields.hpp"

namespace shoal::http {

struct Reply {
  int status = 200;
  Fields headers;               // besides the ones below
  std::string body;             // in-memory content, unless `file` or `fixed_body` is set
  std::string_view fixed_body;  // content owned by the config (a `return` route)
  // Content from a cached file: its bytes in memory, or its fd through sendfile.
  std::shared_ptr<const CachedFile> file;
  std::uint64_t file_offset = 0;
  const Fields* shared_fields = nullptr;  // owned by `file` (or the config), after `headers`
  std::uint64_t content_length = 0;       // length of the content, also for HEAD
  bool send_body = true;                  // false for HEAD: the head describes content not sent
  bool close = false;                     // close the connection after this reply
  bool length_known = true;               // false: no Content-Length (chunked or until close)
  // Why a handler failed, for the error log in nginx's words ("open() \"/srv/x\" failed
  // (13: Permission denied)"); the connection adds the client and the request line.
  struct Failure {
    std::string what;        // empty: nothing to log
    std::string cause;       // what repeats have in common ("open():24"), for rate limiting
    bool not_found = false;  // a missing file: logged at info, which an operator turns off
  } failure;

  void set_body(std::string text, std::string content_type);
};

// An HTML page for an error or redirect status, as servers conventionally send.
Reply error_reply(int status);

}  // namespace shoal::http
