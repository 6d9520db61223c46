// TLS termination against the real binary, with real clients: curl (--cacert, --resolve for
// SNI) and openssl s_client (protocols, ALPN, resumption across workers, reloads and
// upgrades). The certificates are made once per test run by tests/tls/make_certs.sh.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "harness.hpp"

namespace shoal::test {
namespace {

// The certificate directory, made by the first test of the build directory that needs it
// (the script takes a lock and does nothing when the set is complete).
const std::string& certs() {
  static const std::string dir = [] {
    const std::string d = SHOAL_TEST_CERTS;
    const auto made = run_command("bash " SHOAL_SOURCE_DIR "/tests/tls/make_certs.sh " + d);
    EXPECT_EQ(made.status, 0) << made.output;
    return d;
  }();
  return dir;
}

std::string cert(const std::string& name) { return certs() + "/" + name; }

// Puts the test certificate `name` (.pem and .key) where a config names `pem` and `key`.
void install_certificate(const std::string& name, const std::string& pem, const std::string& key) {
  const auto overwrite = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(cert(name + ".pem"), pem, overwrite);
  std::filesystem::copy_file(cert(name + ".key"), key, overwrite);
}

// A document root readable by the workers (they run as nobody under a root test run).
class WebRoot {
 public:
  WebRoot() {
    ::chmod(dir_.path().c_str(), 0755);
    std::filesystem::create_directories(dir_ / "www");
    std::filesystem::create_directories(dir_ / "cgi-bin");
    ::chmod((dir_ / "www").c_str(), 0755);
    ::chmod((dir_ / "cgi-bin").c_str(), 0755);
    write_file(dir_ / "www/index.html", "hello tls\n");
    std::string big;
    for (int i = 0; big.size() < 3 * 1024 * 1024; ++i) big += "line " + std::to_string(i) + "\n";
    write_file(dir_ / "www/big.txt", big);
    write_file(dir_ / "cgi-bin/env.sh",
               "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nHTTPS=%s\\n' \"$HTTPS\"\n");
    ::chmod((dir_ / "cgi-bin/env.sh").c_str(), 0755);
  }
  std::string operator/(const std::string& name) const { return dir_ / name; }

