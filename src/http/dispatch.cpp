// Dispatch: the request's target picks a server (Host or absolute-form authority) and a route;
// return and static routes make their Reply here, on the loop.
#include "http/dispatch.hpp"

#include <variant>

#include "http/conditional.hpp"
#include "http/static_files.hpp"

namespace shoal::http {

namespace {

// Everything but the status page comes from the config, prepared at load: no copies here.
Reply return_reply(const ReturnAction& action, const Request& request) {
  // A 2xx body is a current representation without validators: If-None-Match: * is false
  // for it and If-Match: * true (RFC 9110 sections 13.1.1-2, 13.2.1), as nginx answers.
  // One pass over the fields (this runs for every `return` request), and nothing to evaluate
  // in the common case of neither.
  ConditionalHeaders headers;
  for (const auto& field : request.headers) {
    if (!headers.if_match && iequals(field.name, "If-Match")) headers.if_match = &field.value;
    if (!headers.if_none_match && iequals(field.name, "If-None-Match")) {
      headers.if_none_match = &field.value;
    }
  }
  if (action.status >= 200 && action.status < 300 && (headers.if_match || headers.if_none_match)) {
    switch (evaluate_preconditions(headers, Validators{})) {
      case Precondition::kFailed:
        return error_reply(412);
      case Precondition::kNotModified:
        if (request.method == "GET" || request.method == "HEAD") {
          Reply not_modified;
          not_modified.status = 304;
          return not_modified;
        }
        return error_reply(412);
      case Precondition::kProceed:
        break;
    }
  }
  Reply reply;
  if (action.body.empty() && action.status >= 300) {
    reply = error_reply(action.status);
  } else {
    reply.status = action.status;
    reply.fixed_body = action.body;
    reply.content_length = action.body.size();
  }
  reply.shared_fields = &action.fields;
  return reply;
}

}  // namespace

std::optional<Reply> refuse_trace(const RoutedRequest& routed, const Request& request) {
  if (request.method != "TRACE" || (routed.route && routed.route->trace)) return std::nullopt;
  Reply reply = error_reply(405);
  // RFC 9110 section 15.5.6: a 405 lists what the target does allow.
  const bool read_only = !routed.route ||
                         std::holds_alternative<StaticAction>(routed.route->action) ||
                         std::holds_alternative<MetricsAction>(routed.route->action) ||
                         std::holds_alternative<StatusAction>(routed.route->action) ||
                         std::holds_alternative<HealthAction>(routed.route->action);
  reply.headers.emplace_back(
      "Allow", read_only ? "GET, HEAD" : "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  // Answered at the head, before any body: the connection closes after it (what may follow
  // is read and dropped), as the allow list's 403 does.
  reply.close = true;
  return reply;
}

bool RoutedRequest::needs_helper() const {
  return route && (std::holds_alternative<JobAction>(route->action) ||
                   std::holds_alternative<CgiAction>(route->action));
}

RoutedRequest route_request(const VirtualHosts& hosts, const Request& request) {
  RoutedRequest routed;
  if (request.target == "*") {
    routed.asterisk = true;  // about the server as a whole: no route, answered in respond()
    return routed;
  }
  routed.target = parse_target(request.target);
  if (!routed.target) return routed;
  if (const ServerConfig* only = hosts.only()) {
    routed.server = only;  // one server on this address: the Host cannot change the choice
  } else {
    const std::string* host = request.header("Host");
    routed.server = &hosts.select(normalize_host(!routed.target->host.empty() ? routed.target->host
                                                 : host                       ? *host
                                                                              : ""));
  }
  routed.route = select_route(routed.server->routes, routed.target->path);
  return routed;
}

Reply respond(const RoutedRequest& routed, const Request& request, const MimeTypes& mime,
              FileCache& files) {
  if (routed.asterisk) {
    // Only OPTIONS may use asterisk-form (RFC 9110 section 9.3.7); it asks about the server
    // in general, which has nothing to add: 200 with an empty body.
    if (request.method != "OPTIONS") {
      Reply bad = error_reply(400);
      bad.close = true;
      return bad;
    }
    Reply reply;
    reply.status = 200;
    reply.content_length = 0;
    return reply;
  }
  if (!routed.target) {
    Reply bad = error_reply(400);
    bad.close = true;
    return bad;
  }
  Reply reply;
  if (!routed.route) {
    reply = error_reply(404);
  } else if (const auto* ret = std::get_if<ReturnAction>(&routed.route->action)) {
    reply = return_reply(*ret, request);
  } else if (const auto* stat = std::get_if<StaticAction>(&routed.route->action)) {
    reply = serve_static(*stat, request, *routed.target, mime, files);
  } else {
    reply = error_reply(500);  // a helper route reached here: a bug in the caller
  }
  if (request.method == "HEAD") reply.send_body = false;
  if (reply.status == 400) reply.close = true;  // what follows a bad request is not trusted
  return reply;
}

}  // namespace shoal::http
