// The service-manager side against the real binary: sd_notify messages on a NOTIFY_SOCKET
// the test listens on, as systemd would for Type=notify.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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

// Issue 29: the master pings systemd's watchdog from its loop, before and after an upgrade's
// exec, so that a master whose loop stops (a new image hung after the exec) is restarted.
TEST(ServiceTest, PingsTheWatchdogFromItsLoopAcrossAnUpgrade) {
  TempDir sockets;
  NotifySocket notify(sockets / "notify");
  setenv("WATCHDOG_USEC", "200000", 1);  // 200 ms: a ping every 100 ms
  ShoalServer server(kConfig);
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(notify.wait_for("READY=1"));
  notify.clear();
  ASSERT_TRUE(notify.wait_for("WATCHDOG=1"));
  EXPECT_NE(server.error_log().find("systemd watchdog: a ping every 100 ms"), std::string::npos);
  // The new image of an upgrade keeps pinging (the variable goes across the exec).
  auto upgrade = run_shoal({"-c", server.config_path(), "-s", "upgrade"}, server.dir());
  ASSERT_EQ(upgrade.status, 0) << upgrade.output;
  notify.clear();
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1"));
  EXPECT_EQ(count(server.error_log(), "systemd watchdog: a ping every 100 ms"), 2u);
}

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

TEST(ServiceTest, AGracefulStopWithDrainDelayTellsTheManagerWhenTheDrainStarts) {
  TempDir sockets;
  NotifySocket notify(sockets / "notify");
  ShoalServer server(std::string("drain_delay: 30s\n") + kConfig);
  ASSERT_TRUE(notify.wait_for("READY=1"));
  notify.clear();
  ASSERT_EQ(kill(server.pid(), SIGQUIT), 0);
  // STOPPING=1 and the status line come with the drain, long before the workers stop.
  ASSERT_TRUE(notify.wait_for("STOPPING=1"));
  ASSERT_TRUE(notify.wait_for("STATUS=draining before a graceful stop (health 503)"))
      << notify.receive();
  EXPECT_TRUE(alive(server.pid()));
  EXPECT_EQ(server.children().size(), 2u);
  ASSERT_TRUE(server.signal_and_wait(SIGQUIT));  // the second one cuts the delay short
}

TEST(ServiceTest, UsesTheListeningSocketSystemdPasses) {
  // What systemd does for shoal.socket: bind and listen, then start the service with the
  // socket as fd 3 and LISTEN_FDS=1, LISTEN_PID=<the service's pid>.
  TempDir dir;
  // free_port() closes the port it found: a test running beside this one may take it first.
  int port = 0;
  int listener = -1;
  for (int attempt = 0; attempt < 20 && listener < 0; ++attempt) {
    port = free_port();
    listener = listen_on_loopback(port);
  }
  ASSERT_GE(listener, 0);
  write_file(
      dir / "shoal.yaml",
      "workers: 2\n"
      "log: { error: { path: " +
          dir / "error.log" +
          ", level: info } }\n"
          "servers:\n  - listen: 127.0.0.1:" +
          std::to_string(port) +
          "\n    routes:\n      - match: /\n        return: { status: 200, body: passed }\n");
  const std::string config = dir / "shoal.yaml";
  pid_t pid = fork();
  if (pid == 0) {
    if (listener == 3) {
      fcntl(3, F_SETFD, 0);  // dup2 onto itself would leave it close-on-exec
    } else {
      dup2(listener, 3);
    }
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
    execl(SHOAL_BINARY, SHOAL_BINARY, "-c", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(listener);  // only shoal holds it now
  // shoal cannot bind this port itself (the passed socket holds it): serving proves it used it.
  EXPECT_TRUE(wait_until([&] {
    auto r = get(port, "/");
    return r && r->body == "passed";
  }));
  EXPECT_NE(read_file(dir / "error.log").find("through the socket systemd passed"),
            std::string::npos);
  kill(pid, SIGQUIT);
  int status = 0;
  ASSERT_TRUE(wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir / "error.log");
}

}  // namespace
}  // namespace shoal::test
