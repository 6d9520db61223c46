// Reply head serialisation: one string, written with the body in a single send.
#include <charconv>

#include "http/reply.hpp"
#include "http/status.hpp"

namespace shoal::http {

void Reply::set_body(std::string text, std::string content_type) {
  body = std::move(text);
  content_length = body.size();
  headers.emplace_back("Content-Type", std::move(content_type));
}

std::string serialize_head(const Reply& reply, const WireOptions& options) {
  std::string out;
  append_head(out, reply, options);
  return out;
}

void append_head(std::string& out, const Reply& reply, const WireOptions& options) {
  char number[24];
  out += "HTTP/1.1 ";
  auto [status_end, status_ec] = std::to_chars(number, number + sizeof number, reply.status);
  out.append(number, status_end);
  out += ' ';
  out += reason_phrase(reply.status);
  out += "\r\nServer: shoal\r\nDate: ";
  out += options.date;
  out += "\r\n";
  for (const auto& [name, value] : reply.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += reply.file_headers;
  if (reply.length_known && !status_forbids_body(reply.status)) {
    out += "Content-Length: ";
    auto [end, ec] = std::to_chars(number, number + sizeof number, reply.content_length);
    out.append(number, end);
    out += "\r\n";
  }
  out += options.keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
}

}  // namespace shoal::http
