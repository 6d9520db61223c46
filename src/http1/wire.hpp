// HTTP/1.1's text: a response head (status line, fields, Date, Server, framing and
// Connection), the chunked framing of a body, and a request head written again (a hand-over to
// a sibling). The only place a response's HTTP/1.1 text is written (the proxy writes its own
// requests upstream, as the HTTP/1.1 client it is).
#pragma once

#include <string>
#include <string_view>

#include "http/reply.hpp"
#include "http/request.hpp"

namespace shoal::http1 {

struct WireOptions {
  bool keep_alive = true;
  std::string_view date;
  bool upgrade = false;  // a 101 to a proxied Upgrade: "Connection: upgrade"
};

// Status line and fields, with Date, Server, Content-Length and Connection, ending in CRLF.
void append_head(std::string& out, const http::Reply& reply, const WireOptions& options);
std::string serialize_head(const http::Reply& reply, const WireOptions& options);

// One chunk of a chunked body: its size in hex, CRLF, the bytes, CRLF. Empty data writes
// nothing (an empty chunk would end the body).
void append_chunk(std::string& out, std::string_view data);
// The end of a chunked body (no trailers).
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A parsed request's head as HTTP/1.1 text again: the request line, the fields as received,
// the empty line.
std::string serialize_request_head(const http::Request& request);

}  // namespace shoal::http1
