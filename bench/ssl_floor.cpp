// The heap an OpenSSL server connection holds by itself, without any server around it: what
// SSL_new costs, and what an idle connection keeps after a full TLS 1.3 handshake and one
// request with SSL_MODE_RELEASE_BUFFERS (the record buffers freed). N connections over
// socketpairs in one process, client side freed, glibc's mallinfo2 before and after. It is
// the floor under any server's memory per idle TLS connection on this OpenSSL (bench/tls.sh).
//
//   ssl_floor CERT.pem KEY.pem [N=2000]
#include <fcntl.h>
#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

size_t heap_in_use() { return mallinfo2().uordblks; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ssl_floor CERT.pem KEY.pem [N]\n");
    return 2;
  }
  const int n = argc > 3 ? std::atoi(argv[3]) : 2000;
  SSL_CTX* server = SSL_CTX_new(TLS_server_method());
  SSL_CTX* client = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_use_certificate_chain_file(server, argv[1]) != 1 ||
      SSL_CTX_use_PrivateKey_file(server, argv[2], SSL_FILETYPE_PEM) != 1) {
    std::fprintf(stderr, "ssl_floor: cannot load %s / %s\n", argv[1], argv[2]);
    return 1;
  }
  SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(server, SSL_MODE_RELEASE_BUFFERS);

  std::vector<SSL*> bare;
  size_t before = heap_in_use();
  for (int i = 0; i < n; ++i) bare.push_back(SSL_new(server));
  const size_t per_new = (heap_in_use() - before) / static_cast<size_t>(n);
  for (SSL* s : bare) SSL_free(s);

  std::vector<SSL*> idle;
  std::vector<int> fds;
  before = heap_in_use();
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    SSL* a = SSL_new(server);
    SSL* b = SSL_new(client);
    SSL_set_fd(a, sv[0]);
    SSL_set_accept_state(a);
    SSL_set_fd(b, sv[1]);
    SSL_set_connect_state(b);
    for (int k = 0; k < 20 && !(SSL_is_init_finished(a) && SSL_is_init_finished(b)); ++k) {
      SSL_do_handshake(b);
      SSL_do_handshake(a);
    }
    char buf[256];
    size_t got = 0;
    SSL_write_ex(b, "GET / HTTP/1.1\r\n\r\n", 18, &got);
    SSL_read_ex(a, buf, sizeof buf, &got);
    SSL_write_ex(a, "HTTP/1.1 204 No Content\r\n\r\n", 27, &got);
    SSL_read_ex(b, buf, sizeof buf, &got);
    SSL_read_ex(a, buf, sizeof buf, &got);  // nothing more: idle, buffers released
    SSL_free(b);
    close(sv[1]);
    idle.push_back(a);
    fds.push_back(sv[0]);
  }
  const size_t per_idle = (heap_in_use() - before) / static_cast<size_t>(n);
  std::printf("%zu %zu\n", per_new, per_idle);
  for (SSL* s : idle) SSL_free(s);
  for (int fd : fds) close(fd);
  SSL_CTX_free(server);
  SSL_CTX_free(client);
  return 0;
}
