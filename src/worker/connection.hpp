// Connection: one client socket on a worker's loop. Reads into the RequestParser, answers
// each complete request in order (pipelining), keeps the connection alive or closes it, and
// enforces the header, keep-alive and send timeouts. Never blocks.
//
// I/O is done directly on the socket: a persistent read event, and a write event only while
// the socket is full, so a keep-alive request costs one read() and one writev() and no
// epoll_ctl. Input is read into the worker's shared scratch buffer; only a partial request
// is copied into the connection. An idle connection holds no buffers.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>  // struct event embedded in Connection: no allocation

#include <functional>
#include <memory>
#include <string>

#include "exchange/builtin_routes.hpp"
#include "helpers/helper_pool.hpp"
#include "helpers/job.hpp"
#include "http/dispatch.hpp"
#include "http/file_cache.hpp"
#include "http/http_date.hpp"
#include "http/mime.hpp"
#include "http/reply.hpp"
#include "http/request_parser.hpp"
#include "http/router.hpp"
#include "http1/phase.hpp"
#include "log/repeat_limiter.hpp"
#include "metrics/clock.hpp"
#include "metrics/layout.hpp"
#include "net/output_queue.hpp"
#include "net/peer_address.hpp"
#include "net/transport.hpp"
#include "proxy/proxy.hpp"
#include "tls/tls_stream.hpp"
#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"
#include "worker/access_log.hpp"
#include "worker/connection_timers.hpp"

namespace shoal {

class Connection;

// How long a closing connection keeps reading (and discarding) what the client still sends.
inline constexpr Millis kLingerTimeout{2000};
// How long a draining worker keeps an idle keep-alive connection open (see drain()).
inline constexpr Millis kDrainGrace{1000};

// A job's life as its connection sees it. Each transition is one function of Connection:
//   kNone --start_job--> kSendingBody --message complete--> kAwaiting --head--> kStreaming
//                        kSendingBody --head--> kAnsweredEarly --message complete--> kStreaming
//   any --END or failure from the pool--> kNone
// and from any state but kNone, end_job (an early end: 408, 400, 413) cancels the job in the
// pool, which frees (kills and replaces) a helper that was running it. The client leaving
// destroys the connection, which does the same.
enum class JobState : std::uint8_t {
  kNone,           // no job for the current request
  kSendingBody,    // submitted; the request body is still arriving
  kAwaiting,       // the request is complete; the helper's head is pending
  kAnsweredEarly,  // the head is out while the request body still arrives
  kStreaming,      // the request is complete and the head is out; data until END
};

// The next step of a job when `event` happens in `state` (pure; unit-tested).
enum class JobEvent : std::uint8_t { kRequestComplete, kHead, kEnd, kFailed, kEarlyEnd };
struct JobStep {
  JobState next = JobState::kNone;
  bool cancel = false;       // tell the pool to drop the job (and free its helper)
  bool error_reply = false;  // answer the failure with an error status (no head was sent)
  bool cut_off = false;      // the head is out: only closing tells the client
};
JobStep next_job_step(JobState state, JobEvent event);
// True when the request is complete and its job has not ended: nothing more is parsed (the
// next pipelined request waits its turn).
bool request_waits_for_job(JobState state);

// Everything a request in progress needs: taken from the worker's ExchangePool when bytes
// arrive and given back when the connection goes idle, so an idle keep-alive connection stays
// small and a busy worker reuses parsers and buffers instead of allocating them per request.
struct Exchange {
  explicit Exchange(const Limits& limits) : parser(limits) {}
  http::RequestParser parser;
  std::string buffered;    // input not yet parsed (owned copy of a partial request)
  std::string_view input;  // what process_input parses: the worker's scratch buffer or buffered
  OutputQueue output;
  http::RoutedRequest routed;  // the current request's server and route
  // The helper job answering the current request, if its route needs one: `job` is set
  // exactly while `job_state` is not kNone. Every way a job ends goes through
  // Connection::end_job (the helper's END or failure, or an early end of the request).
  helpers::JobHandle* job = nullptr;
  helpers::JobRunner* runner = nullptr;  // what runs `job`: the helpers or the proxy
  JobState job_state = JobState::kNone;
  // How the job's response is framed, fixed when its head arrives.
  struct JobResponse {
    int status = 0;
    std::uint64_t bytes = 0;
    bool chunked = false;       // re-frame the job's output as chunked
    bool discard_body = false;  // HEAD, 204, 304: send the head only
    bool keep_alive = false;
  } job_response;
  // The current request's client when a trusted proxy named it (real_ip_from); else the peer.
  std::optional<PeerAddress> client;
  std::uint64_t started = 0;   // RequestClock reading when the head was complete (metrics on)
  bool body_paused = false;    // client reads stopped until the helper takes more body
  bool output_paused = false;  // helper reads stopped until the client takes more output
};

// Spare Exchanges of one worker, at most `max_spares`. Only an Exchange at a message boundary
// (its connection went idle) comes back; one that grew large buffers is freed instead.
class ExchangePool {
 public:
  ExchangePool(const Limits& limits, size_t max_spares) : limits_(limits), max_(max_spares) {}
  std::unique_ptr<Exchange> take();
  void give(std::unique_ptr<Exchange> exchange);

