// CGI/1.1 (RFC 3875) pieces that need no process: finding the program for a path, the
// request meta-variables, and parsing the header block a program prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "helpers/job.hpp"

namespace shoal::helpers {

struct ScriptLocation {
  int status = 0;           // 0: found; else 403 or 404
  std::string filename;     // absolute path of the program
  std::string script_name;  // the URL path that named it, e.g. "/cgi-bin/hello.sh"
  std::string path_info;    // what followed it, e.g. "/extra"
};

// Walks the request `path` below `prefix` one segment at a time under `root`: the first
// regular file is the program (RFC 3875 section 4.1.5). `path` is already normalised, so it
// cannot leave `root`. 404 when nothing is there, 403 when it is not an executable file.
ScriptLocation locate_cgi_script(const std::string& root, std::string_view prefix,
                                 std::string_view path);

// What a program printed before its body (RFC 3875 section 6.3).
struct CgiHead {
  int status = 200;
  HeaderList headers;  // without Status; Content-Length and framing are the server's
};

enum class CgiHeadResult { kIncomplete, kDone, kInvalid };

// Looks for a complete header block (ending in an empty line, LF or CRLF) at the start of
// `output`. kDone sets `head` and `body_offset`; kInvalid for malformed lines, a bad Status,
// a block without Content-Type, Location or Status, or one over `max_bytes`.
CgiHeadResult parse_cgi_head(std::string_view output, CgiHead& head, size_t& body_offset,
                             size_t max_bytes = 16 * 1024);

// The request's meta-variables, "NAME=value" (the helper adds SCRIPT_NAME, PATH_INFO,
// SCRIPT_FILENAME, DOCUMENT_ROOT and CONTENT_LENGTH once it has located the program and
// read the body).
struct CgiRequest {
  std::string_view method;
  std::string_view target;  // REQUEST_URI, as received
  std::string_view query;
  std::string_view protocol = "HTTP/1.1";  // SERVER_PROTOCOL: HTTP/1.0, HTTP/1.1, HTTP/2.0
  std::string_view server_name;
  int server_port = 0;
  std::string_view remote_addr;
  int remote_port = 0;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  bool https = false;  // over TLS: HTTPS=on, as nginx's fastcgi_params and Apache set it
};
std::vector<std::string> cgi_environment(const CgiRequest& request);

}  // namespace shoal::helpers
