// Where an unclosed YAML flow collection (`{` or `[`) opened. yaml-cpp reports "end of map
// flow not found" at the end of the file, far from the mistake; this finds the opening mark.
#pragma once

#include <optional>
#include <string_view>

namespace shoal {

struct FlowOpening {
  int line = 0;  // 1-based
  int column = 0;
  char bracket = 0;  // '{' or '['
};

// The innermost `{` or `[` of `text` that is never closed (quotes and comments skipped; in
// block context a bracket starts a flow collection only where a value starts, so `/a[1]` is
// a plain scalar); nullopt when every one is closed.
std::optional<FlowOpening> find_unclosed_flow(std::string_view text);

}  // namespace shoal
