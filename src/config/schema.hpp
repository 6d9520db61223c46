// The keys shoal.yaml accepts, section by section: the loader rejects any other key with these
// lists, and a test checks that shoal.yaml(5) documents every one, so the two cannot drift.
#pragma once

#include <span>
#include <string_view>

namespace shoal::schema {

inline constexpr std::string_view kTopLevel[] = {"workers",
                                                 "user",
                                                 "group",
                                                 "pid_file",
                                                 "shutdown_timeout",
                                                 "drain_delay",
                                                 "worker_max_rss",
                                                 "real_ip_from",
                                                 "proxy_protocol_from",
                                                 "reuse_port",
                                                 "defer_accept",
                                                 "mime_types",
                                                 "default_type",
                                                 "log",
                                                 "tls",
                                                 "limits",
                                                 "helpers",
                                                 "upstreams",
                                                 "servers",
                                                 "metrics"};
inline constexpr std::string_view kUpstream[] = {
    "servers",      "balance", "keepalive", "idle_timeout", "connect_timeout", "send_timeout",
    "read_timeout", "retries", "max_fails", "fail_timeout", "health",          "resolve_interval"};
inline constexpr std::string_view kUpstreamServer[] = {"address", "weight"};
inline constexpr std::string_view kHealth[] = {"path",   "interval", "timeout",
                                               "expect", "rise",     "fall"};
inline constexpr std::string_view kProxy[] = {
    "upstream", "host", "strip_prefix", "add_prefix", "headers", "forwarding", "via"};
inline constexpr std::string_view kTopTls[] = {"session_tickets", "ticket_rotation"};
inline constexpr std::string_view kLog[] = {"error", "access"};
inline constexpr std::string_view kErrorLog[] = {"path", "level"};
inline constexpr std::string_view kAccessLog[] = {"path", "format"};
inline constexpr std::string_view kLimits[] = {"max_connections",   "header_timeout",
                                               "keepalive_timeout", "send_timeout",
                                               "max_header_bytes",  "max_body_bytes"};
inline constexpr std::string_view kHelpers[] = {"count", "queue", "timeout", "nice", "sched_idle"};
inline constexpr std::string_view kServer[] = {"listen", "server_names", "tls", "routes"};
inline constexpr std::string_view kListen[] = {"address", "tls", "proxy_protocol"};
inline constexpr std::string_view kServerTls[] = {"certificate", "key", "protocols", "ciphers"};
inline constexpr std::string_view kRoute[] = {"match",   "allow",  "trace", "return",
                                              "static",  "job",    "cgi",   "proxy",
                                              "metrics", "status", "health"};
inline constexpr std::string_view kMetrics[] = {"allow"};
inline constexpr std::string_view kStatus[] = {"allow"};
inline constexpr std::string_view kReturn[] = {"status", "body", "location", "content_type"};
inline constexpr std::string_view kStatic[] = {"root", "index"};
inline constexpr std::string_view kJob[] = {"builtin", "ms"};
inline constexpr std::string_view kCgi[] = {"root"};

struct Section {
  std::string_view where;  // as the loader names it in errors
  std::span<const std::string_view> keys;
};

inline constexpr Section kSections[] = {{"the top level", kTopLevel},
                                        {"log", kLog},
                                        {"log.error", kErrorLog},
                                        {"log.access", kAccessLog},
                                        {"limits", kLimits},
                                        {"helpers", kHelpers},
                                        {"tls", kTopTls},
                                        {"a listen entry", kListen},
                                        {"a server's tls", kServerTls},
                                        {"an upstream", kUpstream},
                                        {"an upstream server", kUpstreamServer},
                                        {"health", kHealth},
                                        {"proxy", kProxy},
                                        {"a server", kServer},
                                        {"a route", kRoute},
                                        {"return", kReturn},
                                        {"static", kStatic},
                                        {"job", kJob},
                                        {"cgi", kCgi},
                                        {"metrics", kMetrics},
                                        {"status", kStatus}};

}  // namespace shoal::schema
