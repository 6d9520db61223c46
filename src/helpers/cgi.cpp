// CGI logic: script lookup, meta-variables and the program's header block.
#include "helpers/cgi.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "util/text.hpp"

namespace shoal::helpers {

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

ScriptLocation locate_cgi_script(const std::string& root, std::string_view prefix,
                                 std::string_view path) {
  ScriptLocation loc;
  if (!path.starts_with(prefix)) {
    loc.status = 404;
    return loc;
  }
  // Segments after the prefix: "/cgi-bin/" + "a/b.sh/x" or "/cgi-bin" + "/a/b.sh/x".
  size_t pos = prefix.size();
  if (pos < path.size() && path[pos] == '/') ++pos;
  bool last_was_dir = true;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string relative(path.substr(prefix.size(), end - prefix.size()));
    std::string filename = root;
    if (!relative.starts_with("/")) filename += '/';
    filename += relative;
    struct stat st {};
    if (::stat(filename.c_str(), &st) != 0) {
      loc.status = 404;
      return loc;
    }
    if (S_ISREG(st.st_mode)) {
      if (::access(filename.c_str(), X_OK) != 0) {
        loc.status = 403;
        return loc;
      }
      loc.filename = std::move(filename);
      loc.script_name = std::string(path.substr(0, end));
      loc.path_info = std::string(path.substr(end));
      return loc;
    }
    last_was_dir = S_ISDIR(st.st_mode);
    if (!last_was_dir) {
      loc.status = 403;
      return loc;
    }
    pos = end + 1;
  }
  loc.status = last_was_dir ? 403 : 404;  // a directory, not a program
  return loc;
}

CgiHeadResult parse_cgi_head(std::string_view output, CgiHead& head, size_t& body_offset,
                             size_t max_bytes) {
  head = CgiHead{};
  size_t pos = 0;
  bool have_status = false;
  bool have_type = false;
  bool have_location = false;
  while (true) {
    auto nl = output.find('\n', pos);
    if (nl == std::string_view::npos) {
      return output.size() > max_bytes ? CgiHeadResult::kInvalid : CgiHeadResult::kIncomplete;
    }
    if (nl + 1 > max_bytes) return CgiHeadResult::kInvalid;
    auto line = output.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) break;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return CgiHeadResult::kInvalid;
    auto name = line.substr(0, colon);
    for (char c : name) {
      if (!is_token_char(c)) return CgiHeadResult::kInvalid;
    }
    auto value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return CgiHeadResult::kInvalid;
      }
    }
    if (iequals(name, "Status")) {
      int status = 0;
      auto code = value.substr(0, 3);
      auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
      if (ec != std::errc() || end != code.data() + 3 || status < 100 || status > 599 ||
          (value.size() > 3 && value[3] != ' ')) {
        return CgiHeadResult::kInvalid;
      }
      head.status = status;
      have_status = true;
      continue;
    }
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "Connection")) {
      continue;  // framing is the server's business
    }
    if (iequals(name, "Content-Type")) have_type = true;
    if (iequals(name, "Location")) have_location = true;
    head.headers.emplace_back(std::string(name), std::string(value));
  }
  if (!have_status && !have_type && !have_location) return CgiHeadResult::kInvalid;
  // A Location without a Status is a redirect (RFC 3875 section 6.2.3/6.2.4).
  if (have_location && !have_status) head.status = 302;
  body_offset = pos;
  return CgiHeadResult::kDone;
}

std::vector<std::string> cgi_environment(const CgiRequest& r) {
  std::vector<std::string> env;
  auto add = [&](std::string_view name, std::string_view value) {
    std::string e(name);
    e += '=';
    e += value;
    env.push_back(std::move(e));
  };
  add("GATEWAY_INTERFACE", "CGI/1.1");
  add("SERVER_SOFTWARE", "shoal");
  add("SERVER_PROTOCOL", r.protocol);
  add("SERVER_NAME", r.server_name);
  add("SERVER_PORT", std::to_string(r.server_port));
  add("REQUEST_METHOD", r.method);
  add("REQUEST_URI", r.target);
  add("QUERY_STRING", r.query);
  add("REMOTE_ADDR", r.remote_addr);
  add("REMOTE_PORT", std::to_string(r.remote_port));
  if (r.https) add("HTTPS", "on");
  add("PATH", "/usr/local/bin:/usr/bin:/bin");
  if (!r.headers) return env;
  std::vector<std::pair<std::string, std::string>> merged;  // HTTP_* with repeats joined
  for (const auto& [name, value] : *r.headers) {
    if (iequals(name, "Content-Type")) {
      add("CONTENT_TYPE", value);
      continue;
    }
    // Content-Length comes from the body the helper received; Proxy is never passed on
    // (httpoxy: HTTP_PROXY would be taken for a proxy setting by many programs).
    if (iequals(name, "Content-Length") || iequals(name, "Proxy")) continue;
    std::string var = "HTTP_";
    bool ok = !name.empty();
    for (char c : name) {
      if (c == '-') {
        var += '_';
      } else if (std::isalnum(static_cast<unsigned char>(c))) {
        var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      } else {
        ok = false;  // a name that cannot be a variable name is left out
      }
    }
    if (!ok) continue;
    bool joined = false;
    for (auto& m : merged) {
      if (m.first == var) {
        m.second += ", " + value;
        joined = true;
      }
    }
    if (!joined) merged.emplace_back(std::move(var), value);
  }
  for (const auto& [var, value] : merged) add(var, value);
  return env;
}

}  // namespace shoal::helpers
