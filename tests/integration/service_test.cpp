// The service-manager side against the real binary: sd_notify messages on a NOTIFY_SOCKET
// the test listens on, as systemd would for Type=notify.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "harness.hpp"

namespace shoal::test {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
    }
    setenv("NOTIFY_SOCKET", path.c_str(), 1);  // inherited by the server the test starts
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }

  // Every datagram received so far (waiting up to `timeout` for a new one), joined.
  std::string receive(std::chrono::milliseconds timeout = 0ms) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        seen_ += std::string(buf, static_cast<size_t>(n)) + "\n--\n";
      }
    }
    return seen_;
  }
  // Waits until everything received contains `needle`.
  bool wait_for(const std::string& needle) {
    return wait_until([&] { return receive(50ms).find(needle) != std::string::npos; });
  }
  void clear() { seen_.clear(); }

 private:
  int fd_ = -1;
  std::string seen_;
};

const char* kConfig =
    "workers: 2\n"
    "servers:\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: \"ok\" }\n";

TEST(ServiceTest, NotifiesReadyReloadingAndStopping) {
  TempDir sockets;
  NotifySocket notify(sockets / "notify");
  ShoalServer server(kConfig);
  ASSERT_TRUE(notify.wait_for("READY=1"));
  EXPECT_NE(notify.receive().find("STATUS=generation 1 serving with 2/2 workers"),
            std::string::npos)
      << notify.receive();

  notify.clear();
  auto result = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(result.status, 0) << result.output;
  ASSERT_TRUE(notify.wait_for("READY=1"));
  const std::string reload = notify.receive();
  const auto reloading = reload.find("RELOADING=1\nMONOTONIC_USEC=");
  ASSERT_NE(reloading, std::string::npos) << reload;
  EXPECT_GT(reload.find("READY=1"), reloading) << reload;
  EXPECT_NE(reload.find("generation 2 serving"), std::string::npos) << reload;

  // A refused reload still ends with READY=1, so the manager does not wait forever.
  notify.clear();
  server.rewrite_config(std::string(kConfig) + "bogus: 1\n");
  result = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  ASSERT_EQ(result.status, 1) << result.output;
  ASSERT_TRUE(notify.wait_for("READY=1"));
  EXPECT_NE(notify.receive().find("last reload refused"), std::string::npos);

  notify.clear();
  ASSERT_TRUE(server.signal_and_wait(SIGQUIT));
  EXPECT_NE(notify.receive().find("STOPPING=1"), std::string::npos) << notify.receive();
}

}  // namespace
}  // namespace shoal::test
