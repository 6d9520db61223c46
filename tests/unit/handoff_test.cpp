// Hand-over between workers (issue 15): choosing the sibling, the datagram with its
// descriptor, and a head that parses back to the same request.
#include "worker/handoff.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "config/config.hpp"
#include "helpers/occupancy.hpp"
#include "http/request_parser.hpp"
#include "http1/wire.hpp"

namespace shoal {
namespace {

using helpers::SlotView;

TEST(ChooseSiblingTest, AnIdleHelperElsewhereFirst) {
  // {idle, queued, taking}
  const std::vector<SlotView> slots{{0, 0, true}, {1, 0, true}, {3, 0, false}, {2, 0, true}};
  EXPECT_EQ(helpers::choose_sibling(slots, 0), 3);   // the most idle; 2 is draining
  EXPECT_EQ(helpers::choose_sibling(slots, 3), -1);  // an idle helper here: the job stays
  const std::vector<SlotView> ties{{0, 0, true}, {2, 0, true}, {2, 0, true}};
  EXPECT_EQ(helpers::choose_sibling(ties, 0), 1);  // the lowest index among equals
}

TEST(ChooseSiblingTest, WithEveryHelperBusyTheQueuesStayEven) {
  const std::vector<SlotView> even{{0, 1, true}, {0, 1, true}};
  EXPECT_EQ(helpers::choose_sibling(even, 0), -1);  // nobody better: queue here
  const std::vector<SlotView> longer_here{{0, 2, true}, {0, 1, true}};
  EXPECT_EQ(helpers::choose_sibling(longer_here, 0), 1);
  const std::vector<SlotView> shorter_here{{0, 0, true}, {0, 1, true}};
  EXPECT_EQ(helpers::choose_sibling(shorter_here, 0), -1);
  const std::vector<SlotView> draining{{0, 3, true}, {0, 0, false}};
  EXPECT_EQ(helpers::choose_sibling(draining, 0), -1);
}

TEST(OccupancyTest, TheQueueIsCountedOverEverySlot) {
  helpers::Occupancy table(3);
  EXPECT_EQ(table.total_queued(), 0);
  table.slot(0).queued = 2;
  table.slot(2).queued = 5;
  EXPECT_EQ(table.total_queued(), 7);
}

TEST(HandOffTest, TheSocketAndTheBytesArriveTogether) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  int client[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, client), 0);
  ASSERT_TRUE(send_hand_off(pair[1], client[0], "127.0.0.1:8080", "GET / HTTP/1.1\r\n\r\n"));
  std::string buffer;
  auto got = receive_hand_off(pair[0], buffer);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->address, "127.0.0.1:8080");
  EXPECT_EQ(got->bytes, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(got->fd);
  EXPECT_NE(got->fd.get(), client[0]);
  EXPECT_TRUE(fcntl(got->fd.get(), F_GETFD) & FD_CLOEXEC);
  // The same socket: what is written on the received descriptor reaches the peer.
  ASSERT_EQ(::write(got->fd.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(client[1], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  EXPECT_FALSE(receive_hand_off(pair[0], buffer));  // nothing more waiting
  // Too large for one datagram: not sent, the caller keeps the connection.
  EXPECT_FALSE(send_hand_off(pair[1], client[0], "a", std::string(kMaxHandOffBytes, 'x')));
  for (int fd : {pair[0], pair[1], client[0], client[1]}) ::close(fd);
}

TEST(HandOffTest, ADatagramThatIsNoHandOffIsRecognised) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  ASSERT_EQ(::write(pair[1], "garbage", 7), 7);
  std::string buffer;
  auto got = receive_hand_off(pair[0], buffer);
  ASSERT_TRUE(got);       // something arrived...
  EXPECT_FALSE(got->fd);  // ...but it carries no connection
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(HandOffTest, ASerializedHeadParsesBackToTheSameRequest) {
  Limits limits;
  http::RequestParser first(limits);
  const std::string raw =
      "POST /cgi-bin/x.sh?a=1 HTTP/1.1\r\nHost:  example.com \r\nContent-Length: 3\r\n"
      "X-Two: a\r\nX-Two: b\r\n\r\n";
  ASSERT_EQ(first.feed(raw).event, http::ParseEvent::kHeadComplete);
  const std::string head = http1::serialize_request_head(first.request());
  http::RequestParser second(limits);
  ASSERT_EQ(second.feed(head).event, http::ParseEvent::kHeadComplete);
  const auto& a = first.request();
  const auto& b = second.request();
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.http_minor, b.http_minor);
  ASSERT_EQ(a.headers.size(), b.headers.size());
  for (size_t i = 0; i < a.headers.size(); ++i) {
    EXPECT_EQ(a.headers[i].name, b.headers[i].name);
    EXPECT_EQ(a.headers[i].value, b.headers[i].value);
  }
  EXPECT_EQ(*b.header("Host"), "example.com");
}

}  // namespace
}  // namespace shoal
