// The protocol-free parts of an exchange, without a connection: the metrics, status and health
// routes' answers, and the helper job a CGI route asks for.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <string>

#include "exchange/builtin_routes.hpp"
#include "exchange/job_spec.hpp"
#include "http/path.hpp"

namespace shoal::exchange {
namespace {

PeerAddress address(const char* ip, int port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip, &in.sin_addr);
  return PeerAddress(reinterpret_cast<const sockaddr*>(&in));
}

Cidr cidr(const char* text) {
  std::string error;
  return *parse_cidr(text, error);
}

struct Routed {
  Routed(RouteAction action, const std::string& target) {
    server.server_names = {"example.org"};
    route.match = "/";
    route.action = std::move(action);
    routed.target = http::parse_target(target);
    routed.server = &server;
    routed.route = &route;
    request.method = "GET";
    request.target = target;
  }
  ServerConfig server;
  Route route;
  http::RoutedRequest routed;
  http::Request request;
};

TEST(BuiltinRoutes, HealthIsOkUntilTheLameDuckThenDraining) {
  Routed r(HealthAction{}, "/healthz");
  const auto client = address("127.0.0.1", 5000);
  auto ok = answer_builtin(r.routed, r.request, client, {});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "ok\n");
  BuiltinSite stopping;
  stopping.lame_duck = true;
  auto draining = answer_builtin(r.routed, r.request, client, stopping);
  EXPECT_EQ(draining->status, 503);
  r.request.method = "HEAD";
  EXPECT_FALSE(answer_builtin(r.routed, r.request, client, {})->send_body);
}

TEST(BuiltinRoutes, MetricsAnswerOnlyTheirClientsAndMethodsAndSayWhenOff) {
  Routed r(MetricsAction{{cidr("127.0.0.0/8")}}, "/metrics");
  const auto inside = address("127.0.0.1", 5000);
  EXPECT_EQ(answer_builtin(r.routed, r.request, address("10.1.2.3", 5000), {})->status, 403);
  EXPECT_EQ(answer_builtin(r.routed, r.request, inside, {})->status, 503);  // metrics: false
  r.request.method = "POST";
  auto refused = answer_builtin(r.routed, r.request, inside, {});
  EXPECT_EQ(refused->status, 405);
  EXPECT_NE(std::find(refused->headers.begin(), refused->headers.end(),
                      std::pair<std::string, std::string>("Allow", "GET, HEAD")),
            refused->headers.end());
  // A HEAD has no body, refused or not.
  r.request.method = "HEAD";
  EXPECT_FALSE(answer_builtin(r.routed, r.request, address("10.1.2.3", 5000), {})->send_body);
}

TEST(BuiltinRoutes, StatusRefusesABadQueryAndServesThePageWithoutMetrics) {
  Routed r(StatusAction{{cidr("127.0.0.0/8")}}, "/status?since=yesterday");
  const auto inside = address("127.0.0.1", 5000);
  EXPECT_EQ(answer_builtin(r.routed, r.request, inside, {})->status, 400);
  Routed json(StatusAction{{cidr("127.0.0.0/8")}}, "/status?format=json");
  EXPECT_EQ(answer_builtin(json.routed, json.request, inside, {})->status, 503);  // metrics off
  Routed page(StatusAction{{cidr("127.0.0.0/8")}}, "/status");
  auto html = answer_builtin(page.routed, page.request, inside, {});
  EXPECT_EQ(html->status, 200);  // the page needs no segment; its JSON does
  EXPECT_NE(html->body.find("<html"), std::string::npos);
}

TEST(BuiltinRoutes, OtherRoutesAreNotBuiltin) {
  Routed r(ReturnAction{}, "/x");
  EXPECT_FALSE(answer_builtin(r.routed, r.request, address("127.0.0.1", 1), {}));
}

TEST(JobSpec, ACgiRouteGetsItsProgramAndEnvironment) {
  Routed r(CgiAction{"/srv/cgi"}, "/cgi-bin/env.sh/extra?a=1");
  r.route.match = "/cgi-bin/";
  r.request.headers.push_back({"Host", "Example.ORG:8080"});
  r.request.headers.push_back({"X-Thing", "yes"});
  const auto client = address("192.0.2.7", 40000);
  const auto spec = job_spec(r.routed, r.request, {&client, 8443, true});
  EXPECT_EQ(spec.type, helpers::JobType::kCgi);
  EXPECT_EQ(spec.cgi_root, "/srv/cgi");
  EXPECT_EQ(spec.route_prefix, "/cgi-bin/");
  EXPECT_EQ(spec.path, "/cgi-bin/env.sh/extra");
  auto has = [&](const std::string& entry) {
    return std::find(spec.env.begin(), spec.env.end(), entry) != spec.env.end();
  };
  EXPECT_TRUE(has("SERVER_NAME=example.org")) << "the Host without its port, lowercased";
  EXPECT_TRUE(has("SERVER_PORT=8443"));
  EXPECT_TRUE(has("REMOTE_ADDR=192.0.2.7"));
  EXPECT_TRUE(has("HTTPS=on"));
  EXPECT_TRUE(has("QUERY_STRING=a=1"));
  EXPECT_TRUE(has("HTTP_X_THING=yes"));
}

TEST(JobSpec, ABuiltinJobIsItsKindAndDuration) {
  JobAction burn;
  burn.builtin = JobKind::kBurn;
  burn.duration = Millis{300};
  Routed r(burn, "/slow");
  const auto client = address("127.0.0.1", 1);
  const auto spec = job_spec(r.routed, r.request, {&client, 80, false});
  EXPECT_EQ(spec.type, helpers::JobType::kBurn);
  EXPECT_EQ(spec.duration, Millis{300});
}

}  // namespace
}  // namespace shoal::exchange
