// HTTP/1.1 text (see wire.hpp): a head is one string, written with the body in one send.
#include "http1/wire.hpp"

#include <cassert>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "http/status.hpp"

namespace shoal::http1 {

using http::reason_phrase;
using http::status_forbids_body;

std::string serialize_head(const http::Reply& reply, const WireOptions& options) {
  std::string out;
  append_head(out, reply, options);
  return out;
}

void append_head(std::string& out, const http::Reply& reply, const WireOptions& options) {
  using namespace std::string_view_literals;
  char status[16];
  const auto status_end = std::to_chars(status, status + sizeof status, reply.status).ptr;
  char length[24];
  char* length_end = length;
  if (reply.length_known && !status_forbids_body(reply.status)) {
    length_end = std::to_chars(length, length + sizeof length, reply.content_length).ptr;
  }
  const std::string_view reason = reason_phrase(reply.status);
  const std::string_view connection = options.upgrade      ? "Connection: upgrade\r\n\r\n"sv
                                      : options.keep_alive ? "Connection: keep-alive\r\n\r\n"sv
                                                           : "Connection: close\r\n\r\n"sv;
  constexpr auto kServerDate = "\r\nServer: shoal\r\nDate: "sv;
  constexpr auto kLength = "Content-Length: "sv;

  // Sized once, then copied in with a cursor: this runs once per response.
  size_t size = 9 + static_cast<size_t>(status_end - status) + 1 + reason.size() +
                kServerDate.size() + options.date.size() + 2 + connection.size();
  for (const auto& [name, value] : reply.headers) size += name.size() + value.size() + 4;
  if (reply.shared_fields) {
    for (const auto& [name, value] : *reply.shared_fields) size += name.size() + value.size() + 4;
  }
  if (length_end != length) size += kLength.size() + static_cast<size_t>(length_end - length) + 2;
  const size_t start = out.size();
  out.resize(start + size);
  char* at = out.data() + start;
  auto put = [&at](std::string_view piece) {
    std::memcpy(at, piece.data(), piece.size());
    at += piece.size();
  };
  put("HTTP/1.1 "sv);
  put({status, status_end});
  *at++ = ' ';
  put(reason);
  put(kServerDate);
  put(options.date);
  put("\r\n"sv);
  // The separators are stored, not copied: two memcpy calls per field, not four.
  auto put_fields = [&put, &at](const Fields& fields) {
    for (const auto& [name, value] : fields) {
      put(name);
      at[0] = ':';
      at[1] = ' ';
      at += 2;
      put(value);
      at[0] = '\r';
      at[1] = '\n';
      at += 2;
    }
  };
  put_fields(reply.headers);
  if (reply.shared_fields) put_fields(*reply.shared_fields);
  if (length_end != length) {
    put(kLength);
    put({length, length_end});
    put("\r\n"sv);
  }
  put(connection);
  assert(at == out.data() + out.size());
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size_line[24];
  const int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  out.append(size_line, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

std::string serialize_request_head(const http::Request& request) {
  std::string head;
  head.reserve(256);
  head += request.method;
  head += ' ';
  head += request.target;
  head += request.http_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  for (const auto& h : request.headers) {
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace shoal::http1
