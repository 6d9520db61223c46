// TlsStream: one connection's TLS session over its own non-blocking socket (a socket BIO:
// OpenSSL reads and writes the fd itself, a record at a time). Every call returns at once;
// kWantRead / kWantWrite say what the socket must become before the call is made again.
// Also the first-bytes check that tells a TLS client from plain HTTP sent to a TLS port.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "tls/contexts.hpp"

namespace shoal::tls {

// What the first bytes on a TLS port are (pure; unit-tested).
enum class FirstBytes {
  kNeedMore,   // nothing yet
  kTls,        // a TLS handshake record (content type 22, version major 3)
  kPlainHttp,  // starts like an HTTP request line: answer 400 in plain text
  kGarbage,    // neither: close
};
FirstBytes classify_first_bytes(std::string_view bytes);

enum class Io { kOk, kWantRead, kWantWrite, kClosed, kError };

struct IoResult {
  Io io = Io::kOk;
  size_t bytes = 0;  // for kOk
};

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

class TlsStream {
 public:
  // Null when SSL_new fails (out of memory): the connection is closed.
  static std::unique_ptr<TlsStream> open(const TlsListen& listen, int fd);

  // Drives the handshake: kOk once it is complete.
  IoResult handshake();
  // Decrypted bytes into `buffer`: kOk with bytes > 0, kClosed at close_notify or EOF.
  IoResult read(char* buffer, size_t size);
  // Encrypts from `bytes` (after kWantWrite, call again with the same bytes, or more).
  IoResult write(const char* bytes, size_t size);
  // Decrypted bytes OpenSSL holds that the socket will not signal.
  bool has_pending() const { return SSL_pending(ssl_.get()) > 0; }
  // Sends close_notify once, without waiting for the peer's (the socket closes next).
  void close_notify();

  bool established() const { return established_; }
  bool resumed() const { return SSL_session_reused(ssl_.get()) == 1; }
  // ALPN chose h2 in the handshake.
  bool alpn_h2() const {
    const unsigned char* chosen = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &chosen, &length);
    return length == 2 && chosen[0] == 'h' && chosen[1] == '2';
  }
  // Why the last call failed, for the info line ("" if it did not).
  const std::string& failure() const { return failure_; }
  std::string_view protocol() const;
  std::string_view cipher() const;

 private:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
  IoResult result_of(int ret, size_t bytes);

  std::unique_ptr<SSL, SslDeleter> ssl_;
  std::string failure_;
  bool established_ = false;
  bool broken_ = false;  // a fatal error or the peer's EOF: no close_notify
};

}  // namespace shoal::tls
