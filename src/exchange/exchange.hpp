// Exchange: one request and its response, knowing nothing of the wire. The session that
// carries it (Connection, HTTP/1.1, today; an HTTP/2 stream next) parses the request and
// encodes the response; the exchange routes it, decides who answers (a reply made here, a
// helper job, the proxy), follows the job (its state, backpressure both ways, its failure),
// counts the response in the metrics and writes its access-log line. A job's response
// reaches the session through Carrier as a structured head (status, fields, known length),
// data and an end; the session frames them. See src/DESIGN.md, "The request path".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.hpp"
#include "exchange/access_log.hpp"
#include "exchange/filter.hpp"
#include "exchange/job_head.hpp"
#include "exchange/job_state.hpp"
#include "helpers/helper_pool.hpp"
#include "helpers/job.hpp"
#include "http/dispatch.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"
#include "log/repeat_limiter.hpp"
#include "metrics/clock.hpp"
#include "metrics/layout.hpp"
#include "metrics/segment.hpp"
#include "net/peer_address.hpp"
#include "net/transport.hpp"
#include "proxy/proxy.hpp"

namespace shoal::exchange {

// What exchanges use of their worker; owned by the worker, outlives them.
struct Services {
  helpers::HelperPool* helpers = nullptr;
  proxy::Proxy* proxy = nullptr;  // null: the config has no upstreams
  AccessLog* access_log = nullptr;
  RepeatLimiter* log_limiter = nullptr;             // errors that flood: a line a second each
  metrics::Recorder* metrics = nullptr;             // this worker's row (nothing when off)
  const metrics::Segment* segment = nullptr;        // what a metrics route reads; null: off
  const metrics::RequestClock* clock = nullptr;     // set while metrics are on
  const std::vector<Cidr>* real_ip_from = nullptr;  // the configuration's trusted proxies
  int generation = 0;                               // who answers (a status route says)
  int worker = 0;
  bool draining = false;  // finish the request in flight, then close
  // A graceful stop's drain_delay: health routes answer 503 and every response closes its
  // connection, while the worker still accepts.
  bool lame_duck = false;
  // The response filters, in order (exchange/filter.hpp); none today.
  std::vector<FilterFactory*> filters;
};

// What the session does for the exchange it carries: queue a job's response, framed its way.
// Each call only queues; progress() then writes and decides what waits next, and may close
// the session (destroying the exchange), so nothing of the exchange is touched after it.
class Carrier {
 public:
  virtual void job_head(JobHead head) = 0;           // its fields are the session's to keep
  virtual void job_data(std::string_view data) = 0;  // never for a discarded body
  virtual void job_end() = 0;                        // the whole response is queued
  virtual void job_cut() = 0;   // failed after its head: closes (destroys the exchange)
  virtual void progress() = 0;  // write, read on; may close
  // A failure before the head: this reply answers the request instead.
  virtual void answer(http::Reply reply) = 0;
  // A request refused before its head was complete, as the logs show it (HTTP/1.1: its
  // line as received, as nginx logs a bad request); "" when the protocol has none.
  virtual std::string_view unparsed_request() const = 0;

 protected:
  ~Carrier() = default;
};

class Exchange : public helpers::JobSink, private FilterSink {
 public:
  // `request` is the session's parsed head, which this exchange answers each time it is
  // complete (and logs as it is, complete or not).
  Exchange(Services& services, const http::Request& request)
      : services_(&services), request_(&request) {}
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange() override;

  // For each request: who carries it and where it came from (the peer, and the transport for
  // the TLS facts).
  void bind(Carrier* carrier, const PeerAddress* peer, const net::Transport* transport) {
    carrier_ = carrier;
    peer_ = peer;
    transport_ = transport;
  }
  // Back to the state of a new exchange (ExchangePool keeps it for the next request).
  void reset();