 private:
  TempDir dir_;
};

// Three servers on one TLS address: the default (RSA, localhost and example.test), ec.test
// (ECDSA) and *.wild.test (a third certificate, CN other.test). `certificate` and `key` name
// the default server's files.
std::string tls_config(const WebRoot& root, const std::string& certificate = cert("rsa.pem"),
                       const std::string& key = cert("rsa.key"), const std::string& extra = "") {
  return "workers: 2\n"
         "reuse_port: true\n"
         "shutdown_timeout: 10s\n" +
         extra +
         "servers:\n"
         "  - listen: [{ address: \"127.0.0.1:@PORT@\", tls: true }]\n"
         "    server_names: [localhost, example.test]\n"
         "    tls: { certificate: " +
         certificate + ", key: " + key +
         " }\n"
         "    routes:\n"
         "      - match: /\n"
         "        static: { root: " +
         root / "www" +
         " }\n"
         "      - match: /cgi-bin/\n"
         "        cgi: { root: " +
         root / "cgi-bin" +
         " }\n"
         "      - match: /metrics\n"
         "        metrics: {}\n"
         "  - listen: [{ address: \"127.0.0.1:@PORT@\", tls: true }]\n"
         "    server_names: [ec.test]\n"
         "    tls: { certificate: " +
         cert("ec.pem") + ", key: " + cert("ec.key") +
         " }\n"
         "    routes:\n"
         "      - match: /\n"
         "        return: { body: \"ec\\n\" }\n"
         "  - listen: [{ address: \"127.0.0.1:@PORT@\", tls: true }]\n"
         "    server_names: [\"*.wild.test\"]\n"
         "    tls: { certificate: " +
         cert("other.pem") + ", key: " + cert("other.key") +
         " }\n"
         "    routes:\n"
         "      - match: /\n"
         "        return: { body: \"wild\\n\" }\n";
}

std::string curl(int port, const std::string& name, const std::string& path,
                 const std::string& options = "") {
  const std::string p = std::to_string(port);
  return "curl -sS --max-time 20 --cacert " + cert("ca.pem") + " --resolve " + name + ":" + p +
         ":127.0.0.1 " + options + " https://" + name + ":" + p + path;
}

// openssl s_client on the server's port; `request` is sent, then it reads until the server
// closes (-ign_eof), so TLS 1.3 tickets sent after the handshake are seen.
CommandResult s_client(int port, const std::string& options,
                       const std::string& request =
                           "GET / HTTP/1.1\r\nHost: localhost\r\n"
                           "Connection: close\r\n\r\n") {
  return run_command("printf '" + request + "' | timeout 20 openssl s_client -connect 127.0.0.1:" +
                     std::to_string(port) + " -ign_eof " + options);
}

std::string subject_of(const CommandResult& r) {
  std::smatch m;
  static const std::regex subject("subject=CN ?= ?([^\\n]+)");
  return std::regex_search(r.output, m, subject) ? m[1].str() : "(none)";
}

bool reused(const CommandResult& r) { return count(r.output, "Reused, TLSv1.") == 1; }

CommandResult control(const ShoalServer& server, const std::string& command) {
  return run_shoal({"-c", server.config_path(), "-s", command}, server.dir());
}

// Every "[error]" line of the server's log (a client's bad TLS must never make one).
std::string error_lines(const ShoalServer& server) {
  std::string out;
  std::istringstream log(server.error_log());
  for (std::string line; std::getline(log, line);) {
    if (line.find("[error]") != std::string::npos) out += line + "\n";
  }
  return out;
}

TEST(TlsTest, CurlGetsPagesAndLargeFilesOverHttps) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  // The key is the master's to read (0600); under a root test run the workers that
  // serve with it run as nobody.
  struct stat st {};
  ASSERT_EQ(::stat(cert("rsa.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  if (::geteuid() == 0) {
    for (pid_t worker : server.children()) {
      const auto status = read_file("/proc/" + std::to_string(worker) + "/status");
      EXPECT_EQ(status.find("\nUid:\t0\t"), std::string::npos) << status;
    }
  }
  auto page = run_command(curl(server.port(), "localhost", "/"));
  EXPECT_EQ(page.status, 0) << page.output;
  EXPECT_EQ(page.output, "hello tls\n");
  // 3 MiB from a file descriptor, in bounded records, intact.
  const std::string out = root / "big.out";
  auto big = run_command(curl(server.port(), "localhost", "/big.txt", "-o " + out));
  EXPECT_EQ(big.status, 0) << big.output;
  EXPECT_EQ(read_file(out), read_file(root / "www/big.txt"));
  // Keep-alive: three requests on one connection, one handshake.
  auto three = run_command(curl(server.port(), "localhost", "/", "-w '%{num_connects}\\n'") +
                           " https://localhost:" + std::to_string(server.port()) + "/ " +
                           "https://localhost:" + std::to_string(server.port()) + "/");
  EXPECT_EQ(count(three.output, "hello tls\n"), 3u) << three.output;
  EXPECT_EQ(error_lines(server), "");
}

TEST(TlsTest, SniPicksTheServerAndItsCertificateByServerNames) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  // curl checks that the certificate is for the name it asked: each server's own.
  auto ec = run_command(curl(server.port(), "ec.test", "/"));
  EXPECT_EQ(ec.output, "ec\n");
  auto example = run_command(curl(server.port(), "example.test", "/"));
  EXPECT_EQ(example.output, "hello tls\n");
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername a.wild.test")), "other.test");
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername ec.test")), "ec.test");
  // An unknown name and no name at all: the address's default server.
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername unknown.test")), "rsa.test");
  EXPECT_EQ(subject_of(s_client(server.port(), "-noservername")), "rsa.test");
}

TEST(TlsTest, OffersTls12And13AndAlpnH2ThenHttp11) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  EXPECT_NE(s_client(server.port(), "-tls1_2").output.find("New, TLSv1.2,"), std::string::npos);
  EXPECT_NE(s_client(server.port(), "-tls1_3").output.find("New, TLSv1.3,"), std::string::npos);
  // TLS 1.1, even from a client willing to use it, is refused.
  auto old = s_client(server.port(), "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
  EXPECT_EQ(old.output.find("New, TLSv1.1"), std::string::npos) << old.output;
  EXPECT_EQ(old.output.find("HTTP/1.1 200"), std::string::npos);
  // The server's preference: h2 first (issue 31; it was http/1.1 only, and an h2-only client
  // got an alert), http/1.1 for a client without h2, an alert for one with neither.
  auto alpn = s_client(server.port(), "-alpn http/1.1,h2");
  EXPECT_NE(alpn.output.find("ALPN protocol: h2"), std::string::npos) << alpn.output;
  auto one = s_client(server.port(), "-alpn http/1.1");
  EXPECT_NE(one.output.find("ALPN protocol: http/1.1"), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("HTTP/1.1 200"), std::string::npos);
  auto neither = s_client(server.port(), "-alpn spdy/3.1");
  EXPECT_NE(neither.output.find("no application protocol"), std::string::npos) << neither.output;
}

// Every kind of route over h2 by ALPN, and a listen entry that keeps HTTP/2 off.
TEST(TlsTest, Http2ByAlpnServesEveryRouteAndHttp2FalseKeepsItOff) {
  WebRoot root;
  const int plain11 = free_port();
  ShoalServer server(tls_config(root) +
                     "  - listen: [{ address: \"127.0.0.1:" + std::to_string(plain11) +
                     "\", tls: true, http2: false }]\n"
                     "    server_names: [localhost]\n"
                     "    tls: { certificate: " +
                     cert("rsa.pem") + ", key: " + cert("rsa.key") +
                     " }\n"
                     "    routes:\n"
                     "      - match: /\n"
                     "        return: { body: \"one\\n\" }\n");
  const auto version = " -o /dev/null -w '%{http_version} %{http_code}'";
  EXPECT_EQ(
      run_command(curl(server.port(), "localhost", "/index.html", "--http2") + version).output,
      "2 200");
  EXPECT_EQ(run_command(curl(server.port(), "localhost", "/index.html", "--http2")).output,
            read_file(root / "www/index.html"));
  auto big = run_command(curl(server.port(), "localhost", "/big.txt", "--http2") + " | cmp - " +
                         root / "www/big.txt");
  EXPECT_EQ(big.status, 0) << big.output;
  auto cgi = run_command(curl(server.port(), "localhost", "/cgi-bin/env.sh", "--http2"));
  EXPECT_NE(cgi.output.find("HTTPS=on"), std::string::npos) << cgi.output;
  EXPECT_EQ(run_command(curl(server.port(), "ec.test", "/", "--http2") + version).output, "2 200");
  EXPECT_EQ(run_command(curl(plain11, "localhost", "/", "--http2") + version).output, "1.1 200");
  auto refused = s_client(plain11, "-alpn h2");
  EXPECT_NE(refused.output.find("no application protocol"), std::string::npos) << refused.output;
}

TEST(TlsTest, ProtocolsNarrowWhatIsOffered) {
  WebRoot root;
  ShoalServer server(
      "servers:\n"
      "  - listen: [{ address: \"127.0.0.1:@PORT@\", tls: true }]\n"
      "    tls: { certificate: " +
      cert("rsa.pem") + ", key: " + cert("rsa.key") +
      ", protocols: [TLSv1.3] }\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: { body: \"ok\\n\" }\n");
  EXPECT_EQ(s_client(server.port(), "-tls1_2").output.find("New, TLSv1.2,"), std::string::npos);
  EXPECT_NE(s_client(server.port(), "-tls1_3").output.find("New, TLSv1.3,"), std::string::npos);
}

// Connections resume, with TLS 1.3 and 1.2 tickets, on whichever worker they reach. Which
// worker answered shows in the error log: each connection asks for its own missing file,
// and the info line about it carries the worker's pid.
void expect_resumption_on_every_worker(const std::string& version) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  const std::string session = root / ("session" + version);
  auto first = s_client(server.port(), "-" + version + " -sess_out " + session);
  ASSERT_NE(first.output.find("New, TLSv1."), std::string::npos) << first.output;
  std::set<std::string> workers;
  for (int i = 0; i < 24 && workers.size() < 2; ++i) {
    const std::string path = "/missing-" + version + "-" + std::to_string(i);
    auto again = s_client(
        server.port(), "-" + version + " -sess_in " + session,
        "GET " + path + " HTTP/1.1\\r\\nHost: localhost\\r\\n" + "Connection: close\\r\\n\\r\\n");
    EXPECT_TRUE(reused(again)) << again.output;
    // A TLS 1.3 client uses a ticket once: each resumption must bring a new one, or the
    // client's next connection is a full handshake.
    if (version == "tls1_3") {
      EXPECT_NE(again.output.find("Post-Handshake New Session Ticket arrived"), std::string::npos)
          << again.output;
    }
    std::smatch m;
    const std::string log = server.error_log();
    const std::regex line("\\[info\\] ([0-9]+): open\\(\\) \"[^\"]*" + path + "\"");
    ASSERT_TRUE(std::regex_search(log, m, line)) << log;
    workers.insert(m[1].str());
  }
  EXPECT_EQ(workers.size(), 2u) << "every resumed connection went to one worker";
}

TEST(TlsTest, ATls13SessionResumesOnEveryWorker) { expect_resumption_on_every_worker("tls1_3"); }

TEST(TlsTest, ATls12SessionResumesOnEveryWorker) { expect_resumption_on_every_worker("tls1_2"); }

TEST(TlsTest, HandshakesAreCountedByResultOnEveryWorker) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  const std::string session = root / "session";
  ASSERT_NE(s_client(server.port(), "-tls1_3 -sess_out " + session).output.find("New, TLSv1."),
            std::string::npos);
  ASSERT_TRUE(reused(s_client(server.port(), "-tls1_3 -sess_in " + session)));
  s_client(server.port(), "-alpn spdy/3.1");  // ends in an alert: failed
  // The scrape's own handshake is the second full one.
  auto scrape = run_command(curl(server.port(), "localhost", "/metrics"));
  ASSERT_EQ(scrape.status, 0) << scrape.output;
  const auto m = parse_metrics(scrape.output);
  EXPECT_EQ(metric_sum(m, "shoal_tls_handshakes_total", {"result=\"full\""}), 2) << scrape.output;
  EXPECT_EQ(metric_sum(m, "shoal_tls_handshakes_total", {"result=\"resumed\""}), 1);
  EXPECT_EQ(metric_sum(m, "shoal_tls_handshakes_total", {"result=\"failed\""}), 1);
}

