// Fuzz target: bytes from a client, split at fuzzer-chosen points, through RequestParser and
// then routing and path normalisation. Checks that a normalised path can never climb out of
// its root and that the parser never reports more bytes consumed than it was given.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "http/dispatch.hpp"
#include "http/request_parser.hpp"

namespace {

const shoal::Config& config() {
  static const shoal::Config c = shoal::load_config_from_string(
      "servers:\n"
      "  - listen: 127.0.0.1:8080\n"
      "    server_names: [a.test, \"*.b.test\"]\n"
      "    routes:\n"
      "      - match: /\n        return: { status: 200, body: ok }\n"
      "      - match: /x/\n        return: { status: 204 }\n",
      "/fuzz/shoal.yaml");
  return c;
}

void check_path(std::string_view path) {
  if (path.empty() || path.front() != '/') std::abort();
  if (path.find("/../") != std::string_view::npos || path.ends_with("/..") ||
      path.find("/./") != std::string_view::npos || path.find("//") != std::string_view::npos ||
      path.find('\0') != std::string_view::npos) {
    std::abort();  // a path that could leave its root
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static shoal::http::VirtualHosts hosts = [] {
    shoal::http::VirtualHosts h;
    h.add(&config().servers[0]);
    return h;
  }();
  shoal::Limits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 1024;
  shoal::http::RequestParser parser(limits);
  const size_t step = 1 + data[0] % 64;  // how the bytes are split into reads
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool again = false;
  int guard = 0;
  while ((!input.empty() || again) && ++guard < 100000) {
    auto chunk = input.substr(0, step);
    auto result = parser.feed(chunk);
    if (result.consumed > chunk.size()) std::abort();
    input.remove_prefix(result.consumed);
    again = result.event == shoal::http::ParseEvent::kHeadComplete;
    if (result.event == shoal::http::ParseEvent::kError) break;
    if (result.event == shoal::http::ParseEvent::kMessageComplete ||
        result.event == shoal::http::ParseEvent::kHeadComplete) {
      auto routed = shoal::http::route_request(hosts, parser.request());
      if (routed.target) check_path(routed.target->path);
    }
    if (result.event == shoal::http::ParseEvent::kNeedMore && result.consumed == 0 &&
        !chunk.empty()) {
      std::abort();  // no progress on non-empty input would hang a connection
    }
  }
  auto direct =
      shoal::http::normalize_path(std::string_view(reinterpret_cast<const char*>(data), size));
  if (direct) check_path(*direct);
  return 0;
}
