// Fuzz target: the PROXY protocol header (v1 and v2) from a balancer's first bytes. Whatever
// the bytes, the parser never claims more than it was given, never passes its bounds, and
// gives the same verdict when the bytes come one at a time (as a slow balancer sends them).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/proxy_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto whole = shoal::parse_proxy_header(bytes);
  using State = shoal::ProxyHeader::State;
  if (whole.state == State::kDone) {
    if (whole.length == 0 || whole.length > size || whole.length > shoal::kMaxProxyHeader) {
      std::abort();
    }
    if (whole.version == 1 && whole.length > shoal::kMaxProxyV1Header) std::abort();
    if (whole.version != 1 && whole.version != 2) std::abort();
  }
  if (whole.state == State::kError && whole.error.empty()) std::abort();
  if (whole.state == State::kNeedMore && size >= shoal::kMaxProxyHeader) std::abort();
  // Byte by byte: every prefix that needs more must agree with the whole's verdict, which is
  // decided at the first prefix that decides anything.
  for (size_t n = 1; n <= size; ++n) {
    const auto part = shoal::parse_proxy_header(bytes.substr(0, n));
    if (part.state == State::kNeedMore) continue;
    if (part.state != whole.state) std::abort();
    if (part.state == State::kDone && part.length != whole.length) std::abort();
    break;
  }
  return 0;
}
