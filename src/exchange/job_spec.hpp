// What a helper is asked to run for a job or CGI route: the builtin's kind and duration, or
// the CGI program's path and its RFC 3875 environment. Protocol-free: from the parsed
// request, its route and the facts of the connection that carries it.
#pragma once

#include "helpers/job.hpp"
#include "http/dispatch.hpp"
#include "http/request.hpp"
#include "net/peer_address.hpp"

namespace shoal::exchange {

// Where the request came in, as CGI tells a program.
struct Arrival {
  const PeerAddress* client = nullptr;  // after real_ip_from
  int local_port = 0;                   // SERVER_PORT
  bool secure = false;                  // HTTPS=on
};

// `routed`'s route is a job or a CGI route (RoutedRequest::needs_helper()).
helpers::JobSpec job_spec(const http::RoutedRequest& routed, const http::Request& request,
                          const Arrival& arrival);

}  // namespace shoal::exchange
