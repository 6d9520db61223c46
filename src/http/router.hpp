// Routing: which server answers a Host on a listen address, and which of its routes answers a
// path (the longest prefix that ends on a segment boundary).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace shoal::http {

// "/a" matches "/a" and "/a/b" but not "/ab"; "/a/" matches "/a/" and "/a/b".
bool route_matches(std::string_view prefix, std::string_view path);

// The route with the longest matching prefix, or nullptr.
const Route* select_route(const std::vector<Route>& routes, std::string_view path);

// Lower case, without a port and without a trailing dot: "Example.COM.:80" -> "example.com".
std::string normalize_host(std::string_view host);

// Exact names, "*.example.com" (any subdomain) and ".example.com" (the name and subdomains).
bool server_name_matches(std::string_view pattern, std::string_view host);

// The servers that share one listen address, in config order; the first is the default.
class VirtualHosts {
 public:
  void add(const ServerConfig* server) { servers_.push_back(server); }
  bool empty() const { return servers_.empty(); }

  // An exact name beats a wildcard; no match gives the default server.
  const ServerConfig& select(std::string_view normalized_host) const;
  // The server every request gets when this address has only one (no Host to look at).
  const ServerConfig* only() const { return servers_.size() == 1 ? servers_.front() : nullptr; }
  // The first server of the address: it answers an unknown or missing name.
  const ServerConfig& default_server() const { return *servers_.front(); }

 private:
  std::vector<const ServerConfig*> servers_;
};

}  // namespace shoal::http
