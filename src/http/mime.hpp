// MimeTypes: file extension -> Content-Type, read from a table such as conf/mime.types.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace shoal::http {

class MimeTypes {
 public:
  MimeTypes() = default;
  explicit MimeTypes(std::string default_type) : default_type_(std::move(default_type)) {}

  // Reads "type ext ext ..." lines ('#' starts a comment), the format of /etc/mime.types: a
  // type with no extensions is valid and maps nothing. Throws ConfigErrors naming
  // file:line:col for a malformed line.
  static MimeTypes load(const std::string& path, std::string default_type);
  // Same, from text already in memory (`path` names it in errors).
  static MimeTypes parse(std::string_view text, const std::string& path, std::string default_type);

  // The common web types, for a configuration with no table at all (no mime_types key, no
  // mime.types beside the config file, no /etc/mime.types).
  static MimeTypes builtin(std::string default_type);

  // By the extension of the last path segment, case-insensitively; else the default type.
  const std::string& type_for_path(std::string_view path) const;
  size_t size() const { return by_extension_.size(); }

 private:
  std::string default_type_ = "application/octet-stream";
  std::unordered_map<std::string, std::string> by_extension_;
};

}  // namespace shoal::http
