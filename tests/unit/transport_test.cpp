// net::Transport on a plain socket pair: reads, writes an OutputQueue, and shuts its side.
// (TLS through it is exercised end to end by the TLS integration tests.)
#include "net/transport.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace shoal::net {
namespace {

struct Pair {
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~Pair() { ::close(fds[1]); }  // fds[0] belongs to the transport
  int fds[2] = {-1, -1};
};

std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  return out;
}

TEST(Transport, PlainReadsWhatArrivesAndSaysWhenToWait) {
  Pair pair;
  Transport transport(pair.fds[0]);
  EXPECT_FALSE(transport.secure());
  EXPECT_EQ(transport.protocol(), "");
  char buffer[64];
  EXPECT_EQ(transport.read(buffer, sizeof buffer), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_FALSE(transport.take_read_wants_write());  // a plain socket waits to be readable
  ASSERT_EQ(::write(pair.fds[1], "GET / HTTP/1.1\r\n", 16), 16);
  EXPECT_EQ(transport.read(buffer, sizeof buffer), 16);
  EXPECT_EQ(std::string(buffer, 16), "GET / HTTP/1.1\r\n");
  EXPECT_FALSE(transport.has_buffered_input());
  ::shutdown(pair.fds[1], SHUT_WR);
  EXPECT_EQ(transport.read(buffer, sizeof buffer), 0);  // the peer's end
}

TEST(Transport, PlainWritesTheQueueThenShutsItsSide) {
  Pair pair;
  Transport transport(pair.fds[0]);
  OutputQueue queue;
  queue.append("HTTP/1.1 200 OK\r\n");
  queue.append("\r\nbody");
  EXPECT_EQ(transport.write(queue, false), OutputQueue::Flush::kDone);
  EXPECT_TRUE(queue.empty());
  transport.shutdown_write();
  EXPECT_EQ(read_all(pair.fds[1]), "HTTP/1.1 200 OK\r\n\r\nbody");
  char c;
  EXPECT_EQ(::read(pair.fds[1], &c, 1), 0);  // EOF after the bytes
}

TEST(Transport, PlainWriteBlocksWhenThePeerDoesNotRead) {
  Pair pair;
  Transport transport(pair.fds[0]);
  OutputQueue queue;
  queue.append(std::string(8 * 1024 * 1024, 'x'));
  EXPECT_EQ(transport.write(queue, false), OutputQueue::Flush::kBlocked);
  EXPECT_GT(queue.pending(), 0u);
  ::close(pair.fds[1]);
  pair.fds[1] = ::open("/dev/null", O_RDONLY);
  const auto old = ::signal(SIGPIPE, SIG_IGN);                           // as in a worker
  EXPECT_EQ(transport.write(queue, false), OutputQueue::Flush::kError);  // EPIPE: the peer left
  ::signal(SIGPIPE, old);
}

}  // namespace
}  // namespace shoal::net
