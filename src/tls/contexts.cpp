// TLS contexts: one SSL_CTX per server with `tls`, checked as the config is, and the SNI and
// ALPN callbacks every handshake on a TLS address goes through.
#include "tls/contexts.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "config/loader.hpp"
#include "tls/ticket_keys.hpp"

namespace shoal::tls {

namespace {

// ALPN: h2, then http/1.1, in the server's order of preference (RFC 7301 leaves the choice
// to the server); http/1.1 only where the listen entry says `http2: false`. A client that
// offers ALPN without anything shoal speaks gets the no_application_protocol alert rather
// than a connection it cannot use.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                const unsigned char* offered, unsigned int offered_len, void* /*arg*/) {
  static const unsigned char kBoth[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  const auto* listen = static_cast<const TlsListen*>(SSL_get_app_data(ssl));
  const bool h2 = listen && listen->http2;
  const unsigned char* ours = h2 ? kBoth : kBoth + 3;
  const unsigned int ours_len = h2 ? sizeof kBoth : sizeof kBoth - 3;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, ours, ours_len, offered, offered_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// SNI: the ClientHello's name picks the server (and so the certificate) as Host picks it for
// routing. The SSL's app data is its address's TlsListen (set by TlsStream).
int select_server(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  const auto* listen = static_cast<const TlsListen*>(SSL_get_app_data(ssl));
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!listen || !name) return SSL_TLSEXT_ERR_NOACK;
  SSL_CTX* ctx = listen->context_for(name);
  if (ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

std::string asn1_time_text(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "an unreadable date";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

class Builder {
 public:
  Builder(const Config& config, const TicketKeys* tickets) : config_(config), tickets_(tickets) {}

  SslCtxPtr build(const ServerConfig& server) {
    const TlsSettings& tls = *server.tls;
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
      error(tls.mark, "tls: SSL_CTX_new() failed: " + take_openssl_error());
      return nullptr;
    }
    const bool tls12 = tls.protocols & static_cast<std::uint8_t>(TlsProtocol::kTls12);
    const bool tls13 = tls.protocols & static_cast<std::uint8_t>(TlsProtocol::kTls13);
    SSL_CTX_set_min_proto_version(ctx.get(), tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    // OpenSSL 3 refuses client-started renegotiation unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                       SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Record buffers are freed while a connection is idle; SSL_write may return after one
    // record, and may be retried from a buffer that moved (OutputQueue::flush_tls).
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Resumption is by tickets, which every worker decrypts; a per-process session cache
    // would resume only on the worker that happened to make the session.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    static const unsigned char kSessionContext[] = "shoal";
    SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
    if (tickets_ && config_.tls.enabled) {
      tickets_->attach(ctx.get());
      SSL_CTX_set_timeout(ctx.get(), static_cast<long>(config_.tls.rotation.count() / 1000));
    } else {
      SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
      SSL_CTX_set_num_tickets(ctx.get(), 0);
    }
    if (!tls.ciphers.empty() && SSL_CTX_set_cipher_list(ctx.get(), tls.ciphers.c_str()) != 1) {
      error(tls.mark, "tls.ciphers: \"" + tls.ciphers + "\" names no usable cipher (" +
                          take_openssl_error() + ")");
    }
    SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx.get(), select_server);
    if (!certificate(ctx.get(), tls)) return nullptr;
    // Read apart from the use, so that a file without a key and a key of another
    // certificate are told apart.
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(nullptr, EVP_PKEY_free);
    if (std::unique_ptr<BIO, decltype(&BIO_free)> in(BIO_new_file(tls.key.c_str(), "r"), BIO_free);
        in) {
      pkey.reset(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    }
    if (!pkey) {
      error(tls.key_mark, "tls.key: " + tls.key + ": no private key could be read (" +
                              take_openssl_error() + ")");
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey(ctx.get(), pkey.get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      ERR_clear_error();
      error(tls.key_mark,
            "tls.key: " + tls.key + " does not match the certificate " + tls.certificate);
      return nullptr;
    }
    return ctx;
  }

  std::vector<ConfigError>& errors() { return errors_; }

 private:
  bool certificate(SSL_CTX* ctx, const TlsSettings& tls) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.certificate.c_str()) != 1) {
      error(tls.certificate_mark, "tls.certificate: " + tls.certificate +
                                      ": no certificate chain could be read (" +
                                      take_openssl_error() + ")");
      return false;
    }
    X509* leaf = SSL_CTX_get0_certificate(ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
      error(tls.certificate_mark, "tls.certificate: " + tls.certificate + " expired on " +
                                      asn1_time_text(X509_get0_notAfter(leaf)));
      return false;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
      error(tls.certificate_mark, "tls.certificate: " + tls.certificate + " is not valid before " +
                                      asn1_time_text(X509_get0_notBefore(leaf)));
      return false;
    }
    return true;
  }

  void error(SourceMark mark, std::string message) {
    errors_.push_back({config_.path, mark.line, mark.column, std::move(message)});
  }

  const Config& config_;
  const TicketKeys* tickets_;
  std::vector<ConfigError> errors_;
};

}  // namespace

std::string take_openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

SSL_CTX* TlsListen::context_for(std::string_view server_name) const {
  const ServerConfig& server = hosts->select(http::normalize_host(server_name));
  auto it = by_server->find(&server);
  return it == by_server->end() ? initial : it->second;
}

std::unique_ptr<Contexts> Contexts::build(
    const Config& config, const std::map<std::string, http::VirtualHosts>& hosts_by_address,
    const TicketKeys* tickets) {
  auto contexts = std::make_unique<Contexts>();
  Builder builder(config, tickets);
  for (const auto& server : config.servers) {
    if (!server.tls) continue;
    if (auto ctx = builder.build(server)) {
      contexts->by_server_[&server] = ctx.get();
      contexts->owned_.push_back(std::move(ctx));
    }
  }
  if (!builder.errors().empty()) throw ConfigErrors(std::move(builder.errors()));
  for (const auto& address : distinct_listen_addresses(config)) {
    if (!address.tls) continue;
    auto hosts = hosts_by_address.find(address.text);
    if (hosts == hosts_by_address.end()) continue;
    auto initial = contexts->by_server_.find(&hosts->second.default_server());
    if (initial == contexts->by_server_.end()) continue;  // the loader refused this already
    contexts->listens_[address.text] = {initial->second, &hosts->second, &contexts->by_server_,
                                        address.http2};
  }
  return contexts;
}

const TlsListen* Contexts::listen(const std::string& address) const {
  auto it = listens_.find(address);
  return it == listens_.end() ? nullptr : &it->second;
}

}  // namespace shoal::tls
