// The protocol-free parts of an exchange, without a connection: the metrics, status and health
// routes' answers, and the helper job a CGI route asks for.
#include "exchange/exchange.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

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
  EXPECT_TRUE(has("SERVER_PROTOCOL=HTTP/1.1"));
  // Over HTTP/2 the program learns it as nginx's $server_protocol says it.
  r.request.http_major = 2;
  r.request.http_minor = 0;
  const auto h2 = job_spec(r.routed, r.request, {&client, 8443, true});
  EXPECT_NE(std::find(h2.env.begin(), h2.env.end(), "SERVER_PROTOCOL=HTTP/2.0"), h2.env.end());
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

// An Exchange over a fake session: what a job's answer becomes, without a connection, a
// helper or an upstream (the runner's callbacks are called as a runner would).
namespace shoal::exchange {
namespace {

struct FakeCarrier : Carrier {
  std::vector<std::string> calls;
  JobHead head;
  std::string data;
  http::Reply answered;
  void job_head(JobHead h) override {
    head = std::move(h);
    calls.push_back("head");
  }
  void job_data(std::string_view d) override {
    data.append(d);
    calls.push_back("data");
  }
  void job_end() override { calls.push_back("end"); }
  void job_cut() override { calls.push_back("cut"); }
  void progress() override { calls.push_back("progress"); }
  void answer(http::Reply reply) override {
    answered = std::move(reply);
    calls.push_back("answer");
  }
  std::string unparsed = "GET /x HTTP/1.1";
  std::string_view unparsed_request() const override { return unparsed; }
};

struct ExchangeFixture : ::testing::Test {
  ExchangeFixture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    logger = std::make_shared<spdlog::logger>("exchange-test", sink);
    logger->set_pattern("%v");
    access = std::make_unique<AccessLog>(logger, AccessLogFormat::kCommon);
    services.access_log = access.get();
    services.log_limiter = &limiter;
    services.metrics = &recorder;
    request.method = "GET";
    request.target = "/x";
    exchange.bind(&carrier, &peer, &transport);
  }
  std::ostringstream log;
  std::shared_ptr<spdlog::logger> logger;
  std::unique_ptr<AccessLog> access;
  RepeatLimiter limiter;
  metrics::Recorder recorder;  // off
  Services services;
  http::Request request;
  PeerAddress peer = address("198.51.100.9", 4000);
  net::Transport transport{-1};
  FakeCarrier carrier;
  Exchange exchange{services, request};
  helpers::JobSink& sink() { return exchange; }
};

TEST_F(ExchangeFixture, AJobsHeadIsStructuredItsLengthTakenOutAndItsBodyCounted) {
  sink().on_job_head_and_data(200, {{"Content-Type", "text/plain"}, {"Content-Length", "5"}},
                              "hello");
  EXPECT_EQ(carrier.calls, (std::vector<std::string>{"head", "data", "progress"}));
  EXPECT_EQ(carrier.head.status, 200);
  EXPECT_EQ(carrier.head.length, 5u);
  EXPECT_EQ(carrier.head.fields, (helpers::HeaderList{{"Content-Type", "text/plain"}}));
  EXPECT_FALSE(carrier.head.tunnel);  // a 101 is a tunnel only when proxied
  sink().on_job_end();
  EXPECT_EQ(carrier.calls.back(), "progress");
  EXPECT_EQ(carrier.calls[carrier.calls.size() - 2], "end");
  logger->flush();
  EXPECT_NE(log.str().find("198.51.100.9 - - ["), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("\"GET /x HTTP/1.1\" 200 5"), std::string::npos) << log.str();
}

TEST_F(ExchangeFixture, AHeadRequestsBodyIsNeitherPassedNorCounted) {
  request.method = "HEAD";
  sink().on_job_head(200, {});
  sink().on_job_data("not for a HEAD");
  EXPECT_TRUE(carrier.head.discard_body);
  EXPECT_EQ(carrier.data, "");
  sink().on_job_end();
  logger->flush();
  EXPECT_NE(log.str().find("\"GET /x HTTP/1.1\" 200 0"), std::string::npos) << log.str();
}

TEST_F(ExchangeFixture, AFailureBeforeTheHeadIsAnsweredWithItsStatus) {
  sink().on_job_failed(503);
  EXPECT_EQ(carrier.calls, (std::vector<std::string>{"answer", "progress"}));
  EXPECT_EQ(carrier.answered.status, 503);
  EXPECT_NE(std::find(carrier.answered.headers.begin(), carrier.answered.headers.end(),
                      std::pair<std::string, std::string>("Retry-After", "1")),
            carrier.answered.headers.end());
  // HEAD: the error page is not sent (its length is).
  request.method = "HEAD";
  sink().on_job_failed(504);
  EXPECT_EQ(carrier.answered.status, 504);
  EXPECT_FALSE(carrier.answered.send_body);
}

TEST(Request, ItsLineIsBuiltFromItsParsedParts) {
  http::Request request;
  request.method = "OPTIONS";
  request.target = "*";
  request.http_minor = 0;
  EXPECT_EQ(request.line(), "OPTIONS * HTTP/1.0");
  request.method = "GET";
  request.target = "/a%20b?q=1";
  request.http_major = 2;
  EXPECT_EQ(request.line(), "GET /a%20b?q=1 HTTP/2.0");  // as nginx logs an HTTP/2 request
}

TEST_F(ExchangeFixture, TheLogShowsTheParsedRequestOnceItsHeadIsCompleteElseWhatArrived) {
  // What a session received is not what the logs show once the head is parsed: an HTTP/2
  // session has no request line at all.
  carrier.unparsed = "what the wire had";
  ServerConfig server;
  server.server_names = {"example.org"};
  Route route;
  route.match = "/";
  route.action = ReturnAction{};
  server.routes.push_back(route);
  http::VirtualHosts hosts;
  hosts.add(&server);
  request.target = "/x?y=1";
  request.http_major = 2;
  request.http_minor = 0;
  ASSERT_FALSE(exchange.route(hosts));
  exchange.account(204, 0, {});
  // The next request on this exchange is refused before its head completes (a 400, a 408).
  exchange.account(400, 0, {});
  logger->flush();
  EXPECT_NE(log.str().find("\"GET /x?y=1 HTTP/2.0\" 204 0\n"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("\"what the wire had\" 400 0\n"), std::string::npos) << log.str();
}

// Two filters for the chain's tests: one upper-cases text (and declines anything else), one
// brackets the whole body, which shows the order and what a filter emits at the end.
struct UpperFactory final : FilterFactory {
  struct Upper final : ResponseFilter {
    void data(std::string_view bytes, FilterSink& next) override {
      std::string up(bytes);
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      next.write(up);
    }
    void end(FilterSink& /*next*/) override {}
  };
  std::unique_ptr<ResponseFilter> engage(const http::Request& /*request*/, JobHead& head) override {
    const bool text = std::any_of(head.fields.begin(), head.fields.end(), [](const auto& f) {
      return f.first == "Content-Type" && f.second.starts_with("text/");
    });
    if (!text) return nullptr;
    head.fields.emplace_back("X-Filter", "upper");
    return std::make_unique<Upper>();
  }
};

struct BracketFactory final : FilterFactory {
  struct Bracket final : ResponseFilter {
    bool begun = false;
    void data(std::string_view bytes, FilterSink& next) override {
      if (!begun) next.write("[");
      begun = true;
      next.write(bytes);
    }
    void end(FilterSink& next) override { next.write(begun ? "]" : "[]"); }
  };
  std::unique_ptr<ResponseFilter> engage(const http::Request& /*request*/, JobHead& head) override {
    head.fields.emplace_back("X-Filter", "bracket");
    head.length.reset();  // the body grows
    return std::make_unique<Bracket>();
  }
};

struct FilteredExchange : ExchangeFixture {
  FilteredExchange() { services.filters = {&upper, &bracket}; }
  UpperFactory upper;
  BracketFactory bracket;
};

TEST_F(FilteredExchange, AJobsBodyPassesThroughEachFilterInOrderAndIsCountedAsSent) {
  sink().on_job_head_and_data(200, {{"Content-Type", "text/plain"}, {"Content-Length", "11"}},
                              "hello");
  sink().on_job_data(" world");
  sink().on_job_end();
  EXPECT_EQ(carrier.data, "[HELLO WORLD]");
  EXPECT_FALSE(carrier.head.length);
  EXPECT_EQ(
      carrier.head.fields,
      (Fields{{"Content-Type", "text/plain"}, {"X-Filter", "upper"}, {"X-Filter", "bracket"}}));
  logger->flush();
  EXPECT_NE(log.str().find("\" 200 13\n"), std::string::npos) << log.str();
}

TEST_F(FilteredExchange, AFilterThatDeclinesLeavesTheBodyToTheOthers) {
  sink().on_job_head_and_data(200, {{"Content-Type", "image/png"}}, "png");
  sink().on_job_end();
  EXPECT_EQ(carrier.data, "[png]");
  EXPECT_EQ(carrier.head.fields, (Fields{{"Content-Type", "image/png"}, {"X-Filter", "bracket"}}));
}

TEST_F(FilteredExchange, HeadResponsesAndTunnelsAreNeverFiltered) {
  request.method = "HEAD";
  sink().on_job_head(200, {{"Content-Type", "text/plain"}, {"Content-Length", "5"}});
  sink().on_job_end();
  EXPECT_EQ(carrier.head.fields, (Fields{{"Content-Type", "text/plain"}}));
  EXPECT_EQ(carrier.head.length, 5u);
  EXPECT_EQ(carrier.data, "");
}

TEST_F(FilteredExchange, AWholeReplyInMemoryIsFilteredAtOnceAndAFileReplyIsNot) {
  const Fields shared{{"Content-Type", "text/html"}};
  http::Reply reply;
  reply.fixed_body = "<p>hi</p>";
  reply.content_length = reply.fixed_body.size();
  reply.shared_fields = &shared;
  exchange.filter_reply(reply);
  EXPECT_EQ(reply.body, "[<P>HI</P>]");
  EXPECT_TRUE(reply.fixed_body.empty());
  EXPECT_EQ(reply.content_length, 11u);
  EXPECT_EQ(reply.shared_fields, nullptr);
  EXPECT_EQ(
      reply.headers,
      (Fields{{"Content-Type", "text/html"}, {"X-Filter", "upper"}, {"X-Filter", "bracket"}}));
  http::Reply file;
  file.file = std::make_shared<http::CachedFile>();
  file.content_length = 100;
  exchange.filter_reply(file);
  EXPECT_TRUE(file.headers.empty());
  EXPECT_EQ(file.content_length, 100u);
  http::Reply head_only = http::error_reply(404);
  head_only.send_body = false;
  const auto before = head_only.headers;
  exchange.filter_reply(head_only);
  EXPECT_EQ(head_only.headers, before);
}

TEST_F(ExchangeFixture, WritableProgressesOnlyAPausedBody) {
  sink().on_job_writable();
  EXPECT_TRUE(carrier.calls.empty());
  exchange.set_body_paused();
  sink().on_job_writable();
  EXPECT_EQ(carrier.calls, (std::vector<std::string>{"progress"}));
  EXPECT_FALSE(exchange.body_paused());
}

}  // namespace
}  // namespace shoal::exchange
