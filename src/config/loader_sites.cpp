// The config loader, second half: servers, listen addresses and TLS, routes and their
// actions, upstreams (see loader_internal.hpp).
#include "config/loader_internal.hpp"

namespace shoal::config_internal {

void Loader::servers(const YAML::Node& node, Config& config) {
  if (!node.IsSequence() || node.size() == 0) {
    error(node, "servers: expected a list of at least one server");
    return;
  }
  // (listen address, server name) pairs already taken, for the duplicate check.
  std::set<std::pair<std::string, std::string>> taken;
  for (const auto& item : node) {
    ServerConfig server;
    server.mark = mark_of(item);
    if (!check_map(item, "a server", schema::kServer)) continue;
    if (auto n = item["listen"]) {
      listen(n, server);
    } else {
      error(item, "server: missing \"listen\": expected an address such as 127.0.0.1:8080");
    }
    if (auto n = item["server_names"]) {
      for (auto name : string_list(n, "server_names")) {
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        server.server_names.push_back(std::move(name));
      }
    }
    auto names = server.server_names;
    if (names.empty()) names.push_back("");  // a server without names: the address's default
    for (const auto& address : server.listen) {
      for (const auto& name : names) {
        if (!taken.insert({address.text, name}).second) {
          auto where = item["server_names"] ? item["server_names"] : item["listen"];
          error(where, "duplicate server: " + address.text +
                           (name.empty() ? " already has a server without server_names"
                                         : " already has a server named \"" + name + "\""));
        }
      }
    }
    if (auto n = item["tls"]) server.tls = server_tls(n);
    for (const auto& address : server.listen) {
      if (address.tls && !server.tls) {
        error(item["listen"], "server listens with TLS on " + address.text +
                                  " but has no tls: expected tls: {certificate: FILE, key: FILE}");
        break;
      }
    }
    if (auto n = item["routes"]) {
      routes(n, server);
    } else {
      error(item, "server: missing \"routes\": expected a list of routes");
    }
    config.servers.push_back(std::move(server));
  }
}

void Loader::listen(const YAML::Node& node, ServerConfig& server) {
  std::vector<YAML::Node> entries;
  if (node.IsSequence()) {
    for (const auto& item : node) entries.push_back(item);
  } else {
    entries.push_back(node);
  }
  for (const auto& entry : entries) {
    std::optional<std::string> text;
    bool tls = false;
    bool proxy_protocol = false;
    bool http2 = true;
    YAML::Node where;  // Node::operator= would write into the tree: reset() rebinds
    where.reset(entry);
    if (entry.IsMap()) {
      if (!check_map(entry, "a listen entry", schema::kListen)) continue;
      if (auto a = entry["address"]) {
        text = scalar(a, "listen.address");
        where.reset(a);
      } else {
        error(entry, "listen: missing \"address\": expected {address: \"*:443\", tls: true}");
        continue;
      }
      if (auto t = entry["tls"]) {
        if (auto b = boolean(t, "listen.tls")) tls = *b;
      }
      if (auto p = entry["proxy_protocol"]) {
        if (auto b = boolean(p, "listen.proxy_protocol")) proxy_protocol = *b;
        if (proxy_protocol && !proxy_protocol_from_) {
          error(p,
                "listen.proxy_protocol: needs proxy_protocol_from at the top level (the "
                "balancers' networks)");
        }
      }
      if (auto h = entry["http2"]) {
        if (auto b = boolean(h, "listen.http2")) http2 = *b;
      }
    } else if (entry.IsScalar()) {
      text = entry.Scalar();
    } else {
      error(entry,
            std::string("listen: expected an address or {address, tls}, got ") + type_name(entry));
      continue;
    }
    if (!text) continue;
    std::string why;
    auto address = parse_listen_address(*text, why);
    if (!address) {
      error(where, "listen: bad address \"" + *text + "\": " + why);
      continue;
    }
    address->tls = tls;
    address->proxy_protocol = proxy_protocol;
    address->http2 = http2;
    auto [it, fresh] = listen_tls_.emplace(address->text, tls);
    if (!fresh && it->second != tls) {
      error(where, "listen: " + address->text + " is " + (tls ? "plain HTTP" : "TLS") +
                       " for another server; one address cannot be both");
      continue;
    }
    auto [p, first] = listen_proxy_.emplace(address->text, proxy_protocol);
    if (!first && p->second != proxy_protocol) {
      error(where, "listen: " + address->text + " has proxy_protocol " +
                       (p->second ? "true" : "false") +
                       " for another server; one address cannot be both");
      continue;
    }
    auto [h, once] = listen_http2_.emplace(address->text, http2);
    if (!once && h->second != http2) {
      error(where, "listen: " + address->text + " has http2 " + (h->second ? "true" : "false") +
                       " for another server; one address cannot be both");
      continue;
    }
    server.listen.push_back(*address);
  }
}

std::optional<std::string> Loader::readable_file(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto path = resolve(*text);
  if (::access(path.c_str(), R_OK) != 0) {
    error(node, std::string(what) + ": cannot read " + path + ": " + std::strerror(errno));
    return std::nullopt;
  }
  return path;
}

TlsSettings Loader::server_tls(const YAML::Node& node) {
  TlsSettings tls;
  tls.mark = mark_of(node);
  if (!check_map(node, "a server's tls", schema::kServerTls)) return tls;
  if (auto n = node["certificate"]) {
    tls.certificate_mark = mark_of(n);
    if (auto path = readable_file(n, "tls.certificate")) tls.certificate = *path;
  } else {
    error(node, "tls: missing \"certificate\": expected a PEM file with the chain, leaf first");
  }
  if (auto n = node["key"]) {
    tls.key_mark = mark_of(n);
    if (auto path = readable_file(n, "tls.key")) tls.key = *path;
  } else {
    error(node, "tls: missing \"key\": expected the PEM private key of the certificate");
  }
  if (auto n = node["protocols"]) {
    tls.protocols = 0;
    for (const auto& name : string_list(n, "tls.protocols")) {
      if (name == "TLSv1.2") {
        tls.protocols |= static_cast<std::uint8_t>(TlsProtocol::kTls12);
      } else if (name == "TLSv1.3") {
        tls.protocols |= static_cast<std::uint8_t>(TlsProtocol::kTls13);
      } else {
        error(n, "tls.protocols: expected TLSv1.2 and/or TLSv1.3, got \"" + name + "\"");
      }
    }
    if (tls.protocols == 0) tls.protocols = static_cast<std::uint8_t>(TlsProtocol::kTls13);
  }
  if (auto n = node["ciphers"]) {
    if (auto s = scalar(n, "tls.ciphers")) tls.ciphers = *s;
  }
  return tls;
}

void Loader::top_tls(const YAML::Node& node, TlsTickets& tickets) {
  if (!check_map(node, "tls", schema::kTopTls)) return;
  if (auto n = node["session_tickets"]) {
    if (auto b = boolean(n, "tls.session_tickets")) tickets.enabled = *b;
  }
  if (auto n = node["ticket_rotation"]) {
    if (auto d = duration(n, "tls.ticket_rotation")) {
      if (*d < Millis(1000) || *d > Millis(7LL * 24 * 3600 * 1000)) {
        error(n, "tls.ticket_rotation: expected a duration from 1s to 7d");
      } else {
        tickets.rotation = *d;
      }
    }
  }
}

void Loader::routes(const YAML::Node& node, ServerConfig& server) {
  if (!node.IsSequence() || node.size() == 0) {
    error(node, "routes: expected a list of at least one route");
    return;
  }
  for (const auto& item : node) {
    if (!check_map(item, "a route", schema::kRoute)) continue;
    Route route;
    route.mark = mark_of(item);
    if (auto n = item["allow"]) route.allow = cidr_list(n, "allow");
    if (auto n = item["trace"]) {
      if (auto b = boolean(n, "trace")) route.trace = *b;
    }
    if (auto n = item["match"]) {
      if (auto s = scalar(n, "match")) {
        if (s->empty() || s->front() != '/') {
          error(n, "match: expected a path prefix starting with \"/\", got \"" + *s + "\"");
        } else {
          route.match = *s;
          for (const auto& other : server.routes) {
            if (other.match == route.match) {
              error(n, "duplicate route \"" + route.match + "\" in this server");
            }
          }
        }
      }
    } else {
      error(item, "route: missing \"match\": expected a path prefix such as /");
    }
    int handlers = 0;
    for (const char* key :
         {"return", "static", "job", "cgi", "proxy", "metrics", "status", "health"}) {
      handlers += item[key] ? 1 : 0;
    }
    if (handlers == 0) {
      error(item,
            "route \"" + route.match +
                "\" has no handler: expected one of return, static, job, cgi, proxy, metrics, "
                "status, health");
      continue;
    }
    if (handlers > 1) {
      error(item, "route \"" + route.match +
                      "\" has more than one handler: expected one of return, static, job, cgi, "
                      "proxy, metrics, status, health");
      continue;
    }
    if (auto n = item["return"]) {
      route.action = return_action(n);
    } else if (auto s = item["static"]) {
      route.action = static_action(s);
    } else if (auto j = item["job"]) {
      route.action = job_action(j);
      helper_routes_.push_back(mark_of(j));
    } else if (auto c = item["cgi"]) {
      route.action = cgi_action(c);
      helper_routes_.push_back(mark_of(c));
    } else if (auto p = item["proxy"]) {
      route.action = proxy_action(p);
    } else if (auto m = item["metrics"]) {
      route.action = MetricsAction{allow_action(m, "metrics", schema::kMetrics)};
    } else if (auto st = item["status"]) {
      route.action = StatusAction{allow_action(st, "status", schema::kStatus)};
    } else if (auto h = item["health"]) {
      if (!h.IsNull() && !(h.IsMap() && h.size() == 0)) {
        error(h, "health: takes no keys; write health: {}");
      }
      route.action = HealthAction{};
    }
    server.routes.push_back(std::move(route));
  }
}

ReturnAction Loader::return_action(const YAML::Node& node) {
  ReturnAction action;
  if (!check_map(node, "return", schema::kReturn)) return action;
  if (auto n = node["status"]) {
    if (auto v = integer(n, "return.status", 100, 599)) action.status = static_cast<int>(*v);
  }
  if (auto n = node["body"]) {
    if (auto s = scalar(n, "return.body")) action.body = *s;
  }
  if (auto n = node["location"]) {
    if (auto s = scalar(n, "return.location")) action.location = *s;
  }
  if (auto n = node["content_type"]) {
    if (auto s = scalar(n, "return.content_type")) action.content_type = *s;
  }
  if (!action.body.empty() || action.status < 300) {
    action.fields.emplace_back("Content-Type", action.content_type);
  }
  if (!action.location.empty()) action.fields.emplace_back("Location", action.location);
  return action;
}

StaticAction Loader::static_action(const YAML::Node& node) {
  StaticAction action;
  if (!check_map(node, "static", schema::kStatic)) return action;
  if (auto n = node["root"]) {
    if (auto dir = directory(n, "static.root")) action.root = *dir;
  } else {
    error(node, "static: missing \"root\": expected a directory");
  }
  if (auto n = node["index"]) {
    action.index = string_list(n, "static.index");
    for (const auto& name : action.index) {
      if (name.empty() || name.find('/') != std::string::npos) {
        error(n, "static.index: expected file names without \"/\", got \"" + name + "\"");
      }
    }
  }
  return action;
}

JobAction Loader::job_action(const YAML::Node& node) {
  JobAction action;
  if (!check_map(node, "job", schema::kJob)) return action;
  if (auto n = node["builtin"]) {
    if (auto s = scalar(n, "job.builtin")) {
      if (*s == "burn") {
        action.builtin = JobKind::kBurn;
      } else if (*s == "sleep") {
        action.builtin = JobKind::kSleep;
      } else {
        error(n, "job.builtin: expected burn or sleep, got \"" + *s + "\"");
      }
    }
  } else {
    error(node, "job: missing \"builtin\": expected burn or sleep");
  }
  if (auto n = node["ms"]) {
    if (auto v = integer(n, "job.ms", 0, 3'600'000)) action.duration = Millis(*v);
  }
  return action;
}

std::vector<Cidr> Loader::cidr_list(const YAML::Node& node, std::string_view what) {
  std::vector<Cidr> list;
  if (!node.IsSequence()) {
    error(node, std::string(what) + ": expected a list of networks such as [127.0.0.1/32]");
    return list;
  }
  for (const auto& item : node) {
    auto s = scalar(item, what);
    if (!s) continue;
    std::string why;
    if (auto cidr = parse_cidr(*s, why)) {
      list.push_back(std::move(*cidr));
    } else {
      error(item, std::string(what) + ": " + why);
    }
  }
  return list;
}

ProxyAction Loader::proxy_action(const YAML::Node& node) {
  ProxyAction action;
  if (!check_map(node, "proxy", schema::kProxy)) return action;
  if (auto n = node["upstream"]) {
    if (auto s = scalar(n, "proxy.upstream")) {
      action.upstream = *s;
      if (!upstreams_->count(*s)) {
        error(n, "proxy.upstream: no upstream named \"" + *s + "\" in upstreams");
      }
    }
  } else {
    error(node, "proxy: missing \"upstream\": expected the name of an upstream group");
  }
  if (auto n = node["host"]) {
    if (auto s = scalar(n, "proxy.host")) action.host = *s;
  }
  if (auto n = node["forwarding"]) {
    if (auto s = scalar(n, "proxy.forwarding")) {
      if (*s == "x_forwarded") {
        action.forwarding = ForwardingHeaders::kXForwarded;
      } else if (*s == "forwarded") {
        action.forwarding = ForwardingHeaders::kForwarded;
      } else if (*s == "both") {
        action.forwarding = ForwardingHeaders::kBoth;
      } else if (*s == "none") {
        action.forwarding = ForwardingHeaders::kNone;
      } else {
        error(n, "proxy.forwarding: expected x_forwarded, forwarded, both or none, got \"" + *s +
                     "\"");
      }
    }
  }
  if (auto n = node["via"]) {
    if (auto b = boolean(n, "proxy.via")) action.via = *b;
  }
  for (auto [key, field] : {std::pair{"strip_prefix", &action.strip_prefix},
                            std::pair{"add_prefix", &action.add_prefix}}) {
    if (auto n = node[key]) {
      if (auto s = scalar(n, std::string("proxy.") + key)) {
        if (s->empty() || s->front() != '/') {
          error(n, std::string("proxy.") + key + ": expected a path starting with \"/\"");
        } else {
          *field = *s;
        }
      }
    }
  }
  if (auto n = node["headers"]) {
    if (!n.IsMap()) {
      error(n, "proxy.headers: expected a mapping of field names to values");
    } else {
      for (const auto& kv : n) {
        const auto name = kv.first.as<std::string>("");
        auto value = scalar(kv.second, "proxy.headers");
        const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
        });
        if (!token) {
          error(kv.first, "proxy.headers: \"" + name + "\" is not a field name");
        } else if (value && value->find_first_of("\r\n") != std::string::npos) {
          error(kv.second, "proxy.headers: a value may not hold a line break");
        } else if (value) {
          action.headers.emplace_back(name, *value);
        }
      }
    }
  }
  return action;
}