TEST(TlsTest, BadClientsGetAnInfoLineAndTheWorkerServesOn) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  // Plain HTTP to the TLS port: a clear 400 in plain text, then the connection closes.
  {
    HttpClient plain(server.port());
    plain.send("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto r = plain.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("plain HTTP request was sent to an HTTPS port"), std::string::npos);
    EXPECT_TRUE(plain.closed_by_peer());
  }
  // Garbage instead of a ClientHello, and a ClientHello cut off by the client's close.
  {
    HttpClient garbage(server.port());
    garbage.send(std::string("\x01\x02\x03 not tls", 11));
    EXPECT_TRUE(garbage.closed_by_peer());
  }
  {
    HttpClient cut(server.port());
    cut.send(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
    cut.shutdown_write();
    EXPECT_TRUE(cut.closed_by_peer());
  }
  // A handshake that ends in an alert (ALPN with nothing shoal speaks).
  s_client(server.port(), "-alpn spdy/3.1");
  EXPECT_TRUE(wait_until([&] {
    const auto log = server.error_log();
    return log.find("sent plain HTTP to a TLS address") != std::string::npos &&
           log.find("sent no TLS handshake") != std::string::npos &&
           log.find("closed the connection during the TLS handshake") != std::string::npos &&
           log.find("TLS handshake failed: no application protocol") != std::string::npos;
  })) << server.error_log();
  // None of it was an error, and both workers still serve.
  EXPECT_EQ(error_lines(server), "");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(run_command(curl(server.port(), "localhost", "/")).output, "hello tls\n");
  const std::string access = read_file(server.dir() / "access.log");
  EXPECT_NE(access.find("\"GET /x HTTP/1.1\" 400"), std::string::npos) << access;
}

TEST(TlsTest, AClientThatNeverSaysHelloIsCutAtTheHeaderTimeout) {
  WebRoot root;
  ShoalServer server(
      tls_config(root, cert("rsa.pem"), cert("rsa.key"), "limits: { header_timeout: 1s }\n"));
  HttpClient silent(server.port());
  EXPECT_TRUE(silent.closed_by_peer(5s));
  HttpClient halfway(server.port());  // a handshake record started, never finished
  halfway.send(std::string("\x16\x03\x01\x02\x00", 5));
  EXPECT_TRUE(halfway.closed_by_peer(5s));
  EXPECT_TRUE(wait_until([&] {
    return count(server.error_log(), "timed out in the TLS handshake") == 2;
  })) << server.error_log();
}

TEST(TlsTest, CgiProgramsGetHttpsOn) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  auto r = run_command(curl(server.port(), "localhost", "/cgi-bin/env.sh"));
  EXPECT_EQ(r.output, "HTTPS=on\n");
}

