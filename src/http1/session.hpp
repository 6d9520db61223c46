// Http1Session: the HTTP/1.1 session of one client socket on a worker's loop. Runs the
// preludes (PROXY header, TLS handshake), reads into the RequestParser, hands each complete
// request to its exchange and writes the answers in order (pipelining), keeps the connection
// alive or closes it (lingering), and enforces the header, keep-alive and send timeouts.
// Never blocks.
//
// I/O is done directly on the transport: a persistent read event (from the worker's
// EventSlab; none while the connection is parked idle), and a write event only while the
// socket is full, so a keep-alive request costs one read() and one writev() and no
// epoll_ctl. Input is read into the worker's shared scratch buffer; only a partial request
// is copied into the connection. An idle connection holds no buffers.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

#include "exchange/exchange.hpp"
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
#include "http1/session_prelude.hpp"
#include "http1/stream.hpp"
#include "http2/session.hpp"
#include "log/repeat_limiter.hpp"
#include "metrics/clock.hpp"
#include "metrics/layout.hpp"
#include "net/output_queue.hpp"
#include "net/peer_address.hpp"
#include "net/prelude.hpp"
#include "net/transport.hpp"
#include "proxy/proxy.hpp"
#include "tls/tls_stream.hpp"
#include "util/event_ptr.hpp"
#include "util/unique_fd.hpp"
#include "worker/connection_timers.hpp"
#include "worker/idle_park.hpp"

namespace shoal {

class Http1Session;

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

// What a connection needs from its worker (besides what its exchanges use); owned by the
// worker, outlives every connection.
struct SessionContext : exchange::Services {
  event_base* base = nullptr;
  const Limits* limits = nullptr;
  const http::MimeTypes* mime = nullptr;
  http::DateCache* dates = nullptr;
  http::FileCache* files = nullptr;
  std::string* scratch = nullptr;      // the worker's read buffer, shared by its connections
  ConnectionTimers* timers = nullptr;  // every connection's deadline, and the registry
  Http1StreamPool* streams = nullptr;
  IdlePark* park = nullptr;      // where idle connections wait without an event
  EventSlab* events = nullptr;   // read events for connections that are not parked
  Siblings* siblings = nullptr;  // null: no hand-over (one worker, or an adopted one)
  const std::vector<Cidr>* proxy_protocol_from = nullptr;  // who may send a PROXY header
  const Http2Config* http2 = nullptr;                      // HTTP/2's limits
  std::function<void(Http1Session*)> on_closed;            // the worker destroys the connection
};

// The HTTP/1.1 session of one client connection: the socket and its events, the phases
// (preludes, requests, tunnel, closing, lingering), keep-alive and the connection's timers.
// The request in progress and its response are its Http1Stream's (http1/stream.hpp), taken
// from the worker's pool while the connection is busy.
// As a DeadlineNode it is on one of the worker's deadline lists for as long as it lives.
class Http1Session final : public DeadlineNode {
 public:
  Http1Session(SessionContext& context, const http::VirtualHosts& hosts, evutil_socket_t fd,
               PeerAddress peer);
  Http1Session(const Http1Session&) = delete;
  Http1Session& operator=(const Http1Session&) = delete;
  ~Http1Session();

  // A connection a sibling handed over: `bytes` are what that worker had read (the head of a
  // job's request and what followed), parsed as if read here. May destroy `this`.
  void start_handed_over(std::string bytes);
  // Right after accept: reads at once, since the request usually arrived with the handshake,
  // and polls the socket only if more is needed. A connection-per-request client is then
  // answered and closed without ever entering epoll (no epoll_ctl ADD and DEL). On a TLS
  // address (`tls` set) the TLS handshake comes first. On a proxy_protocol address the PROXY
  // header comes before everything (the TLS handshake too), from proxy_protocol_from only.
  // `h2c`: a plain address where the HTTP/2 preface may come instead of a request (on a TLS
  // address ALPN decides). May destroy `this`.
  void start(const tls::TlsListen* tls = nullptr, bool proxy_protocol = false, bool h2c = false);
  // Closes at once if idle; otherwise after the response in flight. May destroy `this`.
  void drain();
  // Its deadline passed (ConnectionTimers calls this). May destroy `this`.
  void on_timeout();
  // Idle for a while (the worker's sweep): waits on the worker's IdlePark, giving back its
  // read event. False when it is not idle, or could not be parked.
  bool park();
  // IdlePark::Wake: readable or hung up while parked; takes an event again and reads.
  static void on_unparked(void* arg);

