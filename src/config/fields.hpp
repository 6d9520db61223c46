// The plain keys of shoal.yaml, one table per section: each row is the key, where its value
// goes (its type follows from the member), its bounds, and one line of documentation. The
// same row drives the check of unknown keys (schema.hpp takes its key lists from here), the
// loading (loader.cpp), `shoal -T` (dump.cpp, which prints the line as a comment) and the
// test that shoal.yaml(5) describes every key. Keys with a shape of their own (lists, enums,
// paths with defaults, whole sub-sections) stay in code beside these tables.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include "config/config.hpp"

namespace shoal::fields {

template <typename Section>
using Member =
    std::variant<int Section::*, Millis Section::*, std::uint64_t Section::*, bool Section::*>;

template <typename Section>
struct Field {
  std::string_view key;
  Member<Section> member;
  // An integer's or a size's range (max 0: no upper bound); a duration's minimum in ms.
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string_view doc;    // one line, for -T
  bool omit_zero = false;  // -T leaves the key out at 0 (its "unset")
};

inline constexpr Field<Config> kTopLevel[] = {
    {"shutdown_timeout", &Config::shutdown_timeout, 0, 0,
     "how long draining workers may take before they are stopped"},
    {"drain_delay", &Config::drain_delay, 0, 0,
     "a graceful stop answers health checks 503 this long first"},
    {"worker_max_rss", &Config::worker_max_rss, 0, 0,
     "a worker above this resident memory for two samples is replaced (0: off)"},
    {"reuse_port", &Config::reuse_port, 0, 0,
     "one SO_REUSEPORT listening socket per worker (a restart changes it)"},
    {"defer_accept", &Config::defer_accept, 0, 0,
     "TCP_DEFER_ACCEPT: a connection is accepted once its first bytes arrived"},
    {"metrics", &Config::metrics, 0, 0, "count requests, connections and jobs in shared memory"},
};

inline constexpr Field<Limits> kLimits[] = {
    {"max_connections", &Limits::max_connections, 1, 1'000'000,
     "connections one worker holds at most"},
    {"header_timeout", &Limits::header_timeout, 0, 0,
     "a request head (and a body's pauses) must arrive within this"},
    {"keepalive_timeout", &Limits::keepalive_timeout, 0, 0,
     "an idle keep-alive connection is closed after this"},
    {"send_timeout", &Limits::send_timeout, 0, 0,
     "a response that makes no progress this long is dropped"},
    {"max_header_bytes", &Limits::max_header_bytes, 1024, 1024 * 1024,
     "a larger request head is 431 (414 for the request line)"},
    {"max_body_bytes", &Limits::max_body_bytes, 0, 0, "a larger request body is 413"},
};

inline constexpr Field<HelpersConfig> kHelpers[] = {
    {"count", &HelpersConfig::count, 0, 256, "helper processes per worker"},
    {"queue", &HelpersConfig::queue, 0, 1'000'000,
     "jobs that may wait in the generation; beyond it 503"},
    {"timeout", &HelpersConfig::timeout, 0, 0, "a job running longer is killed: 504"},
    {"nice", &HelpersConfig::nice, 0, 19, "helpers' CPU priority below the loops"},
    {"sched_idle", &HelpersConfig::sched_idle, 0, 0,
     "helpers run under SCHED_IDLE (only on CPU time no loop wants)"},
};

inline constexpr Field<Http2Config> kHttp2[] = {
    {"max_concurrent_streams", &Http2Config::max_concurrent_streams, 1, 10'000,
     "streams one HTTP/2 connection may have open at once"},
    {"initial_window", &Http2Config::initial_window, 65'535, 2'147'483'647,
     "a stream's receive window: request body bytes in flight"},
    {"max_header_list", &Http2Config::max_header_list, 1024, 16 * 1024 * 1024,
     "a larger decoded request head (32 bytes counted per field) is refused"},
    {"max_header_fields", &Http2Config::max_header_fields, 1, 10'000,
     "a request with more header fields is refused"},
    {"idle_timeout", &Http2Config::idle_timeout, 1, 0,
     "an HTTP/2 connection without a stream is closed after this"},
};

inline constexpr Field<UpstreamConfig> kUpstream[] = {
    {"keepalive", &UpstreamConfig::keepalive, 0, 100'000, "idle pooled connections per worker"},
    {"idle_timeout", &UpstreamConfig::idle_timeout, 1, 0,
     "a pooled connection idle this long is closed"},
    {"connect_timeout", &UpstreamConfig::connect_timeout, 1, 0, "a connect taking longer fails"},
    {"send_timeout", &UpstreamConfig::send_timeout, 1, 0,
     "a request the upstream takes no byte of this long fails"},
    {"read_timeout", &UpstreamConfig::read_timeout, 1, 0,
     "a response with no byte this long fails: 504"},
    {"request_buffer", &UpstreamConfig::request_buffer, 16 * 1024, 0,
     "request body read ahead of an upstream slow to take it"},
    {"resolve_interval", &UpstreamConfig::resolve_interval, 1, 0,
     "DNS names are looked up again this often"},
    {"retries", &UpstreamConfig::retries, 0, 16,
     "other servers tried after a connect failure (idempotent requests)"},
    {"max_fails", &UpstreamConfig::max_fails, 0, 1000,
     "failures within fail_timeout that take a server out (0: never)"},
    {"fail_timeout", &UpstreamConfig::fail_timeout, 1, 0,
     "the window of max_fails, and how long a server stays out"},
};

inline constexpr Field<UpstreamConfig::Health> kHealth[] = {
    {"interval", &UpstreamConfig::Health::interval, 10, 0, "how often each server is checked"},
    {"timeout", &UpstreamConfig::Health::timeout, 10, 0, "a check taking longer failed"},
    {"expect", &UpstreamConfig::Health::expect, 100, 599,
     "the status a check wants (unset: any 2xx or 3xx)", true},
    {"rise", &UpstreamConfig::Health::rise, 1, 100, "good checks in a row that bring one back"},
    {"fall", &UpstreamConfig::Health::fall, 1, 100, "failed checks in a row that take one out"},
};

// A section's key list: keys with a shape of their own (`before`, `after`) around the plain
// ones, in the order the loader names them in its "expected one of" message.
template <size_t B, typename S, size_t N, size_t A>
constexpr std::array<std::string_view, B + N + A> keys(
    const std::array<std::string_view, B>& before, const Field<S> (&plain)[N],
    const std::array<std::string_view, A>& after) {
  std::array<std::string_view, B + N + A> out{};
  size_t i = 0;
  for (auto k : before) out[i++] = k;
  for (const auto& f : plain) out[i++] = f.key;
  for (auto k : after) out[i++] = k;
  return out;
}

inline constexpr std::array<std::string_view, 0> kNone{};

}  // namespace shoal::fields