void Loader::upstreams(const YAML::Node& node, Config& config) {
  if (!node.IsMap()) {
    error(node, "upstreams: expected a mapping of names to upstream groups");
    return;
  }
  for (const auto& kv : node) {
    UpstreamConfig group;
    group.name = kv.first.as<std::string>("");
    const YAML::Node& item = kv.second;
    if (!check_map(item, "an upstream", schema::kUpstream)) continue;
    if (auto n = item["servers"]) {
      if (!n.IsSequence()) {
        error(n, "upstreams.servers: expected a list of servers");
      } else {
        for (const auto& entry : n) {
          if (auto server = upstream_entry(entry)) group.servers.push_back(*server);
        }
      }
      if (n.IsSequence() && n.size() == 0) {
        error(n, "upstreams.servers: expected at least one server");
      }
      for (const auto& server : group.servers) {
        if (!server.name.empty()) names_.push_back(mark_of(n));
      }
    } else {
      error(item, "upstream \"" + group.name + "\": missing \"servers\"");
    }
    if (auto n = item["balance"]) {
      if (auto s = scalar(n, "upstreams.balance")) {
        if (*s == "round_robin") {
          group.balance = Balance::kRoundRobin;
        } else if (*s == "least_outstanding") {
          group.balance = Balance::kLeastOutstanding;
        } else if (*s == "random_two") {
          group.balance = Balance::kRandomTwo;
        } else {
          error(n,
                "upstreams.balance: expected round_robin, least_outstanding or random_two, "
                "got \"" +
                    *s + "\"");
        }
      }
    }
    read_fields(item, "upstreams.", fields::kUpstream, group);
    if (auto n = item["health"]) health(n, group.health);
    config.upstreams[group.name] = std::move(group);
  }
}

