// Connection: one client socket on a worker's loop. Reads bytes into the RequestParser,
// answers each complete request in order (pipelining), keeps the connection alive or closes
// it, and enforces the header, keep-alive and send timeouts. Never blocks.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <functional>
#include <memory>
#include <string>

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
  bool draining = false;                       // finish the request in flight, then close
  std::function<void(Connection*)> on_closed;  // the worker destroys the connection
};

struct BuffereventDeleter {
  void operator()(bufferevent* bev) const { bufferevent_free(bev); }
};
struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};

class Connection {
 public:
  Connection(ConnectionContext& context, const http::VirtualHosts& hosts, evutil_socket_t fd,
             std::string remote_addr);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Closes at once if idle; otherwise after the response in flight. May destroy `this`.
  void drain();

 private:
  static void on_readable(bufferevent* bev, void* arg) noexcept;
  static void on_drained(bufferevent* bev, void* arg) noexcept;
  static void on_event(bufferevent* bev, short what, void* arg) noexcept;
  static void on_timeout(evutil_socket_t fd, short what, void* arg) noexcept;

  // Each returns false when the connection was closed (and `this` destroyed).
  bool process_input();
  bool respond(http::Reply reply);
  bool after_drained();

  void arm_timer(Millis timeout);
  bool idle() const;
  void close();  // destroys `this`
  void start_lingering_close();

  ConnectionContext& context_;
  const http::VirtualHosts& hosts_;
  std::string remote_addr_;
  std::unique_ptr<bufferevent, BuffereventDeleter> bev_;
  std::unique_ptr<event, EventDeleter> timer_;
  http::RequestParser parser_;
  bool head_done_ = false;          // the current request's head has been handled
  bool close_after_write_ = false;  // the last reply said Connection: close
  bool linger_on_close_ = false;    // the client may still be sending when we close
  bool lingering_ = false;          // write side shut; discarding input until EOF
};

}  // namespace shoal
