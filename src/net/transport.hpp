// Transport: a client's byte stream, a plain socket or a TLS session over it, behind one small
// interface (read, write what an OutputQueue holds, shut down), so that what carries HTTP does
// not ask which it is. Not virtual: a connection holds it by value, and the one branch on TLS
// is here (nginx swaps c->recv and c->send the same way). An idle plain connection's
// transport is its fd and one null pointer.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/output_queue.hpp"
#include "tls/tls_stream.hpp"
#include "util/unique_fd.hpp"

namespace shoal::net {

class Transport {
 public:
  explicit Transport(int fd) : fd_(fd) {}

  int fd() const { return fd_.get(); }
  // The local port of the socket (CGI's SERVER_PORT); 0 if it cannot be known.
  int local_port() const;
  bool secure() const { return tls_ != nullptr; }

  // TLS on this socket from now on: the handshake comes next. False when SSL_new failed.
  bool start_tls(const tls::TlsListen& listen);
  // Plain after all (plain HTTP arrived on a TLS address, before any TLS byte was read).
  void drop_tls() { tls_.reset(); }
  // Drives the TLS handshake (secure() only): kOk once complete.
  tls::IoResult handshake() { return tls_->handshake(); }

  // One read: bytes (> 0), 0 at the peer's end, -1 with errno: EAGAIN to wait (after which
  // take_read_wants_write() says whether the wait is for writability), EPROTO for a TLS
  // error (failure() says which).
  ssize_t read(char* buffer, size_t size) {
    return tls_ ? read_tls(buffer, size) : ::read(fd_.get(), buffer, size);
  }
  // A TLS read wanted the socket writable first: true once, then false.
  bool take_read_wants_write();
  // Decrypted bytes held in OpenSSL that epoll will not signal.
  bool has_buffered_input() const { return tls_ && tls_->has_pending(); }

  // Writes what `queue` holds: writev and sendfile on a plain socket (`closing`: the last
  // partial segment waits for the FIN), SSL_write of bytes and of file ranges read with pread
  // through TLS.
  OutputQueue::Flush write(OutputQueue& queue, bool closing) {
    return tls_ ? queue.flush_tls(*tls_) : queue.flush(fd_.get(), closing);
  }

  // TLS close_notify, sent once (plain: nothing).
  void close_notify();
  // The orderly end of our side: close_notify, then shutdown(SHUT_WR).
  void shutdown_write();

  // For logs and the CGI environment: "" on a plain socket.
  std::string_view protocol() const { return tls_ ? tls_->protocol() : std::string_view(); }
  std::string_view cipher() const { return tls_ ? tls_->cipher() : std::string_view(); }
  bool resumed() const { return tls_ && tls_->resumed(); }
  bool alpn_h2() const { return tls_ && tls_->alpn_h2(); }
  std::string_view failure() const { return tls_ ? tls_->failure() : std::string_view(); }

 private:
  ssize_t read_tls(char* buffer, size_t size);

  UniqueFd fd_;
  bool read_wants_write_ = false;  // beside the fd: no padding of its own
  std::unique_ptr<tls::TlsStream> tls_;
};

}  // namespace shoal::net
