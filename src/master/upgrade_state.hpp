// UpgradeState: what the master hands to its own new image across execve (SIGUSR2): the
// open listen sockets, the control socket, the running workers and who asked. It travels as
// text in the SHOAL_UPGRADE_STATE environment variable; the fds stay open across exec.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal {

inline constexpr const char* kUpgradeStateVariable = "SHOAL_UPGRADE_STATE";
// Set for the new binary's trial start (upgrade.cpp): it starts as far as it can without
// touching the running server, prints kUpgradeTrialOk and exits 0.
inline constexpr const char* kUpgradeTrialVariable = "SHOAL_UPGRADE_TRIAL";
inline constexpr const char* kUpgradeTrialOk = "shoal: upgrade trial ok";

struct UpgradeState {
  struct Listen {
    std::string address;  // ListenAddress::text
    std::vector<int> fds;
    bool operator==(const Listen&) const = default;
  };
  struct Worker {
    int generation = 0;
    int slot = 0;
    pid_t pid = 0;
    int channel_fd = -1;  // the master's end
    bool operator==(const Worker&) const = default;
  };
  int generation = 0;  // the highest generation number used so far
  int active = 0;      // the generation serving; the others were draining
  std::vector<Listen> listeners;
  int control_fd = -1;         // -1: no control socket
  std::vector<int> reply_fds;  // control clients waiting for the upgrade's outcome
  std::vector<Worker> workers;
  std::string config_path;  // the master's -c, for a fallback exec whatever argv the new had
  int fallback_fd = -1;     // the previous image, open for fexecve; -1: none
  int tickets_fd = -1;      // the session ticket keys' memfd (tls/ticket_keys.hpp); -1: none
  int metrics_fd = -1;      // the metrics segment's memfd (metrics/segment.hpp); -1: none
  std::string failed;       // set by a new image that failed before serving (one line)

  bool operator==(const UpgradeState&) const = default;
};

// One line per item: "generation N", "active N", "listen ADDRESS FD...", "control FD", "reply FD",
// "worker GENERATION SLOT PID FD", "config PATH", "fallback FD", "tickets FD", "metrics FD",
// "failed TEXT".
std::string encode_upgrade_state(const UpgradeState& state);

// nullopt with `error` set when `text` is not a state encode_upgrade_state wrote.
std::optional<UpgradeState> decode_upgrade_state(std::string_view text, std::string& error);

// Every fd named in `state` (to clear close-on-exec on before execve).
std::vector<int> upgrade_state_fds(const UpgradeState& state);

}  // namespace shoal