TEST(TlsTest, ResumptionSurvivesAReloadAndAnUpgrade) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  const std::string session = root / "session";
  ASSERT_NE(s_client(server.port(), "-sess_out " + session).output.find("New, TLSv1.3"),
            std::string::npos);
  auto reload = control(server, "reload");
  ASSERT_EQ(reload.status, 0) << reload.output;
  auto after_reload = s_client(server.port(), "-sess_in " + session);
  EXPECT_TRUE(reused(after_reload)) << after_reload.output;
  auto upgrade = control(server, "upgrade");
  ASSERT_EQ(upgrade.status, 0) << upgrade.output;
  auto after_upgrade = s_client(server.port(), "-sess_in " + session);
  EXPECT_TRUE(reused(after_upgrade)) << after_upgrade.output;
}

TEST(TlsTest, WorkersThatCrashAreReplacedWithTheirContextsAndTicketKeys) {
  WebRoot root;
  ShoalServer server(tls_config(root));
  const std::string session = root / "session";
  ASSERT_NE(s_client(server.port(), "-sess_out " + session).output.find("New, TLSv1.3"),
            std::string::npos);
  const auto before = server.children();
  for (pid_t worker : before) kill(worker, SIGKILL);
  ASSERT_TRUE(wait_until([&] {
    auto now = server.children();
    if (now.size() != before.size()) return false;
    for (pid_t p : now) {
      if (std::find(before.begin(), before.end(), p) != before.end()) return false;
    }
    return run_command(curl(server.port(), "localhost", "/")).output == "hello tls\n";
  })) << server.error_log();
  auto again = s_client(server.port(), "-sess_in " + session);
  EXPECT_TRUE(reused(again)) << again.output;
}

