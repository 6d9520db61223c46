// Channel: the master <-> worker socketpair (SOCK_SEQPACKET, one datagram per message), made
// before fork, non-blocking and close-on-exec on both ends. Messages are short words
// ("ready", "drain", "reopen", "reopened"); see src/DESIGN.md, Supervision.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

namespace shoal {

struct ChannelPair {
  UniqueFd master_end;  // kept by the master
  UniqueFd worker_end;  // kept by the worker after fork
};

// Throws StartupError when socketpair() fails.
ChannelPair make_channel();

// Sends one message; false when the peer is gone or the socket is full (messages are tiny
// and rare, so a full socket means a peer that stopped reading).
bool channel_send(int fd, std::string_view message);

// What one non-blocking read of a channel gave.
struct ChannelRead {
  enum class Kind { kMessage, kEmpty, kClosed } kind = Kind::kEmpty;
  std::string message;
};
ChannelRead channel_receive(int fd);

}  // namespace shoal
