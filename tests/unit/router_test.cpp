// Routing: route prefixes on segment boundaries and server selection by Host.
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

std::vector<Route> routes(std::initializer_list<const char*> prefixes) {
  std::vector<Route> out;
  for (const char* p : prefixes) out.push_back(Route{p, ReturnAction{}, {}, false, {}});
  return out;
}

std::string chosen(const std::vector<Route>& r, std::string_view path) {
  const Route* route = select_route(r, path);
  return route ? route->match : "<none>";
}

TEST(Router, PrefixMatchesOnSegmentBoundaries) {
  EXPECT_TRUE(route_matches("/a", "/a"));
  EXPECT_TRUE(route_matches("/a", "/a/b"));
  EXPECT_FALSE(route_matches("/a", "/ab"));
  EXPECT_TRUE(route_matches("/a/", "/a/b"));
  EXPECT_FALSE(route_matches("/a/", "/a"));
  EXPECT_TRUE(route_matches("/", "/anything"));
}

TEST(Router, LongestPrefixWins) {
  auto r = routes({"/", "/a", "/a/b", "/cgi-bin/"});
  EXPECT_EQ(chosen(r, "/"), "/");
  EXPECT_EQ(chosen(r, "/a"), "/a");
  EXPECT_EQ(chosen(r, "/ab"), "/");
  EXPECT_EQ(chosen(r, "/a/b/c"), "/a/b");
  EXPECT_EQ(chosen(r, "/a/bc"), "/a");
  EXPECT_EQ(chosen(r, "/cgi-bin/x"), "/cgi-bin/");
  EXPECT_EQ(chosen(r, "/cgi-bin"), "/");
  EXPECT_EQ(chosen(routes({"/a"}), "/b"), "<none>");
}

TEST(Router, NormalizeHost) {
  EXPECT_EQ(normalize_host("Example.COM"), "example.com");
  EXPECT_EQ(normalize_host("example.com:8080"), "example.com");
  EXPECT_EQ(normalize_host("example.com."), "example.com");
  EXPECT_EQ(normalize_host("[::1]:80"), "[::1]");
  EXPECT_EQ(normalize_host(""), "");
}

TEST(Router, ServerNames) {
  EXPECT_TRUE(server_name_matches("a.test", "a.test"));
  EXPECT_FALSE(server_name_matches("a.test", "b.a.test"));
  EXPECT_TRUE(server_name_matches("*.a.test", "b.a.test"));
  EXPECT_FALSE(server_name_matches("*.a.test", "a.test"));
  EXPECT_TRUE(server_name_matches(".a.test", "a.test"));
  EXPECT_TRUE(server_name_matches(".a.test", "x.y.a.test"));
  EXPECT_FALSE(server_name_matches(".a.test", "xa.test"));
}

TEST(Router, VirtualHostsPreferExactNamesThenWildcardsThenTheDefault) {
  ServerConfig first;
  first.server_names = {"first.test"};
  ServerConfig wildcard;
  wildcard.server_names = {"*.example.test"};
  ServerConfig exact;
  exact.server_names = {"www.example.test"};
  VirtualHosts hosts;
  hosts.add(&first);
  hosts.add(&wildcard);
  hosts.add(&exact);
  EXPECT_EQ(&hosts.select("www.example.test"), &exact);
  EXPECT_EQ(&hosts.select("api.example.test"), &wildcard);
  EXPECT_EQ(&hosts.select("first.test"), &first);
  EXPECT_EQ(&hosts.select("unknown.test"), &first);
  EXPECT_EQ(&hosts.select(""), &first);
  EXPECT_EQ(hosts.only(), nullptr);  // several servers: the Host decides
}

TEST(Router, ASingleServerIsChosenWithoutAHost) {
  ServerConfig alone;
  alone.server_names = {"alone.test"};
  VirtualHosts hosts;
  hosts.add(&alone);
  EXPECT_EQ(hosts.only(), &alone);
  EXPECT_EQ(&hosts.select("other.test"), &alone);  // what select would have said anyway
}

}  // namespace
}  // namespace shoal::http
