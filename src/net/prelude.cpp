// The PROXY header and TLS preludes (see prelude.hpp).
#include "net/prelude.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/proxy_header.hpp"

namespace shoal::net {

PreludeStep ProxyHeaderReader::step(int fd, const PeerAddress& peer) {
  char peeked[kMaxProxyHeader];
  while (true) {
    const ssize_t n = ::recv(fd, peeked, sizeof peeked, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return PreludeStep::kWaitReadable;
    }
    if (n <= 0) {
      spdlog::info("client {} closed the connection before its PROXY header", peer.text());
      return PreludeStep::kClose;
    }
    const std::string bytes = taken_ + std::string(peeked, static_cast<size_t>(n));
    const auto header = parse_proxy_header(bytes);
    if (header.state == ProxyHeader::State::kError) {
      spdlog::info("client {} sent a bad PROXY header ({}); closing", peer.text(), header.error);
      return PreludeStep::kClose;
    }
    // Take the header's bytes only: what follows stays in the socket for HTTP or TLS.
    const size_t take = header.state == ProxyHeader::State::kDone ? header.length - taken_.size()
                                                                  : static_cast<size_t>(n);
    const ssize_t got = ::recv(fd, peeked, take, 0);
    if (got != static_cast<ssize_t>(take)) {
      spdlog::info("client {}: reading its PROXY header failed; closing", peer.text());
      return PreludeStep::kClose;
    }
    if (header.state == ProxyHeader::State::kNeedMore) {
      taken_.append(peeked, take);
      continue;
    }
    source_ = header.source;
    return PreludeStep::kDone;
  }
}

PreludeStep TlsPrelude::step(Transport& transport, const PeerAddress& peer) {
  if (!hello_seen_) {
    char first[2];
    const ssize_t n = ::recv(transport.fd(), first, sizeof first, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return PreludeStep::kWaitReadable;
    if (n <= 0) return PreludeStep::kClose;  // gone before a word: nothing to say
    switch (tls::classify_first_bytes(std::string_view(first, static_cast<size_t>(n)))) {
      case tls::FirstBytes::kNeedMore:
        return PreludeStep::kWaitReadable;
      case tls::FirstBytes::kPlainHttp:
        // Read and parsed as plain HTTP, so that the 400 and its access log line name the
        // request.
        spdlog::info("client {} sent plain HTTP to a TLS address: 400", peer.text());
        transport.drop_tls();
        return PreludeStep::kPlainHttp;
      case tls::FirstBytes::kGarbage:
        spdlog::info("client {} sent no TLS handshake on a TLS address; closing", peer.text());
        return PreludeStep::kClose;
      case tls::FirstBytes::kTls:
        hello_seen_ = true;
        break;
    }
  }
  const tls::IoResult result = transport.handshake();
  switch (result.io) {
    case tls::Io::kOk:
      spdlog::debug("client {}: {} {} handshake, {}", peer.text(), transport.protocol(),
                    transport.resumed() ? "resumed" : "full", transport.cipher());
      return PreludeStep::kDone;
    case tls::Io::kWantRead:
      return PreludeStep::kWaitReadable;
    case tls::Io::kWantWrite:
      return PreludeStep::kWaitWritable;
    case tls::Io::kClosed:
      spdlog::info("client {} closed the connection during the TLS handshake{}{}", peer.text(),
                   transport.failure().empty() ? "" : ": ", transport.failure());
      break;
    case tls::Io::kError:
      spdlog::info("client {}: TLS handshake failed: {}", peer.text(), transport.failure());
      break;
  }
  return PreludeStep::kClose;
}

}  // namespace shoal::net
