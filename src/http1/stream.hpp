// Http1Stream: the request in progress on an HTTP/1.1 connection, and its response on the
// wire. The session (http1/session.hpp) owns the socket, its events, phases and timers; the
// stream owns what a request needs: the parser and the unparsed input, the output queue, the
// exchange that answers, and how that answer is framed (length, chunked or close). It is the
// exchange's Carrier. Requests on one connection come one after another (pipelining), so one
// stream serves them all while the connection is busy; an idle connection gives its stream
// back to the worker's Http1StreamPool (HAProxy's h1c and h1s split the same way).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "exchange/exchange.hpp"
#include "http/reply.hpp"
#include "http/request_parser.hpp"
#include "net/output_queue.hpp"

namespace shoal {

class Http1Session;

// Output a connection queues before it stops parsing pipelined requests and pauses a job's
// output until the client has taken some.
inline constexpr std::uint64_t kOutputHighWater = 64 * 1024;

class Http1Stream final : private exchange::Carrier {
 public:
  Http1Stream(const Limits& limits, exchange::Services& services)
      : parser(limits), exchange(services, parser.request()) {}
  Http1Stream(const Http1Stream&) = delete;
  Http1Stream& operator=(const Http1Stream&) = delete;

  // Carried by `session` from now on (taken from the pool).
  void bind(Http1Session& session);
  // Back to the state of a new stream, kept in the pool.
  void recycle();

  // Parses and answers requests from `input` while the output and the job allow. Returns
  // false when the session was closed or handed over.
  bool process_input();
  // Queues a whole reply: the head, its body, its access-log line; a reply that closes the
  // connection moves the session to its last response.
  bool respond(http::Reply reply);
  // The request took too long to arrive: a 408, and the connection closes.
  void time_out();
  // Keeps the input not yet parsed in `buffered` (it may point into the worker's scratch
  // buffer, which the next connection reuses).
  void keep_leftover_input();
  // The current request's head was handled and its message has not ended.
  bool head_done() const { return head_done_; }
  // Between requests, with nothing read, queued or running.
  bool idle() const {
    return !head_done_ && !exchange.has_job() && input.empty() && !parser.in_message() &&
           output.empty() && buffered.empty();
  }
  // The client shut its sending side: false when the connection should close now; true when
  // what is queued goes out first (the session pumps).
  bool client_finished();

  http::RequestParser parser;
  std::string buffered;    // input not yet parsed (owned copy of a partial request)
  std::string_view input;  // what process_input parses: the worker's scratch buffer or buffered
  OutputQueue output;
  exchange::Exchange exchange;  // the current request's routing, job and accounting

 private:
  // Carrier: the exchange's job response, framed here.
  void job_head(exchange::JobHead head) override;
  void job_data(std::string_view data) override;
  void job_end() override;
  void job_cut() override;
  void progress() override;
  void answer(http::Reply reply) override;
  std::string_view unparsed_request() const override;
  static void on_body_bytes(void* self, std::string_view bytes);

  // After a proxied 101: the client's bytes go to the upstream as they are.
  void tunnel_input();
  // At a job's head, when no helper here is free and a sibling has one: gives the connection
  // to it. True when it went (and the session is closing).
  bool hand_over();
  // A job or proxy route's request: its exchange starts the job. False when closed.
  bool start_job();
  // Plain HTTP on a TLS address, once its head is parsed: a plain-text 400, then a close.
  bool refuse_plain_http();
  // A head with `Expect`: 417 for anything but 100-continue, which is answered at once when
  // a body follows. False when the 417 was sent.
  bool answer_expect();

  Http1Session* session_ = nullptr;
  // How a job's response is framed on this connection, fixed when its head arrives.
  bool chunked_ : 1 = false;       // re-frame the job's output as chunked
  bool discard_body_ : 1 = false;  // HEAD, 204, 304: send the head only
  bool keep_alive_ : 1 = false;
  bool head_done_ : 1 = false;       // the current request's head has been handled
  bool answered_early_ : 1 = false;  // a proxied answer is out; the body still arrives
};

// Spare streams of one worker, at most `max_spares`. Only one at a message boundary (its
// connection went idle) comes back; one that grew large buffers is freed instead.
class Http1StreamPool {
 public:
  Http1StreamPool(const Limits& limits, exchange::Services& services, size_t max_spares)
      : limits_(limits), services_(services), max_(max_spares) {}
  std::unique_ptr<Http1Stream> take();
  void give(std::unique_ptr<Http1Stream> stream);

 private:
  const Limits& limits_;
  exchange::Services& services_;
  size_t max_;
  std::vector<std::unique_ptr<Http1Stream>> spares_;
};

}  // namespace shoal
