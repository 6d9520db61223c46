// FileCache: a worker's cache of open static files, in the spirit of nginx's open_file_cache
// and h2o's filecache. An entry holds the open fd (for sendfile), the whole content when the
// file is small, and its precomputed validators and header lines. An entry is trusted for
// one second; after that the next use re-stats the path and reopens the file if it changed.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/mime.hpp"
#include "util/fields.hpp"
#include "util/unique_fd.hpp"

namespace shoal::http {

struct CachedFile {
  UniqueFd fd;
  struct stat st {};
  std::string content;  // the whole file when it is at most kInMemoryLimit bytes
  bool in_memory = false;
  std::string etag;
  std::string last_modified;
  std::string content_type;
  Fields fields;  // Content-Type, Last-Modified, ETag and Accept-Ranges, built once
  std::time_t checked = 0;
};

class FileCache {
 public:
  static constexpr size_t kInMemoryLimit = 16 * 1024;
  static constexpr size_t kMaxEntries = 1024;

  struct Lookup {
    std::shared_ptr<const CachedFile> file;  // set for a regular file
    int err = 0;                             // errno of open/stat when not found
    const char* call = "open()";             // the call that failed with `err`
    bool directory = false;
    bool other = false;  // exists but is neither a regular file nor a directory
  };

  // `path` is absolute and already confined to a root by the caller.
  Lookup open(const std::string& path, const MimeTypes& mime, std::time_t now);
  size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::shared_ptr<CachedFile>> entries_;
};

}  // namespace shoal::http
