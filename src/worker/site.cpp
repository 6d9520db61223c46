// Site loading: config, MIME table, virtual hosts per listen address.
#include "worker/site.hpp"

#include "config/loader.hpp"
#include "metrics/layout.hpp"

namespace shoal {

std::unique_ptr<Site> load_site(const std::string& config_path, const tls::TicketKeys* tickets) {
  auto site = std::make_unique<Site>();
  site->config = load_config(config_path);
  const auto& config = site->config;
  // Counting must fit the shared segment: a configuration that cannot is refused here (-t,
  // start, reload), never started with series that count nowhere.
  if (auto why = metrics::check_fits(config); !why.empty()) {
    throw ConfigErrors({{config_path, 0, 0, why}});
  }
  site->mime = config.mime_types.empty()
                   ? http::MimeTypes::builtin(config.default_type)
                   : http::MimeTypes::load(config.mime_types, config.default_type);
  // Pointers into site->config.servers: the Site is never moved or copied after this.
  for (const auto& server : site->config.servers) {
    for (const auto& address : server.listen) site->hosts_by_address[address.text].add(&server);
  }
  site->tls = tls::Contexts::build(site->config, site->hosts_by_address, tickets);
  return site;
}

}  // namespace shoal
