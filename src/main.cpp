// shoal's command line: test a configuration (-t), print versions (-V), or run the master.
// Start-up errors are caught here, once, and printed as one line each on stderr.
#include <event2/event.h>
#include <llhttp.h>
#include <spdlog/spdlog.h>
#include <spdlog/version.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "config/loader.hpp"
#include "log/logging.hpp"
#include "master/master.hpp"
#include "worker/site.hpp"

#ifndef SHOAL_VERSION
#define SHOAL_VERSION "dev"
#endif

namespace {

constexpr const char* kDefaultConfig = "/etc/shoal/shoal.yaml";

// Exit statuses (documented in shoal(8)).
constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;   // the configuration is invalid
constexpr int kExitStartup = 2;  // valid, but the server could not start (bind, pid file, ...)

void print_versions() {
  std::printf("shoal %s\n", SHOAL_VERSION);
  std::printf("built with libevent %s, yaml-cpp %s, spdlog %d.%d.%d, llhttp %d.%d.%d\n",
              event_get_version(), SHOAL_YAMLCPP_VERSION, SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
              SPDLOG_VER_PATCH, LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"shoal: an HTTP/1.1 server with a master, workers and helper processes"};
  std::string config_path = kDefaultConfig;
  bool test_only = false;
  bool version = false;
  app.add_option("-c,--config", config_path, "configuration file")->default_str(kDefaultConfig);
  app.add_flag("-t,--test", test_only, "test the configuration and exit");
  app.add_flag("-V,--version", version, "print the version and the libraries' versions");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (version) {
    print_versions();
    return kExitOk;
  }

  std::unique_ptr<shoal::Site> site;
  try {
    site = shoal::load_site(config_path);
  } catch (const shoal::ConfigErrors& e) {
    for (const auto& error : e.errors()) std::cerr << "shoal: " << error.to_string() << "\n";
    std::cerr << "shoal: configuration " << config_path << " test failed\n";
    return kExitConfig;
  } catch (const std::exception& e) {
    std::cerr << "shoal: " << config_path << ": " << e.what() << "\n";
    return kExitConfig;
  }
  if (test_only) {
    std::cout << "configuration " << config_path << " is ok\n";
    return kExitOk;
  }

  try {
    shoal::setup_error_log(site->config.log.error);
    shoal::Master master(std::move(site));
    return master.run();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    std::cerr << "shoal: " << e.what() << "\n";
    return kExitStartup;
  }
}
