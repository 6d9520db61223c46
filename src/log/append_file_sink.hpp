// AppendFileSink: spdlog's sink for shoal's log files, writing each line with one write(2) on an
// O_APPEND fd. A write that fails (a full disk, EIO) loses that line, never the server: the
// failure is reported at most once a second with the count of lines lost, and the first line
// written after it says how many were lost, so logging resumes by itself when space returns.
// (spdlog's own file sink would print "*** LOG ERROR ***" on stderr, which -d discards.)
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <functional>
#include <string>

#include "log/repeat_limiter.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

class AppendFileSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  // `report` gets the text of a failure report (rate-limited): the error log for the access
  // log; stderr for the error log itself, which cannot report into itself.
  using Report = std::function<void(const std::string& text)>;
  AppendFileSink(UniqueFd fd, std::string path, std::string kind, Report report);

  std::uint64_t lost() const { return lost_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  bool write_all(const char* data, size_t size, int& err);

  UniqueFd fd_;
  std::string path_;
  std::string kind_;  // "access log", "error log"
  Report report_;
  RepeatLimiter limiter_;
  std::uint64_t lost_ = 0;  // lines lost since the last one written
  bool mid_line_ = false;   // the last byte written was not a line end (a torn line)
};

}  // namespace shoal
