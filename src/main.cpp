// shoal's command line: test a configuration (-t), print versions (-v, -V), ask the running
// master (-s), or run the master (also as the new image of a binary upgrade).
// Start-up errors are caught here, once, and printed as one line each on stderr.
#include <event2/event.h>
#include <fcntl.h>
#include <llhttp.h>
#include <spdlog/spdlog.h>
#include <spdlog/version.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "config/dump.hpp"
#include "config/loader.hpp"
#include "config/preflight.hpp"
#include "config/units.hpp"
#include "log/logging.hpp"
#include "master/control_client.hpp"
#include "master/master.hpp"
#include "master/upgrade_fallback.hpp"
#include "master/upgrade_state.hpp"
#include "metrics/segment.hpp"
#include "tls/ticket_keys.hpp"
#include "util/spawn.hpp"
#include "worker/site.hpp"
#include "worker/worker.hpp"

#ifndef SHOAL_VERSION
#define SHOAL_VERSION "dev"
#endif

namespace {

constexpr const char* kDefaultConfig = "/etc/shoal/shoal.yaml";

// Exit statuses (documented in shoal(8)).
constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;   // the configuration is invalid
constexpr int kExitStartup = 2;  // valid, but the server could not start (bind, pid file, ...)
constexpr int kExitUsage = 2;    // the command line itself is wrong (one line on stderr)

// -v: the version, as nginx -v; -V adds the libraries it was built with.
void print_versions(bool with_libraries) {
  std::printf("shoal %s\n", SHOAL_VERSION);
  if (!with_libraries) return;
  std::printf("built with libevent %s, yaml-cpp %s, spdlog %d.%d.%d, llhttp %d.%d.%d\n",
              event_get_version(), SHOAL_YAMLCPP_VERSION, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
              SPDLOG_VER_PATCH, LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
}

// The new image of a binary upgrade keeps only the fds named in the state (and stdio): the
// old image's log files and the like are not close-on-exec and would leak at every upgrade.
void close_other_fds(const shoal::UpgradeState& state) {
  shoal::close_fds_except(shoal::upgrade_state_fds(state));
}

// The master's new image after SIGUSR2: adopt the running workers, then start a generation.
// A failure before the loop runs execs the previous image again (upgrade_fallback.hpp).
int run_upgraded(const std::string& config_path, const std::string& state_text) {
  std::string error;
  auto state = shoal::decode_upgrade_state(state_text, error);
  unsetenv(shoal::kUpgradeStateVariable);
  if (!state) {
    std::cerr << "shoal: cannot read the upgrade state: " << error << "\n";
    return kExitStartup;
  }
  close_other_fds(*state);
  // The previous image stays open (close-on-exec from now on) until this one serves.
  auto fallback = std::make_shared<shoal::UniqueFd>(state->fallback_fd);
  if (*fallback) fcntl(fallback->get(), F_SETFD, FD_CLOEXEC);
  try {
    // For the error log only: the master loads the file again for its new generation and
    // reports errors there (it keeps the adopted workers serving if the file is now broken).
    auto site = shoal::load_site(config_path);
    shoal::setup_error_log(site->config.log.error);
  } catch (const std::exception&) {
  }
  shoal::MasterOptions options{config_path, false, nullptr, shoal::worker_main, nullptr};
  options.fall_back = [state_text, fallback](const std::string& why) {
    spdlog::critical("upgrade: this binary cannot start: {}", why);
    spdlog::default_logger()->flush();
    shoal::exec_previous_image(state_text, why);
  };
  try {
    shoal::Master master(std::move(options), nullptr);
    return master.run(std::move(state));
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return kExitStartup;
  }
}

// Adopts what the trial was handed as the new image will, without taking any of it over:
// the state decodes, each descriptor is what it says, and the metrics and the session ticket
// keys can be read (the new image would start those afresh, with a warning: so does this).
// Returns why not, or "".
std::string trial_adopt(const char* state_text) {
  if (!state_text) return "";  // an old master that passes no state
  std::string error;
  auto state = shoal::decode_upgrade_state(state_text, error);
  if (!state) return "cannot read the upgrade state: " + error;
  auto is_socket = [](int fd) {
    struct stat st {};
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  };
  for (const auto& l : state->listeners) {
    for (int fd : l.fds) {
      if (!is_socket(fd))
        return "listen " + l.address + ": descriptor " + std::to_string(fd) + " is not a socket";
    }
  }
  for (const auto& w : state->workers) {
    if (!is_socket(w.channel_fd)) {
      return "the channel of worker pid " + std::to_string(w.pid) + " is not a socket";
    }
  }
  if (state->control_fd >= 0 && !is_socket(state->control_fd)) {
    return "the control socket is not a socket";
  }
  if (state->metrics_fd >= 0 &&
      !shoal::metrics::Segment::adopt(fcntl(state->metrics_fd, F_DUPFD_CLOEXEC, 0))) {
    std::cout << "warning: the metrics passed on cannot be read by this binary; counting will "
                 "start again"
              << std::endl;
  }
  if (state->tickets_fd >= 0 &&
      !shoal::tls::TicketKeys::adopt(fcntl(state->tickets_fd, F_DUPFD_CLOEXEC, 0))) {
    std::cout << "warning: the session ticket keys passed on cannot be read by this binary"
              << std::endl;
  }
  return "";
}

// The new binary's trial start during an upgrade (the old master runs it in a child before
// it execs it in place): everything the new image does before it serves, the adoption of a
// copy of the upgrade state included, without touching the running server (no log file, pid
// file, socket or worker of its own).
int run_upgrade_trial(const std::string& config_path) {
  if (auto why = trial_adopt(getenv(shoal::kUpgradeStateVariable)); !why.empty()) {
    std::cerr << "shoal: " << why << "\n";
    return kExitStartup;
  }
  try {
    auto site = shoal::load_site(config_path);
    shoal::Master master({config_path, false, nullptr, shoal::worker_main, nullptr},
                         std::move(site));
    master.trial();
  } catch (const shoal::ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << "shoal: " << error.to_string() << "\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "shoal: " << e.what() << "\n";
    return kExitStartup;
  }
  std::cout << shoal::kUpgradeTrialOk << std::endl;
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoal: an HTTP/1.1 server with a master, workers and helper processes"};
  std::string config_path = kDefaultConfig;
  bool test_only = false;
  bool version = false;
  bool versions = false;
  bool dump = false;
  bool daemon = false;
  std::string signal_name;
  app.add_option("-c,--config", config_path, "configuration file")->default_str(kDefaultConfig);
  app.add_option("-s,--signal", signal_name,
                 "ask the running master: reload, reopen, quit, stop, upgrade or status")
      ->check(CLI::IsMember({"reload", "reopen", "quit", "stop", "upgrade", "status"}));
  bool json = false;
  app.add_flag("--json", json, "with -s status: print the status as one JSON object");
  std::string timeout_text;
  app.add_option("--timeout", timeout_text,
                 "with -s: how long to wait for the master's answer (e.g. 30s, 2m; the default "
                 "depends on the command, see shoal(8))");
  app.add_flag("-t,--test", test_only, "test the configuration and exit");
  app.add_flag("-T,--test-dump", dump,
               "test the configuration and print it with every default filled in (YAML)");
  app.add_flag("-d,--daemon", daemon,
               "run in the background (double fork) once the sockets are bound");
  app.add_flag("-v", version, "print the version");
  app.add_flag("-V,--version", versions, "print the version and the libraries' versions");
  const char* upgrade_state = getenv(shoal::kUpgradeStateVariable);
  const bool upgrade_trial = getenv(shoal::kUpgradeTrialVariable) != nullptr;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // The new image of an upgrade that does not take the old one's flags: go back.
    if (upgrade_state && !upgrade_trial) {
      shoal::exec_previous_image(upgrade_state,
                                 std::string("it refused its arguments: ") + e.what());
    }
    // --help asks for the help text (exit 0); anything else is a usage error: one line and
    // exit 2 (shoal(8)), not CLI11's own codes (105 for a value outside a set, ...).
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "shoal: " << e.what() << " (see shoal --help)\n";
    return kExitUsage;
  }
  if (version || versions) {
    print_versions(versions);
    return kExitOk;
  }
  if (json && signal_name != "status") {
    std::cerr << "shoal: --json goes with -s status\n";
    return kExitUsage;
  }
  if (!timeout_text.empty() && signal_name.empty()) {
    std::cerr << "shoal: --timeout goes with -s\n";
    return kExitUsage;
  }
  if (!signal_name.empty()) {
    auto timeout = shoal::default_control_timeout(signal_name);
    if (!timeout_text.empty()) {
      auto parsed = shoal::parse_duration(timeout_text);
      if (!parsed || parsed->count() <= 0) {
        std::cerr << "shoal: --timeout: expected a duration such as 10s or 2m, got \""
                  << timeout_text << "\"\n";
        return kExitUsage;
      }
      timeout = *parsed;
    }
    return shoal::run_control_command(json ? "status json" : signal_name, config_path, timeout);
  }
  // Reload and upgrade read the file again, after -d changed to "/".
  config_path = std::filesystem::absolute(config_path).lexically_normal().string();
  if (upgrade_trial && !test_only && !dump) return run_upgrade_trial(config_path);
  if (upgrade_state && !test_only && !dump) return run_upgraded(config_path, upgrade_state);

  std::unique_ptr<shoal::Site> site;
  // The session ticket keys every worker of every generation will share (a master only).
  std::shared_ptr<shoal::tls::TicketKeys> tickets;
  try {
    if (!test_only && !dump) {
      tickets = std::make_shared<shoal::tls::TicketKeys>(shoal::tls::TicketKeys::create());
    }
    site = shoal::load_site(config_path, tickets.get());
  } catch (const shoal::ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << "shoal: " << error.to_string() << "\n";
    if (test_only || dump) std::cerr << "shoal: configuration " << config_path << " test failed\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "shoal: " << config_path << ": " << e.what() << "\n";
    return kExitConfig;
  }
  if (test_only || dump) {
    // As nginx -t: what the start would fail to open is a failed test too.
    auto problems = shoal::check_startup_paths(site->config);
    if (!problems.empty()) {
      for (const auto& error : problems) std::cerr << "shoal: " << error.to_string() << "\n";
      std::cerr << "shoal: configuration " << config_path << " test failed\n";
      return kExitConfig;
    }
  }
  if (dump) {
    std::cout << shoal::dump_config(site->config);
    return kExitOk;
  }
  if (test_only) {
    std::cout << "configuration " << config_path << " is ok\n";
    return kExitOk;
  }

  // Each start-up error is printed once: to the error log once it is open, and as
  // "shoal: ..." on stderr unless the error log is stderr already.
  const std::string error_log_path = site->config.log.error.path;
  bool error_log_open = false;
  try {
    shoal::setup_error_log(site->config.log.error);
    error_log_open = true;
    shoal::Master master({config_path, daemon, nullptr, shoal::worker_main, std::move(tickets)},
                         std::move(site));
    return master.run();
  } catch (const std::exception& e) {
    if (error_log_open) spdlog::critical("{}", e.what());
    if (!error_log_open || error_log_path != "stderr") std::cerr << "shoal: " << e.what() << "\n";
    return kExitStartup;
  }
}