TEST(TlsTest, AReloadSwapsTheCertificateWhileADownloadOnTheOldOneFinishes) {
  WebRoot root;
  const std::string pem = root / "server.pem";
  const std::string key = root / "server.key";
  install_certificate("rsa", pem, key);
  ShoalServer server(tls_config(root, pem, key));
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername localhost")), "rsa.test");
  // A slow download (about 3 s) on a connection made with the old certificate.
  const std::string out = root / "slow.out";
  CommandResult slow;
  std::thread download([&] {
    slow = run_command(curl(server.port(), "localhost", "/big.txt", "--limit-rate 1M -o " + out));
  });
  ASSERT_TRUE(wait_until(
      [&] { return std::filesystem::exists(out) && std::filesystem::file_size(out) > 100'000; }));
  install_certificate("other", pem, key);
  auto reload = control(server, "reload");
  EXPECT_EQ(reload.status, 0) << reload.output;
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername localhost")), "other.test");
  download.join();
  EXPECT_EQ(slow.status, 0) << slow.output;
  EXPECT_EQ(read_file(out), read_file(root / "www/big.txt"));
}

TEST(TlsTest, ABrokenCertificateAtAReloadKeepsTheOldOneServing) {
  WebRoot root;
  const std::string pem = root / "server.pem";
  const std::string key = root / "server.key";
  install_certificate("rsa", pem, key);
  ShoalServer server(tls_config(root, pem, key));
  install_certificate("expired", pem, key);
  auto reload = control(server, "reload");
  EXPECT_NE(reload.status, 0);
  EXPECT_NE(reload.output.find("tls.certificate: " + pem + " expired on"), std::string::npos)
      << reload.output;
  EXPECT_EQ(subject_of(s_client(server.port(), "-servername localhost")), "rsa.test");
  EXPECT_EQ(run_command(curl(server.port(), "localhost", "/")).output, "hello tls\n");
}

// `shoal -t` on a config whose default server's certificate is `pem` with `key`.
CommandResult check(const TempDir& dir, const std::string& pem, const std::string& key) {
  write_file(dir / "shoal.yaml",
             "user: root\n"
             "servers:\n"
             "  - listen: [{ address: \"127.0.0.1:8443\", tls: true }]\n"
             "    tls:\n"
             "      certificate: " +
                 pem +
                 "\n"
                 "      key: " +
                 key +
                 "\n"
                 "    routes:\n"
                 "      - match: /\n"
                 "        return: { body: ok }\n");
  return run_shoal({"-t", "-c", dir / "shoal.yaml"}, dir);
}

TEST(TlsTest, BadCertificatesAndKeysAreConfigErrorsNamingTheFile) {
  TempDir dir;
  const std::string at_certificate = dir / "shoal.yaml" + ":5:20: tls.certificate: ";
  const std::string at_key = dir / "shoal.yaml" + ":6:12: tls.key: ";
  auto ok = check(dir, cert("rsa.pem"), cert("rsa.key"));
  EXPECT_EQ(ok.status, 0) << ok.output;
  auto expired = check(dir, cert("expired.pem"), cert("expired.key"));
  EXPECT_NE(expired.status, 0);
  EXPECT_NE(expired.output.find(at_certificate + cert("expired.pem") + " expired on "),
            std::string::npos)
      << expired.output;
  auto mismatch = check(dir, cert("mismatch.pem"), cert("rsa.key"));
  EXPECT_NE(mismatch.output.find(at_key + cert("rsa.key") + " does not match the certificate"),
            std::string::npos)
      << mismatch.output;
  write_file(dir / "junk.pem",
             "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  auto junk = check(dir, dir / "junk.pem", cert("rsa.key"));
  EXPECT_NE(junk.output.find(at_certificate + dir / "junk.pem" + ": no certificate chain"),
            std::string::npos)
      << junk.output;
  auto missing = check(dir, dir / "nothere.pem", cert("rsa.key"));
  EXPECT_NE(missing.output.find(at_certificate + "cannot read " + dir / "nothere.pem"),
            std::string::npos)
      << missing.output;
  auto not_a_key = check(dir, cert("rsa.pem"), cert("rsa.pem"));
  EXPECT_NE(not_a_key.output.find(at_key + cert("rsa.pem") + ": no private key could be read"),
            std::string::npos)
      << not_a_key.output;
}

}  // namespace
}  // namespace shoal::test
