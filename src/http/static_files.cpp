// Static file serving. Paths arrive normalised (path.cpp), so root + path stays under root.
// What we describe (length, validators) comes from the fstat of the fd we send from.
#include "http/static_files.hpp"

#include <cerrno>
#include <ctime>

#include "http/conditional.hpp"
#include "http/range.hpp"
#include "util/syscall.hpp"
#include "util/text.hpp"

namespace shoal::http {

namespace {

int status_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
    case ELOOP:
      return 404;
    case EACCES:
    case EPERM:
      return 403;
    default:
      return 500;
  }
}

Reply file_reply(std::shared_ptr<const CachedFile> file, const Request& request) {
  const auto size = static_cast<std::uint64_t>(file->st.st_size);
  const Validators validators{file->etag, file->st.st_mtime};
  const bool head = request.method == "HEAD";

  // Fast path: a plain GET or HEAD without validators or ranges (nearly every request).
  const bool conditional = request.header("If-Match") || request.header("If-None-Match") ||
                           request.header("If-Modified-Since") ||
                           request.header("If-Unmodified-Since");
  if (conditional) {
    ConditionalHeaders headers{request.header("If-Match"), request.header("If-None-Match"),
                               request.header("If-Modified-Since"),
                               request.header("If-Unmodified-Since")};
    switch (evaluate_preconditions(headers, validators)) {
      case Precondition::kFailed:
        return error_reply(412);
      case Precondition::kNotModified: {
        Reply reply;
        reply.status = 304;
        reply.headers.emplace_back("Last-Modified", file->last_modified);
        reply.headers.emplace_back("ETag", file->etag);
        return reply;
      }
      case Precondition::kProceed:
        break;
    }
  }

  Reply reply;
  reply.content_length = size;
  reply.shared_fields = &file->fields;
  const auto* range_header = request.header("Range");
  if (range_header) {
    const auto* if_range = request.header("If-Range");
    if (!if_range || if_range_holds(*if_range, validators)) {
      auto decision = evaluate_range(*range_header, size);
      if (decision.kind == RangeKind::kUnsatisfiable) {
        Reply refused = error_reply(416);
        refused.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
        refused.send_body = !head;
        return refused;
      }
      if (decision.kind == RangeKind::kSatisfiable) {
        reply.status = 206;
        reply.headers.emplace_back("Content-Range", content_range(decision.range, size));
        reply.file_offset = decision.range.first;
        reply.content_length = decision.range.length();
      }
    }
  }
  reply.send_body = !head;
  reply.file = std::move(file);  // keeps shared_fields alive
  return reply;
}

// An error reply that says why in the error log, as nginx words it.
Reply failed(int status, std::string what) {
  Reply reply = error_reply(status);
  reply.failure.not_found = status == 404;
  reply.failure.what = std::move(what);
  return reply;
}

Reply failed_call(const char* call, const std::string& path, int err) {
  Reply reply = failed(status_for_errno(err),
                       errno_text(std::string(call) + " \"" + escape_log_field(path) + "\"", err));
  reply.failure.cause = std::string(call) + ":" + std::to_string(err);
  return reply;
}

Reply redirect_to_directory(const Target& target) {
  Reply reply = error_reply(301);
  auto location = percent_encode_path(target.path) + "/";
  if (!target.query.empty()) location += "?" + target.query;
  reply.headers.emplace_back("Location", std::move(location));
  return reply;
}

}  // namespace

Reply serve_static(const StaticAction& action, const Request& request, const Target& target,
                   const MimeTypes& mime, FileCache& cache) {
  if (request.method != "GET" && request.method != "HEAD") {
    Reply reply = error_reply(405);
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  const std::time_t now = std::time(nullptr);
  std::string path = action.root;
  path += target.path;

  if (target.path.back() == '/') {
    const size_t dir_length = path.size();
    for (const auto& index : action.index) {
      path.resize(dir_length);
      path += index;
      auto found = cache.open(path, mime, now);
      if (found.file) return file_reply(std::move(found.file), request);
      // An index that exists but cannot be opened is that failure, not a missing index.
      if (found.err != 0 && found.err != ENOENT && found.err != ENOTDIR) {
        return failed_call(found.call, path, found.err);
      }
    }
    path.resize(dir_length);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return failed_call("stat()", path, errno);
    // A directory without an index: no listing is offered, so it is forbidden, as in nginx.
    if (S_ISDIR(st.st_mode))
      return failed(403, "directory index of \"" + escape_log_field(path) + "\" is forbidden");
    return failed(404, "\"" + escape_log_field(path) + "\" is not a directory");
  }

  auto found = cache.open(path, mime, now);
  if (found.file) return file_reply(std::move(found.file), request);
  if (found.directory) return redirect_to_directory(target);
  if (found.other) return failed(403, "\"" + escape_log_field(path) + "\" is not a regular file");
  return failed_call(found.call, path, found.err);
}

}  // namespace shoal::http
