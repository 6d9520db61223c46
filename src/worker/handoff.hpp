// Handing a client connection to a sibling worker of the same generation (issue 15): the
// socket goes by SCM_RIGHTS over the receiving worker's SOCK_SEQPACKET socket (a pair per
// worker, made by the master before it forks the generation), with the listen address it
// came in on and the request bytes read so far (the job's head, re-serialized, and whatever
// followed it). One datagram per connection; nothing is sent when it does not fit at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

struct HandOff {
  std::string address;  // ListenAddress::text of the listener that accepted it
  std::string bytes;    // to be parsed as if the new worker had read them
  UniqueFd fd;
};

// The largest datagram either side deals in: a head within max_header_bytes and the 64 KiB a
// connection may have read beyond it.
inline constexpr size_t kMaxHandOffBytes = 192 * 1024;

// sendmsg(MSG_DONTWAIT) of one hand-over; false when it did not go (the sibling's socket is
// full, the message too large, the sibling gone): the caller keeps the connection.
bool send_hand_off(int socket, int client_fd, std::string_view address, std::string_view bytes);

// One hand-over from `socket`, or nullopt when none is waiting (or one arrived damaged: its
// descriptor is closed). The descriptor arrives close-on-exec.
std::optional<HandOff> receive_hand_off(int socket, std::string& buffer);

}  // namespace shoal
