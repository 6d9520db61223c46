// Forwarding rules for the proxy: hop-by-hop fields, the upstream target and head.
#include "proxy/forward.hpp"

#include <algorithm>
#include <cctype>

#include "util/text.hpp"

namespace shoal::proxy {

namespace {

constexpr std::string_view kHopByHop[] = {"connection",      "keep-alive",        "te",
                                          "trailer",         "transfer-encoding", "upgrade",
                                          "proxy-connection"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void add_tokens(std::string_view value, std::vector<std::string>& out) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    auto token = trim_ows(value.substr(0, comma));
    if (!token.empty()) out.push_back(lower(token));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

bool hop_by_hop(std::string_view name, const std::vector<std::string>& tokens) {
  for (auto h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  for (const auto& t : tokens) {
    if (iequals(name, t)) return true;
  }
  return false;
}

std::vector<std::string> connection_tokens(const Fields& fields) {
  std::vector<std::string> out;
  for (const auto& [name, value] : fields) {
    if (iequals(name, "Connection")) add_tokens(value, out);
  }
  return out;
}

std::vector<std::string> connection_tokens(const std::vector<http::Header>& fields) {
  std::vector<std::string> out;
  for (const auto& h : fields) {
    if (iequals(h.name, "Connection")) add_tokens(h.value, out);
  }
  return out;
}

std::string upstream_target(std::string_view target, const ProxyAction& action) {
  std::string_view rest = target;
  if (!action.strip_prefix.empty() && rest.starts_with(action.strip_prefix)) {
    const std::string_view prefix = action.strip_prefix;
    const bool boundary = rest.size() == prefix.size() || prefix.back() == '/' ||
                          rest[prefix.size()] == '/' || rest[prefix.size()] == '?';
    if (boundary) rest.remove_prefix(prefix.size());
  }
  std::string out = action.add_prefix;
  if (!out.empty() && out.back() == '/' && !rest.empty() && rest.front() == '/') out.pop_back();
  out += rest;
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

bool wants_tunnel(const http::Request& request) {
  return request.upgrade && !request.has_body && request.method != "HEAD";
}

std::string upstream_request_head(const http::Request& request, const ProxyAction& action,
                                  const ClientSide& client, bool chunked, bool tunnel) {
  const auto tokens = connection_tokens(request.headers);
  std::string head;
  head.reserve(256 + request.target.size());
  head += request.method;
  head += ' ';
  head += upstream_target(request.target, action);
  head += " HTTP/1.1\r\n";
  const std::string* host = request.header("Host");
  head += "Host: ";
  head += !action.host.empty() ? std::string_view(action.host)
          : host               ? std::string_view(*host)
                               : std::string_view("localhost");
  head += "\r\n";
  std::string forwarded_for;
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Host") || iequals(h.name, "Content-Length") ||
        iequals(h.name, "X-Forwarded-Proto") || iequals(h.name, "X-Forwarded-Host")) {
      continue;
    }
    if (hop_by_hop(h.name, tokens) && !(tunnel && iequals(h.name, "Upgrade"))) continue;
    if (iequals(h.name, "X-Forwarded-For")) {  // appended to, as nginx's
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for += h.value;
      continue;
    }
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  if (!forwarded_for.empty()) forwarded_for += ", ";
  forwarded_for += client.address;
  head += "X-Forwarded-For: " + forwarded_for + "\r\n";
  head += client.tls ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n";
  if (host) head += "X-Forwarded-Host: " + *host + "\r\n";
  for (const auto& [name, value] : action.headers) head += name + ": " + value + "\r\n";
  if (tunnel) {
    head += "Connection: upgrade\r\n";
  } else if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (const std::string* length = request.header("Content-Length")) {
    head += "Content-Length: " + *length + "\r\n";
  }
  head += "\r\n";
  return head;
}

Fields client_response_fields(const Fields& upstream, bool tunnel) {
  const auto tokens = connection_tokens(upstream);
  Fields out;
  out.reserve(upstream.size());
  for (const auto& field : upstream) {
    if (tunnel && iequals(field.first, "Upgrade")) {
      out.push_back(field);
      continue;
    }
    if (hop_by_hop(field.first, tokens) || iequals(field.first, "Content-Length") ||
        iequals(field.first, "Date") || iequals(field.first, "Server")) {
      continue;  // the connection writes its own Date, Server and framing
    }
    out.push_back(field);
  }
  return out;
}

bool idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) return true;
  }
  return false;
}

}  // namespace shoal::proxy
