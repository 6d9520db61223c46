// TLS pieces that need no process or socket: what the first bytes on a TLS port are, the
// ticket key set (lookup, rotation, a second mapping of the same memfd), the config keys,
// the access log's TLS fields and CGI's HTTPS.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sstream>

#include "config/loader.hpp"
#include "exchange/access_log.hpp"
#include "helpers/cgi.hpp"
#include "tls/ticket_keys.hpp"
#include "tls/tls_stream.hpp"

namespace shoal {
namespace {

using tls::FirstBytes;

TEST(FirstBytesTest, TellsAHandshakeFromPlainHttpAndGarbage) {
  EXPECT_EQ(tls::classify_first_bytes(""), FirstBytes::kNeedMore);
  EXPECT_EQ(tls::classify_first_bytes("\x16"), FirstBytes::kNeedMore);
  EXPECT_EQ(tls::classify_first_bytes("\x16\x03"), FirstBytes::kTls);
  EXPECT_EQ(tls::classify_first_bytes("\x16\x03\x01\x02\x00"), FirstBytes::kTls);
  EXPECT_EQ(tls::classify_first_bytes("\x16\x02"), FirstBytes::kGarbage);  // SSL 2 / nonsense
  EXPECT_EQ(tls::classify_first_bytes("GET / HTTP/1.1\r\n"), FirstBytes::kPlainHttp);
  EXPECT_EQ(tls::classify_first_bytes("PRI * HTTP/2.0"), FirstBytes::kPlainHttp);
  EXPECT_EQ(tls::classify_first_bytes("\x15\x03\x03"), FirstBytes::kGarbage);  // an alert first
  EXPECT_EQ(tls::classify_first_bytes("get /"), FirstBytes::kGarbage);
  EXPECT_EQ(tls::classify_first_bytes(std::string("\0\0", 2)), FirstBytes::kGarbage);
}

TEST(TicketKeysTest, TheCurrentKeyEncryptsAndAllThreeDecrypt) {
  tls::TicketKeySet set;
  for (size_t i = 0; i < set.keys.size(); ++i) set.keys[i].name.fill(static_cast<char>('a' + i));
  const auto current = tls::find_ticket_key(set, set.keys[tls::TicketKeySet::kCurrent].name.data());
  EXPECT_EQ(current.key, &set.keys[tls::TicketKeySet::kCurrent]);
  EXPECT_TRUE(current.current);
  for (size_t which : {tls::TicketKeySet::kNext, tls::TicketKeySet::kPrevious}) {
    const auto other = tls::find_ticket_key(set, set.keys[which].name.data());
    EXPECT_EQ(other.key, &set.keys[which]);
    EXPECT_FALSE(other.current);  // decrypts; the client gets a fresh ticket
  }
  unsigned char unknown[16] = {'z'};
  EXPECT_EQ(tls::find_ticket_key(set, unknown).key, nullptr);
}

TEST(TicketKeysTest, RotationAnnouncesBeforeUseAndKeepsTheRetiredKeyForAPeriod) {
  auto keys = tls::TicketKeys::create();
  const auto before = keys.read();
  std::set<std::array<unsigned char, 16>> names;
  for (const auto& k : before.keys) names.insert(k.name);
  EXPECT_EQ(names.size(), 3u);  // three distinct random keys
  keys.rotate();
  const auto after = keys.read();
  EXPECT_EQ(after.rotations, before.rotations + 1);
  // The announced key encrypts now; the one that did still decrypts; a new one is announced.
  EXPECT_EQ(after.keys[tls::TicketKeySet::kCurrent].name,
            before.keys[tls::TicketKeySet::kNext].name);
  EXPECT_EQ(after.keys[tls::TicketKeySet::kCurrent].aes, before.keys[tls::TicketKeySet::kNext].aes);
  EXPECT_EQ(after.keys[tls::TicketKeySet::kPrevious].name,
            before.keys[tls::TicketKeySet::kCurrent].name);
  EXPECT_EQ(names.count(after.keys[tls::TicketKeySet::kNext].name), 0u);
  // The oldest is forgotten: a ticket under it means a full handshake.
  EXPECT_EQ(tls::find_ticket_key(after, before.keys[tls::TicketKeySet::kPrevious].name.data()).key,
            nullptr);
}

TEST(TicketKeysTest, AnotherMappingOfTheMemfdSeesTheSameKeysAndTheirRotation) {
  // What an upgraded image does with the fd the previous one passed on.
  auto keys = tls::TicketKeys::create();
  auto adopted = tls::TicketKeys::adopt(::dup(keys.fd()));
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->read().keys[0].hmac, keys.read().keys[0].hmac);
  keys.rotate();
  EXPECT_EQ(adopted->read().keys[0].name, keys.read().keys[0].name);
  EXPECT_EQ(adopted->read().rotations, 1u);
  // Anything else is refused.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[1]);
  EXPECT_FALSE(tls::TicketKeys::adopt(pipe_fds[0]));
}

std::vector<ConfigError> errors_of(const std::string& yaml) {
  try {
    load_config_from_string(yaml, "/etc/shoal/tls.yaml");
  } catch (const ConfigErrors& e) {
    return e.errors();
  }
  return {};
}

// Any readable file stands in for a PEM file here: the loader checks that it can be read,
// the master's context builder what it holds (tests/integration/tls_test.cpp).
const std::string kPem = SHOAL_SOURCE_DIR "/conf/mime.types";

TEST(TlsConfigTest, ListenEntriesServerTlsAndTicketsLoad) {
  auto config = load_config_from_string(
      "tls: { session_tickets: false, ticket_rotation: 10m }\n"
      "servers:\n"
      "  - listen: [\"127.0.0.1:8080\", { address: \"*:8443\", tls: true }]\n"
      "    tls: { certificate: " +
          kPem + ", key: " + kPem +
          ", protocols: [TLSv1.3], ciphers: \"ECDHE+AESGCM\" }\n"
          "    routes:\n"
          "      - match: /\n"
          "        return: { body: hi }\n",
      "/etc/shoal/tls.yaml");
  EXPECT_FALSE(config.tls.enabled);
  EXPECT_EQ(config.tls.rotation, Millis(600'000));
  const auto& server = config.servers.at(0);
  ASSERT_EQ(server.listen.size(), 2u);
  EXPECT_FALSE(server.listen[0].tls);
  EXPECT_TRUE(server.listen[1].tls);
  EXPECT_EQ(server.listen[1].text, "0.0.0.0:8443");
  ASSERT_TRUE(server.tls);
  EXPECT_EQ(server.tls->certificate, kPem);
  EXPECT_EQ(server.tls->protocols, static_cast<std::uint8_t>(TlsProtocol::kTls13));
  EXPECT_EQ(server.tls->ciphers, "ECDHE+AESGCM");
  EXPECT_EQ(server.tls->certificate_mark.line, 4);
}

TEST(TlsConfigTest, EachMistakeIsAnErrorAtItsPosition) {
  const std::string routes =
      "    routes:\n"
      "      - match: /\n"
      "        return: { body: hi }\n";
  // Plain and TLS on one address.
  auto mixed = errors_of(
      "servers:\n  - listen: [{ address: \"*:8443\", tls: true }]\n"
      "    tls: { certificate: " +
      kPem + ", key: " + kPem + " }\n" + routes +
      "  - listen: \"*:8443\"\n    server_names: [b]\n" + routes);
  ASSERT_EQ(mixed.size(), 1u);
  EXPECT_EQ(mixed[0].line, 7);
  EXPECT_NE(mixed[0].message.find("0.0.0.0:8443 is TLS for another server"), std::string::npos)
      << mixed[0].message;
  // A TLS address without a certificate.
  auto bare = errors_of("servers:\n  - listen: [{ address: \"*:8443\", tls: true }]\n" + routes);
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_NE(bare[0].message.find("has no tls"), std::string::npos);
  // Unknown keys, a missing key file, an unknown protocol, a rotation out of range.
  auto wrong = errors_of(
      "tls: { ticket_rotation: 0s }\n"
      "servers:\n  - listen: [{ address: \"*:8443\", tls: yes, ssl: on }]\n"
      "    tls: { certificate: " +
      kPem +
      ", key: /nonexistent.key,"
      " protocols: [TLSv1.1] }\n" +
      routes);
  std::string all;
  for (const auto& e : wrong) all += e.to_string() + "\n";
  EXPECT_NE(all.find(":1:25: tls.ticket_rotation: expected a duration from 1s to 7d"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find(":3:45: unknown key \"ssl\" in a listen entry"), std::string::npos) << all;
  EXPECT_NE(all.find("tls.key: cannot read /nonexistent.key"), std::string::npos) << all;
  EXPECT_NE(all.find("tls.protocols: expected TLSv1.2 and/or TLSv1.3, got \"TLSv1.1\""),
            std::string::npos)
      << all;
}

TEST(TlsAccessLogTest, CombinedTlsEndsWithTheProtocolAndCipher) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("access-test", sink);
  logger->set_pattern("%v");
  AccessLog log(logger, AccessLogFormat::kCombinedTls);
  log.write({"127.0.0.1", nullptr, "GET / HTTP/1.1", 200, 5, "TLSv1.3", "TLS_AES_128_GCM_SHA256"});
  log.write({"127.0.0.1", nullptr, "GET / HTTP/1.1", 200, 5, "", ""});
  const std::string text = out.str();
  EXPECT_NE(text.find("\"GET / HTTP/1.1\" 200 5 \"-\" \"-\" TLSv1.3 TLS_AES_128_GCM_SHA256\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"GET / HTTP/1.1\" 200 5 \"-\" \"-\" - -\n"), std::string::npos) << text;
}

TEST(TlsCgiTest, HttpsIsOnOnlyOverTls) {
  auto has_https = [](bool https) {
    helpers::CgiRequest request{"GET", "/",         "", "HTTP/1.1", "a",
                                443,   "127.0.0.1", 1,  nullptr,    https};
    auto env = helpers::cgi_environment(request);
    return std::find(env.begin(), env.end(), "HTTPS=on") != env.end();
  };
  EXPECT_TRUE(has_https(true));
  EXPECT_FALSE(has_https(false));
}

}  // namespace
}  // namespace shoal
