// find_unclosed_flow (flow_brackets.hpp): a bracket scanner, not a YAML parser. It runs only
// after yaml-cpp failed, to say where the unclosed collection began.
#include "config/flow_brackets.hpp"

#include <vector>

namespace shoal {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<FlowOpening> find_unclosed_flow(std::string_view text) {
  std::vector<FlowOpening> open;
  int line = 1;
  int column = 0;
  char quote = 0;  // the quote we are inside, or 0
  // In block context: whether only spaces, "- ", "? " or "key:" came before on this line, so
  // that a bracket here would start a value.
  bool value_may_start = true;
  char previous = '\n';
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      value_may_start = true;
      previous = c;
      continue;
    }
    if (quote) {
      if (quote == '"' && c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
        ++i;
        ++column;
      } else if (c == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;  // '' is a quote inside a single-quoted scalar
          ++column;
        } else {
          quote = 0;
        }
      }
      previous = c;
      continue;
    }
    const bool after_space = is_space(previous) || previous == '\n';
    if (c == '#' && after_space) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      previous = ' ';
      continue;
    }
    const bool in_flow = !open.empty();
    if ((c == '"' || c == '\'') && (in_flow || value_may_start)) {
      quote = c;
      value_may_start = false;
    } else if ((c == '{' || c == '[') && (in_flow || value_may_start)) {
      open.push_back({line, column, c});
    } else if ((c == '}' || c == ']') && in_flow) {
      open.pop_back();
      value_may_start = false;
    } else if (!in_flow && !is_space(c)) {
      // "- ", "? " and "key: " leave room for a value; anything else is a plain scalar.
      const bool indicator = (c == '-' || c == '?' || c == ':') &&
                             (i + 1 == text.size() || is_space(text[i + 1]) || text[i + 1] == '\n');
      value_may_start = indicator;
      if (!indicator && c != ':') {
        // A plain scalar runs to ": " or the end of the line; a key's colon opens a value.
        while (i + 1 < text.size() && text[i + 1] != '\n' &&
               !(text[i + 1] == ':' &&
                 (i + 2 == text.size() || is_space(text[i + 2]) || text[i + 2] == '\n')) &&
               !(text[i + 1] == '#' && is_space(text[i]))) {
          ++i;
          ++column;
        }
      }
    }
    previous = c;
  }
  if (open.empty()) return std::nullopt;
  return open.back();
}

}  // namespace shoal
