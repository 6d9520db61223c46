// Access log lines in the combined format operators' tools already parse.
#include "exchange/access_log.hpp"

#include <cstdint>
#include <ctime>

#include "util/text.hpp"

namespace shoal {

namespace {

// One base64 digit's value (RFC 4648 section 4), or -1.
int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Padded base64 only, as Basic credentials are sent; nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && in[in.size() - 1 - padding] == '=') ++padding;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < in.size() - padding; ++i) {
    const int v = base64_value(in[i]);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>(bits >> 16);
      out += static_cast<char>(bits >> 8);
      out += static_cast<char>(bits);
      bits = 0;
      count = 0;
    }
  }
  if (count == 3) {  // one '=': two bytes
    out += static_cast<char>(bits >> 10);
    out += static_cast<char>(bits >> 2);
  } else if (count == 2) {  // "==": one byte
    out += static_cast<char>(bits >> 4);
  }
  return out;
}

}  // namespace

std::optional<std::string> basic_auth_user(std::string_view authorization) {
  authorization = trim_ows(authorization);
  constexpr std::string_view kScheme = "Basic ";
  if (!istarts_with(authorization, kScheme)) return std::nullopt;
  auto decoded = base64_decode(trim_ows(authorization.substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  decoded->resize(colon);
  return decoded;
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
  const std::string request_line =
      e.request_line.empty() ? std::string("-") : escape_log_field(e.request_line);
  std::string user = "-";
  std::string referer = "-";
  std::string agent = "-";
  if (e.request) {
    if (const auto* a = e.request->header("Authorization")) {
      // An empty name stays "-": the combined format's fields are never empty.
      if (auto name = basic_auth_user(*a); name && !name->empty()) user = escape_log_field(*name);
    }
    if (const auto* r = e.request->header("Referer")) referer = escape_log_field(*r);
    if (const auto* a = e.request->header("User-Agent")) agent = escape_log_field(*a);
  }
  if (format_ == AccessLogFormat::kCommon) {
    sink_->info("{} - {} {} \"{}\" {} {}", e.remote_addr, user, time_local_, request_line, e.status,
                e.body_bytes);
  } else if (format_ == AccessLogFormat::kCombinedTls) {
    sink_->info("{} - {} {} \"{}\" {} {} \"{}\" \"{}\" {} {}", e.remote_addr, user, time_local_,
                request_line, e.status, e.body_bytes, referer, agent,
                e.tls_protocol.empty() ? "-" : e.tls_protocol,
                e.tls_cipher.empty() ? "-" : e.tls_cipher);
  } else {
    sink_->info("{} - {} {} \"{}\" {} {} \"{}\" \"{}\"", e.remote_addr, user, time_local_,
                request_line, e.status, e.body_bytes, referer, agent);
  }
}

}  // namespace shoal
