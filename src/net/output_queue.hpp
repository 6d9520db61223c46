// OutputQueue: what a connection still has to send, in order: bytes it owns and ranges of
// cached files (sent with sendfile from the cache's fd). It writes as much as the socket takes
// with one writev for consecutive bytes, and holds no memory once empty and released.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/file_cache.hpp"

namespace shoal {

namespace tls {
class TlsStream;
}

class OutputQueue {
 public:
  enum class Flush { kDone, kBlocked, kError };

  // Appends to the last bytes piece when there is one (so a head and its body go together).
  void append(std::string_view bytes);
  // Lets `write(std::string&)` append to the queue's last bytes piece in place (a response
  // head is written straight into the buffer that goes to sendmsg, with no temporary).
  template <typename Write>
  void append_with(Write&& write) {
    std::string& bytes = last_bytes();
    const size_t before = bytes.size();
    write(bytes);
    pending_ += bytes.size() - before;
  }
  // `file`'s bytes [offset, offset+length): from memory if cached there, else by sendfile.
  void append_file(std::shared_ptr<const http::CachedFile> file, std::uint64_t offset,
                   std::uint64_t length);
  bool empty() const { return head_ == pieces_.size(); }
  std::uint64_t pending() const { return pending_; }

  // Writes until done, EAGAIN (kBlocked) or an error such as EPIPE (kError). `closing` says
  // the connection is shut once this is out: the last partial segment is then held back
  // (MSG_MORE, or the cork is left on) so that close() or shutdown() sends it with the FIN,
  // one packet instead of two.
  Flush flush(int fd, bool closing = false);
  // The same through TLS: bytes are encrypted from where they are, a file range is read into
  // a record buffer of at most kTlsRecord bytes and written from it until done (SSL_write's
  // retry rule). That buffer is all a streaming file costs, and it is freed when done.
  Flush flush_tls(tls::TlsStream& tls);
  static constexpr size_t kTlsRecord = 16 * 1024;
  // Gives back the memory of an empty queue (an idle connection keeps nothing).
  void release();

 private:
  struct Piece {
    std::string bytes;
    size_t sent = 0;  // of bytes, or of the file range
    std::shared_ptr<const http::CachedFile> file;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::string& last_bytes();  // the last piece when it holds bytes, else a new bytes piece
  void clear_sent();          // after everything went out: keep one spare buffer, drop the rest

  std::vector<Piece> pieces_;
  std::string spare_;       // the last response's bytes buffer, emptied, for the next one
  std::string record_;      // flush_tls: file bytes read and not yet all written
  size_t record_sent_ = 0;  // of record_
  size_t head_ = 0;
  std::uint64_t pending_ = 0;
  bool corked_ = false;
  bool has_file_ = false;  // a file range is queued
};

}  // namespace shoal
