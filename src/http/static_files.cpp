// Static file serving. Paths arrive normalised (path.cpp), so root + path stays under root.
// The file is opened once and fstat'ed on that fd, so what we describe is what we send.
#include "http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "http/conditional.hpp"
#include "http/http_date.hpp"
#include "http/range.hpp"

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

struct OpenFile {
  UniqueFd fd;
  struct stat st {};
  int err = 0;
};

OpenFile open_file(const std::string& path) {
  OpenFile f;
  // O_NONBLOCK: opening a FIFO must not hang the loop; it is refused below as not regular.
  f.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!f.fd) {
    f.err = errno;
  } else if (::fstat(f.fd.get(), &f.st) != 0) {
    f.err = errno;
    f.fd.reset();
  }
  return f;
}

Reply file_reply(OpenFile file, const Request& request, const std::string& content_type) {
  const auto size = static_cast<std::uint64_t>(file.st.st_size);
  const auto etag = make_etag(file.st.st_mtime, size);
  const Validators validators{etag, file.st.st_mtime};
  const bool head = request.method == "HEAD";

  ConditionalHeaders conditional{request.header("If-Match"), request.header("If-None-Match"),
                                 request.header("If-Modified-Since"),
                                 request.header("If-Unmodified-Since")};
  switch (evaluate_preconditions(conditional, validators)) {
    case Precondition::kFailed:
      return error_reply(412);
    case Precondition::kNotModified: {
      Reply reply;
      reply.status = 304;
      reply.headers.emplace_back("Last-Modified", format_http_date(file.st.st_mtime));
      reply.headers.emplace_back("ETag", etag);
      return reply;
    }
    case Precondition::kProceed:
      break;
  }

  Reply reply;
  reply.headers.emplace_back("Content-Type", content_type);
  reply.headers.emplace_back("Last-Modified", format_http_date(file.st.st_mtime));
  reply.headers.emplace_back("ETag", etag);
  reply.headers.emplace_back("Accept-Ranges", "bytes");
  reply.content_length = size;

  const auto* range_header = request.header("Range");
  const auto* if_range = request.header("If-Range");
  if (range_header && (!if_range || if_range_holds(*if_range, validators))) {
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
  reply.send_body = !head;
  if (!head && reply.content_length > 0) reply.file = std::move(file.fd);
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
                   const MimeTypes& mime) {
  if (request.method != "GET" && request.method != "HEAD") {
    Reply reply = error_reply(405);
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  const bool head = request.method == "HEAD";
  auto finish = [head](Reply reply) {
    if (head) reply.send_body = false;
    return reply;
  };
  const std::string path = action.root + target.path;

  if (target.path.back() == '/') {
    for (const auto& index : action.index) {
      auto file = open_file(path + index);
      if (file.fd && S_ISREG(file.st.st_mode)) {
        return finish(file_reply(std::move(file), request, mime.type_for_path(index)));
      }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return finish(error_reply(status_for_errno(errno)));
    // A directory without an index: no listing is offered, so it is forbidden, as in nginx.
    return finish(error_reply(S_ISDIR(st.st_mode) ? 403 : 404));
  }

  auto file = open_file(path);
  if (!file.fd) return finish(error_reply(status_for_errno(file.err)));
  if (S_ISDIR(file.st.st_mode)) return finish(redirect_to_directory(target));
  if (!S_ISREG(file.st.st_mode)) return finish(error_reply(403));
  return finish(file_reply(std::move(file), request, mime.type_for_path(target.path)));
}

}  // namespace shoal::http