void Loader::health(const YAML::Node& node, UpstreamConfig::Health& health) {
  if (!check_map(node, "health", schema::kHealth)) return;
  if (auto n = node["path"]) {
    if (auto s = scalar(n, "health.path")) {
      if (s->empty() || s->front() != '/' || s->find_first_of(" \r\n") != std::string::npos) {
        error(n, "health.path: expected a path starting with \"/\", without spaces");
      } else {
        health.path = *s;
      }
    }
  } else {
    error(node, "health: missing \"path\": expected the path to GET, such as /healthz");
  }
  read_fields(node, "health.", fields::kHealth, health);
}

std::optional<UpstreamServer> Loader::upstream_entry(const YAML::Node& entry) {
  if (entry.IsMap()) {
    if (!check_map(entry, "an upstream server", schema::kUpstreamServer)) return std::nullopt;
    auto n = entry["address"];
    if (!n) {
      error(entry, "upstreams.servers: missing \"address\" in {address, weight}");
      return std::nullopt;
    }
    auto text = scalar(n, "upstreams.servers.address");
    if (!text) return std::nullopt;
    auto server = upstream_server(n, *text);
    if (!server) return std::nullopt;
    if (auto w = entry["weight"]) {
      if (auto v = integer(w, "upstreams.servers.weight", 1, 1000)) {
        server->weight = static_cast<int>(*v);
      }
    }
    return server;
  }
  auto text = scalar(entry, "upstreams.servers");
  if (!text) return std::nullopt;
  return upstream_server(entry, *text);
}

