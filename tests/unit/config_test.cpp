// Config loader: a full valid config, units, and each kind of error with its position.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.hpp"
#include "config/units.hpp"
#include "exchange/real_ip.hpp"

namespace shoal {
namespace {

const std::string kFile = "/etc/shoal/test.yaml";

std::vector<ConfigError> errors_of(const std::string& yaml) {
  try {
    load_config_from_string(yaml, kFile);
  } catch (const ConfigErrors& e) {
    return e.errors();
  }
  return {};
}

// The single error of `yaml`, as "line:col: message".
std::string error_of(const std::string& yaml) {
  auto errors = errors_of(yaml);
  if (errors.size() != 1) return "expected one error, got " + std::to_string(errors.size());
  return std::to_string(errors[0].line) + ":" + std::to_string(errors[0].column) + ": " +
         errors[0].message;
}

const std::string kMinimalServer =
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: hi }\n";

TEST(Config, LoadsEveryKeyOfTheSchema) {
  auto config = load_config_from_string(
      "workers: 3\n"
      "reuse_port: true\n"
      "defer_accept: false\n"
      "user: www-data\n"
      "group: www-data\n"
      "pid_file: run/shoal.pid\n"
      "shutdown_timeout: 5s\n"
      "default_type: text/plain\n"
      "log:\n"
      "  error: { path: logs/error.log, level: warn }\n"
      "  access: { path: off, format: common }\n"
      "limits:\n"
      "  max_connections: 100\n"
      "  header_timeout: 500ms\n"
      "  keepalive_timeout: 2m\n"
      "  send_timeout: 1h\n"
      "  max_header_bytes: 8k\n"
      "  max_body_bytes: 2m\n"
      "helpers: { count: 4, queue: 10, timeout: 3s, nice: 5, sched_idle: true }\n"
      "servers:\n"
      "  - listen: [\"127.0.0.1:8080\", \"[::1]:8080\", \"9090\"]\n"
      "    server_names: [Example.COM, \"*.example.com\"]\n"
      "    routes:\n"
      "      - match: /r\n"
      "        return: { status: 301, location: /x, body: moved, content_type: text/html }\n"
      "      - match: /\n"
      "        static: { root: /tmp, index: [index.htm, index.html] }\n",
      kFile);
  EXPECT_EQ(config.workers, 3);
  EXPECT_FALSE(config.workers_auto);
  EXPECT_TRUE(config.reuse_port);
  EXPECT_FALSE(config.defer_accept);
  EXPECT_EQ(config.user, "www-data");
  EXPECT_EQ(config.pid_file, "/etc/shoal/run/shoal.pid");
  EXPECT_EQ(config.shutdown_timeout, Millis(5000));
  EXPECT_EQ(config.default_type, "text/plain");
  EXPECT_EQ(config.log.error.path, "/etc/shoal/logs/error.log");
  EXPECT_EQ(config.log.error.level, LogLevel::kWarn);
  EXPECT_EQ(config.log.access.path, "off");
  EXPECT_EQ(config.log.access.format, AccessLogFormat::kCommon);
  EXPECT_EQ(config.limits.max_connections, 100);
  EXPECT_EQ(config.limits.header_timeout, Millis(500));
  EXPECT_EQ(config.limits.keepalive_timeout, Millis(120'000));
  EXPECT_EQ(config.limits.send_timeout, Millis(3'600'000));
  EXPECT_EQ(config.limits.max_header_bytes, 8192u);
  EXPECT_EQ(config.limits.max_body_bytes, 2u << 20);
  EXPECT_EQ(config.helpers.count, 4);
  EXPECT_EQ(config.helpers.nice, 5);
  EXPECT_TRUE(config.helpers.sched_idle);
  ASSERT_EQ(config.servers.size(), 1u);
  const auto& server = config.servers[0];
  ASSERT_EQ(server.listen.size(), 3u);
  EXPECT_EQ(server.listen[0].text, "127.0.0.1:8080");
  EXPECT_EQ(server.listen[1].text, "[::1]:8080");
  EXPECT_EQ(server.listen[2].text, "0.0.0.0:9090");
  EXPECT_EQ(server.server_names, (std::vector<std::string>{"example.com", "*.example.com"}));
  ASSERT_EQ(server.routes.size(), 2u);
  const auto& ret = std::get<ReturnAction>(server.routes[0].action);
  EXPECT_EQ(ret.status, 301);
  EXPECT_EQ(ret.location, "/x");
  EXPECT_EQ(ret.body, "moved");
  const auto& stat = std::get<StaticAction>(server.routes[1].action);
  EXPECT_EQ(stat.root, "/tmp");
  EXPECT_EQ(stat.index, (std::vector<std::string>{"index.htm", "index.html"}));
}

TEST(Config, DefaultsAndAutoWorkers) {
  auto config = load_config_from_string(kMinimalServer, kFile);
  EXPECT_FALSE(config.reuse_port);
  EXPECT_TRUE(config.defer_accept);
  EXPECT_TRUE(config.workers_auto);
  EXPECT_GE(config.workers, 1);
  EXPECT_EQ(config.shutdown_timeout, Millis(30'000));
  EXPECT_EQ(config.limits.max_body_bytes, 1u << 20);
  EXPECT_EQ(config.helpers.count, 2);
  EXPECT_EQ(config.helpers.queue, 128);
  EXPECT_EQ(config.helpers.timeout, Millis(30'000));
  EXPECT_EQ(config.helpers.nice, 10);
  EXPECT_FALSE(config.helpers.sched_idle);
  EXPECT_EQ(config.log.error.path, "stderr");
  EXPECT_EQ(config.dir, "/etc/shoal");
}

TEST(Config, RelativeRootsResolveAgainstTheConfigDirectory) {
  auto dir = std::filesystem::temp_directory_path() / "shoal-config-test";
  std::filesystem::create_directories(dir / "www");
  auto config = load_config_from_string(
      "servers:\n  - listen: 8080\n    routes:\n      - match: /\n        static: { root: www }\n",
      (dir / "shoal.yaml").string());
  EXPECT_EQ(std::get<StaticAction>(config.servers[0].routes[0].action).root,
            (dir / "www").string());
  std::filesystem::remove_all(dir);
}

// No mime_types key: mime.types beside the config, else the system table, else built-in ("").
TEST(Config, MimeTypesFallBackToTheSystemTableThenTheBuiltinOne) {
  auto dir = std::filesystem::temp_directory_path() / "shoal-mime-default-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto beside = (dir / "mime.types").string();
  const auto system = (dir / "system.types").string();
  EXPECT_EQ(default_mime_types(beside, system), "");
  { std::ofstream(system) << "text/html html\n"; }
  EXPECT_EQ(default_mime_types(beside, system), system);
  { std::ofstream(beside) << "text/html html\n"; }
  EXPECT_EQ(default_mime_types(beside, system), beside);
  std::filesystem::remove_all(dir);
}

TEST(Config, UnknownKeyNamesItsPosition) {
  EXPECT_EQ(error_of("wrokers: 2\n" + kMinimalServer),
            "1:1: unknown key \"wrokers\" in the top level; expected one of: workers, user, "
            "group, pid_file, shutdown_timeout, drain_delay, worker_max_rss, reuse_port, "
            "defer_accept, metrics, real_ip_from, proxy_protocol_from, mime_types, default_type, "
            "log, tls, limits, helpers, http2, upstreams, servers");
  EXPECT_EQ(error_of("limits: { max_conections: 3 }\n" + kMinimalServer).substr(0, 40),
            "1:11: unknown key \"max_conections\" in li");
}

TEST(Config, WrongTypeNamesItsPosition) {
  EXPECT_EQ(error_of("limits: [1, 2]\n" + kMinimalServer),
            "1:9: limits: expected a mapping, got a list");
  EXPECT_EQ(error_of("workers: [1]\n" + kMinimalServer),
            "1:10: workers (or \"auto\"): expected a scalar, got a list");
  EXPECT_EQ(error_of("workers: 0\n" + kMinimalServer),
            "1:10: workers (or \"auto\"): expected an integer from 1 to 1024, got \"0\"");
}

TEST(Config, BadBoolean) {
  EXPECT_EQ(error_of("helpers: { sched_idle: maybe }\n" + kMinimalServer),
            "1:24: helpers.sched_idle: expected true or false, got \"maybe\"");
  EXPECT_EQ(error_of("defer_accept: 1s\n" + kMinimalServer),
            "1:15: defer_accept: expected true or false, got \"1s\"");
}

TEST(Config, BadDurationAndSize) {
  EXPECT_EQ(error_of("shutdown_timeout: 10 minutes\n" + kMinimalServer),
            "1:19: shutdown_timeout: expected a duration such as 500ms, 30s, 5m or 1h, got \"10 "
            "minutes\"");
  EXPECT_EQ(error_of("limits:\n  max_body_bytes: 1x\n" + kMinimalServer),
            "2:19: limits.max_body_bytes: expected a size such as 512, 16k or 1m, got \"1x\"");
}

TEST(Config, BadAddress) {
  auto message = [](const std::string& address) {
    return error_of("servers:\n  - listen: \"" + address +
                    "\"\n    routes:\n      - match: /\n        return: {}\n");
  };
  EXPECT_EQ(message("127.0.0.1:99999"),
            "2:13: listen: bad address \"127.0.0.1:99999\": expected a port number 0-65535, got "
            "\"99999\"");
  EXPECT_EQ(message("localhost:80"),
            "2:13: listen: bad address \"localhost:80\": expected a numeric IPv4 address, got "
            "\"localhost\"");
  EXPECT_EQ(message("::1:80"),
            "2:13: listen: bad address \"::1:80\": an IPv6 address must be in brackets: "
            "\"[addr]:port\"");
  EXPECT_EQ(message("[::zz]:80"),
            "2:13: listen: bad address \"[::zz]:80\": expected a numeric IPv6 address, got "
            "\"::zz\"");
}

TEST(Config, DuplicateListenAndServerName) {
  const std::string server =
      "  - listen: 127.0.0.1:80\n"
      "    server_names: [a.test]\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: {}\n";
  EXPECT_EQ(error_of("servers:\n" + server + server),
            "8:19: duplicate server: 127.0.0.1:80 already has a server named \"a.test\"");
  const std::string unnamed =
      "  - listen: 127.0.0.1:80\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: {}\n";
  EXPECT_EQ(error_of("servers:\n" + unnamed + unnamed),
            "6:13: duplicate server: 127.0.0.1:80 already has a server without server_names");
}

TEST(Config, RouteWithoutHandlerOrWithTwo) {
  EXPECT_EQ(error_of("servers:\n  - listen: 80\n    routes:\n      - match: /x\n"),
            "4:9: route \"/x\" has no handler: expected one of return, static, job, cgi, proxy, "
            "metrics, status, health");
  EXPECT_EQ(error_of("servers:\n  - listen: 80\n    routes:\n      - match: /x\n"
                     "        return: {}\n        static: { root: /tmp }\n"),
            "4:9: route \"/x\" has more than one handler: expected one of return, static, job, "
            "cgi, proxy, metrics, status, health");
  EXPECT_EQ(error_of("servers:\n  - listen: 80\n    routes:\n      - match: x\n"
                     "        return: {}\n"),
            "4:16: match: expected a path prefix starting with \"/\", got \"x\"");
}

TEST(Config, StaticRootMustBeADirectory) {
  EXPECT_EQ(error_of("servers:\n  - listen: 80\n    routes:\n      - match: /\n"
                     "        static: { root: /nonexistent-shoal-dir }\n"),
            "5:25: static.root: /nonexistent-shoal-dir: No such file or directory");
}

TEST(Config, JobAndCgiRoutes) {
  auto config = load_config_from_string(
      "servers:\n  - listen: 80\n    routes:\n"
      "      - match: /slow\n        job: { builtin: burn, ms: 300 }\n"
      "      - match: /nap\n        job: { builtin: sleep, ms: 20 }\n"
      "      - match: /cgi-bin/\n        cgi: { root: /tmp }\n",
      kFile);
  const auto& routes = config.servers[0].routes;
  EXPECT_EQ(std::get<JobAction>(routes[0].action).builtin, JobKind::kBurn);
  EXPECT_EQ(std::get<JobAction>(routes[0].action).duration, Millis(300));
  EXPECT_EQ(std::get<JobAction>(routes[1].action).builtin, JobKind::kSleep);
  EXPECT_EQ(std::get<CgiAction>(routes[2].action).root, "/tmp");
}

TEST(Config, HelperRoutesNeedHelpers) {
  EXPECT_EQ(error_of("helpers: { count: 0 }\nservers:\n  - listen: 80\n    routes:\n"
                     "      - match: /\n        job: { builtin: burn, ms: 10 }\n"),
            "6:14: job and cgi routes run in helper processes, but helpers.count is 0");
  auto bad = errors_of(
      "servers:\n  - listen: 80\n    routes:\n      - match: /\n"
      "        job: { builtin: spin }\n");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].to_string(), kFile + ":5:25: job.builtin: expected burn or sleep, got \"spin\"");
  EXPECT_EQ(error_of("servers:\n  - listen: 80\n    routes:\n      - match: /\n"
                     "        cgi: { root: /nonexistent-cgi }\n"),
            "5:22: cgi.root: /nonexistent-cgi: No such file or directory");
}

TEST(Config, UpstreamServersAreAddressesNamesOrWeightedEntries) {
  auto config = load_config_from_string(
      "upstreams:\n"
      "  app:\n"
      "    servers: [\"127.0.0.1:9000\", \"app.internal:8080\", "
      "{ address: \"unix:/run/app.sock\", weight: 5 }]\n"
      "    resolve_interval: 5s\n" +
          kMinimalServer,
      kFile);
  const auto& servers = config.upstreams.at("app").servers;
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_TRUE(servers[0].name.empty());
  EXPECT_EQ(servers[1].name, "app.internal");
  EXPECT_EQ(servers[1].port, "8080");
  EXPECT_EQ(servers[2].weight, 5);
  EXPECT_EQ(servers[0].weight, 1);
  EXPECT_EQ(config.upstreams.at("app").resolve_interval, Millis(5000));
  const std::string head = "upstreams:\n  app:\n    servers: ";
  EXPECT_EQ(error_of(head + "[\"app.internal\"]\n" + kMinimalServer),
            "3:15: upstreams.servers: \"app.internal\": expected host:port (a numeric address "
            "or a DNS name), [v6]:port or unix:/path");
  EXPECT_TRUE(error_of(head + "[\"bad_name:80\"]\n" + kMinimalServer)
                  .starts_with("3:15: upstreams.servers: \"bad_name:80\": expected"));
  EXPECT_TRUE(error_of(head + "[\"app:99999\"]\n" + kMinimalServer)
                  .starts_with("3:15: upstreams.servers: \"app:99999\": expected"));
  EXPECT_EQ(error_of(head + "[{ address: \"127.0.0.1:1\", weight: 0 }]\n" + kMinimalServer),
            "3:49: upstreams.servers.weight: expected an integer from 1 to 1000, got \"0\"");
  EXPECT_EQ(error_of(head + "[{ weight: 2 }]\n" + kMinimalServer),
            "3:15: upstreams.servers: missing \"address\" in {address, weight}");
  EXPECT_EQ(error_of("helpers: { count: 0 }\n" + head + "[\"app.internal:80\"]\n" + kMinimalServer),
            "4:14: upstreams.servers: DNS names are resolved in helper processes, but "
            "helpers.count is 0");
  EXPECT_EQ(
      error_of(head + "[\"127.0.0.1:1\"]\nservers:\n  - listen: 80\n    routes:\n"
                      "      - match: /\n        proxy: { upstream: app, forwarding: rfc }\n"),
      "8:45: proxy.forwarding: expected x_forwarded, forwarded, both or none, got \"rfc\"");
}

TEST(Config, EveryErrorIsReportedNotJustTheFirst) {
  auto errors = errors_of("workers: x\nshutdown_timeout: y\nbogus: 1\n" + kMinimalServer);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].to_string().substr(0, kFile.size() + 5), kFile + ":3:1:");
}

TEST(Config, YamlSyntaxErrorHasAPosition) {
  auto errors = errors_of("servers: [\n  - listen: 80\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_GT(errors[0].line, 0);
  EXPECT_EQ(errors_of("").at(0).message, "the configuration is empty");
  EXPECT_EQ(error_of("workers: 2\n"),
            "1:1: missing \"servers\": expected a list of servers with listen and routes");
}

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("30s"), Millis(30'000));
  EXPECT_EQ(parse_duration("30"), Millis(30'000));
  EXPECT_EQ(parse_duration("5m"), Millis(300'000));
  EXPECT_EQ(parse_duration("1h"), Millis(3'600'000));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("99999999999999999999d"));
}

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("16k"), 16u * 1024);
  EXPECT_EQ(parse_size("1M"), 1u << 20);
  EXPECT_EQ(parse_size("2g"), 2ull << 30);
  EXPECT_FALSE(parse_size("1kb"));
  EXPECT_FALSE(parse_size("k"));
  EXPECT_FALSE(parse_size("99999999999999999999g"));
}

}  // namespace
}  // namespace shoal

namespace shoal {
namespace {

TEST(Config, AHealthRouteTakesNoKeysAndDrainDelayIsADuration) {
  const std::string route =
      "servers:\n  - listen: 127.0.0.1:8080\n    routes:\n      - match: /healthz\n";
  auto config =
      load_config_from_string("drain_delay: 5s\n" + route + "        health: {}\n", "/t.yaml");
  EXPECT_TRUE(std::holds_alternative<HealthAction>(config.servers[0].routes[0].action));
  EXPECT_EQ(config.drain_delay, Millis(5000));
  EXPECT_EQ(load_config_from_string(route + "        health:\n", "/t.yaml").drain_delay, Millis(0));
  try {
    load_config_from_string(route + "        health: { path: /x }\n", "/t.yaml");
    ADD_FAILURE() << "a key in health was accepted";
  } catch (const ConfigErrors& e) {
    EXPECT_EQ(e.errors().at(0).line, 5);
    EXPECT_EQ(e.errors().at(0).message, "health: takes no keys; write health: {}");
  }
  EXPECT_THROW(
      load_config_from_string("drain_delay: soon\n" + route + "        health: {}\n", "/t.yaml"),
      ConfigErrors);
}

}  // namespace
}  // namespace shoal

namespace shoal {
namespace {

http::Request forwarded(std::vector<std::string> fields) {
  http::Request request;
  for (auto& f : fields) request.headers.push_back({"X-Forwarded-For", std::move(f)});
  return request;
}

std::vector<Cidr> networks(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  std::string error;
  for (const char* t : texts) out.push_back(*parse_cidr(t, error));
  return out;
}

TEST(RealIp, TheRightMostUntrustedAddressIsTheClient) {
  const auto trusted = networks({"10.0.0.0/8", "::1/128"});
  const auto proxy = *parse_peer_address("10.0.0.5");
  auto client = real_client(proxy, trusted, forwarded({"203.0.113.9, 198.51.100.2, 10.1.1.1"}));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "198.51.100.2");  // the hop before the trusted one
  EXPECT_EQ(client->port(), 0);
  // Two fields count as one list, in order.
  client = real_client(proxy, trusted, forwarded({"203.0.113.9", "10.2.2.2"}));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "203.0.113.9");
  // Every hop trusted: the left-most one.
  client = real_client(proxy, trusted, forwarded({"10.9.9.9, 10.8.8.8"}));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "10.9.9.9");
  // IPv6, bracketed or not.
  client = real_client(*parse_peer_address("::1"), trusted, forwarded({"[2001:db8::7]"}));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "2001:db8::7");
}

TEST(RealIp, AnUntrustedPeerOrAJunkHeaderLeavesThePeer) {
  const auto trusted = networks({"10.0.0.0/8"});
  EXPECT_FALSE(real_client(*parse_peer_address("192.0.2.1"), trusted, forwarded({"203.0.113.9"})));
  EXPECT_FALSE(real_client(*parse_peer_address("10.0.0.1"), {}, forwarded({"203.0.113.9"})));
  EXPECT_FALSE(real_client(*parse_peer_address("10.0.0.1"), trusted, forwarded({})));
  EXPECT_FALSE(real_client(*parse_peer_address("10.0.0.1"), trusted, forwarded({"unknown"})));
  // A junk entry stops the walk at the hop after it (to its right).
  auto client = real_client(*parse_peer_address("10.0.0.1"), trusted,
                            forwarded({"203.0.113.9, bogus, 10.3.3.3"}));
  ASSERT_TRUE(client);
  EXPECT_EQ(client->text(), "10.3.3.3");
  EXPECT_FALSE(parse_peer_address("1.2.3.4:80"));
  EXPECT_FALSE(parse_peer_address(""));
  EXPECT_FALSE(parse_peer_address("[]"));
}

TEST(Config, RealIpFromIsAListOfNetworks) {
  auto config = load_config_from_string(
      "real_ip_from: [10.0.0.0/8, \"::1/128\"]\n" + kMinimalServer, "/t.yaml");
  ASSERT_EQ(config.real_ip_from.size(), 2u);
  EXPECT_EQ(config.real_ip_from[1].text, "::1/128");
  EXPECT_EQ(error_of("real_ip_from: 10.0.0.0/8\n" + kMinimalServer),
            "1:15: real_ip_from: expected a list of networks such as [127.0.0.1/32]");
}

}  // namespace
}  // namespace shoal

namespace shoal {
namespace {

TEST(Config, ProxyProtocolNeedsItsNetworksAndOneMeaningPerAddress) {
  const std::string entry =
      "servers:\n"
      "  - listen: [{ address: \"127.0.0.1:8080\", proxy_protocol: true }]\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: {}\n";
  auto config = load_config_from_string("proxy_protocol_from: [10.0.0.0/8]\n" + entry, "/t.yaml");
  EXPECT_TRUE(config.servers[0].listen[0].proxy_protocol);
  EXPECT_EQ(config.proxy_protocol_from[0].text, "10.0.0.0/8");
  EXPECT_EQ(error_of(entry),
            "2:59: listen.proxy_protocol: needs proxy_protocol_from at the top level (the "
            "balancers' networks)");
  const std::string both = "proxy_protocol_from: [10.0.0.0/8]\n" + entry +
                           "  - listen: 127.0.0.1:8080\n"
                           "    server_names: [other]\n"
                           "    routes:\n"
                           "      - match: /\n"
                           "        return: {}\n";
  EXPECT_EQ(error_of(both),
            "7:13: listen: 127.0.0.1:8080 has proxy_protocol true for another server; one "
            "address cannot be both");
}

}  // namespace
}  // namespace shoal
