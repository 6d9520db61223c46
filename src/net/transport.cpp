// Transport: the plain and TLS paths of a client's byte stream (see transport.hpp).
#include "net/transport.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace shoal::net {

int Transport::local_port() const {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return 0;
  return ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
}

bool Transport::start_tls(const tls::TlsListen& listen) {
  tls_ = tls::TlsStream::open(listen, fd_.get());
  return tls_ != nullptr;
}

ssize_t Transport::read_tls(char* buffer, size_t size) {
  const tls::IoResult result = tls_->read(buffer, size);
  switch (result.io) {
    case tls::Io::kOk:
      return static_cast<ssize_t>(result.bytes);
    case tls::Io::kClosed:
      return 0;
    case tls::Io::kWantWrite:
      read_wants_write_ = true;
      [[fallthrough]];
    case tls::Io::kWantRead:
      errno = EAGAIN;
      return -1;
    case tls::Io::kError:
      break;
  }
  errno = EPROTO;
  return -1;
}

bool Transport::take_read_wants_write() {
  const bool wants = read_wants_write_;
  read_wants_write_ = false;
  return wants;
}

void Transport::close_notify() {
  if (tls_) tls_->close_notify();
}

void Transport::shutdown_write() {
  close_notify();
  ::shutdown(fd_.get(), SHUT_WR);
}

}  // namespace shoal::net