  // The request's head is complete: finds its client (real_ip_from), server and route, and
  // starts its clock. A reply when the route refuses it (403 outside `allow`, 405 TRACE).
  std::optional<http::Reply> route(const http::VirtualHosts& hosts);
  const http::RoutedRequest& routed() const { return routed_; }
  // Who asked: the client a trusted proxy named, else the peer.
  const PeerAddress& client() const { return client_ ? *client_ : *peer_; }
  // The answer of a metrics, status or health route; nullopt for other routes.
  std::optional<http::Reply> answer_builtin() const;

  // Jobs. start_job submits to the helpers (false: every helper busy and the queue full, and
  // the 503 to answer is in `refusal`); start_proxy hands the request to the proxy.
  bool start_job(int local_port, http::Reply& refusal);
  void start_proxy();
  bool has_job() const { return job_ != nullptr; }
  // The request went to the proxy (its answer may come before its body: see Connection).
  bool proxied() const { return proxied_; }
  JobState job_state() const { return job_state_; }
  // The request body, as it arrives; its end.
  void send_body(std::string_view bytes);
  void request_complete();
  bool body_backlogged() const { return job_ && runner_->body_backlogged(job_); }
  // The session's output is full: the job's output waits (and is resumed once it drained).
  void pause_output();
  bool resume_output();  // true when it was paused
  bool body_paused() const { return body_paused_; }
  void set_body_paused() { body_paused_ = true; }
  // Ends the job early (an error reply or timeout of the request itself): cancelled in its
  // runner. Safe with no job.
  void end_job();

  // A response is out (queued) in full or begun: log its failure if any, count it, and write
  // its access-log line. `body_bytes`: what the line reports.
  void account(int status, std::uint64_t body_bytes, const http::Reply::Failure& failure);
  // A whole reply through the response filters (the session calls it before encoding one).
  void filter_reply(http::Reply& reply) const {
    if (!services_->filters.empty())
      FilterChain::filter_reply(services_->filters, *request_, reply);
  }

  // A request refused before its head was complete (400, 431, ...): no client but the peer.
  void forget_client() {
    client_.reset();
    head_complete_ = false;
  }

 private:
  // JobSink (public base: a runner calls these): the job's answer.
  void on_job_head(int status, helpers::HeaderList headers) override;
  void on_job_head_and_data(int status, helpers::HeaderList headers,
                            std::string_view data) override;
  void on_job_data(std::string_view data) override;
  void on_job_end() override;
  void on_job_failed(int status) override;
  void on_job_writable() override;
  void queue_head(int status, helpers::HeaderList headers);
  void queue_data(std::string_view data);
  // FilterSink: the (filtered) body to the carrier.
  void write(std::string_view bytes) override;
  void count_response(int status);
  void log_failure(const http::Reply::Failure& failure);
  // The request as the logs show it: its parsed method, target and version once its head was
  // complete; before that, what the session received.
  std::string logged_request() const;

  Services* services_;
  Carrier* carrier_ = nullptr;
  const PeerAddress* peer_ = nullptr;
  const net::Transport* transport_ = nullptr;
  const http::Request* request_;
  http::RoutedRequest routed_;
  std::optional<PeerAddress> client_;  // when a trusted proxy named the client (real_ip_from)
  // The job answering the current request: set exactly while job_state_ is not kNone. Every
  // way a job ends goes through on_job_end, on_job_failed or end_job.
  helpers::JobHandle* job_ = nullptr;
  helpers::JobRunner* runner_ = nullptr;  // the helpers or the proxy
  std::uint64_t started_ = 0;             // RequestClock reading at the complete head
  std::uint64_t job_bytes_ = 0;           // of the job's body, for the log
  int job_status_ = 0;
  JobState job_state_ = JobState::kNone;
  FilterChain filters_;  // engaged for the job's response; empty when none applies
  bool discard_body_ = false;
  bool proxied_ = false;
  bool head_complete_ = false;  // route() ran: the request's parts are parsed
  bool body_paused_ = false;    // the client is not read until the job takes more body
  bool output_paused_ = false;  // the job is not read until the client takes more output
};

}  // namespace shoal::exchange
