// Dispatch: from a parsed request to a Reply: target, virtual host, route, handler.
#pragma once

#include "http/mime.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"
#include "http/router.hpp"

namespace shoal::http {

Reply dispatch(const VirtualHosts& hosts, const Request& request, const MimeTypes& mime);

}  // namespace shoal::http
