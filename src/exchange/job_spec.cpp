// The helper job of a job or CGI route (see job_spec.hpp).
#include "exchange/job_spec.hpp"

#include <string>
#include <utility>
#include <vector>

#include "helpers/cgi.hpp"
#include "http/router.hpp"

namespace shoal::exchange {

helpers::JobSpec job_spec(const http::RoutedRequest& routed, const http::Request& request,
                          const Arrival& arrival) {
  helpers::JobSpec spec;
  if (const auto* job = std::get_if<JobAction>(&routed.route->action)) {
    spec.type = job->builtin == JobKind::kBurn ? helpers::JobType::kBurn : helpers::JobType::kSleep;
    spec.duration = job->duration;
    return spec;
  }
  const auto& cgi = std::get<CgiAction>(routed.route->action);
  spec.type = helpers::JobType::kCgi;
  spec.cgi_root = cgi.root;
  spec.route_prefix = routed.route->match;
  spec.path = routed.target->path;
  const std::string* host = request.header("Host");
  std::string server_name = http::normalize_host(!routed.target->host.empty() ? routed.target->host
                                                 : host                       ? *host
                                                                              : "");
  if (server_name.empty() && !routed.server->server_names.empty()) {
    server_name = routed.server->server_names.front();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size());
  for (const auto& h : request.headers) headers.emplace_back(h.name, h.value);
  spec.env = helpers::cgi_environment({request.method, request.target, routed.target->query,
                                       request.http_major == 2   ? "HTTP/2.0"
                                       : request.http_minor == 0 ? "HTTP/1.0"
                                                                 : "HTTP/1.1",
                                       server_name, arrival.local_port, arrival.client->text(),
                                       arrival.client->port(), &headers, arrival.secure});
  return spec;
}

}  // namespace shoal::exchange
