// Fuzz target: what an upstream may answer a proxied request, through ResponseParser split at
// fuzzer-chosen points (as reads would split it), then the fields a client would get; and the
// address lines a resolve job sends back. Events must come in order (one head, body, at most
// one end, nothing after it), a switch only to a request that asked for one, and the consumed
// count within what was fed.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/response_parser.hpp"
#include "proxy/forward.hpp"
#include "util/socket_address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool head_request = data[0] & 1;
  const bool upgrade = data[0] & 2;
  const size_t step = 1 + (data[0] >> 2) % 64;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  shoal::http::ResponseParser parser(4096);
  parser.expect(head_request, upgrade);
  std::vector<shoal::http::ResponseParser::Event> events;
  bool heads = false;
  bool complete = false;
  bool failed = false;
  for (size_t at = 0; at < bytes.size() && !failed && !parser.upgraded(); at += step) {
    const auto piece = bytes.substr(at, step);
    events.clear();
    bool extra = false;
    failed = !parser.feed(piece, events, extra);
    if (parser.consumed() > piece.size()) std::abort();
    for (const auto& e : events) {
      if (complete) std::abort();  // nothing after the end
      if (e.kind == shoal::http::ResponseParser::Event::kHead) {
        if (heads) std::abort();
        heads = true;
      } else if (e.kind == shoal::http::ResponseParser::Event::kBody) {
        if (!heads || head_request) std::abort();
      } else {
        complete = true;
      }
    }
  }
  if (parser.upgraded() && (!upgrade || parser.head().status != 101)) std::abort();
  if (heads && !failed) {
    auto fields = shoal::proxy::client_response_fields(parser.take_headers(), parser.upgraded(),
                                                       data[0] & 128);
    for (const auto& [name, value] : fields) {
      if (name.empty()) std::abort();
    }
  }
  if (!failed && !parser.upgraded() && !complete) {
    events.clear();
    parser.finish(events);
  }
  shoal::decode_address_lines(bytes);
  return 0;
}
