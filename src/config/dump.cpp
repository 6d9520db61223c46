// dump_config with yaml-cpp's emitter, key order as in shoal.yaml(5).
#include "config/dump.hpp"

#include <yaml-cpp/yaml.h>

#include <variant>

#include "config/fields.hpp"
#include "config/loader.hpp"

namespace shoal {

namespace {

std::string duration(Millis ms) {
  const auto n = ms.count();
  if (n != 0 && n % 1000 == 0) return std::to_string(n / 1000) + "s";
  return std::to_string(n) + "ms";
}

// The plain keys of a section from its table (fields.hpp), each with its line as a comment.
template <typename S, size_t N>
void emit_fields(YAML::Emitter& out, const fields::Field<S> (&table)[N], const S& in) {
  for (const auto& f : table) {
    const std::string key(f.key);
    if (auto* m = std::get_if<int S::*>(&f.member)) {
      if (f.omit_zero && in.**m == 0) continue;
      out << YAML::Key << key << YAML::Value << in.**m;
    } else if (auto* d = std::get_if<Millis S::*>(&f.member)) {
      out << YAML::Key << key << YAML::Value << duration(in.**d);
    } else if (auto* z = std::get_if<std::uint64_t S::*>(&f.member)) {
      out << YAML::Key << key << YAML::Value << in.**z;
    } else if (auto* b = std::get_if<bool S::*>(&f.member)) {
      out << YAML::Key << key << YAML::Value << in.**b;
    }
    out << YAML::Comment(std::string(f.doc));
  }
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kCritical:
      return "critical";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

// A metrics or status route's action: `key: {allow: [...]}`.
void dump_allow(YAML::Emitter& out, const char* key, const std::vector<Cidr>& allow) {
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "allow" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& network : allow) out << network.text;
  out << YAML::EndSeq << YAML::EndMap;
}

void emit_route(YAML::Emitter& out, const Route& route) {
  out << YAML::BeginMap << YAML::Key << "match" << YAML::Value << route.match;
  if (route.allow) {
    out << YAML::Key << "allow" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& network : *route.allow) out << network.text;
    out << YAML::EndSeq;
  }
  if (route.trace) out << YAML::Key << "trace" << YAML::Value << true;
  if (const auto* r = std::get_if<ReturnAction>(&route.action)) {
    out << YAML::Key << "return" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "status" << YAML::Value << r->status;
    out << YAML::Key << "body" << YAML::Value << YAML::DoubleQuoted << r->body;
    if (!r->location.empty()) out << YAML::Key << "location" << YAML::Value << r->location;
    out << YAML::Key << "content_type" << YAML::Value << r->content_type << YAML::EndMap;
  } else if (const auto* s = std::get_if<StaticAction>(&route.action)) {
    out << YAML::Key << "static" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "root" << YAML::Value << s->root;
    out << YAML::Key << "index" << YAML::Value << YAML::Flow << s->index << YAML::EndMap;
  } else if (const auto* j = std::get_if<JobAction>(&route.action)) {
    out << YAML::Key << "job" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "builtin" << YAML::Value
        << (j->builtin == JobKind::kBurn ? "burn" : "sleep");
    out << YAML::Key << "ms" << YAML::Value << j->duration.count() << YAML::EndMap;
  } else if (const auto* c = std::get_if<CgiAction>(&route.action)) {
    out << YAML::Key << "cgi" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "root" << YAML::Value << c->root << YAML::EndMap;
  } else if (const auto* m = std::get_if<MetricsAction>(&route.action)) {
    dump_allow(out, "metrics", m->allow);
  } else if (const auto* st = std::get_if<StatusAction>(&route.action)) {
    dump_allow(out, "status", st->allow);
  } else if (std::holds_alternative<HealthAction>(route.action)) {
    out << YAML::Key << "health" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  } else if (const auto* p = std::get_if<ProxyAction>(&route.action)) {
    out << YAML::Key << "proxy" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "upstream" << YAML::Value << p->upstream;
    if (!p->host.empty()) out << YAML::Key << "host" << YAML::Value << p->host;
    out << YAML::Key << "forwarding" << YAML::Value
        << (p->forwarding == ForwardingHeaders::kXForwarded  ? "x_forwarded"
            : p->forwarding == ForwardingHeaders::kForwarded ? "forwarded"
            : p->forwarding == ForwardingHeaders::kBoth      ? "both"
                                                             : "none");
    out << YAML::Key << "via" << YAML::Value << p->via;
    if (!p->strip_prefix.empty()) {
      out << YAML::Key << "strip_prefix" << YAML::Value << p->strip_prefix;
    }
    if (!p->add_prefix.empty()) out << YAML::Key << "add_prefix" << YAML::Value << p->add_prefix;
    if (!p->headers.empty()) {
      out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, value] : p->headers) {
        out << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << value;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

}  // namespace

std::string dump_config(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("effective configuration of " + config.path);
  out << YAML::BeginMap;
  if (config.workers_auto) {
    // Kept as auto, so the dump means the same on another machine.
    out << YAML::Key << "workers" << YAML::Value << "auto"
        << YAML::Comment(std::to_string(config.workers) + " on this machine");
  } else {
    out << YAML::Key << "workers" << YAML::Value << config.workers;
  }
  if (config.user) out << YAML::Key << "user" << YAML::Value << *config.user;
  if (config.user_is_default) {
    // A comment, not a key: the dump then loads back to itself, as root or not.
    out << YAML::Newline
        << YAML::Comment(std::string("user: ") + kDefaultUser + " (not set; the default as root)");
  }
  if (config.group) out << YAML::Key << "group" << YAML::Value << *config.group;
  if (!config.pid_file.empty()) out << YAML::Key << "pid_file" << YAML::Value << config.pid_file;
  emit_fields(out, fields::kTopLevel, config);
  out << YAML::Key << "real_ip_from" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& network : config.real_ip_from) out << network.text;
  out << YAML::EndSeq;
  out << YAML::Key << "proxy_protocol_from" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& network : config.proxy_protocol_from) out << network.text;
  out << YAML::EndSeq;
  if (!config.mime_types.empty()) {
    out << YAML::Key << "mime_types" << YAML::Value << config.mime_types;
  } else {
    out << YAML::Comment("mime_types: the built-in table (no mime.types beside the config, no " +
                         std::string(kSystemMimeTypes) + ")");
  }
  out << YAML::Key << "default_type" << YAML::Value << config.default_type;

  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "error" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << config.log.error.path;
  out << YAML::Key << "level" << YAML::Value << level_name(config.log.error.level) << YAML::EndMap;
  out << YAML::Key << "access" << YAML::Value << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << config.log.access.path;
  out << YAML::Key << "format" << YAML::Value
      << (config.log.access.format == AccessLogFormat::kCommon        ? "common"
          : config.log.access.format == AccessLogFormat::kCombinedTls ? "combined_tls"
                                                                      : "combined");
  out << YAML::EndMap << YAML::EndMap;

  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "session_tickets" << YAML::Value << config.tls.enabled;
  out << YAML::Key << "ticket_rotation" << YAML::Value << duration(config.tls.rotation);
  out << YAML::EndMap;

  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  emit_fields(out, fields::kLimits, config.limits);
  out << YAML::EndMap;