 private:
  const Limits& limits_;
  size_t max_;
  std::vector<std::unique_ptr<Exchange>> spares_;
};

// The deadline of each timer kind, for the worker's ConnectionTimers.
std::array<Millis, kTimerKinds> connection_timeouts(const Limits& limits);

// The worker's siblings of the same generation, as a connection sees them (worker.cpp).
class Siblings {
 public:
  virtual ~Siblings() = default;
  // True when a job would wait here while a sibling has an idle helper.
  virtual bool better_elsewhere() = 0;
  // Gives the client socket, with `bytes` to parse, to that sibling; false when it could not
  // go (the connection then stays here and the job queues).
  virtual bool hand_over(int fd, const http::VirtualHosts& hosts, std::string_view bytes) = 0;
};

// What a connection needs from its worker; owned by the worker, outlives every connection.
struct ConnectionContext {
  event_base* base = nullptr;
  const Limits* limits = nullptr;
  const http::MimeTypes* mime = nullptr;
  http::DateCache* dates = nullptr;
  http::FileCache* files = nullptr;
  AccessLog* access_log = nullptr;
  helpers::HelperPool* helpers = nullptr;
  proxy::Proxy* proxy = nullptr;       // null: the config has no upstreams
  std::string* scratch = nullptr;      // the worker's read buffer, shared by its connections
  ConnectionTimers* timers = nullptr;  // every connection's deadline, and the registry
  ExchangePool* exchanges = nullptr;
  RepeatLimiter* log_limiter = nullptr;       // errors that come in floods: one line a second each
  Siblings* siblings = nullptr;               // null: no hand-over (one worker, or an adopted one)
  metrics::Recorder* metrics = nullptr;       // this worker's row (records nothing when off)
  const metrics::Segment* segment = nullptr;  // what a metrics route reads; null: off
  const metrics::RequestClock* clock = nullptr;            // set while metrics are on
  const std::vector<Cidr>* real_ip_from = nullptr;         // the configuration's trusted proxies
  const std::vector<Cidr>* proxy_protocol_from = nullptr;  // who may send a PROXY header
  int generation = 0;                                      // who answers (a status route says)
  int worker = 0;
  bool draining = false;  // finish the request in flight, then close
  // A graceful stop's drain_delay: health routes answer 503 and every response closes its
  // connection, while the worker still accepts.
  bool lame_duck = false;
  std::function<void(Connection*)> on_closed;  // the worker destroys the connection
};

// A job route's response streams from a helper through the JobSink callbacks: the head, then
// the body re-framed as chunked (HTTP/1.1) or delimited by close (HTTP/1.0).
// As a DeadlineNode it is on one of the worker's deadline lists for as long as it lives.
class Connection : public DeadlineNode, private helpers::JobSink {
 public:
  Connection(ConnectionContext& context, const http::VirtualHosts& hosts, evutil_socket_t fd,
             PeerAddress peer);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  // A connection a sibling handed over: `bytes` are what that worker had read (the head of a
  // job's request and what followed), parsed as if read here. May destroy `this`.
  void start_handed_over(std::string bytes);
  // Right after accept: reads at once, since the request usually arrived with the handshake,
  // and polls the socket only if more is needed. A connection-per-request client is then
  // answered and closed without ever entering epoll (no epoll_ctl ADD and DEL). On a TLS
  // address (`tls` set) the TLS handshake comes first. On a proxy_protocol address the PROXY
  // header comes before everything (the TLS handshake too), from proxy_protocol_from only.
  // May destroy `this`.
  void start(const tls::TlsListen* tls = nullptr, bool proxy_protocol = false);
  // Closes at once if idle; otherwise after the response in flight. May destroy `this`.
  void drain();
  // Its deadline passed (ConnectionTimers calls this). May destroy `this`.
  void on_timeout();