 private:
  friend class Http1Stream;   // its stream moves it through its phases and asks it to write
  friend class Http1Prelude;  // so do its preludes, before the first request
  friend class Http2Session;  // HTTP/2 on this connection: it reads, writes and closes here

  static void on_readable(evutil_socket_t fd, short what, void* arg) noexcept;
  static void on_writable(evutil_socket_t fd, short what, void* arg) noexcept;

  // Parses and answers what input allows, writes, and decides what waits next. Returns false
  // when the connection was closed (and `this` destroyed).
  bool pump();
  // Reads what the socket has and answers it. Returns false when the connection was closed
  // (and `this` destroyed).
  bool read_client();
  // The client shut its sending side. Returns false when the connection was closed.
  bool client_finished();
  // One read from the client: bytes (> 0), 0 at its end, -1 with errno (EAGAIN: wait).
  ssize_t receive(char* buffer, size_t size);
  void set_reading(bool on);
  void assign_read_event();
  void set_write_wait(bool on);
  // Small writes go out at once from now on (TCP_NODELAY, set once).
  void set_nodelay();
  // The response queued is the last: the connection closes after it, reading and dropping
  // what the client still sends (`linger`) so that the close does not reset the response.
  void last_response(bool linger);

  void arm_timer(TimerKind timer) { context_.timers->arm(*this, timer); }
  bool idle() const;
  void close();  // destroys `this`
  void start_lingering_close();

  SessionContext& context_;
  const http::VirtualHosts& hosts_;
  net::Transport transport_;  // the socket, and TLS on it on a TLS address (from start())
  PeerAddress peer_;
  // Persistent, added while reading_; from the worker's EventSlab, and none while parked.
  event* read_event_ = nullptr;
  std::unique_ptr<event, EventDeleter> write_event_;  // created when the socket first fills
  Http1Stream& stream();  // takes one from the pool if needed, bound to this connection
  std::unique_ptr<Http1Stream> stream_;
  std::unique_ptr<Http2Session> h2_;  // in Phase::kHttp2 only
  bool in_pump_ : 1 = false;          // pump() is running: close() and pump() are deferred
  bool pump_again_ : 1 = false;
  bool close_requested_ : 1 = false;
  bool reading_ : 1 = false;           // read_event_ is added (or the connection is parked)
  bool parked_ : 1 = false;            // idle, on the worker's IdlePark without a read event
  bool nodelay_ : 1 = false;           // TCP_NODELAY is set
  bool write_waiting_ : 1 = false;     // write_event_ is added
  bool eof_ : 1 = false;               // the client shut its sending side
  bool linger_on_close_ : 1 = false;   // the client may still be sending when we close
  bool handed_over_ : 1 = false;       // arrived from a sibling: its first job stays here
  bool read_wants_write_ : 1 = false;  // TLS: SSL_read needs the socket writable first
  bool h2c_ : 1 = false;               // the h2c preface may still come (no byte read yet)
  http1::Phase phase_ = http1::Phase::kRequests;  // a handed-over connection starts here
  // Moves to the phase after `event` (http1/phase.hpp); an event the phase cannot take is a
  // bug: logged, and the phase stays.
  void enter(http1::PhaseEvent event);
  bool closing() const { return http1::closing(phase_); }
  // Once the preludes (if any) are over: reads the first request.
  void begin();
  // The preludes while they run (PROXY header, TLS handshake); null afterwards, and never
  // set on a plain address without PROXY protocol.
  std::unique_ptr<Http1Prelude> prelude_;
};

}  // namespace shoal
