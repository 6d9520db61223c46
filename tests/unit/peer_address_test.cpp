// PeerAddress: the client's address as text, as logs and X-Forwarded-For print it.
#include "net/peer_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace shoal {
namespace {

PeerAddress v4(const char* text) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(5555);
  inet_pton(AF_INET, text, &in.sin_addr);
  return PeerAddress(reinterpret_cast<const sockaddr*>(&in));
}

TEST(PeerAddressTest, PrintsAddressesAsInetNtopWould) {
  for (const char* text :
       {"0.0.0.0", "127.0.0.1", "10.20.30.40", "192.0.2.255", "255.255.255.255"}) {
    EXPECT_EQ(v4(text).text(), text);
  }
  EXPECT_EQ(v4("10.0.0.1").port(), 5555);
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
  EXPECT_EQ(PeerAddress(reinterpret_cast<const sockaddr*>(&in6)).text(), "2001:db8::1");
  EXPECT_EQ(PeerAddress().text(), "-");
}

}  // namespace
}  // namespace shoal
