// Proxy and ProxyExchange: one proxied request from the first connect to the end of the
// response, with every way it can fail before, during and after the upstream's head.
#include "proxy/proxy.hpp"

#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "http/response_parser.hpp"
#include "http1/wire.hpp"
#include "proxy/forward.hpp"
#include "proxy/retry.hpp"
#include "util/syscall.hpp"
#include "util/text.hpp"
#include "util/timeval.hpp"

namespace shoal::proxy {

namespace {

constexpr size_t kTunnelBacklog = 64 * 1024;  // a tunnel's bytes waiting for the upstream
constexpr size_t kReplayLimit = 64 * 1024;    // what is kept to send again after a failure
constexpr int kNoAddress = 1 << 20;           // a connect_error_: the server has no address

std::string cause_of(int err) {
  if (err == 0) return "the upstream closed the connection";
  return std::string(std::strerror(err));
}

}  // namespace

class ProxyExchange final : public helpers::JobHandle,
                            private UpstreamConnection::Owner,
                            private AddressWaiter {
 public:
  ProxyExchange(Proxy& proxy, event_base* base, UpstreamPool& pool, ProxyRequest request,
                helpers::JobSink* sink)
      : proxy_(proxy),
        base_(base),
        pool_(pool),
        request_(std::move(request)),
        sink_(sink),
        retries_left_(pool.config().retries) {
    body_ended_ = !request_.has_body;
    evtimer_assign(&timer_, base_, on_timer, this);  // in the exchange: no allocation
  }

  ~ProxyExchange() {
    event_del(&timer_);
    // Abandoned before the whole request was sent (an aborted upload): reset the connection,
    // so the upstream learns now, and not once it has read what waits in the socket for it.
    if (conn_ && state_ != State::kTunnel && (!body_ended_ || pending() > 0)) {
      const linger abort{1, 0};
      ::setsockopt(conn_->fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    if (counted_) pool_.finished(server_);
    if (state_ == State::kResolving) pool_.stop_waiting(this);
  }

  // The first attempt. Nothing reaches the sink within it (Proxy::start): every failure it
  // meets is reported from the loop.
  void begin() { attempt(false); }

  void send_body(std::string_view bytes) {
    if (bytes.empty()) return;
    if (state_ == State::kTunnel) {
      queue(bytes);
      if (!output_paused_) arm(pool_.config().read_timeout);  // traffic: the tunnel is alive
      return;
    }
    if (!request_.chunked_body) {
      queue(bytes);
      return;
    }
    std::string framed;
    http1::append_chunk(framed, bytes);
    queue(framed);
  }

  void end_body() {
    if (state_ == State::kTunnel) {  // the client closed its side: so does the upstream's
      client_closed_ = true;
      if (pending() == 0) ::shutdown(conn_->fd.get(), SHUT_WR);
      return;
    }
    if (body_ended_) return;
    body_ended_ = true;
    if (request_.chunked_body) queue(http1::kLastChunk);
  }

  // A request body is read ahead of the upstream up to request_buffer: a client that aborts
  // its upload has its FIN behind the bytes it has not sent, so it is seen only once they are
  // read (src/DESIGN.md, Reverse proxy). A tunnel keeps a small backlog.
  bool body_backlogged() const {
    return pending() > (state_ == State::kTunnel ? kTunnelBacklog : pool_.config().request_buffer);
  }

  void pause_output() {
    output_paused_ = true;
    if (conn_) conn_->set_reading(false);
    evtimer_del(&timer_);  // a slow client is not the upstream's fault
  }

  void resume_output() {
    if (!output_paused_) return;
    output_paused_ = false;
    if (forwarding_state()) {
      conn_->set_reading(true);
      arm(pool_.config().read_timeout);
    }
  }

  // Proxy::cancel: the client is gone or its request ended early.
  bool cancel() {
    if (in_callback_) {
      cancelled_ = true;  // the callback returns, then this exchange ends
      return false;
    }
    return true;
  }

 private:
  // One attempt's life (a retry starts again from kConnecting or kResolving):
  //   kIdle -> [kResolving ->] kConnecting -> kAwaitingResponse -> kReadingHead
  //         -> kReadingBody -> kDone, or kReadingHead -> kTunnel (a 101) -> kDone
  enum class State : std::uint8_t {
    kIdle,
    kResolving,         // waiting for the first lookup of the server's name
    kConnecting,        // connect() in progress (or failed, reported from the loop)
    kAwaitingResponse,  // the request is (being) sent; no response byte yet
    kReadingHead,       // response bytes came; the head is not complete
    kReadingBody,       // the head went to the client; its body follows
    kTunnel,            // after a 101: bytes pass both ways as they are
    kDone,
  };
  bool forwarding_state() const {
    return state_ == State::kAwaitingResponse || state_ == State::kReadingHead ||
           state_ == State::kReadingBody || state_ == State::kTunnel;
  }

  static void on_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    static_cast<ProxyExchange*>(arg)->timed_out();
  }
  void upstream_readable() override { read_some(); }
  void upstream_writable() override {
    if (state_ == State::kConnecting) {
      connect_done();
    } else {
      write_some();
    }
  }

  void arm(Millis timeout) {
    const timeval tv = to_timeval(timeout);
    evtimer_add(&timer_, &tv);
  }

  const UpstreamServer& server() const { return pool_.config().servers[server_]; }

  // What waits to be written: the rest of the head, then queued body bytes.
  size_t pending() const { return (request_.head.size() - head_sent_) + (out_.size() - out_sent_); }

  // One sendmsg of what waits (the head and the body bytes behind it in one segment).
  ssize_t send_some() {
    iovec iov[2];
    size_t count = 0;
    if (head_sent_ < request_.head.size()) {
      iov[count++] = {request_.head.data() + head_sent_, request_.head.size() - head_sent_};
    }
    if (out_sent_ < out_.size()) iov[count++] = {out_.data() + out_sent_, out_.size() - out_sent_};
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(conn_->fd.get(), &message, MSG_NOSIGNAL);
    if (n <= 0) return n;
    size_t sent = static_cast<size_t>(n);
    const size_t from_head = std::min(sent, request_.head.size() - head_sent_);
    head_sent_ += from_head;
    out_sent_ += sent - from_head;
    return n;
  }

  void queue(std::string_view bytes) {
    const bool was_empty = pending() == 0;
    out_.append(bytes);
    if (replay_complete_) {
      if (request_.head.size() + replay_.size() + bytes.size() <= kReplayLimit) {
        replay_.append(bytes);
      } else {
        replay_complete_ = false;  // too much to keep: this request is not sent twice
        std::string().swap(replay_);
      }
    }
    if (was_empty && forwarding_state()) conn_->set_writing(true);
  }

  // Calls into the sink; false when the sink cancelled this exchange meanwhile (it is then
  // gone, and the caller must return at once).
  template <typename F>
  bool notify(F&& call) {
    in_callback_ = true;
    call();
    in_callback_ = false;
    if (cancelled_) {
      proxy_.finished(this);
      return false;
    }
    return true;
  }

  // A name's first lookup answered (or failed): try again with what it gave.
  void addresses_changed() override {
    state_ = State::kIdle;
    evtimer_del(&timer_);
    attempt(false, true);
  }

  void timed_out() {
    if (state_ == State::kResolving) {
      pool_.stop_waiting(this);
      state_ = State::kIdle;
      connect_failed(ETIMEDOUT, "no address within connect_timeout (the name's lookup is slow)");
      return;
    }
    if (state_ == State::kTunnel) {
      spdlog::info(
          "upstream \"{}\" server {}: tunnel closed after upstreams.read_timeout without "
          "traffic, request: \"{}\"",
          pool_.config().name, server().text, escape_log_field(request_.request_line));
      end_tunnel();
      return;
    }
    if (connect_error_ < 0 && forwarding_state()) {
      pool_.failed(server_);  // a read or send timeout (connect timeouts count below)
    }
    if (connect_error_ >= 0 && state_ == State::kConnecting) {  // connect() failed at once
      const int err = std::exchange(connect_error_, -1);
      connect_failed(err, err == kNoAddress ? "the name has no address (it did not resolve)" : "");
      return;
    }
    switch (state_) {
      case State::kConnecting:
        connect_failed(ETIMEDOUT);
        return;
      case State::kAwaitingResponse:
        fail(504, pending() > 0 ? "timed out sending the request (upstreams.send_timeout)"
                                : "timed out waiting for the response (upstreams.read_timeout)");
        return;
      case State::kReadingHead:
      case State::kReadingBody:
        fail(state_ == State::kReadingBody ? 502 : 504,
             "timed out reading the response (upstreams.read_timeout)");
        return;
      default:
        return;
    }
  }

  // A connection for the next try: a pooled one to the chosen server unless `fresh`.
  void attempt(bool fresh, bool same_server = false) {
    if (counted_) pool_.finished(server_);
    counted_ = false;
    conn_.reset();
    if (!same_server) {
      server_ = pool_.choose(tried_);
      tried_.push_back(server_);
    }
    std::unique_ptr<UpstreamConnection> pooled = fresh ? nullptr : pool_.take_idle(server_);
    const Address* to = pooled ? nullptr : pool_.address(server_);
    if (!pooled && !to) {
      state_ = State::kConnecting;
      if (pool_.awaiting_first_lookup(server_)) {  // a name being looked up: wait for it
        state_ = State::kResolving;
        pool_.wait_for_addresses(this);
        arm(pool_.config().connect_timeout);
        return;
      }
      connect_error_ = kNoAddress;  // reported from the loop, as a connect failure
      const timeval now{0, 0};
      evtimer_add(&timer_, &now);
      return;
    }
    pool_.started(server_);
    counted_ = true;
    if (attempts_++ > 0) {  // again: everything from the start (callers checked it is all kept)
      head_sent_ = 0;
      out_ = replay_;
      out_sent_ = 0;
    }
    parser_.expect(request_.head_request, request_.tunnel);
    conn_ = std::move(pooled);
    reused_ = conn_ != nullptr;
    if (reused_) {
      conn_->owner = this;
      forwarding();
      return;
    }
    UniqueFd fd(::socket(to->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd && to->addr.ss_family != AF_UNIX) {
      int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (fd) conn_ = pool_.wrap(server_, std::move(fd));
    if (!conn_) {
      state_ = State::kConnecting;
      connect_error_ = errno;  // reported from the loop, as a connect failure
      const timeval now{0, 0};
      evtimer_add(&timer_, &now);
      return;
    }
    conn_->owner = this;
    state_ = State::kConnecting;
    if (::connect(conn_->fd.get(), reinterpret_cast<const sockaddr*>(&to->addr), to->len) == 0) {
      forwarding();
      return;
    }
    if (errno != EINPROGRESS) {
      connect_error_ = errno;  // reported from the loop, like any other failure
      const timeval now{0, 0};
      evtimer_add(&timer_, &now);
      return;
    }
    conn_->set_writing(true);
    arm(pool_.config().connect_timeout);
  }

  void connect_done() {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(conn_->fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      connect_failed(err);
      return;
    }
    forwarding();
  }

  void forwarding() {
    state_ = State::kAwaitingResponse;
    conn_->set_writing(false);  // it was on while connecting
    if (!output_paused_) conn_->set_reading(true);
    // A pooled or just connected socket is writable: send now rather than after a turn of
    // the loop. Errors are left to the write event, which reports them from the loop.
    while (pending() > 0 && send_some() > 0) {
    }
    if (pending() > 0) {
      conn_->set_writing(true);
      arm(pool_.config().send_timeout);
    } else {
      out_.clear();
      out_sent_ = 0;
      arm(pool_.config().read_timeout);
    }
  }

  // Another server, or another address of this one's name, to try after a failure.
  bool elsewhere_to_try() const {
    return pool_.config().servers.size() > 1 || pool_.address_count(server_) > 1;
  }

  // `cause`: what to say instead of connect()'s error.
  void connect_failed(int err, const std::string& cause = "") {
    pool_.failed(server_);
    const std::string what =
        !cause.empty() ? cause
                       : "connect() failed (" + std::to_string(err) + ": " + cause_of(err) + ")";
    Failure failure;
    failure.connect = true;
    failure.replayable = replay_complete_;
    failure.retries_left = retries_left_;
    failure.elsewhere = elsewhere_to_try();
    if (retry_after(failure) == Retry::kNextServer) {
      --retries_left_;
      spdlog::warn("upstream \"{}\" server {}: {}, trying another; request: \"{}\"",
                   pool_.config().name, server().text, what,
                   escape_log_field(request_.request_line));
      attempt(false);
      return;
    }
    fail(err == ETIMEDOUT ? 504 : 502, what);
  }

  void write_some() {
    const bool was_backlogged = body_backlogged();
    while (pending() > 0) {
      const ssize_t n = send_some();
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          arm(pool_.config().send_timeout);
          return;
        }
        if (state_ == State::kTunnel) {
          end_tunnel();
          return;
        }
        lost(errno);
        return;
      }
    }
    out_.clear();
    out_sent_ = 0;
    conn_->set_writing(false);
    if (client_closed_) ::shutdown(conn_->fd.get(), SHUT_WR);
    if (!output_paused_) arm(pool_.config().read_timeout);
    if (was_backlogged && !notify([&] { sink_->on_job_writable(); })) return;
  }

  void read_some() {
    std::string& in = proxy_.scratch();  // the worker's one read buffer: parsed and delivered now
    const ssize_t n = ::recv(conn_->fd.get(), in.data(), in.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (state_ == State::kTunnel) {
        end_tunnel();
        return;
      }
      lost(errno);
      return;
    }
    if (n == 0 && state_ != State::kTunnel) {
      lost(0);
      return;
    }
    const std::string_view data(in.data(), static_cast<size_t>(n));
    if (state_ == State::kTunnel) {
      if (n == 0) {
        end_tunnel();  // the upstream closed: the client's connection closes after the flush
        return;
      }
      arm(pool_.config().read_timeout);
      notify([&] { sink_->on_job_data(data); });
      return;
    }
    if (state_ == State::kAwaitingResponse) state_ = State::kReadingHead;
    arm(pool_.config().read_timeout);
    events_.clear();
    bool extra = false;
    if (!parser_.feed(data, events_, extra)) {
      fail(502, parser_.error());
      return;
    }
    deliver(data, extra);
  }

  // Bytes after a 101's head are the new protocol's: they go to the client as they are.
  void start_tunnel(std::string_view data) {
    state_ = State::kTunnel;
    replay_complete_ = false;  // nothing of a tunnel is ever sent twice
    std::string().swap(replay_);
    auto fields = client_response_fields(parser_.take_headers(), true, request_.via);
    const std::string_view rest = data.substr(parser_.consumed());
    notify([&] { sink_->on_job_head_and_data(101, std::move(fields), rest); });
  }

  void end_tunnel() {
    pool_.succeeded(server_);
    stop_io();
    conn_.reset();  // a switched connection never goes back to the pool
    if (!notify([&] { sink_->on_job_end(); })) return;
    proxy_.finished(this);
  }

  void deliver(std::string_view data, bool extra) {
    for (size_t i = 0; i < events_.size(); ++i) {
      const auto& ev = events_[i];
      switch (ev.kind) {
        case http::ResponseParser::Event::kHead: {
          if (parser_.upgraded()) {
            start_tunnel(data);
            return;
          }
          const auto& head = parser_.head();
          auto fields = client_response_fields(parser_.take_headers(), false, request_.via);
          if (head.content_length) {
            fields.emplace_back("Content-Length", std::to_string(*head.content_length));
          }
          state_ = State::kReadingBody;
          // The head with the body that came with it: one write to the client.
          const bool with_body =
              i + 1 < events_.size() && events_[i + 1].kind == http::ResponseParser::Event::kBody;
          if (with_body) {
            const std::string_view body = events_[++i].body;
            if (!notify(
                    [&] { sink_->on_job_head_and_data(head.status, std::move(fields), body); })) {
              return;
            }
          } else if (!notify([&] { sink_->on_job_head(head.status, std::move(fields)); })) {
            return;
          }
          break;
        }
        case http::ResponseParser::Event::kBody:
          if (!notify([&] { sink_->on_job_data(ev.body); })) return;
          break;
        case http::ResponseParser::Event::kComplete:
          complete(parser_.head().keep_alive && !extra && body_ended_ && pending() == 0);
          return;
      }
    }
  }

  // The upstream closed or reset the connection.
  void lost(int err) {
    const bool response_started = state_ == State::kReadingHead || state_ == State::kReadingBody;
    if (!reused_ || response_started) pool_.failed(server_);
    Failure failure;
    failure.response_started = response_started;
    failure.reused = reused_;
    failure.replayable = replay_complete_;
    failure.idempotent = request_.idempotent;
    failure.retries_left = retries_left_;
    failure.elsewhere = elsewhere_to_try();
    const Retry retry = retry_after(failure);
    if (!response_started) {
      // Nothing of the response came. A pooled connection the upstream had closed: the
      // request goes again on a fresh one. Otherwise only an idempotent request may.
      if (retry == Retry::kSameServer) {
        spdlog::debug(
            "upstream \"{}\" server {}: a pooled connection was closed ({}); sending "
            "again on a new one",
            pool_.config().name, server().text, cause_of(err));
        attempt(true, true);
        return;
      }
      if (retry == Retry::kNextServer) {
        --retries_left_;
        spdlog::warn(
            "upstream \"{}\" server {}: {} before the response, trying another; request: "
            "\"{}\"",
            pool_.config().name, server().text, cause_of(err),
            escape_log_field(request_.request_line));
        attempt(false);
        return;
      }
      fail(502, cause_of(err) + " before the response");
      return;
    }
    if (err == 0) {
      events_.clear();
      if (parser_.finish(events_)) {  // a body delimited by the close
        deliver({}, false);
        return;
      }
    }
    fail(502,
         cause_of(err) + (state_ == State::kReadingBody ? " in the middle of the response body"
                                                        : " in the middle of the response head"));
  }

  void stop_io() {
    state_ = State::kDone;
    evtimer_del(&timer_);
    if (counted_) pool_.finished(server_);
    counted_ = false;
  }

  void complete(bool reusable) {
    pool_.succeeded(server_);
    pool_.count_exchange(server_, 0);
    stop_io();
    if (reusable) {
      pool_.give_back(std::move(conn_));
    } else {
      conn_.reset();
    }
    if (!notify([&] { sink_->on_job_end(); })) return;
    proxy_.finished(this);
  }

  void fail(int status, const std::string& cause) {
    spdlog::error("upstream \"{}\" server {}: {}, request: \"{}\"", pool_.config().name,
                  server().text, cause, escape_log_field(request_.request_line));
    pool_.count_exchange(server_, status);
    stop_io();
    conn_.reset();
    if (!notify([&] { sink_->on_job_failed(status); })) return;
    proxy_.finished(this);
  }

  Proxy& proxy_;
  event_base* base_;
  UpstreamPool& pool_;
  ProxyRequest request_;
  helpers::JobSink* sink_;
  std::unique_ptr<UpstreamConnection> conn_;
  event timer_{};
  State state_ = State::kIdle;
  size_t server_ = 0;
  bool counted_ = false;  // server_'s outstanding count includes this exchange
  std::vector<size_t> tried_;
  int retries_left_;
  int connect_error_ = -1;
  size_t head_sent_ = 0;  // of request_.head, which goes first (and again on a retry)
  std::string out_;       // body bytes for the upstream not yet written
  size_t out_sent_ = 0;
  std::string replay_;  // every body byte so far, while the head and these fit kReplayLimit
  bool replay_complete_ = true;
  bool body_ended_ = false;
  bool reused_ = false;
  bool output_paused_ = false;
  bool client_closed_ = false;  // tunnel: the client shut its side (end_body)
  bool in_callback_ = false;
  bool cancelled_ = false;
  http::ResponseParser parser_;
  std::vector<http::ResponseParser::Event> events_;
  int attempts_ = 0;
};

Proxy::Proxy(event_base* base, const std::map<std::string, UpstreamConfig>& upstreams)
    : base_(base) {
  for (const auto& [name, config] : upstreams) {
    auto pool = std::make_unique<UpstreamPool>(base, config);
    pool->start_health_checks();
    pools_[name] = std::move(pool);
  }
}

Proxy::~Proxy() {
  exchanges_.clear();
  resolver_.reset();  // its lookups are jobs of the helpers, which outlive this
}

bool Proxy::has_names(const std::map<std::string, UpstreamConfig>& upstreams) {
  for (const auto& [name, config] : upstreams) {
    for (const auto& server : config.servers) {
      if (!server.name.empty()) return true;
    }
  }
  return false;
}

void Proxy::start_lookups(helpers::HelperPool& helpers) {
  resolver_ = std::make_unique<Resolver>(base_, helpers);
  for (auto& [name, pool] : pools_) resolver_->watch(*pool);
}

UpstreamPool* Proxy::pool(const std::string& name) {
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : it->second.get();
}

helpers::JobHandle* Proxy::start(ProxyRequest request, helpers::JobSink* sink) {
  UpstreamPool* group = pool(request.upstream);
  auto exchange = std::make_unique<ProxyExchange>(*this, base_, *group, std::move(request), sink);
  ProxyExchange* raw = exchange.get();
  exchanges_.emplace(raw, std::move(exchange));
  raw->begin();
  return raw;
}

void Proxy::send_body(helpers::JobHandle* job, std::string_view bytes) {
  static_cast<ProxyExchange*>(job)->send_body(bytes);
}

void Proxy::end_body(helpers::JobHandle* job) { static_cast<ProxyExchange*>(job)->end_body(); }

bool Proxy::body_backlogged(const helpers::JobHandle* job) const {
  return static_cast<const ProxyExchange*>(job)->body_backlogged();
}

void Proxy::pause_output(helpers::JobHandle* job) {
  static_cast<ProxyExchange*>(job)->pause_output();
}

void Proxy::resume_output(helpers::JobHandle* job) {
  static_cast<ProxyExchange*>(job)->resume_output();
}

void Proxy::cancel(helpers::JobHandle* job) {
  auto* exchange = static_cast<ProxyExchange*>(job);
  if (exchange->cancel()) finished(exchange);
}

void Proxy::finished(ProxyExchange* exchange) { exchanges_.erase(exchange); }

void Proxy::set_metrics(metrics::Recorder* recorder) {
  for (auto& [name, pool] : pools_) pool->set_metrics(recorder);
}

void Proxy::publish_metrics() const {
  for (const auto& [name, pool] : pools_) pool->publish_metrics();
}

}  // namespace shoal::proxy
