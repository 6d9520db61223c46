// JobSpec encoding as JOB_START fields: name/value pairs, "env" repeated.
#include "helpers/job.hpp"

#include <charconv>

#include "helpers/frame.hpp"

namespace shoal::helpers {

std::string encode_job(const JobSpec& job) {
  std::vector<std::string> f;
  f.emplace_back("type");
  f.emplace_back(job.type == JobType::kBurn    ? "burn"
                 : job.type == JobType::kSleep ? "sleep"
                 : job.type == JobType::kCgi   ? "cgi"
                                               : "resolve");
  f.emplace_back("ms");
  f.push_back(std::to_string(job.duration.count()));
  f.emplace_back("root");
  f.push_back(job.cgi_root);
  f.emplace_back("prefix");
  f.push_back(job.route_prefix);
  f.emplace_back("path");
  f.push_back(job.path);
  for (const auto& e : job.env) {
    f.emplace_back("env");
    f.push_back(e);
  }
  return encode_fields(f);
}

std::optional<JobSpec> decode_job(std::string_view payload) {
  auto fields = decode_fields(payload);
  if (!fields || fields->size() % 2 != 0) return std::nullopt;
  JobSpec job;
  bool typed = false;
  for (size_t i = 0; i < fields->size(); i += 2) {
    const auto& name = (*fields)[i];
    const auto& value = (*fields)[i + 1];
    if (name == "type") {
      if (value == "burn") {
        job.type = JobType::kBurn;
      } else if (value == "sleep") {
        job.type = JobType::kSleep;
      } else if (value == "cgi") {
        job.type = JobType::kCgi;
      } else if (value == "resolve") {
        job.type = JobType::kResolve;
      } else {
        return std::nullopt;
      }
      typed = true;
    } else if (name == "ms") {
      long long ms = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc() || end != value.data() + value.size() || ms < 0) return std::nullopt;
      job.duration = std::chrono::milliseconds(ms);
    } else if (name == "root") {
      job.cgi_root = value;
    } else if (name == "prefix") {
      job.route_prefix = value;
    } else if (name == "path") {
      job.path = value;
    } else if (name == "env") {
      job.env.push_back(value);
    } else {
      return std::nullopt;
    }
  }
  if (!typed) return std::nullopt;
  return job;
}

}  // namespace shoal::helpers
