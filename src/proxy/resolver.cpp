// Resolver: one Lookup per named server, each a JobSink for its helper job and a timer.
#include "proxy/resolver.hpp"

#include "util/socket_address.hpp"
#include "util/timeval.hpp"

namespace shoal::proxy {

// One named server: its job while a lookup runs, and the timer of the next.
class Resolver::Lookup final : public helpers::JobSink {
 public:
  Lookup(Resolver& resolver, UpstreamPool& pool, size_t server)
      : resolver_(resolver), pool_(pool), server_(server) {
    timer_.reset(evtimer_new(resolver.base_, on_timer, this));
  }
  ~Lookup() override {
    if (job_) resolver_.helpers_.cancel(job_);
  }
  Lookup(const Lookup&) = delete;
  Lookup& operator=(const Lookup&) = delete;

  void start() {
    const timeval every = to_timeval(pool_.config().resolve_interval);
    evtimer_add(timer_.get(), &every);
    if (job_) return;  // the last lookup is still running (a slow resolver): let it finish
    const auto& s = pool_.config().servers[server_];
    helpers::JobSpec spec;
    spec.type = helpers::JobType::kResolve;
    spec.path = s.name;
    spec.route_prefix = s.port;
    status_ = 0;
    output_.clear();
    job_ = resolver_.helpers_.submit(spec, this);
    if (!job_) {
      pool_.resolution_failed(server_, "every helper is busy and helpers.queue is full");
      return;
    }
    resolver_.helpers_.end_body(job_);  // a lookup has no body
  }

  static void on_timer(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
    static_cast<Lookup*>(arg)->start();
  }

 private:
  void on_job_head(int status, helpers::HeaderList /*headers*/) override { status_ = status; }
  void on_job_data(std::string_view data) override {
    if (output_.size() < 64 * 1024) output_.append(data);
  }
  void on_job_end() override {
    job_ = nullptr;
    if (status_ != 200) {
      pool_.resolution_failed(server_, output_.empty() ? "the lookup failed" : output_);
      return;
    }
    auto addresses = decode_address_lines(output_);
    if (!addresses) {
      pool_.resolution_failed(server_, "the helper's answer did not parse");
      return;
    }
    pool_.resolved(server_, std::move(*addresses));
  }
  void on_job_failed(int status) override {
    job_ = nullptr;
    pool_.resolution_failed(server_, status == 504 ? "the lookup passed helpers.timeout"
                                                   : "the helper running the lookup failed");
  }
  void on_job_writable() override {}

  Resolver& resolver_;
  UpstreamPool& pool_;
  size_t server_;
  EventPtr timer_;
  helpers::JobHandle* job_ = nullptr;
  int status_ = 0;
  std::string output_;
};

Resolver::Resolver(event_base* base, helpers::HelperPool& helpers)
    : base_(base), helpers_(helpers) {}

Resolver::~Resolver() = default;

void Resolver::watch(UpstreamPool& pool) {
  for (size_t i = 0; i < pool.config().servers.size(); ++i) {
    if (pool.config().servers[i].name.empty()) continue;
    lookups_.push_back(std::make_unique<Lookup>(*this, pool, i));
    lookups_.back()->start();
  }
}

}  // namespace shoal::proxy
