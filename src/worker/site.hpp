// Site: everything a worker serves from, built once from the config file: the Config itself,
// the MIME table and, per listen address, its virtual hosts. Immutable after loading.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "http/mime.hpp"
#include "http/router.hpp"
#include "tls/contexts.hpp"

namespace shoal {

struct Site {
  Config config;
  http::MimeTypes mime;
  std::map<std::string, http::VirtualHosts> hosts_by_address;  // key: ListenAddress::text
  // The TLS contexts of its servers and addresses, built by the master as root.
  std::unique_ptr<tls::Contexts> tls;
};

// Loads and validates the config and the files it names, certificates and keys included.
// `tickets`: the master's session ticket keys (null for `-t`). Throws ConfigErrors.
std::unique_ptr<Site> load_site(const std::string& config_path,
                                const tls::TicketKeys* tickets = nullptr);

}  // namespace shoal
