// Jobs: what a worker asks a helper to run (JobSpec, sent as JOB_START) and how the worker
// hears back (JobSink, implemented by the client's Connection).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/fields.hpp"

namespace shoal::helpers {

enum class JobType { kBurn, kSleep, kCgi, kResolve };

struct JobSpec {
  JobType type = JobType::kSleep;
  std::chrono::milliseconds duration{0};  // burn and sleep
  std::string cgi_root;                   // cgi: absolute directory of the programs
  std::string route_prefix;      // cgi: the route's match, e.g. "/cgi-bin/"; resolve: the port
  std::string path;              // cgi: the normalised request path; resolve: the name
  std::vector<std::string> env;  // cgi: "NAME=value" meta-variables of the request
};

std::string encode_job(const JobSpec& job);
std::optional<JobSpec> decode_job(std::string_view payload);

using HeaderList = Fields;

// A running job as its submitter holds it (a HelperPool::Job, a proxy::ProxyExchange).
struct JobHandle {};

// What runs jobs, as a Connection drives one: HelperPool (helper processes) and proxy::Proxy
// (upstream servers, on the loop). Each takes only handles it gave out.
class JobRunner {
 public:
  virtual void send_body(JobHandle* job, std::string_view bytes) = 0;
  virtual void end_body(JobHandle* job) = 0;
  // True while more than a bounded amount of body waits: stop reading the client until
  // JobSink::on_job_writable.
  virtual bool body_backlogged(const JobHandle* job) const = 0;
  // The client's socket is full: stop producing output until resumed.
  virtual void pause_output(JobHandle* job) = 0;
  virtual void resume_output(JobHandle* job) = 0;
  // The client went away or the request ended early: forget the job and free what ran it.
  virtual void cancel(JobHandle* job) = 0;

 protected:
  ~JobRunner() = default;
};

// Callbacks from the HelperPool to whoever submitted a job. After on_job_end or
// on_job_failed the job is gone: the sink must forget its handle in that callback.
class JobSink {
 public:
  virtual ~JobSink() = default;
  virtual void on_job_head(int status, HeaderList headers) = 0;
  // The head and the first body bytes at once (one write to the client instead of two). The
  // default is the two calls; a sink that cancels in on_job_head must override it.
  virtual void on_job_head_and_data(int status, HeaderList headers, std::string_view data) {
    on_job_head(status, std::move(headers));
    on_job_data(data);
  }
  virtual void on_job_data(std::string_view data) = 0;
  virtual void on_job_end() = 0;
  // 502 (helper or program died, bad output), 503 (queue full), 504 (deadline), 403/404/500
  // (program missing, not executable, not startable). Also after the head was sent.
  virtual void on_job_failed(int status) = 0;
  // The request body may flow again (see HelperPool::body_backlogged).
  virtual void on_job_writable() = 0;
};

}  // namespace shoal::helpers
