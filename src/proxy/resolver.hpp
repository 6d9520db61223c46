// Resolver: looks up the DNS names of a worker's upstream servers without blocking its loop.
// Each lookup is a job for the worker's helpers (getaddrinfo runs there: JobType::kResolve);
// the addresses come back over the helper pipe as the job's output, one per line, and go to
// the server's UpstreamPool. Every name is looked up when the worker starts and again every
// resolve_interval of its group; a failed lookup keeps the last addresses (the pool warns).
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "helpers/helper_pool.hpp"
#include "proxy/upstream_pool.hpp"
#include "util/event_ptr.hpp"

namespace shoal::proxy {

class Resolver {
 public:
  Resolver(event_base* base, helpers::HelperPool& helpers);
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  ~Resolver();

  // Looks up every named server of `pool` now and every resolve_interval.
  void watch(UpstreamPool& pool);

 private:
  class Lookup;
  static void on_timer(evutil_socket_t fd, short what, void* arg) noexcept;

  event_base* base_;
  helpers::HelperPool& helpers_;
  std::vector<std::unique_ptr<Lookup>> lookups_;
};

}  // namespace shoal::proxy
