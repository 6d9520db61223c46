// MIME table parsing and lookup.
#include "http/mime.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"

namespace shoal::http {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

MimeTypes MimeTypes::parse(std::string_view text, const std::string& path,
                           std::string default_type) {
  MimeTypes table(std::move(default_type));
  std::vector<ConfigError> errors;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);

    std::vector<std::pair<std::string_view, int>> words;  // word and 1-based column
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i > start) words.emplace_back(line.substr(start, i - start), static_cast<int>(start) + 1);
    }
    if (words.empty()) continue;
    auto [type, type_col] = words.front();
    if (type.find('/') == std::string_view::npos) {
      errors.push_back(
          {path, line_no, type_col,
           "expected a media type such as text/html, got \"" + std::string(type) + "\""});
      continue;
    }
    if (words.size() == 1) {
      errors.push_back(
          {path, line_no, type_col + static_cast<int>(type.size()),
           "expected one or more file extensions after \"" + std::string(type) + "\""});
      continue;
    }
    for (size_t w = 1; w < words.size(); ++w) {
      auto ext = words[w].first;
      if (ext.starts_with(".")) ext.remove_prefix(1);
      table.by_extension_[lower(ext)] = std::string(type);
    }
  }
  if (!errors.empty()) throw ConfigErrors(std::move(errors));
  return table;
}

MimeTypes MimeTypes::load(const std::string& path, std::string default_type) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigErrors({{path, 0, 0, std::string("cannot open: ") + std::strerror(errno)}});
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path, std::move(default_type));
}

const std::string& MimeTypes::type_for_path(std::string_view path) const {
  auto slash = path.rfind('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return default_type_;
  auto it = by_extension_.find(lower(name.substr(dot + 1)));
  return it == by_extension_.end() ? default_type_ : it->second;
}

}  // namespace shoal::http
