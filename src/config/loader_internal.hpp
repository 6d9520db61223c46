// The config loader's class, shared by the two files that define it: loader.cpp (the
// document, the top level, logs, limits, helpers and the scalar checks, and the public
// functions) and loader_sites.cpp (servers, listen addresses and TLS, routes and their
// actions, upstreams). Internal to src/config.
#pragma once

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
#include "config/loader.hpp"
#include "config/schema.hpp"
#include "config/units.hpp"

namespace shoal::config_internal {

inline std::string join_errors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "\n";
    out += e.to_string();
  }
  return out;
}

inline std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

// yaml-cpp reports an unclosed `{` or `[` where the file ends ("end of map flow not found");
// the error points at where it opened instead, and keeps yaml-cpp's words.
inline ConfigError parser_error(const std::string& file, std::string_view text,
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

inline const char* type_name(const YAML::Node& node) {
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

  Config load(std::string_view text);

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
                 std::span<const std::string_view> allowed);

  std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);

  std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what,
                                      std::int64_t min, std::int64_t max);

  std::optional<bool> boolean(const YAML::Node& node, std::string_view what);

  std::optional<Millis> duration(const YAML::Node& node, std::string_view what);

  std::optional<std::uint64_t> size(const YAML::Node& node, std::string_view what);

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
  std::vector<std::string> string_list(const YAML::Node& node, std::string_view what);

  std::string resolve(const std::string& path) const;

  std::optional<std::string> directory(const YAML::Node& node, std::string_view what);

  void top_level(const YAML::Node& root, Config& config);

  void workers(const YAML::Node& node, Config& config);

  void log(const YAML::Node& node, LogConfig& log);

  void limits(const YAML::Node& node, Limits& limits) {
    if (!check_map(node, "limits", schema::kLimits)) return;
    read_fields(node, "limits.", fields::kLimits, limits);
  }

  void http2(const YAML::Node& node, Http2Config& http2) {
    if (!check_map(node, "http2", schema::kHttp2)) return;
    read_fields(node, "http2.", fields::kHttp2, http2);
  }
  void helpers(const YAML::Node& node, HelpersConfig& helpers) {
    if (!check_map(node, "helpers", schema::kHelpers)) return;
    read_fields(node, "helpers.", fields::kHelpers, helpers);
  }

  void servers(const YAML::Node& node, Config& config);

  // A list of entries, each "host:port" (plain HTTP) or {address: "host:port", tls: true};
  // a single entry may stand alone. One address is plain or TLS for every server.
  void listen(const YAML::Node& node, ServerConfig& server);

  // A readable file named relative to the config; an error at `node` otherwise.
  std::optional<std::string> readable_file(const YAML::Node& node, std::string_view what);

  TlsSettings server_tls(const YAML::Node& node);

  void top_tls(const YAML::Node& node, TlsTickets& tickets);

  void routes(const YAML::Node& node, ServerConfig& server);

  ReturnAction return_action(const YAML::Node& node);

  StaticAction static_action(const YAML::Node& node);

  JobAction job_action(const YAML::Node& node);

  // The `allow` of a metrics or status route: its networks, loopback when left out.
  std::vector<Cidr> allow_action(const YAML::Node& node, const std::string& what,
                                 std::span<const std::string_view> keys);

  std::vector<Cidr> cidr_list(const YAML::Node& node, std::string_view what);

  ProxyAction proxy_action(const YAML::Node& node);

  void upstreams(const YAML::Node& node, Config& config);

  void health(const YAML::Node& node, UpstreamConfig::Health& health);

  // A servers entry: "ADDRESS" or {address: ADDRESS, weight: N}.
  std::optional<UpstreamServer> upstream_entry(const YAML::Node& entry);

  std::optional<UpstreamServer> upstream_server(const YAML::Node& node, const std::string& text);

  CgiAction cgi_action(const YAML::Node& node);

  std::string file_;
  std::string dir_;
  std::vector<ConfigError> errors_;
  std::vector<SourceMark> helper_routes_;     // job and cgi routes, which need helpers
  std::vector<SourceMark> names_;             // upstream servers given by DNS name: helpers too
  std::map<std::string, bool> listen_tls_;    // address -> TLS, across servers
  std::map<std::string, bool> listen_proxy_;  // address -> proxy_protocol, across servers
  std::map<std::string, bool> listen_http2_;  // address -> http2, across servers
  bool proxy_protocol_from_ = false;          // the top level names some balancers
  const std::map<std::string, UpstreamConfig>* upstreams_ = nullptr;  // for proxy routes
};

}  // namespace shoal::config_internal
