// Config loader: walks the YAML tree with yaml-cpp, checks every key against the schema in
// DESIGN.md, converts units and paths, and records each problem with its line and column.
#include "config/loader.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

#include "config/fields.hpp"
#include "config/flow_brackets.hpp"
#include "config/schema.hpp"
#include "config/units.hpp"

namespace shoal {

std::string ConfigError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "\n";
    out += e.to_string();
  }
  return out;
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

// yaml-cpp reports an unclosed `{` or `[` where the file ends ("end of map flow not found");
// the error points at where it opened instead, and keeps yaml-cpp's words.
ConfigError parser_error(const std::string& file, std::string_view text,
                         const YAML::ParserException& e) {
  if (e.msg.find("flow not found") != std::string::npos) {
    if (auto opening = find_unclosed_flow(text)) {
      return {file, opening->line, opening->column,
              std::string("this '") + opening->bracket + "' is never closed (" + e.msg + " at " +
                  std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ")"};
    }
  }
  return {file, e.mark.line + 1, e.mark.column + 1, e.msg};
}

const char* type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

// One pass over one document; errors accumulate instead of stopping at the first.
class Loader {
 public:
  explicit Loader(std::string path) : file_(std::move(path)) {
    std::filesystem::path p(file_);
    dir_ = std::filesystem::absolute(p).parent_path().lexically_normal().string();
  }

