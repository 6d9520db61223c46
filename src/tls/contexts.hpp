// TLS contexts of one Site: an SSL_CTX per server that has `tls`, built by the master (as
// root, before any fork) so workers inherit keys they could not read themselves, and per TLS
// listen address what a handshake needs: the default server's context and the virtual hosts
// SNI chooses among. See src/DESIGN.md, TLS termination.
#pragma once

#include <openssl/ssl.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/router.hpp"

namespace shoal::tls {

class TicketKeys;

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// One TLS listen address. A handshake starts on `initial` (the default server's context,
// whose protocols and ciphers apply); SNI may move it to another server's certificate.
struct TlsListen {
  SSL_CTX* initial = nullptr;
  const http::VirtualHosts* hosts = nullptr;
  const std::map<const ServerConfig*, SSL_CTX*>* by_server = nullptr;
  bool http2 = true;  // ALPN offers h2 (the listen entry did not say `http2: false`)

  // The context for a ClientHello's server name (as routing picks a server for a Host).
  SSL_CTX* context_for(std::string_view server_name) const;
};

class Contexts {
 public:
  // Builds every server's context and checks its files: a chain that does not parse, a key
  // that does not match, an expired certificate. Throws ConfigErrors at the `certificate` or
  // `key` key. `tickets` null: no session tickets (`-t` needs none).
  static std::unique_ptr<Contexts> build(
      const Config& config, const std::map<std::string, http::VirtualHosts>& hosts_by_address,
      const TicketKeys* tickets);

  // The TLS address `address` (ListenAddress::text), or null for a plain one.
  const TlsListen* listen(const std::string& address) const;
  bool empty() const { return listens_.empty(); }

 private:
  std::vector<SslCtxPtr> owned_;
  std::map<const ServerConfig*, SSL_CTX*> by_server_;
  std::map<std::string, TlsListen> listens_;
};

// The last OpenSSL error of this thread as text ("" when none), and the queue cleared.
std::string take_openssl_error();

}  // namespace shoal::tls
