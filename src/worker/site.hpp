// Site: everything a worker serves from, built once from the config file: the Config itself,
// the MIME table and, per listen address, its virtual hosts. Immutable after loading.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "http/mime.hpp"
#include "http/router.hpp"

namespace shoal {

struct Site {
  Config config;
  http::MimeTypes mime;
  std::map<std::string, http::VirtualHosts> hosts_by_address;  // key: ListenAddress::text
};

// Loads and validates the config and the files it names. Throws ConfigErrors.
std::unique_ptr<Site> load_site(const std::string& config_path);

}  // namespace shoal