 private:
  static void on_readable(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_writable(evutil_socket_t fd, short what, void* arg) noexcept;

  // JobSink: the helper's answer to this connection's job.
  void on_job_head(int status, helpers::HeaderList headers) override;
  void on_job_head_and_data(int status, helpers::HeaderList headers,
                            std::string_view data) override;
  // Queues the job's head; on_job_head writes it, on_job_head_and_data with the first data.
  void queue_job_head(int status, helpers::HeaderList headers);
  void queue_job_data(std::string_view data);
  void on_job_data(std::string_view data) override;
  void on_job_end() override;
  void on_job_failed(int status) override;
  void on_job_writable() override;
  static void on_body_bytes(void* self, std::string_view bytes);

  // Parses and answers what input allows, writes, and decides what waits next. Returns false
  // when the connection was closed (and `this` destroyed).
  bool pump();
  // Parses and answers requests from the Exchange's input while allowed.
  bool process_input();
  // After a proxied 101: the client's bytes go to the upstream as they are.
  void tunnel_input();
  bool respond(http::Reply reply);
  // Counts the response to the current request (status class, duration) in the metrics.
  void count_response(int status);
  // What the metrics, status and health routes read (exchange/builtin_routes.hpp).
  exchange::BuiltinSite builtin_site() const;
  // The access log's line for the current request: written here only.
  void log_access(int status, std::uint64_t body_bytes);
  // The current request's client (real_ip_from), else the connection's peer.
  const PeerAddress& client() const { return ex_ && ex_->client ? *ex_->client : peer_; }
  bool peer_allowed(const std::vector<Cidr>& allow) const;
  void log_failure(const http::Reply::Failure& failure);
  bool start_job();
  // A proxy route's request: forwarded by the worker's Proxy, answered as a job is.
  bool start_proxy();
  // At a job's head, when no helper here is free and a sibling has one: gives the connection
  // to it. True when it went (and `this` is closing).
  bool hand_over_job();
  // Ends the current job early (an error reply or timeout of the request itself): cancels it
  // in the pool. Safe to call with no job.
  void end_job();
  // The local port of the socket (CGI's SERVER_PORT).
  int local_port() const;
  // Reads what the socket has and answers it. Returns false when the connection was closed
  // (and `this` destroyed).
  bool read_client();
  // One read from the client: bytes (> 0), 0 at its end, -1 with errno (EAGAIN: wait).
  ssize_t receive(char* buffer, size_t size);
  // TLS: checks the first bytes, then drives the handshake. False when it closed the
  // connection; true, still in Phase::kHandshake, while it waits for the socket.
  bool continue_handshake();
  // Plain HTTP on a TLS address, once its head is parsed: a plain-text 400, then a close.
  bool refuse_plain_http();
  void set_reading(bool on);
  void set_write_wait(bool on);
  void keep_leftover_input();

  void arm_timer(TimerKind timer) { context_.timers->arm(*this, timer); }
  bool idle() const;
  void close();  // destroys `this`
  void start_lingering_close();

  ConnectionContext& context_;
  const http::VirtualHosts& hosts_;
  net::Transport transport_;  // the socket, and TLS on it on a TLS address (from start())
  PeerAddress peer_;
  event read_event_;                                  // persistent, added while reading_
  std::unique_ptr<event, EventDeleter> write_event_;  // created when the socket first fills
  Exchange& exchange();                               // creates it if needed
  std::unique_ptr<Exchange> ex_;
  bool in_pump_ : 1 = false;  // pump() is running: close() and pump() are deferred
  bool pump_again_ : 1 = false;
  bool close_requested_ : 1 = false;
  bool reading_ : 1 = false;           // read_event_ is added
  bool nodelay_ : 1 = false;           // TCP_NODELAY is set
  bool write_waiting_ : 1 = false;     // write_event_ is added
  bool eof_ : 1 = false;               // the client shut its sending side
  bool head_done_ : 1 = false;         // the current request's head has been handled
  bool linger_on_close_ : 1 = false;   // the client may still be sending when we close
  bool handed_over_ : 1 = false;       // arrived from a sibling: its first job stays here
  bool hello_seen_ : 1 = false;        // TLS: the first bytes were a handshake record
  bool read_wants_write_ : 1 = false;  // TLS: SSL_read needs the socket writable first
  bool answered_early_ : 1 = false;    // a proxied answer is out; the body still arrives
  http1::Phase phase_ = http1::Phase::kRequests;  // a handed-over connection starts here
  // Moves to the phase after `event` (http1/phase.hpp); an event the phase cannot take is a
  // bug: logged, and the phase stays.
  void enter(http1::PhaseEvent event);
  bool closing() const { return http1::closing(phase_); }
  // What start() does once the PROXY header (if any) is read: the handshake or the request.
  void begin(const tls::TlsListen* tls);
  // Reads the PROXY header's bytes and no more (peek, then take exactly them); then begin().
  void read_proxy_header();
  const tls::TlsListen* pending_tls_ = nullptr;  // begin()'s, while the PROXY header arrives
  std::string proxy_bytes_;                      // the header's bytes taken so far
};

}  // namespace shoal
