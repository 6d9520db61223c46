// Dispatch: from a parsed request to its server and route, and for routes served on the loop
// (return, static) to a Reply. Routes run by helpers (job, cgi) are started by the worker.
#pragma once

#include <optional>

#include "http/file_cache.hpp"
#include "http/mime.hpp"
#include "http/path.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"
#include "http/router.hpp"

namespace shoal::http {

struct RoutedRequest {
  std::optional<Target> target;  // nullopt: the target is malformed (400)
  const ServerConfig* server = nullptr;
  const Route* route = nullptr;  // nullptr: no route matches (404)
  bool asterisk = false;         // the target is "*" (asterisk-form, RFC 9112 section 3.2.4)

  // True for job and cgi routes, which a helper process answers.
  bool needs_helper() const;
};

RoutedRequest route_request(const VirtualHosts& hosts, const Request& request);

// 405 for TRACE unless its route opts in (`trace: true`): a TRACE echoes the request's
// headers, cookies and credentials included, to whatever script can make one (RFC 9110
// section 9.3.8); nginx refuses it everywhere. nullopt: the request goes on.
std::optional<Reply> refuse_trace(const RoutedRequest& routed, const Request& request);

// The Reply for a request whose route does not need a helper.
Reply respond(const RoutedRequest& routed, const Request& request, const MimeTypes& mime,
              FileCache& files);

}  // namespace shoal::http
