// Router: server selection by Host and route selection by path prefix.
#include "http/router.hpp"

#include <cassert>

namespace shoal::http {

bool route_matches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

const Route* select_route(const std::vector<Route>& routes, std::string_view path) {
  const Route* best = nullptr;
  for (const auto& route : routes) {
    if (route_matches(route.match, path) && (!best || route.match.size() > best->match.size())) {
      best = &route;
    }
  }
  return best;
}

std::string normalize_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool server_name_matches(std::string_view pattern, std::string_view host) {
  if (pattern.starts_with("*.")) {
    auto suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  if (pattern.starts_with(".")) {
    return host == pattern.substr(1) || (host.size() > pattern.size() && host.ends_with(pattern));
  }
  return pattern == host;
}

const ServerConfig& VirtualHosts::select(std::string_view host) const {
  assert(!servers_.empty());
  for (const auto* server : servers_) {
    for (const auto& name : server->server_names) {
      if (name == host) return *server;
    }
  }
  for (const auto* server : servers_) {
    for (const auto& name : server->server_names) {
      if (server_name_matches(name, host)) return *server;
    }
  }
  return *servers_.front();
}

}  // namespace shoal::http
