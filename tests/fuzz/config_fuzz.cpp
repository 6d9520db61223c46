// Fuzz target: arbitrary text as shoal.yaml and as a MIME table. Any input must give either a
// Config or ConfigErrors that each name a line; nothing else may escape.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/loader.hpp"
#include "http/mime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto config = shoal::load_config_from_string(text, "/nonexistent-fuzz/shoal.yaml");
    if (config.servers.empty()) std::abort();  // a valid config always has a server
  } catch (const shoal::ConfigErrors& e) {
    if (e.errors().empty()) std::abort();
  }
  try {
    shoal::http::MimeTypes::parse(text, "mime.types", "application/octet-stream");
  } catch (const shoal::ConfigErrors& e) {
    for (const auto& error : e.errors()) {
      if (error.line <= 0) std::abort();
    }
  }
  return 0;
}
