// ServiceNotifier: tells systemd (Type=notify) what the master is doing, through
// sd_notify(3): READY=1 when a generation serves, RELOADING=1 with MONOTONIC_USEC when a
// reload starts, STOPPING=1, and STATUS= with the master's one-line status. Without
// NOTIFY_SOCKET in the environment every call does nothing.
#pragma once

#include <string_view>

namespace shoal {

class ServiceNotifier {
 public:
  void ready(std::string_view status);
  void reloading();
  void stopping();
  void status(std::string_view status);
  void watchdog();  // WATCHDOG=1
};

}  // namespace shoal
