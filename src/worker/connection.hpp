// Connection: one client socket on a worker's loop. Reads bytes into the RequestParser,
// answers each complete request in order (pipelining), keeps the connection alive or closes
// it, and enforces the header, keep-alive and send timeouts. Never blocks.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

#include "helpers/helper_pool.hpp"
#include "helpers/job.hpp"
#include "http/dispatch.hpp"
#include "http/http_date.hpp"
#include "http/mime.hpp"
#include "http/reply.hpp"
#include "http/request_parser.hpp"
#include "http/router.hpp"
#include "worker/access_log.hpp"

namespace shoal {

class Connection;

// What a connection needs from its worker; owned by the worker, outlives every connection.
struct ConnectionContext {
  event_base* base = nullptr;
  const Limits* limits = nullptr;
  const http::MimeTypes* mime = nullptr;
  http::DateCache* dates = nullptr;
  AccessLog* access_log = nullptr;
  helpers::HelperPool* helpers = nullptr;
  bool draining = false;                       // finish the request in flight, then close
  std::function<void(Connection*)> on_closed;  // the worker destroys the connection
};

struct BuffereventDeleter {
  void operator()(bufferevent* bev) const { bufferevent_free(bev); }
};
struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};

// A job route's response streams from a helper through the JobSink callbacks: the head, then
// the body re-framed as chunked (HTTP/1.1) or delimited by close (HTTP/1.0).
class Connection : private helpers::JobSink {
 public:
  Connection(ConnectionContext& context, const http::VirtualHosts& hosts, evutil_socket_t fd,
             std::string remote_addr, int remote_port);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  // Closes at once if idle; otherwise after the response in flight. May destroy `this`.
  void drain();

 private:
  static void on_readable(bufferevent* bev, void* arg) noexcept;
  static void on_drained(bufferevent* bev, void* arg) noexcept;
  static void on_event(bufferevent* bev, short what, void* arg) noexcept;
  static void on_timeout(evutil_socket_t fd, short what, void* arg) noexcept;

  // JobSink: the helper's answer to this connection's job.
  void on_job_head(int status, helpers::HeaderList headers) override;
  void on_job_data(std::string_view data) override;
  void on_job_end() override;
  void on_job_failed(int status) override;
  void on_job_writable() override;
  static void on_body_bytes(void* self, std::string_view bytes);

  // Each returns false when the connection was closed (and `this` destroyed).
  bool process_input();
  bool start_job();
  helpers::JobSpec job_spec() const;
  bool respond(http::Reply reply);
  bool after_drained();

  void arm_timer(Millis timeout);
  bool idle() const;
  void close();  // destroys `this`
  void start_lingering_close();

  ConnectionContext& context_;
  const http::VirtualHosts& hosts_;
  std::string remote_addr_;
  int remote_port_ = 0;
  std::unique_ptr<bufferevent, BuffereventDeleter> bev_;
  std::unique_ptr<event, EventDeleter> timer_;
  http::RequestParser parser_;
  http::RoutedRequest routed_;  // the current request's server and route
  bool head_done_ = false;      // the current request's head has been handled
  // The helper job answering the current request, if its route needs one.
  helpers::HelperPool::Job* job_ = nullptr;
  bool awaiting_job_ = false;  // the request is complete; the job's answer is pending
  bool job_head_sent_ = false;
  bool job_chunked_ = false;       // re-frame the job's output as chunked
  bool job_discard_body_ = false;  // HEAD, 204, 304: send the head only
  bool job_keep_alive_ = false;
  int job_status_ = 0;
  std::uint64_t job_bytes_ = 0;
  bool body_paused_ = false;        // client reads stopped until the helper takes more body
  bool output_paused_ = false;      // helper reads stopped until the client takes more output
  bool close_after_write_ = false;  // the last reply said Connection: close
  bool linger_on_close_ = false;    // the client may still be sending when we close
  bool lingering_ = false;          // write side shut; discarding input until EOF
};

}  // namespace shoal
