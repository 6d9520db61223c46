// sd_notify messages; failures are logged once per kind and otherwise ignored: systemd's own
// timeouts handle a manager that does not listen.
#include "master/service_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstring>
#include <string>

namespace shoal {

namespace {

void notify(const std::string& message) {
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) spdlog::warn("sd_notify() failed ({})", std::strerror(-rc));
}

}  // namespace

void ServiceNotifier::ready(std::string_view status) {
  notify("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading");
}

void ServiceNotifier::watchdog() { notify("WATCHDOG=1"); }

void ServiceNotifier::stopping() { notify("STOPPING=1\nSTATUS=stopping"); }

void ServiceNotifier::status(std::string_view status) { notify("STATUS=" + std::string(status)); }

}  // namespace shoal
