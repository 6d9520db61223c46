// Metrics, status and health routes (see builtin_routes.hpp).
#include "exchange/builtin_routes.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <utility>

#include "metrics/exposition.hpp"
#include "status/page.hpp"
#include "status/status_json.hpp"

namespace shoal::exchange {

namespace {

bool client_allowed(const std::vector<Cidr>& allow, const PeerAddress& client) {
  const auto address = client.to_sockaddr();
  return allowed(allow, reinterpret_cast<const sockaddr*>(&address));
}

// 403 outside `allow`, 405 for other methods than GET and HEAD, 503 with metrics off when the
// route reads the segment; nullopt: go on.
std::optional<http::Reply> refuse_reader(const std::vector<Cidr>& allow, const char* what,
                                         bool needs_segment, const http::RoutedRequest& routed,
                                         const http::Request& request, const PeerAddress& client,
                                         const BuiltinSite& site) {
  if (!client_allowed(allow, client)) {
    spdlog::info("client {} is not in the allow list of {} route \"{}\"", client.text(), what,
                 routed.route->match);
    return http::error_reply(403);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto reply = http::error_reply(405);
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  if (needs_segment && !site.segment) {
    http::Reply reply;
    reply.status = 503;
    reply.set_body("metrics are off (metrics: false in the configuration)\n", "text/plain");
    return reply;
  }
  return std::nullopt;
}

// The master stopped in the middle of a write to the segment (it takes microseconds
// otherwise): no answer now would be right.
http::Reply segment_busy(const char* what, const std::string& match) {
  spdlog::warn("{} route \"{}\": the master has not finished writing the metrics; 503", what,
               match);
  auto busy = http::error_reply(503);
  busy.headers.emplace_back("Retry-After", "1");
  return busy;
}

std::uint64_t unix_ms_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000'000;
}

http::Reply metrics_reply(const MetricsAction& action, const http::RoutedRequest& routed,
                          const http::Request& request, const PeerAddress& client,
                          const BuiltinSite& site) {
  if (auto refused = refuse_reader(action.allow, "metrics", true, routed, request, client, site)) {
    return std::move(*refused);
  }
  const auto* accept = request.header("Accept");
  const auto format = metrics::negotiate(accept ? std::string_view(*accept) : std::string_view());
  auto series = site.segment->read();
  if (!series) return segment_busy("metrics", routed.route->match);
  if (site.layout) std::erase_if(*series, [&](const auto& s) { return !site.layout->current(s); });
  http::Reply reply;
  reply.status = 200;
  reply.set_body(metrics::expose(*series, format), std::string(metrics::content_type(format)));
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

http::Reply status_reply(const StatusAction& action, const http::RoutedRequest& routed,
                         const http::Request& request, const PeerAddress& client,
                         const BuiltinSite& site) {
  // The page itself needs no segment: with metrics off it shows the JSON's 503.
  const auto query = status::parse_query(routed.target->query);
  if (auto refused =
          refuse_reader(action.allow, "status", query.json, routed, request, client, site)) {
    return std::move(*refused);
  }
  if (!query.error.empty()) {
    http::Reply bad;
    bad.status = 400;
    bad.set_body(query.error + "\n", "text/plain");
    return bad;
  }
  http::Reply reply;
  reply.status = 200;
  if (query.json) {
    const status::Viewer viewer{getpid(),      site.generation,         site.worker,
                                unix_ms_now(), metrics::monotonic_ns(), query.since_ms,
                                site.layout};
    auto body = status::status_json(*site.segment, viewer);
    if (!body) return segment_busy("status", routed.route->match);
    reply.set_body(std::move(*body), "application/json");
  } else {
    reply.set_body(std::string(status::page()), "text/html; charset=utf-8");
    // Everything the page needs is inline; it talks to its own origin only.
    reply.headers.emplace_back("Content-Security-Policy",
                               "default-src 'none'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  }
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

http::Reply health_reply(const BuiltinSite& site) {
  http::Reply reply;
  // An old generation draining in a reload is still this instance serving: 200.
  const bool serving = !site.lame_duck;
  reply.status = serving ? 200 : 503;
  reply.set_body(serving ? "ok\n" : "draining\n", "text/plain");
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace

std::optional<http::Reply> answer_builtin(const http::RoutedRequest& routed,
                                          const http::Request& request, const PeerAddress& client,
                                          const BuiltinSite& site) {
  if (!routed.target || !routed.route) return std::nullopt;
  const auto& action = routed.route->action;
  std::optional<http::Reply> reply;
  if (const auto* metrics = std::get_if<MetricsAction>(&action)) {
    reply = metrics_reply(*metrics, routed, request, client, site);
  } else if (const auto* status = std::get_if<StatusAction>(&action)) {
    reply = status_reply(*status, routed, request, client, site);
  } else if (std::holds_alternative<HealthAction>(action)) {
    reply = health_reply(site);
  } else {
    return std::nullopt;
  }
  if (request.method == "HEAD") reply->send_body = false;
  return reply;
}

}  // namespace shoal::exchange