std::optional<UpstreamServer> Loader::upstream_server(const YAML::Node& node,
                                                      const std::string& text) {
  UpstreamServer server;
  server.text = text;
  if (text.starts_with("unix:")) {
    const std::string path = text.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.front() != '/' || path.size() >= sizeof un.sun_path) {
      error(node, "upstreams.servers: \"" + text +
                      "\": expected unix:/absolute/path (at most 107 bytes)");
      return std::nullopt;
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
    std::memcpy(&server.addr, &un, sizeof un);
    server.addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    return server;
  }
  std::string why;
  auto address = text.find(':') == std::string::npos || text.starts_with("*")
                     ? std::nullopt
                     : parse_listen_address(text, why);
  if (!address) {
    // Not numeric: a DNS name, host:port with letters, digits, '-' and '.'.
    const auto colon = text.rfind(':');
    const std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
    const std::string port = colon == std::string::npos ? "" : text.substr(colon + 1);
    const bool name_ok =
        !host.empty() && host.size() <= 253 && host.front() != '-' && host.front() != '.' &&
        std::any_of(host.begin(), host.end(),
                    [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) &&
        std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        });
    const bool port_ok =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        std::stoi(port) >= 1 && std::stoi(port) <= 65535;
    if (name_ok && port_ok) {
      server.name = host;
      server.port = port;
      return server;
    }
    error(node, "upstreams.servers: \"" + text +
                    "\": expected host:port (a numeric address or a DNS name), [v6]:port or "
                    "unix:/path" +
                    (why.empty() || name_ok ? "" : " (" + why + ")"));
    return std::nullopt;
  }
  server.addr = address->addr;
  server.addr_len = address->addr_len;
  return server;
}

CgiAction Loader::cgi_action(const YAML::Node& node) {
  CgiAction action;
  if (!check_map(node, "cgi", schema::kCgi)) return action;
  if (auto n = node["root"]) {
    if (auto dir = directory(n, "cgi.root")) action.root = *dir;
  } else {
    error(node, "cgi: missing \"root\": expected a directory of CGI programs");
  }
  return action;
}

}  // namespace shoal::config_internal
