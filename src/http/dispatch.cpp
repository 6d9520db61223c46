// Dispatch: the request's target picks a server (Host or absolute-form authority) and a route;
// the route's action makes the Reply.
#include "http/dispatch.hpp"

#include <variant>

#include "http/path.hpp"
#include "http/static_files.hpp"

namespace shoal::http {

namespace {

Reply return_reply(const ReturnAction& action) {
  Reply reply;
  if (action.body.empty() && action.status >= 300) {
    reply = error_reply(action.status);
  } else {
    reply.status = action.status;
    reply.set_body(action.body, action.content_type);
  }
  if (!action.location.empty()) reply.headers.emplace_back("Location", action.location);
  return reply;
}

}  // namespace

Reply dispatch(const VirtualHosts& hosts, const Request& request, const MimeTypes& mime) {
  auto target = parse_target(request.target);
  if (!target) return error_reply(400);
  const std::string* host = request.header("Host");
  const auto& server = hosts.select(normalize_host(!target->host.empty() ? target->host
                                                   : host                ? *host
                                                                         : ""));
  const Route* route = select_route(server.routes, target->path);
  Reply reply = error_reply(404);
  if (route) {
    reply = std::visit(
        [&](const auto& action) -> Reply {
          using T = std::decay_t<decltype(action)>;
          if constexpr (std::is_same_v<T, ReturnAction>) {
            return return_reply(action);
          } else if constexpr (std::is_same_v<T, StaticAction>) {
            return serve_static(action, request, *target, mime);
          } else {
            // job and cgi routes are refused by the config loader until helpers exist.
            return error_reply(501);
          }
        },
        route->action);
  }
  if (request.method == "HEAD") reply.send_body = false;
  return reply;
}

}  // namespace shoal::http
