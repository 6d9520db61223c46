// Static files: maps a normalised path under a root to a Reply (file, index, redirect, error),
// applying conditional requests and byte ranges. The body is a file descriptor for sendfile.
#pragma once

#include "config/config.hpp"
#include "http/mime.hpp"
#include "http/path.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"

namespace shoal::http {

Reply serve_static(const StaticAction& action, const Request& request, const Target& target,
                   const MimeTypes& mime);

}  // namespace shoal::http
