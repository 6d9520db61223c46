// Forwarding rules for the proxy: hop-by-hop fields, the upstream target and head.
#include "proxy/forward.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

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

// "Name: value\r\n", appended without temporaries (this runs for every proxied request).
void add_field(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
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

std::string forwarded_value(std::string_view value) {
  const bool token = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
  });
  if (token) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
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
  const bool x_forwarded = action.forwarding == ForwardingHeaders::kXForwarded ||
                           action.forwarding == ForwardingHeaders::kBoth;
  const bool rfc_forwarded = action.forwarding == ForwardingHeaders::kForwarded ||
                             action.forwarding == ForwardingHeaders::kBoth;
  // Fields shoal appends to: the earlier hops' values first, in the order received.
  std::string forwarded_for;
  std::string forwarded;
  std::string via;
  auto append_to = [](std::string& list, std::string_view value) {
    if (!list.empty()) list += ", ";
    list += value;
  };
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Host") || iequals(h.name, "Content-Length")) continue;
    if (x_forwarded &&
        (iequals(h.name, "X-Forwarded-Proto") || iequals(h.name, "X-Forwarded-Host"))) {
      continue;  // shoal says what they are for this hop; a client's would be believed
    }
    if (hop_by_hop(h.name, tokens) && !(tunnel && iequals(h.name, "Upgrade"))) continue;
    if (x_forwarded && iequals(h.name, "X-Forwarded-For")) {  // appended to, as nginx's
      append_to(forwarded_for, h.value);
      continue;
    }
    if (rfc_forwarded && iequals(h.name, "Forwarded")) {
      append_to(forwarded, h.value);
      continue;
    }
    if (action.via && iequals(h.name, "Via")) {
      append_to(via, h.value);
      continue;
    }
    add_field(head, h.name, h.value);
  }
  if (x_forwarded) {
    append_to(forwarded_for, client.address);
    add_field(head, "X-Forwarded-For", forwarded_for);
    head += client.tls ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n";
    if (host) add_field(head, "X-Forwarded-Host", *host);
  }
  if (rfc_forwarded) {
    std::string element =
        "for=" + forwarded_value(client.address.find(':') == std::string_view::npos
                                     ? std::string(client.address)
                                     : "[" + std::string(client.address) + "]");
    if (host) element += ";host=" + forwarded_value(*host);
    element += client.tls ? ";proto=https" : ";proto=http";
    append_to(forwarded, element);
    add_field(head, "Forwarded", forwarded);
  }
  if (action.via) {
    append_to(via, "1.1 shoal");
    add_field(head, "Via", via);
  }
  for (const auto& [name, value] : action.headers) add_field(head, name, value);
  if (tunnel) {
    head += "Connection: upgrade\r\n";
  } else if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (const std::string* length = request.header("Content-Length")) {
    add_field(head, "Content-Length", *length);
  }
  head += "\r\n";
  return head;
}

Fields client_response_fields(Fields upstream, bool tunnel, bool via) {
  const auto tokens = connection_tokens(upstream);
  std::string via_list;
  // Filtered in place: the kept fields are moved, not copied.
  std::erase_if(upstream, [&](const Fields::value_type& field) {
    if (tunnel && iequals(field.first, "Upgrade")) return false;
    if (via && iequals(field.first, "Via")) {
      via_list += field.second + ", ";
      return true;
    }
    // The connection writes its own Date, Server and framing.
    return hop_by_hop(field.first, tokens) || iequals(field.first, "Content-Length") ||
           iequals(field.first, "Date") || iequals(field.first, "Server");
  });
  if (via) upstream.emplace_back("Via", via_list + "1.1 shoal");
  return upstream;
}

bool idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) return true;
  }
  return false;
}

}  // namespace shoal::proxy
