// Whether a proxied request that failed is sent again, and where (pure; unit-tested). The
// rules of issue 17 and nginx's proxy_next_upstream, in one place:
//   - a connect failure: nothing was sent, so any request may go to another server;
//   - a pooled connection the upstream had closed before any response byte: the request goes
//     again to the same server on a new connection (the close raced the reuse);
//   - a reset or close before any response byte on a new connection: only an idempotent
//     request goes to another server;
// and never a request whose bytes were not all kept for a resend (a body past 64 KiB), never
// once a response byte came, never beyond `retries` other servers.
#pragma once

#include <cstdint>

namespace shoal::proxy {

enum class Retry : std::uint8_t {
  kNo,          // the failure is the client's answer (502 or 504)
  kSameServer,  // again, on a new connection to the same server (retries not spent)
  kNextServer,  // to the next server the balancer picks (one retry spent)
};

struct Failure {
  bool connect = false;           // connect() failed or timed out: nothing was sent
  bool response_started = false;  // a response byte came
  bool reused = false;            // the connection came from the pool
  bool replayable = false;        // every byte sent so far is kept for a resend
  bool idempotent = false;        // GET, HEAD, PUT, DELETE, OPTIONS, TRACE
  int retries_left = 0;
  bool elsewhere = false;  // another server, or another address of this one's name
};

Retry retry_after(const Failure& failure);

}  // namespace shoal::proxy
