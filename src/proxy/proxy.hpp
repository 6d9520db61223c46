// Proxy: the worker's runner of proxied requests (a helpers::JobRunner, like the helper pool,
// but on the loop): one UpstreamPool per upstream group, and a ProxyExchange per request in
// flight, which connects (or reuses a pooled connection), sends the request head and streams
// the body, parses the response with llhttp and streams it to the client's Connection
// through the JobSink callbacks. See src/DESIGN.md, Reverse proxy.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/config.hpp"
#include "helpers/helper_pool.hpp"
#include "helpers/job.hpp"
#include "proxy/resolver.hpp"
#include "proxy/upstream_pool.hpp"

namespace shoal::proxy {

class ProxyExchange;

// One request to forward.
struct ProxyRequest {
  std::string upstream;       // the group's name
  std::string head;           // the request head for the upstream (forward.hpp)
  bool has_body = false;      // a body follows through send_body / end_body
  bool chunked_body = false;  // re-frame it as chunked
  bool head_request = false;  // HEAD: the response has no body
  bool idempotent = false;    // may be sent again after a reset before the response head
  bool via = false;           // the route's proxy.via: Via on the response too
  bool tunnel = false;        // an Upgrade: after a 101, bytes pass both ways (send_body /
                              // on_job_data) until either side closes (end_body / on_job_end)
  std::string request_line;   // for the error log
};

class Proxy final : public helpers::JobRunner {
 public:
  Proxy(event_base* base, const std::map<std::string, UpstreamConfig>& upstreams);
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  ~Proxy();

  // True when a server of some group is given by DNS name (the helpers must then run).
  static bool has_names(const std::map<std::string, UpstreamConfig>& upstreams);
  // Starts looking up those names in `helpers` (started), now and every resolve_interval.
  void start_lookups(helpers::HelperPool& helpers);

  // Starts forwarding; the sink hears of it only from the loop, never from within this call.
  helpers::JobHandle* start(ProxyRequest request, helpers::JobSink* sink);

  void send_body(helpers::JobHandle* job, std::string_view bytes) override;
  void end_body(helpers::JobHandle* job) override;
  bool body_backlogged(const helpers::JobHandle* job) const override;
  void pause_output(helpers::JobHandle* job) override;
  void resume_output(helpers::JobHandle* job) override;
  void cancel(helpers::JobHandle* job) override;

  // An exchange that ended (after it told its sink): freed here.
  void finished(ProxyExchange* exchange);
  UpstreamPool* pool(const std::string& name);
  // Every group counts in `recorder` (the worker's); publish_metrics sets the gauges.
  void set_metrics(metrics::Recorder* recorder);
  void publish_metrics() const;
  // One read buffer for every exchange of the worker (each parses what it read at once).
  std::string& scratch() { return scratch_; }

 private:
  event_base* base_;
  std::map<std::string, std::unique_ptr<UpstreamPool>> pools_;
  std::unique_ptr<Resolver> resolver_;  // set when some server is a name
  std::unordered_map<ProxyExchange*, std::unique_ptr<ProxyExchange>> exchanges_;
  std::string scratch_ = std::string(64 * 1024, '\0');
};

}  // namespace shoal::proxy
