// TlsStream: SSL_do_handshake / SSL_read_ex / SSL_write_ex on a non-blocking socket, each
// result mapped to what the connection waits for next.
#include "tls/tls_stream.hpp"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>

namespace shoal::tls {

FirstBytes classify_first_bytes(std::string_view bytes) {
  if (bytes.empty()) return FirstBytes::kNeedMore;
  const auto first = static_cast<unsigned char>(bytes[0]);
  if (first == 22) {  // handshake record; the version's major byte is 3 in every TLS
    if (bytes.size() < 2) return FirstBytes::kNeedMore;
    return bytes[1] == 3 ? FirstBytes::kTls : FirstBytes::kGarbage;
  }
  // A method is a token; in practice upper-case letters (GET, POST, PRI...).
  if (first >= 'A' && first <= 'Z') return FirstBytes::kPlainHttp;
  return FirstBytes::kGarbage;
}

std::unique_ptr<TlsStream> TlsStream::open(const TlsListen& listen, int fd) {
  SSL* ssl = SSL_new(listen.initial);
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  if (SSL_set_fd(ssl, fd) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_app_data(ssl, const_cast<TlsListen*>(&listen));  // for the SNI callback
  SSL_set_accept_state(ssl);
  return stream;
}

IoResult TlsStream::result_of(int ret, size_t bytes) {
  if (ret == 1) return {Io::kOk, bytes};
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
      return {Io::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {Io::kWantWrite};
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      return {Io::kClosed};
    case SSL_ERROR_SYSCALL:
      broken_ = true;
      ERR_clear_error();
      if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE) {
        failure_ =
            saved_errno == 0 ? "the client closed the connection" : std::strerror(saved_errno);
        return {Io::kClosed};
      }
      failure_ = std::strerror(saved_errno);
      return {Io::kError};
    default: {
      broken_ = true;
      failure_ = take_openssl_error();
      // OpenSSL 3 reports a peer's EOF without close_notify as this error.
      if (failure_ == "unexpected eof while reading") return {Io::kClosed};
      if (failure_.empty()) failure_ = "TLS error";
      return {Io::kError};
    }
  }
}

IoResult TlsStream::handshake() {
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) {
    established_ = true;
    return {Io::kOk};
  }
  return result_of(ret <= 0 ? ret : 0, 0);
}

IoResult TlsStream::read(char* buffer, size_t size) {
  ERR_clear_error();
  size_t got = 0;
  const int ret = SSL_read_ex(ssl_.get(), buffer, size, &got);
  return result_of(ret, got);
}

IoResult TlsStream::write(const char* bytes, size_t size) {
  ERR_clear_error();
  size_t written = 0;
  const int ret = SSL_write_ex(ssl_.get(), bytes, size, &written);
  return result_of(ret, written);
}

void TlsStream::close_notify() {
  if (!established_ || broken_) return;
  broken_ = true;  // once
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

std::string_view TlsStream::protocol() const { return SSL_get_version(ssl_.get()); }

std::string_view TlsStream::cipher() const {
  const char* name = SSL_get_cipher_name(ssl_.get());
  return name ? name : "";
}

}  // namespace shoal::tls
