// The keys shoal.yaml accepts, section by section: the loader rejects any other key with these
// lists, and a test checks that shoal.yaml(5) documents every one, so the two cannot drift.
// The plain keys come from the tables of fields.hpp, which also load and print them.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "config/fields.hpp"

namespace shoal::schema {

inline constexpr auto kTopLevel = fields::keys(
    std::array<std::string_view, 4>{"workers", "user", "group", "pid_file"}, fields::kTopLevel,
    std::array<std::string_view, 11>{"real_ip_from", "proxy_protocol_from", "mime_types",
                                     "default_type", "log", "tls", "limits", "helpers", "http2",
                                     "upstreams", "servers"});
inline constexpr auto kUpstream =
    fields::keys(std::array<std::string_view, 2>{"servers", "balance"}, fields::kUpstream,
                 std::array<std::string_view, 1>{"health"});
inline constexpr std::string_view kUpstreamServer[] = {"address", "weight"};
inline constexpr auto kHealth =
    fields::keys(std::array<std::string_view, 1>{"path"}, fields::kHealth, fields::kNone);
inline constexpr std::string_view kProxy[] = {
    "upstream", "host", "strip_prefix", "add_prefix", "headers", "forwarding", "via"};
inline constexpr std::string_view kTopTls[] = {"session_tickets", "ticket_rotation"};
inline constexpr std::string_view kLog[] = {"error", "access"};
inline constexpr std::string_view kErrorLog[] = {"path", "level"};
inline constexpr std::string_view kAccessLog[] = {"path", "format"};
inline constexpr auto kLimits = fields::keys(fields::kNone, fields::kLimits, fields::kNone);
inline constexpr auto kHelpers = fields::keys(fields::kNone, fields::kHelpers, fields::kNone);
inline constexpr auto kHttp2 = fields::keys(fields::kNone, fields::kHttp2, fields::kNone);
inline constexpr std::string_view kServer[] = {"listen", "server_names", "tls", "routes"};
inline constexpr std::string_view kListen[] = {"address", "tls", "proxy_protocol", "http2"};
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
                                        {"http2", kHttp2},
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