  out << YAML::Key << "helpers" << YAML::Value << YAML::BeginMap;
  emit_fields(out, fields::kHelpers, config.helpers);
  out << YAML::EndMap;

  out << YAML::Key << "http2" << YAML::Value << YAML::BeginMap;
  emit_fields(out, fields::kHttp2, config.http2);
  out << YAML::EndMap;

  if (!config.upstreams.empty()) {
    out << YAML::Key << "upstreams" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, u] : config.upstreams) {
      out << YAML::Key << name << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "servers" << YAML::Value << YAML::BeginSeq;
      for (const auto& s : u.servers) {
        if (s.weight == 1) {
          out << s.text;
        } else {
          out << YAML::Flow << YAML::BeginMap << YAML::Key << "address" << YAML::Value << s.text
              << YAML::Key << "weight" << YAML::Value << s.weight << YAML::EndMap;
        }
      }
      out << YAML::EndSeq;
      out << YAML::Key << "balance" << YAML::Value
          << (u.balance == Balance::kRoundRobin         ? "round_robin"
              : u.balance == Balance::kLeastOutstanding ? "least_outstanding"
                                                        : "random_two");
      emit_fields(out, fields::kUpstream, u);
      if (!u.health.path.empty()) {
        out << YAML::Key << "health" << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "path" << YAML::Value << u.health.path;
        emit_fields(out, fields::kHealth, u.health);
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }

  out << YAML::Key << "servers" << YAML::Value << YAML::BeginSeq;
  for (const auto& server : config.servers) {
    out << YAML::BeginMap;
    out << YAML::Key << "listen" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& a : server.listen) {
      if (a.tls || a.proxy_protocol || !a.http2) {
        out << YAML::BeginMap << YAML::Key << "address" << YAML::Value << a.text;
        if (a.tls) out << YAML::Key << "tls" << YAML::Value << true;
        if (a.proxy_protocol) out << YAML::Key << "proxy_protocol" << YAML::Value << true;
        if (!a.http2) out << YAML::Key << "http2" << YAML::Value << false;
        out << YAML::EndMap;
      } else {
        out << a.text;
      }
    }
    out << YAML::EndSeq;
    out << YAML::Key << "server_names" << YAML::Value << YAML::Flow << server.server_names;
    if (const auto& tls = server.tls) {
      out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "certificate" << YAML::Value << tls->certificate;
      out << YAML::Key << "key" << YAML::Value << tls->key;
      std::vector<std::string> protocols;
      if (tls->protocols & static_cast<std::uint8_t>(TlsProtocol::kTls12)) {
        protocols.push_back("TLSv1.2");
      }
      if (tls->protocols & static_cast<std::uint8_t>(TlsProtocol::kTls13)) {
        protocols.push_back("TLSv1.3");
      }
      out << YAML::Key << "protocols" << YAML::Value << YAML::Flow << protocols;
      if (!tls->ciphers.empty()) out << YAML::Key << "ciphers" << YAML::Value << tls->ciphers;
      out << YAML::EndMap;
    }
    out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq;
    for (const auto& route : server.routes) emit_route(out, route);
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace shoal
