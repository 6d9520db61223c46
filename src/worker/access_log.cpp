// Access log lines in the combined format operators' tools already parse.
#include "worker/access_log.hpp"

#include <ctime>

namespace shoal {

std::string escape_log_field(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void AccessLog::write(const AccessEntry& e) {
  if (!sink_) return;
  std::time_t now = std::time(nullptr);
  if (now != second_) {
    second_ = now;
    std::tm tm{};
    localtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S %z]", &tm);
    time_local_ = buf;
  }
  std::string request_line = "-";
  std::string referer = "-";
  std::string agent = "-";
  if (e.request && !e.request->method.empty()) {
    request_line = escape_log_field(e.request->method + " " + e.request->target + " HTTP/" +
                                    std::to_string(e.request->http_major) + "." +
                                    std::to_string(e.request->http_minor));
    if (const auto* r = e.request->header("Referer")) referer = escape_log_field(*r);
    if (const auto* a = e.request->header("User-Agent")) agent = escape_log_field(*a);
  }
  if (format_ == AccessLogFormat::kCommon) {
    sink_->info("{} - - {} \"{}\" {} {}", e.remote_addr, time_local_, request_line, e.status,
                e.body_bytes);
  } else {
    sink_->info("{} - - {} \"{}\" {} {} \"{}\" \"{}\"", e.remote_addr, time_local_, request_line,
                e.status, e.body_bytes, referer, agent);
  }
}

}  // namespace shoal
