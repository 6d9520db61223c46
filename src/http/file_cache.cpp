// FileCache: open, fstat, read small files once; trust an entry for a second.
#include "http/file_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "http/conditional.hpp"
#include "http/http_date.hpp"

namespace shoal::http {

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

FileCache::Lookup FileCache::open(const std::string& path, const MimeTypes& mime, std::time_t now) {
  Lookup result;
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    if (it->second->checked == now) {
      result.file = it->second;
      return result;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && same_file(st, it->second->st)) {
      it->second->checked = now;
      result.file = it->second;
      return result;
    }
    entries_.erase(it);  // changed or gone: a response still sending it keeps its copy alive
  }

  // O_NONBLOCK: opening a FIFO must not hang the loop; it is refused below as not regular.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    result.err = errno;
    return result;
  }
  auto file = std::make_shared<CachedFile>();
  if (::fstat(fd.get(), &file->st) != 0) {
    result.err = errno;
    result.call = "fstat()";
    return result;
  }
  if (S_ISDIR(file->st.st_mode)) {
    result.directory = true;
    return result;
  }
  if (!S_ISREG(file->st.st_mode)) {
    result.other = true;
    return result;
  }
  const auto size = static_cast<std::uint64_t>(file->st.st_size);
  if (size <= kInMemoryLimit) {
    file->content.resize(size);
    size_t got = 0;
    while (got < size) {
      ssize_t n =
          ::pread(fd.get(), file->content.data() + got, size - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    file->in_memory = got == size;  // a file that shrank meanwhile is sent from its fd
    if (!file->in_memory) file->content.clear();
  }
  file->fd = std::move(fd);
  file->etag = make_etag(file->st.st_mtime, size);
  file->last_modified = format_http_date(file->st.st_mtime);
  file->content_type = mime.type_for_path(path);
  file->fields = {{"Content-Type", file->content_type},
                  {"Last-Modified", file->last_modified},
                  {"ETag", file->etag},
                  {"Accept-Ranges", "bytes"}};
  file->checked = now;
  if (entries_.size() >= kMaxEntries) entries_.clear();  // simple and bounded; refills fast
  entries_.emplace(path, file);
  result.file = std::move(file);
  return result;
}

}  // namespace shoal::http
