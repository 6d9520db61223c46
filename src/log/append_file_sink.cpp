// AppendFileSink (see the header).
#include "log/append_file_sink.hpp"

#include <unistd.h>

#include <cerrno>

#include "util/syscall.hpp"

namespace shoal {

AppendFileSink::AppendFileSink(UniqueFd fd, std::string path, std::string kind, Report report)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      kind_(std::move(kind)),
      report_(std::move(report)) {}

bool AppendFileSink::write_all(const char* data, size_t size, int& err) {
  while (size > 0) {
    const ssize_t n = ::write(fd_.get(), data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      return false;
    }
    // A write cut short (the disk filled in the middle of a line) leaves a torn line.
    mid_line_ = data[n - 1] != '\n';
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void AppendFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  int err = 0;
  if (lost_ > 0) {
    // Space is back (or the error went away): say what is missing before going on.
    // The note starts on a line of its own, even after a line torn by the failure.
    const std::string note = std::string(mid_line_ ? "\n" : "") +
                             "shoal: " + std::to_string(lost_) + " line" + (lost_ == 1 ? "" : "s") +
                             " of this " + kind_ + " could not be written and are lost\n";
    if (write_all(note.data(), note.size(), err)) {
      if (report_)
        report_(kind_ + " \"" + path_ + "\" is written again; " + std::to_string(lost_) +
                " lines were lost");
      lost_ = 0;
    }
  }
  if (err == 0 && write_all(line.data(), line.size(), err)) return;
  ++lost_;
  if (report_ && limiter_.admit("write", coarse_now_ms())) {
    report_(errno_text("write() to " + kind_ + " \"" + path_ + "\"", err) + "; " +
            std::to_string(lost_) + " line" + (lost_ == 1 ? "" : "s") +
            " lost so far; serving goes on");
  }
}

}  // namespace shoal
