// Ticket keys in shared memory: a sequence-counted set of three, written by the master only.
#include "tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "util/syscall.hpp"

namespace shoal::tls {

namespace {

constexpr std::uint64_t kMagic = 0x73686f616c746b31;  // "shoaltk1"

TicketKey random_key() {
  TicketKey key;
  if (RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) != 1 ||
      RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size())) != 1 ||
      RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) != 1) {
    throw StartupError("RAND_bytes() failed for a session ticket key");
  }
  return key;
}

int ex_data_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

struct TicketKeys::Shared {
  std::uint64_t magic;
  std::atomic<std::uint64_t> sequence;  // odd while the master writes
  std::uint64_t rotations;
  TicketKey keys[3];
};

TicketLookup find_ticket_key(const TicketKeySet& set, const unsigned char* name) {
  for (size_t i = 0; i < set.keys.size(); ++i) {
    if (std::memcmp(set.keys[i].name.data(), name, set.keys[i].name.size()) == 0) {
      return {&set.keys[i], i == TicketKeySet::kCurrent};
    }
  }
  return {};
}

TicketKeys TicketKeys::create() {
  auto mapping =
      MemfdMapping::create("shoal-ticket-keys", sizeof(Shared), "the session ticket keys");
  auto* shared = new (mapping.memory()) Shared{};
  shared->magic = kMagic;
  for (auto& key : shared->keys) key = random_key();
  return TicketKeys(std::move(mapping));
}

std::optional<TicketKeys> TicketKeys::adopt(int fd) {
  auto mapping = MemfdMapping::adopt(fd, sizeof(Shared));
  if (!mapping || static_cast<const Shared*>(mapping->memory())->magic != kMagic) {
    return std::nullopt;
  }
  return TicketKeys(std::move(*mapping));
}

TicketKeys::TicketKeys(MemfdMapping mapping)
    : mapping_(std::move(mapping)), shared_(static_cast<Shared*>(mapping_.memory())) {}

TicketKeys::TicketKeys(TicketKeys&& other) noexcept
    : mapping_(std::move(other.mapping_)), shared_(std::exchange(other.shared_, nullptr)) {}

TicketKeys::~TicketKeys() = default;

void TicketKeys::rotate() {
  const TicketKey fresh = random_key();
  const std::uint64_t seq = shared_->sequence.load(std::memory_order_relaxed);
  shared_->sequence.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  shared_->keys[TicketKeySet::kPrevious] = shared_->keys[TicketKeySet::kCurrent];
  shared_->keys[TicketKeySet::kCurrent] = shared_->keys[TicketKeySet::kNext];
  shared_->keys[TicketKeySet::kNext] = fresh;
  shared_->rotations += 1;
  shared_->sequence.store(seq + 2, std::memory_order_release);
}

TicketKeySet TicketKeys::read() const {
  TicketKeySet set;
  while (true) {
    const std::uint64_t before = shared_->sequence.load(std::memory_order_acquire);
    if (before & 1) continue;  // the master is writing: a few hundred nanoseconds
    std::memcpy(set.keys.data(), shared_->keys, sizeof shared_->keys);
    set.rotations = shared_->rotations;
    std::atomic_thread_fence(std::memory_order_acquire);
    if (shared_->sequence.load(std::memory_order_relaxed) == before) return set;
  }
}

namespace {

// OpenSSL's ticket key callback: enc 1 seals a new ticket with the current key; enc 0 finds
// the key a ticket names (1: current, 2: valid but renew, 0: unknown, full handshake).
int ticket_key_callback(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                        EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  const auto* keys =
      static_cast<const TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_data_index()));
  if (!keys) return -1;
  const TicketKeySet set = keys->read();
  const TicketKey* key = nullptr;
  int result = 1;
  if (enc) {
    key = &set.keys[TicketKeySet::kCurrent];
    std::memcpy(key_name, key->name.data(), key->name.size());
    if (RAND_bytes(iv, 16) != 1) return -1;
  } else {
    const TicketLookup found = find_ticket_key(set, key_name);
    if (!found.key) return 0;
    key = found.key;
    // 2: decrypts, and the client gets a fresh ticket. Always so in TLS 1.3, whose clients
    // use a ticket once (RFC 8446 appendix C.4): without a new one, every other connection
    // of a client would be a full handshake.
    result = found.current && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(
          OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac.data()), key->hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  const int ok = enc ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv)
                     : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv);
  return ok == 1 ? result : -1;
}

}  // namespace

void TicketKeys::attach(SSL_CTX* ctx) const {
  SSL_CTX_set_ex_data(ctx, ex_data_index(), const_cast<TicketKeys*>(this));
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback);
}

}  // namespace shoal::tls
