// Static files: maps a normalised path under a root to a Reply (file, index, redirect, error),
// applying conditional requests and byte ranges. Files come from the worker's FileCache.
#pragma once

#include "config/config.hpp"
#include "http/file_cache.hpp"
#include "http/mime.hpp"
#include "http/path.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"

namespace shoal::http {

Reply serve_static(const StaticAction& action, const Request& request, const Target& target,
                   const MimeTypes& mime, FileCache& cache);

}  // namespace shoal::http
