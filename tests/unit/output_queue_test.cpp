// OutputQueue over a real socketpair: bytes and file ranges leave in order, a full socket is
// kBlocked with nothing lost, a closed peer is kError, and an empty queue holds nothing.
#include "net/output_queue.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace shoal {
namespace {

class OutputQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    ours_ = fds[0];
    peer_ = fds[1];
  }
  void TearDown() override {
    if (ours_ >= 0) ::close(ours_);
    if (peer_ >= 0) ::close(peer_);
  }
  std::string drain_peer() {
    std::string got;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(peer_, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    return got;
  }
  // A file on disk, opened as the file cache would hold it (not in memory: sendfile).
  std::shared_ptr<const http::CachedFile> file_with(const std::string& content) {
    char name[] = "/tmp/shoal-oq-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::unlink(name);
    auto file = std::make_shared<http::CachedFile>();
    file->fd.reset(fd);
    fstat(fd, &file->st);
    return file;
  }

  int ours_ = -1;
  int peer_ = -1;
};

TEST_F(OutputQueueTest, BytesAndFileRangesLeaveInOrder) {
  OutputQueue queue;
  queue.append("HTTP/1.1 200 OK\r\n\r\n");
  queue.append_file(file_with("0123456789"), 2, 5);
  queue.append("tail");
  EXPECT_EQ(queue.pending(), 19u + 5u + 4u);
  EXPECT_EQ(queue.flush(ours_), OutputQueue::Flush::kDone);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending(), 0u);
  EXPECT_EQ(drain_peer(), "HTTP/1.1 200 OK\r\n\r\n23456tail");
}

TEST_F(OutputQueueTest, AFullSocketBlocksAndLosesNothing) {
  OutputQueue queue;
  std::string big;
  for (int i = 0; i < 4 * 1024 * 1024 / 16; ++i) big += "0123456789abcdef";
  queue.append(big);
  EXPECT_EQ(queue.flush(ours_), OutputQueue::Flush::kBlocked);
  EXPECT_FALSE(queue.empty());
  EXPECT_LT(queue.pending(), big.size());
  std::string got;
  while (true) {
    got += drain_peer();
    const auto result = queue.flush(ours_);
    if (result == OutputQueue::Flush::kDone) break;
    ASSERT_EQ(result, OutputQueue::Flush::kBlocked);
  }
  got += drain_peer();
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(got, big);
}

TEST_F(OutputQueueTest, AClosedPeerIsAnError) {
  OutputQueue queue;
  ::close(peer_);
  peer_ = -1;
  queue.append("nobody reads this");
  EXPECT_EQ(queue.flush(ours_), OutputQueue::Flush::kError);
}

TEST_F(OutputQueueTest, AnEmptyQueueFlushesAtOnceAndReleasesItsMemory) {
  OutputQueue queue;
  EXPECT_EQ(queue.flush(ours_), OutputQueue::Flush::kDone);
  queue.append(std::string(100'000, 'x'));
  while (queue.flush(ours_) != OutputQueue::Flush::kDone) drain_peer();
  queue.release();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pending(), 0u);
  queue.append("again");
  EXPECT_EQ(queue.flush(ours_), OutputQueue::Flush::kDone);
  std::string rest = drain_peer();
  EXPECT_EQ(rest.substr(rest.size() - 5), "again");
}

}  // namespace
}  // namespace shoal
