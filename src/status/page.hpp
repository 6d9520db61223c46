// The status page: one self-contained HTML document (src/status/page.html, with its CSS and
// script inline), compiled into the binary by CMake.
#pragma once

#include <string_view>

namespace shoal::status {

std::string_view page();

}  // namespace shoal::status
