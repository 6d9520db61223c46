// Config: the typed form of shoal.yaml (schema in DESIGN.md). Built by loader.cpp, read-only
// afterwards; the master, workers and HTTP layer all take what they need from it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "config/address.hpp"
#include "util/fields.hpp"

namespace shoal {

using Millis = std::chrono::milliseconds;

// Where a YAML node came from, for errors reported after loading (e.g. by the master).
struct SourceMark {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical, kOff };

struct ErrorLogConfig {
  std::string path = "stderr";  // "stderr" or a file path
  LogLevel level = LogLevel::kInfo;
  SourceMark mark;  // the `path` key, for -t's checks of what the start will open
};

// kCombinedTls: combined, then the TLS protocol and cipher ("-" "-" on plain connections).
enum class AccessLogFormat { kCombined, kCommon, kCombinedTls };

struct AccessLogConfig {
  std::string path = "off";  // "off", "stdout", "stderr" or a file path
  AccessLogFormat format = AccessLogFormat::kCombined;
  SourceMark mark;  // the `path` key
};

struct LogConfig {
  ErrorLogConfig error;
  AccessLogConfig access;
};

struct Limits {
  int max_connections = 10000;  // per worker
  Millis header_timeout{10'000};
  Millis keepalive_timeout{75'000};
  Millis send_timeout{60'000};  // a response that makes no progress this long is dropped
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 1024 * 1024;
};

struct HelpersConfig {
  int count = 2;
  int queue = 128;
  Millis timeout{30'000};
  int nice = 10;
  // SCHED_IDLE: a helper runs only on CPU time no loop wants, and a waking loop preempts it
  // at once (with nice alone, CFS lets a busy helper delay a loop by a millisecond or more).
  // Off by default: under SCHED_IDLE any busy process on the machine, not only the workers,
  // can starve helpers (and their CGI programs) until helpers.timeout.
  bool sched_idle = false;
};

// HTTP/2 (h2 by ALPN on TLS addresses, h2c by its preface on plain ones): the limits every
// HTTP/2 connection has.
struct Http2Config {
  int max_concurrent_streams = 128;
  std::uint64_t initial_window = 64 * 1024;   // a stream's receive window
  std::uint64_t max_header_list = 32 * 1024;  // decoded, 32 bytes counted per field
  int max_header_fields = 100;
  Millis idle_timeout{180'000};  // a connection without a stream is closed after this
};

// Route handlers. Exactly one per route.
struct ReturnAction {
  int status = 200;
  std::string body;
  std::string location;  // empty = none
  std::string content_type = "text/plain";
  // Built once at load: Content-Type and Location as they are sent.
  Fields fields;
};

struct StaticAction {
  std::string root;  // absolute; the request path is appended to it, as nginx's `root` does
  std::vector<std::string> index{"index.html"};
};

enum class JobKind { kBurn, kSleep };

struct JobAction {
  JobKind builtin = JobKind::kSleep;
  Millis duration{0};
};

struct CgiAction {
  std::string root;  // absolute
};

// Forwards the request to an upstream group (src/proxy/).
// Which fields tell the upstream who the client is.
enum class ForwardingHeaders : std::uint8_t { kXForwarded, kForwarded, kBoth, kNone };

struct ProxyAction {
  std::string upstream;      // a key of Config::upstreams
  std::string host;          // the Host sent; empty = the client's
  std::string strip_prefix;  // removed from the start of the path when it is there
  std::string add_prefix;    // then put in front of it
  std::vector<std::pair<std::string, std::string>> headers;  // extra request fields
  // X-Forwarded-For (appended), -Proto, -Host; or RFC 7239 Forwarded (appended); or both.
  ForwardingHeaders forwarding = ForwardingHeaders::kXForwarded;
  bool via = false;  // "Via: 1.1 shoal" appended both ways
};

// Serves the metrics (src/metrics/) to clients of `allow`; 403 for others.
struct MetricsAction {
  std::vector<Cidr> allow;  // default: loopback (127.0.0.0/8, ::1/128)
};

// Serves the status page (src/status/) and, with ?format=json, its data, to clients of
// `allow`; 403 for others.
struct StatusAction {
  std::vector<Cidr> allow;  // default: loopback, as the metrics
};

// Answers a load balancer's health check: 200 while serving, 503 from the start of a graceful
// stop's drain_delay (the balancer takes the instance out before it stops accepting).
struct HealthAction {};

using RouteAction = std::variant<ReturnAction, StaticAction, JobAction, CgiAction, ProxyAction,
                                 MetricsAction, StatusAction, HealthAction>;

struct Route {
  std::string match;  // a path prefix, matched on segment boundaries
  RouteAction action;
  // `allow`: only clients of these networks; others get 403 (nginx's allow/deny all).
  std::optional<std::vector<Cidr>> allow;
  // `trace: true` lets TRACE reach this route's action (a proxy or program that wants it);
  // otherwise TRACE is 405 everywhere, as nginx answers it.
  bool trace = false;
  SourceMark mark;
};

enum class TlsProtocol : std::uint8_t { kTls12 = 1, kTls13 = 2 };

// A server's `tls` mapping: what its TLS addresses present (see src/tls/contexts.hpp).
struct TlsSettings {
  std::string certificate;  // absolute path of the PEM chain, leaf first
  std::string key;          // absolute path of the PEM private key
  SourceMark certificate_mark;
  SourceMark key_mark;
  std::uint8_t protocols = static_cast<std::uint8_t>(TlsProtocol::kTls12) |
                           static_cast<std::uint8_t>(TlsProtocol::kTls13);
  std::string ciphers;  // OpenSSL cipher list for TLS 1.2; empty = OpenSSL's defaults
  SourceMark mark;      // the `tls` key
};

// The top-level `tls` mapping: session resumption, shared by every server.
struct TlsTickets {
  bool enabled = true;
  Millis rotation{3'600'000};  // a ticket key encrypts this long, then decrypts this long more
};

struct ServerConfig {
  std::vector<ListenAddress> listen;
  std::optional<TlsSettings> tls;
  std::vector<std::string> server_names;  // lower case; "*.example.com" matches subdomains
  std::vector<Route> routes;
  SourceMark mark;
};

enum class Balance : std::uint8_t { kRoundRobin, kLeastOutstanding, kRandomTwo };

// One upstream server: a TCP address or a Unix socket path.
struct UpstreamServer {
  std::string text;         // as configured: "127.0.0.1:9000", "unix:/run/app.sock", "app:8080"
  sockaddr_storage addr{};  // a numeric host or unix path; unset for a name
  socklen_t addr_len = 0;
  // A DNS name (addr unset): resolved in a helper by each worker at start and every
  // resolve_interval; `port` is what follows the last ':'.
  std::string name;
  std::string port;
  int weight = 1;  // its share of the requests, against the group's other servers
};

struct UpstreamConfig {
  std::string name;
  std::vector<UpstreamServer> servers;
  Balance balance = Balance::kRoundRobin;
  int keepalive = 32;         // idle pooled connections per worker
  Millis idle_timeout{4000};  // below common upstream keep-alive timeouts (5 s and up)
  Millis connect_timeout{2000};
  Millis send_timeout{30'000};
  Millis read_timeout{60'000};
  // Request body read from the client ahead of an upstream slow to take it, so a client that
  // aborts its upload is seen at once (its FIN waits behind what it has not sent).
  std::uint64_t request_buffer = 1024 * 1024;
  Millis resolve_interval{30'000};  // DNS names are looked up again this often
  int retries = 1;  // other servers tried after a connect failure (body-less idempotent requests)
  // Passive health (nginx's max_fails/fail_timeout): this many failures within fail_timeout
  // take a server out of the choice for fail_timeout. 0: never.
  int max_fails = 1;
  Millis fail_timeout{10'000};
  // Active health: every interval, GET `path` on each server; `fall` failed checks in a row
  // take it out, `rise` good ones bring it back. Off while `path` is empty.
  struct Health {
    std::string path;
    Millis interval{2000};
    Millis timeout{1000};
    int expect = 0;  // 0: any 2xx or 3xx
    int rise = 2;
    int fall = 3;
  } health;
};

struct Config {
  std::string path;             // the file this was read from
  std::string dir;              // its directory: relative paths resolve against it
  std::uint32_t text_hash = 0;  // FNV-1a of the file's text (the metrics' shoal_config_hash)
  int workers = 0;              // resolved: "auto" becomes the CPUs in the affinity mask
  bool workers_auto = true;
  std::optional<std::string> user;
  std::optional<std::string> group;
  // No `user` key and loaded as root: workers run as "nobody" (and its group unless `group`
  // says otherwise), as nginx does; `user: root` is the explicit opt-out.
  bool user_is_default = false;
  // Resolved at load time (an unknown user or group is a config error). Without `group`,
  // the user's primary group.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string pid_file;      // absolute; default_pid_file() when the file names none
  SourceMark pid_file_mark;  // line 0 when defaulted
  bool reuse_port = false;   // one SO_REUSEPORT listening socket per worker instead of one shared
  bool defer_accept = true;  // TCP_DEFER_ACCEPT: accepted once the request arrived
  // Count requests, connections, helper jobs and loop lag in shared memory (src/metrics/).
  bool metrics = true;
  Millis shutdown_timeout{30'000};
  // A graceful stop first answers health routes 503 and closes every keep-alive connection
  // after its next response for this long, still accepting, so a balancer stops sending.
  Millis drain_delay{0};
  // A worker whose resident memory stays above this for two of the master's samples (5 s
  // apart) is replaced: its successor starts, then it drains as a reload would. 0: off.
  std::uint64_t worker_max_rss = 0;
  // Proxies whose X-Forwarded-For names the client (see src/exchange/real_ip.hpp); empty: none.
  std::vector<Cidr> real_ip_from;
  // Balancers allowed to send a PROXY header on a proxy_protocol listen entry.
  std::vector<Cidr> proxy_protocol_from;
  std::string mime_types;  // absolute path; empty = the built-in table (MimeTypes::builtin)
  std::string default_type = "application/octet-stream";
  LogConfig log;
  TlsTickets tls;
  Limits limits;
  HelpersConfig helpers;
  Http2Config http2;
  std::vector<ServerConfig> servers;
  std::map<std::string, UpstreamConfig> upstreams;
};

// Every distinct listen address of the config, in order of first appearance.
std::vector<ListenAddress> distinct_listen_addresses(const Config& config);

// Number of CPUs this process may run on (sched_getaffinity), at least 1.
int available_cpus();

}  // namespace shoal
