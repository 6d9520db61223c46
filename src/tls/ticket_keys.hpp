// TicketKeys: the session ticket keys every worker of every generation shares, so that any
// worker resumes any client's session, after reloads and upgrades too. They live in a memfd
// that the master maps before forking and is the only one to write (rotate()); workers read
// them at each handshake. Three keys: `next` is announced (decrypts) a period before it
// encrypts, `previous` still decrypts for a period after it stopped. See src/DESIGN.md, TLS.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "util/memfd_mapping.hpp"

namespace shoal::tls {

struct TicketKey {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 32> aes{};   // AES-256-CBC
  std::array<unsigned char, 32> hmac{};  // HMAC-SHA256
};

// What a reader copies out: index 0 encrypts; all three decrypt.
struct TicketKeySet {
  enum : size_t { kCurrent = 0, kNext = 1, kPrevious = 2 };
  std::array<TicketKey, 3> keys{};
  std::uint64_t rotations = 0;  // how many times the set has turned since it was made
};

// Where a ticket's key name leads: the key that decrypts it and whether it is the current one.
struct TicketLookup {
  const TicketKey* key = nullptr;  // null: unknown (expired or forged): a full handshake
  bool current = false;            // false: decrypts, but the client gets a fresh ticket
};
TicketLookup find_ticket_key(const TicketKeySet& set, const unsigned char* name);

class TicketKeys {
 public:
  // A new memfd with three fresh random keys. Throws StartupError.
  static TicketKeys create();
  // The memfd a previous image passed over an upgrade; nullopt when it is not one.
  static std::optional<TicketKeys> adopt(int fd);

  TicketKeys(TicketKeys&& other) noexcept;
  TicketKeys& operator=(TicketKeys&&) = delete;
  TicketKeys(const TicketKeys&) = delete;
  ~TicketKeys();

  // previous := current, current := next, next := new random key. Master only.
  void rotate();
  // A consistent copy (retries while the master is mid-rotation).
  TicketKeySet read() const;
  int fd() const { return mapping_.fd(); }

  // Installs the ticket callback on `ctx` that uses these keys (they must outlive `ctx`).
  void attach(SSL_CTX* ctx) const;

 private:
  struct Shared;
  explicit TicketKeys(MemfdMapping mapping);
  MemfdMapping mapping_;
  Shared* shared_ = nullptr;
};

}  // namespace shoal::tls
