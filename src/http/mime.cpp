// MIME table parsing and lookup.
#include "http/mime.hpp"

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
    for (size_t w = 1; w < words.size(); ++w) {
      auto ext = words[w].first;
      if (ext.starts_with(".")) ext.remove_prefix(1);
      table.by_extension_[lower(ext)] = std::string(type);
    }
  }
  if (!errors.empty()) throw ConfigErrors(std::move(errors));
  return table;
}

MimeTypes MimeTypes::builtin(std::string default_type) {
  // What a static site needs so that browsers show, not download (nginx ships a similar
  // mime.types; this one is ours, for machines without /etc/mime.types).
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html"},      {"htm", "text/html"},         {"css", "text/css"},
      {"js", "text/javascript"},  {"mjs", "text/javascript"},   {"json", "application/json"},
      {"svg", "image/svg+xml"},   {"png", "image/png"},         {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},     {"gif", "image/gif"},         {"webp", "image/webp"},
      {"avif", "image/avif"},     {"ico", "image/x-icon"},      {"woff", "font/woff"},
      {"woff2", "font/woff2"},    {"txt", "text/plain"},        {"xml", "text/xml"},
      {"pdf", "application/pdf"}, {"wasm", "application/wasm"}, {"mp4", "video/mp4"},
      {"webm", "video/webm"},     {"mp3", "audio/mpeg"},
  };
  MimeTypes table(std::move(default_type));
  for (const auto& [extension, type] : kTypes) table.by_extension_[extension] = type;
  return table;
}

MimeTypes MimeTypes::load(const std::string& path, std::string default_type) {
  return parse(read_config_file(path), path, std::move(default_type));
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
