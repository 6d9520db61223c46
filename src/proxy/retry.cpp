// The proxy's resend decision (see retry.hpp).
#include "proxy/retry.hpp"

namespace shoal::proxy {

Retry retry_after(const Failure& f) {
  if (!f.replayable || f.response_started) return Retry::kNo;
  const bool next_server = f.retries_left > 0 && f.elsewhere;
  if (f.connect) return next_server ? Retry::kNextServer : Retry::kNo;
  if (f.reused) return Retry::kSameServer;
  return f.idempotent && next_server ? Retry::kNextServer : Retry::kNo;
}

}  // namespace shoal::proxy