  Config load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      errors_.push_back(parser_error(file_, text, e));
      throw ConfigErrors(errors_);
    }
    Config config;
    config.path = file_;
    config.dir = dir_;
    if (!root.IsMap()) {
      if (root.IsNull()) {
        errors_.push_back({file_, 0, 0, "the configuration is empty"});
      } else {
        error(root, std::string("expected a mapping at the top level, got ") + type_name(root));
      }
      throw ConfigErrors(errors_);
    }
    top_level(root, config);
    if (!errors_.empty()) throw ConfigErrors(errors_);
    return config;
  }

 private:
  void error(const YAML::Node& node, std::string message) {
    auto mark = node.Mark();
    errors_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
  }

  SourceMark mark_of(const YAML::Node& node) {
    return {node.Mark().line + 1, node.Mark().column + 1};
  }

  // Reports unknown and duplicate keys; returns false if `node` is not a mapping.
  bool check_map(const YAML::Node& node, std::string_view where,
                 std::span<const std::string_view> allowed) {
    if (!node.IsMap()) {
      error(node, std::string(where) + ": expected a mapping, got " + type_name(node));
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>("");
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(kv.first, "unknown key \"" + key + "\" in " + std::string(where) +
                            "; expected one of: " + join(allowed));
      } else if (!seen.insert(key).second) {
        error(kv.first, "duplicate key \"" + key + "\" in " + std::string(where));
      }
    }
    return true;
  }

  std::optional<std::string> scalar(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
      error(node, std::string(what) + ": expected a scalar, got " + type_name(node));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what,
                                      std::int64_t min, std::int64_t max) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
      error(node, std::string(what) + ": expected an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", got \"" + *text + "\"");
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "yes" || *text == "on") return true;
    if (*text == "false" || *text == "no" || *text == "off") return false;
    error(node, std::string(what) + ": expected true or false, got \"" + *text + "\"");
    return std::nullopt;
  }

  std::optional<Millis> duration(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) {
      error(node, std::string(what) + ": expected a duration such as 500ms, 30s, 5m or 1h, got \"" +
                      *text + "\"");
    }
    return d;
  }

  std::optional<std::uint64_t> size(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto s = parse_size(*text);
    if (!s) {
      error(node,
            std::string(what) + ": expected a size such as 512, 16k or 1m, got \"" + *text + "\"");
    }
    return s;
  }

  // The plain keys of a section from its table (fields.hpp): `prefix` names them in errors
  // ("limits." for "limits.max_connections"; "" at the top level).
  template <typename S, size_t N>
  void read_fields(const YAML::Node& node, std::string_view prefix,
                   const fields::Field<S> (&table)[N], S& out) {
    for (const auto& f : table) {
      auto n = node[std::string(f.key)];
      if (!n) continue;
      const std::string what = std::string(prefix) + std::string(f.key);
      if (auto* m = std::get_if<int S::*>(&f.member)) {
        if (auto v = integer(n, what, f.min, f.max)) out.** m = static_cast<int>(*v);
      } else if (auto* d = std::get_if<Millis S::*>(&f.member)) {
        if (auto v = duration(n, what)) {
          if (v->count() >= f.min) {
            out.** d = *v;
          } else if (f.min == 1) {
            error(n, what + ": expected a duration above 0");
          } else {
            error(n, what + ": expected at least " + std::to_string(f.min) + "ms");
          }
        }
      } else if (auto* z = std::get_if<std::uint64_t S::*>(&f.member)) {
        if (auto v = size(n, what)) {
          if (*v >= static_cast<std::uint64_t>(f.min) &&
              (f.max == 0 || *v <= static_cast<std::uint64_t>(f.max))) {
            out.** z = *v;
          } else {
            error(n,
                  what + ": expected a size from " + size_text(f.min) + " to " + size_text(f.max));
          }
        }
      } else if (auto* b = std::get_if<bool S::*>(&f.member)) {
        if (auto v = boolean(n, what)) out.** b = *v;
      }
    }
  }

  static std::string size_text(std::int64_t bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
      return std::to_string(bytes / (1024 * 1024)) + "m";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + "k";
    return std::to_string(bytes);
  }

  // A scalar or a list of scalars.
  std::vector<std::string> string_list(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
    } else if (node.IsSequence()) {
      for (const auto& item : node) {
        if (auto s = scalar(item, what)) out.push_back(*s);
      }
    } else {
      error(node,
            std::string(what) + ": expected a string or a list of strings, got " + type_name(node));
    }
    return out;
  }

  std::string resolve(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative()) p = std::filesystem::path(dir_) / p;
    return p.lexically_normal().string();
  }

  std::optional<std::string> directory(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto path = resolve(*text);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      error(node, std::string(what) + ": " + path + ": " + std::strerror(errno));
      return std::nullopt;
    }
    if (!S_ISDIR(st.st_mode)) {
      error(node, std::string(what) + ": " + path + " is not a directory");
      return std::nullopt;
    }
    return path;
  }

  void top_level(const YAML::Node& root, Config& config) {
    check_map(root, "the top level", schema::kTopLevel);
    if (auto n = root["workers"]) workers(n, config);
    if (config.workers_auto) config.workers = available_cpus();
    if (auto n = root["user"]) {
      config.user = scalar(n, "user");
      if (config.user) {
        if (const passwd* pw = getpwnam(config.user->c_str())) {
          config.uid = pw->pw_uid;
          config.gid = pw->pw_gid;
        } else {
          error(n, "user: no such user \"" + *config.user + "\"");
        }
      }
    }
    if (auto n = root["group"]) {
      config.group = scalar(n, "group");
      if (config.group) {
        if (const group* gr = getgrnam(config.group->c_str())) {
          config.gid = gr->gr_gid;
        } else {
          error(n, "group: no such group \"" + *config.group + "\"");
        }
      }
    }
    if (!root["user"] && ::geteuid() == 0) {
      if (const passwd* pw = getpwnam(kDefaultUser)) {
        config.uid = pw->pw_uid;
        if (!root["group"]) config.gid = pw->pw_gid;
        config.user_is_default = true;
      } else {
        error(root, std::string("user: not set, and there is no user \"") + kDefaultUser +
                        "\" to run workers as; set user (user: root runs them as root)");
      }
    }
    if (auto n = root["pid_file"]) {
      if (auto s = scalar(n, "pid_file")) config.pid_file = resolve(*s);
      config.pid_file_mark = mark_of(n);
    } else {
      config.pid_file = default_pid_file(dir_);
    }
    read_fields(root, "", fields::kTopLevel, config);
    if (auto n = root["real_ip_from"]) config.real_ip_from = cidr_list(n, "real_ip_from");
    if (auto n = root["proxy_protocol_from"]) {
      config.proxy_protocol_from = cidr_list(n, "proxy_protocol_from");
      proxy_protocol_from_ = !config.proxy_protocol_from.empty();
    }
    if (auto n = root["mime_types"]) {
      if (auto s = scalar(n, "mime_types")) {
        config.mime_types = resolve(*s);
        if (::access(config.mime_types.c_str(), R_OK) != 0) {
          error(n, "mime_types: cannot read " + config.mime_types + ": " + std::strerror(errno));
        }
      }
    } else {
      config.mime_types = default_mime_types(resolve("mime.types"), kSystemMimeTypes);
    }
    if (auto n = root["default_type"]) {
      if (auto s = scalar(n, "default_type")) config.default_type = *s;
    }
    if (auto n = root["log"]) log(n, config.log);
    if (auto n = root["tls"]) top_tls(n, config.tls);
    if (auto n = root["limits"]) limits(n, config.limits);
    if (auto n = root["helpers"]) helpers(n, config.helpers);
    if (auto n = root["upstreams"]) upstreams(n, config);
    upstreams_ = &config.upstreams;
    if (auto n = root["servers"]) {
      servers(n, config);
      if (config.helpers.count == 0) {
        for (const auto& mark : helper_routes_) {
          errors_.push_back({file_, mark.line, mark.column,
                             "job and cgi routes run in helper processes, but helpers.count is 0"});
        }
      }
    } else {
      error(root, "missing \"servers\": expected a list of servers with listen and routes");
    }
    if (config.helpers.count == 0) {
      for (const auto& mark : names_) {
        errors_.push_back({file_, mark.line, mark.column,
                           "upstreams.servers: DNS names are resolved in helper processes, but "
                           "helpers.count is 0"});
      }
    }
  }

  void workers(const YAML::Node& node, Config& config) {
    if (node.IsScalar() && node.Scalar() == "auto") return;
    if (auto n = integer(node, "workers (or \"auto\")", 1, 1024)) {
      config.workers = static_cast<int>(*n);
      config.workers_auto = false;
    }
  }

  void log(const YAML::Node& node, LogConfig& log) {
    if (!check_map(node, "log", schema::kLog)) return;
    if (auto e = node["error"]; e && check_map(e, "log.error", schema::kErrorLog)) {
      if (auto p = e["path"]) {
        if (auto s = scalar(p, "log.error.path")) log.error.path = s == "stderr" ? *s : resolve(*s);
        log.error.mark = mark_of(p);
      }
      if (auto l = e["level"]) {
        static const std::pair<std::string_view, LogLevel> kLevels[] = {
            {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug},
            {"info", LogLevel::kInfo},   {"warn", LogLevel::kWarn},
            {"error", LogLevel::kError}, {"critical", LogLevel::kCritical},
            {"off", LogLevel::kOff}};
        if (auto s = scalar(l, "log.error.level")) {
          auto it = std::find_if(std::begin(kLevels), std::end(kLevels),
                                 [&](const auto& kv) { return kv.first == *s; });
          if (it == std::end(kLevels)) {
            error(l,
                  "log.error.level: expected one of trace, debug, info, warn, error, "
                  "critical, off, got \"" +
                      *s + "\"");
          } else {
            log.error.level = it->second;
          }
        }
      }
    }
    if (auto a = node["access"]; a && check_map(a, "log.access", schema::kAccessLog)) {
      if (auto p = a["path"]) {
        if (auto s = scalar(p, "log.access.path")) {
          log.access.path = (*s == "off" || *s == "stdout" || *s == "stderr") ? *s : resolve(*s);
          log.access.mark = mark_of(p);
        }
      }
      if (auto f = a["format"]) {
        if (auto s = scalar(f, "log.access.format")) {
          if (*s == "combined") {
            log.access.format = AccessLogFormat::kCombined;
          } else if (*s == "common") {
            log.access.format = AccessLogFormat::kCommon;
          } else if (*s == "combined_tls") {
            log.access.format = AccessLogFormat::kCombinedTls;
          } else {
            error(f, "log.access.format: expected combined, common or combined_tls, got \"" + *s +
                         "\"");
          }
        }
      }
    }
  }

  void limits(const YAML::Node& node, Limits& limits) {
    if (!check_map(node, "limits", schema::kLimits)) return;
    read_fields(node, "limits.", fields::kLimits, limits);
  }

  void helpers(const YAML::Node& node, HelpersConfig& helpers) {
    if (!check_map(node, "helpers", schema::kHelpers)) return;
    read_fields(node, "helpers.", fields::kHelpers, helpers);
  }

  void servers(const YAML::Node& node, Config& config) {
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
          error(item["listen"],
                "server listens with TLS on " + address.text +
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

  // A list of entries, each "host:port" (plain HTTP) or {address: "host:port", tls: true};
  // a single entry may stand alone. One address is plain or TLS for every server.
  void listen(const YAML::Node& node, ServerConfig& server) {
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
      } else if (entry.IsScalar()) {
        text = entry.Scalar();
      } else {
        error(entry, std::string("listen: expected an address or {address, tls}, got ") +
                         type_name(entry));
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
      server.listen.push_back(*address);
    }
  }

  // A readable file named relative to the config; an error at `node` otherwise.
  std::optional<std::string> readable_file(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto path = resolve(*text);
    if (::access(path.c_str(), R_OK) != 0) {
      error(node, std::string(what) + ": cannot read " + path + ": " + std::strerror(errno));
      return std::nullopt;
    }
    return path;
  }

  TlsSettings server_tls(const YAML::Node& node) {
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

  void top_tls(const YAML::Node& node, TlsTickets& tickets) {
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

  void routes(const YAML::Node& node, ServerConfig& server) {
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

  ReturnAction return_action(const YAML::Node& node) {
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

  StaticAction static_action(const YAML::Node& node) {
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

  JobAction job_action(const YAML::Node& node) {
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

  // The `allow` of a metrics or status route: its networks, loopback when left out.
  std::vector<Cidr> allow_action(const YAML::Node& node, const std::string& what,
                                 std::span<const std::string_view> keys) {
    std::vector<Cidr> allow;
    if (!node.IsNull() && !check_map(node, what, keys)) return allow;
    if (auto n = node.IsNull() ? YAML::Node(YAML::NodeType::Undefined) : node["allow"];
        n.IsDefined()) {
      allow = cidr_list(n, what + ".allow");
    } else {
      std::string ignored;
      allow.push_back(*parse_cidr("127.0.0.0/8", ignored));
      allow.push_back(*parse_cidr("::1/128", ignored));
    }
    return allow;
  }

  std::vector<Cidr> cidr_list(const YAML::Node& node, std::string_view what) {
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

  ProxyAction proxy_action(const YAML::Node& node) {
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

  void upstreams(const YAML::Node& node, Config& config) {
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

  void health(const YAML::Node& node, UpstreamConfig::Health& health) {
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

  // A servers entry: "ADDRESS" or {address: ADDRESS, weight: N}.
  std::optional<UpstreamServer> upstream_entry(const YAML::Node& entry) {
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

  std::optional<UpstreamServer> upstream_server(const YAML::Node& node, const std::string& text) {
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

  CgiAction cgi_action(const YAML::Node& node) {
    CgiAction action;
    if (!check_map(node, "cgi", schema::kCgi)) return action;
    if (auto n = node["root"]) {
      if (auto dir = directory(n, "cgi.root")) action.root = *dir;
    } else {
      error(node, "cgi: missing \"root\": expected a directory of CGI programs");
    }
    return action;
  }

  std::string file_;
  std::string dir_;
  std::vector<ConfigError> errors_;
  std::vector<SourceMark> helper_routes_;     // job and cgi routes, which need helpers
  std::vector<SourceMark> names_;             // upstream servers given by DNS name: helpers too
  std::map<std::string, bool> listen_tls_;    // address -> TLS, across servers
  std::map<std::string, bool> listen_proxy_;  // address -> proxy_protocol, across servers
  bool proxy_protocol_from_ = false;          // the top level names some balancers
  const std::map<std::string, UpstreamConfig>* upstreams_ = nullptr;  // for proxy routes
};

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors)
    : StartupError(join_errors(errors)), errors_(std::move(errors)) {}

Config load_config_from_string(std::string_view yaml, const std::string& path) {
  Config config = Loader(path).load(yaml);
  std::uint32_t hash = 2166136261u;  // FNV-1a, 32 bits
  for (unsigned char c : yaml) hash = (hash ^ c) * 16777619u;
  config.text_hash = hash;
  return config;
}

std::string read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigErrors({{path, 0, 0, std::string("cannot open: ") + std::strerror(errno)}});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string find_pid_file(const std::string& path) {
  YAML::Node root;
  const std::string text = read_config_file(path);
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigErrors({parser_error(path, text, e)});
  }
  const auto dir = std::filesystem::absolute(std::filesystem::path(path)).parent_path();
  if (!root.IsMap() || !root["pid_file"]) return default_pid_file(dir.lexically_normal().string());
  if (!root["pid_file"].IsScalar()) return "";
  std::filesystem::path p(root["pid_file"].Scalar());
  if (p.is_relative()) {
    p = dir / p;
  }
  return p.lexically_normal().string();
}

std::string default_pid_file(const std::string& config_dir) {
  if (::geteuid() == 0) return kRootPidFile;
  return (std::filesystem::path(config_dir) / "shoal.pid").lexically_normal().string();
}

std::string default_mime_types(const std::string& beside, const std::string& system) {
  if (::access(beside.c_str(), R_OK) == 0) return beside;
  if (::access(system.c_str(), R_OK) == 0) return system;
  return {};
}

Config load_config(const std::string& path) {
  return load_config_from_string(read_config_file(path), path);
}

}  // namespace shoal
