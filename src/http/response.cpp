// Reply head serialisation: one string, written with the body in a single send.
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
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(reply.status);
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
  if (reply.length_known && !status_forbids_body(reply.status)) {
    out += "Content-Length: ";
    out += std::to_string(reply.content_length);
    out += "\r\n";
  }
  out += options.keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

}  // namespace shoal::http
