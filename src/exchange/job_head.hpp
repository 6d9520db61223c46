// JobHead: a streamed response's head (a job's, the proxy's) as the exchange hands it to its
// filters and its session: status, fields and what is known of the body, no wire format.
#pragma once

#include <cstdint>
#include <optional>

#include "util/fields.hpp"

namespace shoal::exchange {

// A job's response head as the exchange hands it to the session: no wire format.
struct JobHead {
  int status = 0;
  Fields fields;                        // without Content-Length
  std::optional<std::uint64_t> length;  // the job said its length (a proxied head may)
  bool discard_body = false;            // HEAD, 204, 304: the head only
  bool tunnel = false;                  // a proxied 101 to an Upgrade: bytes both ways next
};

}  // namespace shoal::exchange
