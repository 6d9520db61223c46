// Exchange: routing, jobs, counting and the access log of one request (see exchange.hpp).
#include "exchange/exchange.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstdlib>
#include <utility>

#include "exchange/builtin_routes.hpp"
#include "exchange/job_spec.hpp"
#include "exchange/real_ip.hpp"
#include "http/status.hpp"
#include "proxy/forward.hpp"
#include "util/text.hpp"

namespace shoal::exchange {

Exchange::~Exchange() { end_job(); }

void Exchange::reset() {
  end_job();
  routed_ = {};
  client_.reset();
  runner_ = nullptr;
  started_ = 0;
  job_bytes_ = 0;
  job_status_ = 0;
  discard_body_ = proxied_ = head_complete_ = body_paused_ = output_paused_ = false;
}

std::optional<http::Reply> Exchange::route(const http::VirtualHosts& hosts) {
  const auto& request = *request_;
  head_complete_ = true;
  client_ = services_->real_ip_from ? real_client(*peer_, *services_->real_ip_from, request)
                                    : std::nullopt;
  routed_ = http::route_request(hosts, request);
  if (services_->clock) started_ = services_->clock->now();
  if (routed_.route && routed_.route->allow) {
    const auto address = client().to_sockaddr();
    if (!allowed(*routed_.route->allow, reinterpret_cast<const sockaddr*>(&address))) {
      spdlog::info("client {} is not in the allow list of route \"{}\", request: \"{}\"",
                   client().text(), routed_.route->match, escape_log_field(request.line()));
      auto reply = http::error_reply(403);
      reply.close = true;  // before its body, if any: the rest is read and dropped
      return reply;
    }
  }
  return http::refuse_trace(routed_, request);
}

std::optional<http::Reply> Exchange::answer_builtin() const {
  // Most routes are none of these: no site is gathered for them.
  if (!routed_.route || !routed_.target) return std::nullopt;
  const auto& action = routed_.route->action;
  if (!std::holds_alternative<MetricsAction>(action) &&
      !std::holds_alternative<StatusAction>(action) &&
      !std::holds_alternative<HealthAction>(action)) {
    return std::nullopt;
  }
  const BuiltinSite site{services_->segment, services_->metrics->layout(), services_->generation,
                         services_->worker, services_->lame_duck};
  return exchange::answer_builtin(routed_, *request_, client(), site);
}

bool Exchange::start_job(int local_port, http::Reply& refusal) {
  const Arrival arrival{&client(), local_port, transport_->secure()};
  job_ = services_->helpers->submit(job_spec(routed_, *request_, arrival), this);
  runner_ = services_->helpers;
  if (job_) {
    job_state_ = JobState::kSendingBody;
    return true;
  }
  // Every helper busy and the queue full: said, but not once per refused request.
  if (auto held_back = services_->log_limiter->admit("helpers:503", coarse_now_ms())) {
    spdlog::warn("every helper is busy and helpers.queue ({} jobs) is full: 503 to client {}{}",
                 services_->helpers->queued_jobs(), client().text(), suppressed_note(*held_back));
  }
  refusal = http::error_reply(503);
  refusal.headers.emplace_back("Retry-After", "1");
  refusal.close = true;
  return false;
}

void Exchange::start_proxy() {
  const auto& action = std::get<ProxyAction>(routed_.route->action);
  const auto& request = *request_;
  // HTTP/1.1's parser allows chunked only, last; an HTTP/2 body without a Content-Length
  // has no framing of its own on the way up: chunked too.
  const bool chunked =
      request.header("Transfer-Encoding") != nullptr ||
      (request.http_major == 2 && request.has_body && request.header("Content-Length") == nullptr);
  proxy::ProxyRequest forward;
  forward.upstream = action.upstream;
  forward.head =
      proxy::upstream_request_head(request, action, {peer_->text(), transport_->secure()}, chunked,
                                   proxy::wants_tunnel(request));
  forward.has_body = request.has_body;
  forward.chunked_body = chunked;
  forward.head_request = request.method == "HEAD";
  forward.idempotent = proxy::idempotent(request.method);
  forward.tunnel = proxy::wants_tunnel(request);
  forward.via = action.via;
  forward.request_line = request.line();
  proxied_ = true;
  job_ = services_->proxy->start(std::move(forward), this);
  runner_ = services_->proxy;
  job_state_ = JobState::kSendingBody;
}

void Exchange::send_body(std::string_view bytes) {
  if (job_) runner_->send_body(job_, bytes);
}

void Exchange::request_complete() {
  if (!job_) return;
  runner_->end_body(job_);
  job_state_ = next_job_step(job_state_, JobEvent::kRequestComplete).next;
}

void Exchange::pause_output() {
  if (output_paused_ || !job_) return;
  output_paused_ = true;  // the session resumes the job's output once the client caught up
  runner_->pause_output(job_);
}

bool Exchange::resume_output() {
  if (!job_ || !output_paused_) return false;
  output_paused_ = false;
  runner_->resume_output(job_);  // may deliver output at once
  return true;
}

void Exchange::end_job() {
  if (!job_) return;
  const JobStep step = next_job_step(job_state_, JobEvent::kEarlyEnd);
  helpers::JobHandle* job = std::exchange(job_, nullptr);
  job_state_ = step.next;
  output_paused_ = false;
  body_paused_ = false;
  filters_.clear();
  if (step.cancel) runner_->cancel(job);
}

void Exchange::account(int status, std::uint64_t body_bytes, const http::Reply::Failure& failure) {
  if (!failure.what.empty()) log_failure(failure);
  count_response(status);
  if (services_->access_log->enabled()) {
    const std::string line = logged_request();
    services_->access_log->write({client().text(), request_, line, status, body_bytes,
                                  transport_->protocol(), transport_->cipher()});
  }
  head_complete_ = false;  // what comes next on this exchange is another request
}

std::string Exchange::logged_request() const {
  return head_complete_ ? request_->line() : std::string(carrier_->unparsed_request());
}

void Exchange::count_response(int status) {
  auto& recorder = *services_->metrics;
  if (!recorder.on()) return;
  if (started_ == 0 || !services_->clock) {  // no complete head: a bad request, a timeout
    recorder.response(nullptr, nullptr, status, std::nullopt);
    return;
  }
  const auto ns = services_->clock->elapsed_ns(started_, services_->clock->now());
  started_ = 0;
  recorder.response(routed_.server, routed_.route, status, ns);
}

// nginx's shape: what failed, then who asked and for what.
// Errors that come in floods (EMFILE under load) are limited to a line a second per cause.
void Exchange::log_failure(const http::Reply::Failure& failure) {
  const auto level = failure.not_found ? spdlog::level::info : spdlog::level::err;
  if (!spdlog::should_log(level)) return;
  std::uint64_t held_back = 0;
  if (level == spdlog::level::err && !failure.cause.empty()) {
    auto admitted = services_->log_limiter->admit(failure.cause, coarse_now_ms());
    if (!admitted) return;
    held_back = *admitted;
  }
  spdlog::log(level, "{}, client: {}, request: \"{}\"{}", failure.what, client().text(),
              escape_log_field(logged_request()), suppressed_note(held_back));
}

void Exchange::on_job_head(int status, helpers::HeaderList headers) {
  queue_head(status, std::move(headers));
  carrier_->progress();
}

void Exchange::on_job_head_and_data(int status, helpers::HeaderList headers,
                                    std::string_view data) {
  queue_head(status, std::move(headers));
  queue_data(data);
  carrier_->progress();
}

void Exchange::queue_head(int status, helpers::HeaderList headers) {
  job_state_ = next_job_step(job_state_, JobEvent::kHead).next;
  JobHead head;
  head.status = status;
  // Only the proxy passes a 101, and only to an Upgrade it tunnels (proxy.cpp).
  head.tunnel = status == 101 && proxied_ && request_->upgrade;
  head.discard_body =
      !head.tunnel && (request_->method == "HEAD" || http::status_forbids_body(status));
  head.fields = std::move(headers);
  // A proxied head may say its length (a CGI head never does): the body is passed as it is.
  for (auto it = head.fields.begin(); it != head.fields.end(); ++it) {
    if (iequals(it->first, "Content-Length")) {
      head.length = std::strtoull(it->second.c_str(), nullptr, 10);
      head.fields.erase(it);
      break;
    }
  }
  job_status_ = status;
  job_bytes_ = 0;
  discard_body_ = head.discard_body;
  filters_.clear();
  if (!services_->filters.empty()) filters_.engage(services_->filters, *request_, head);
  carrier_->job_head(std::move(head));
}

void Exchange::on_job_data(std::string_view data) {
  queue_data(data);
  carrier_->progress();
}

void Exchange::queue_data(std::string_view data) {
  if (discard_body_ || data.empty()) return;
  if (filters_.empty()) {
    write(data);
  } else {
    filters_.data(data, *this);
  }
}

void Exchange::write(std::string_view bytes) {
  job_bytes_ += bytes.size();
  carrier_->job_data(bytes);
}

void Exchange::on_job_end() {
  job_ = nullptr;
  job_state_ = next_job_step(job_state_, JobEvent::kEnd).next;
  output_paused_ = false;
  body_paused_ = false;  // nothing waits for the body any more
  if (!filters_.empty()) {
    filters_.end(*this);
    filters_.clear();
  }
  carrier_->job_end();
  account(job_status_, job_bytes_, {});
  carrier_->progress();
}

void Exchange::on_job_failed(int status) {
  const JobStep step = next_job_step(job_state_, JobEvent::kFailed);
  job_ = nullptr;
  job_state_ = step.next;
  output_paused_ = false;
  filters_.clear();
  if (step.cut_off) {
    // Part of the answer is out; the client can only learn of the failure by a cut-off body.
    spdlog::info("client {}: response cut off after a job failure ({})", peer_->text(), status);
    carrier_->job_cut();
    return;
  }
  auto reply = http::error_reply(status);
  if (status == 503) reply.headers.emplace_back("Retry-After", "1");
  if (request_->method == "HEAD") reply.send_body = false;
  carrier_->answer(std::move(reply));
  carrier_->progress();
}

void Exchange::on_job_writable() {
  if (!body_paused_) return;
  body_paused_ = false;
  carrier_->progress();
}

}  // namespace shoal::exchange
