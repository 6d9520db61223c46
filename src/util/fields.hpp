// Fields: a message's header fields as names and values, in order, never as protocol text.
// Each session writes them its own way (HTTP/1.1 as "Name: value" lines, HTTP/2 through HPACK).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace shoal {

using Fields = std::vector<std::pair<std::string, std::string>>;

}  // namespace shoal
