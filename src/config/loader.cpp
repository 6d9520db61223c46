// Config loader: walks the YAML tree with yaml-cpp, checks every key against the schema in
// DESIGN.md, converts units and paths, and records each problem with its line and column.
#include "config/loader_internal.hpp"

namespace shoal {

std::string ConfigError::to_string() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace config_internal {

Config Loader::load(std::string_view text) {
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

bool Loader::check_map(const YAML::Node& node, std::string_view where,
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

std::optional<std::string> Loader::scalar(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + ": expected a scalar, got " + type_name(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::int64_t> Loader::integer(const YAML::Node& node, std::string_view what,
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

std::optional<bool> Loader::boolean(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "yes" || *text == "on") return true;
  if (*text == "false" || *text == "no" || *text == "off") return false;
  error(node, std::string(what) + ": expected true or false, got \"" + *text + "\"");
  return std::nullopt;
}

std::optional<Millis> Loader::duration(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(node, std::string(what) + ": expected a duration such as 500ms, 30s, 5m or 1h, got \"" +
                    *text + "\"");
  }
  return d;
}

std::optional<std::uint64_t> Loader::size(const YAML::Node& node, std::string_view what) {
  auto text = scalar(node, what);
  if (!text) return std::nullopt;
  auto s = parse_size(*text);
  if (!s) {
    error(node,
          std::string(what) + ": expected a size such as 512, 16k or 1m, got \"" + *text + "\"");
  }
  return s;
}

std::vector<std::string> Loader::string_list(const YAML::Node& node, std::string_view what) {
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

std::string Loader::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(dir_) / p;
  return p.lexically_normal().string();
}

std::optional<std::string> Loader::directory(const YAML::Node& node, std::string_view what) {
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

void Loader::top_level(const YAML::Node& root, Config& config) {
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
  if (auto n = root["http2"]) http2(n, config.http2);
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

void Loader::workers(const YAML::Node& node, Config& config) {
  if (node.IsScalar() && node.Scalar() == "auto") return;
  if (auto n = integer(node, "workers (or \"auto\")", 1, 1024)) {
    config.workers = static_cast<int>(*n);
    config.workers_auto = false;
  }
}

void Loader::log(const YAML::Node& node, LogConfig& log) {
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
          error(f,
                "log.access.format: expected combined, common or combined_tls, got \"" + *s + "\"");
        }
      }
    }
  }
}

std::vector<Cidr> Loader::allow_action(const YAML::Node& node, const std::string& what,
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

}  // namespace config_internal

using config_internal::join_errors;
using config_internal::Loader;
using config_internal::parser_error;

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
