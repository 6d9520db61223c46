// OutputQueue: writev for bytes, sendfile for file ranges, never blocking.
#include "net/output_queue.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "tls/tls_stream.hpp"

namespace shoal {

namespace {

constexpr int kMaxIov = 64;
constexpr size_t kSpareLimit = 16 * 1024;
// At most this much per sendfile call (nginx's sendfile_max_chunk default). flush() goes on
// until the socket is full, so what bounds one connection's turn on the loop is its send
// buffer (tcp_wmem: 4 MiB at most by default). With TCP_CORK around a file response,
// whole-file calls measured best on loopback (1 MiB, -c50: 3,100-3,350 req/s against
// 2,000-2,400 for 16 KiB slices without cork, nginx with tcp_nopush 2,600-4,400 in the same
// rounds). Yielding to the loop after 64 KiB or 256 KiB per turn (2026-11-24, servers on
// their own CPU, 4 alternating rounds, medians) cost throughput for a shorter tail: 2.6k and
// 2.9k req/s, p99 24 and 28 ms, against 3.4k and 31 ms (nginx 3.1k, 21 ms). Not adopted.
constexpr std::uint64_t kSendfileSlice = 2 * 1024 * 1024;

}  // namespace

std::string& OutputQueue::last_bytes() {
  if (!empty() && !pieces_.back().file) return pieces_.back().bytes;
  Piece piece;
  piece.bytes = std::move(spare_);  // no allocation when the last response's buffer fits
  piece.bytes.clear();
  pieces_.push_back(std::move(piece));
  return pieces_.back().bytes;
}

void OutputQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  pending_ += bytes.size();
  last_bytes().append(bytes);
}

void OutputQueue::append_file(std::shared_ptr<const http::CachedFile> file, std::uint64_t offset,
                              std::uint64_t length) {
  if (length == 0) return;
  if (file->in_memory) {
    append(std::string_view(file->content).substr(offset, length));
    return;
  }
  pending_ += length;
  has_file_ = true;
  Piece piece;
  piece.file = std::move(file);
  piece.offset = offset;
  piece.length = length;
  pieces_.push_back(std::move(piece));
}

OutputQueue::Flush OutputQueue::flush(int fd, bool closing) {
  if (!corked_ && has_file_) {
    // Hold partial segments back while a file goes out, so the head and the file share full
    // packets (nginx's tcp_nopush); uncorked when the queue empties.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    corked_ = true;
  }
  while (!empty()) {
    Piece& first = pieces_[head_];
    if (first.file) {
      auto offset = static_cast<off_t>(first.offset + first.sent);
      ssize_t n = ::sendfile(fd, first.file->fd.get(), &offset,
                             std::min<std::uint64_t>(first.length - first.sent, kSendfileSlice));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN ? Flush::kBlocked : Flush::kError;
      }
      if (n == 0) return Flush::kError;  // the file shrank under us: the response is broken
      first.sent += static_cast<size_t>(n);
      pending_ -= static_cast<std::uint64_t>(n);
      if (first.sent == first.length) ++head_;
      continue;
    }
    iovec iov[kMaxIov];
    int count = 0;
    for (size_t i = head_; i < pieces_.size() && count < kMaxIov && !pieces_[i].file; ++i) {
      iov[count].iov_base = pieces_[i].bytes.data() + pieces_[i].sent;
      iov[count].iov_len = pieces_[i].bytes.size() - pieces_[i].sent;
      ++count;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(fd, &msg, closing ? MSG_MORE : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? Flush::kBlocked : Flush::kError;
    }
    pending_ -= static_cast<std::uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (left > 0) {
      Piece& p = pieces_[head_];
      size_t take = std::min(left, p.bytes.size() - p.sent);
      p.sent += take;
      left -= take;
      if (p.sent == p.bytes.size()) ++head_;
    }
  }
  clear_sent();
  if (corked_ && !closing) {  // when closing, close() sends what the cork holds
    int zero = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
    corked_ = false;
  }
  return Flush::kDone;
}

OutputQueue::Flush OutputQueue::flush_tls(tls::TlsStream& tls) {
  // One SSL_write of this much at most: several records per call for a large body.
  constexpr size_t kTlsWriteMax = 4 * kTlsRecord;
  while (!empty()) {
    Piece& first = pieces_[head_];
    const char* data = nullptr;
    size_t size = 0;
    if (first.file) {
      if (record_sent_ == record_.size()) {  // everything read so far is out: read on
        record_.resize(std::min<std::uint64_t>(kTlsRecord, first.length - first.sent));
        ssize_t n = ::pread(first.file->fd.get(), record_.data(), record_.size(),
                            static_cast<off_t>(first.offset + first.sent));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Flush::kError;  // unreadable, or the file shrank under us
        record_.resize(static_cast<size_t>(n));
        record_sent_ = 0;
      }
      data = record_.data() + record_sent_;
      size = record_.size() - record_sent_;
    } else {
      data = first.bytes.data() + first.sent;
      size = std::min(first.bytes.size() - first.sent, kTlsWriteMax);
    }
    const tls::IoResult result = tls.write(data, size);
    if (result.io == tls::Io::kWantWrite || result.io == tls::Io::kWantRead) return Flush::kBlocked;
    if (result.io != tls::Io::kOk) return Flush::kError;
    pending_ -= result.bytes;
    first.sent += result.bytes;
    if (first.file) {
      record_sent_ += result.bytes;
      if (first.sent == first.length) ++head_;
    } else if (first.sent == first.bytes.size()) {
      ++head_;
    }
  }
  std::string().swap(record_);
  record_sent_ = 0;
  clear_sent();
  return Flush::kDone;
}

void OutputQueue::clear_sent() {
  // Keep one bytes buffer of a usual size for the next response, and the vector's capacity;
  // release() frees both.
  for (auto& piece : pieces_) {
    if (!piece.file && piece.bytes.capacity() <= kSpareLimit &&
        piece.bytes.capacity() > spare_.capacity()) {
      spare_ = std::move(piece.bytes);
    }
  }
  spare_.clear();
  pieces_.clear();
  head_ = 0;
  has_file_ = false;
}

void OutputQueue::release() {
  if (!empty()) return;
  std::vector<Piece>().swap(pieces_);
  std::string().swap(spare_);
  head_ = 0;
}

}  // namespace shoal
