// Supervision against the real binary: reload (signal and `-s`), refused and abandoned
// reloads, no request lost across reloads and upgrades, reopen, restart backoff, upgrade.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace shoal::test {
namespace {

std::string config_with_body(const std::string& body, const std::string& extra = "") {
  return "workers: 2\n"
         "shutdown_timeout: 10s\n" +
         extra +
         "servers:\n"
         "  - listen: 127.0.0.1:@PORT@\n"
         "    routes:\n"
         "      - match: /\n"
         "        return: { status: 200, body: \"" +
         body + "\" }\n";
}

std::string body_of(int port) {
  auto r = get(port, "/");
  return r ? r->body : "(no response)";
}

CommandResult control(const ShoalServer& server, const std::string& command) {
  return run_shoal({"-c", server.config_path(), "-s", command}, server.dir());
}

// Clients that keep requests going on keep-alive connections while a test reloads or
// upgrades; every request sent must get a 200. A connection the server closes after a
// response that said `Connection: close` is replaced by a new one (that is allowed); a
// request that gets no response at all is a failure.
class KeepAliveLoad {
 public:
  KeepAliveLoad(int port, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port, i] { loop(port, i); });
    }
  }
  ~KeepAliveLoad() { stop(); }

  void stop() {
    running_ = false;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }
  int reconnects() const { return reconnects_; }

 private:
  void loop(int port, int index) {
    std::unique_ptr<HttpClient> client;
    int n = 0;
    while (running_) {
      if (!client) client = std::make_unique<HttpClient>(port);
      client->send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
      auto r = client->read_response();
      if (!r || r->status != 200) {
        ++failed_;
        client.reset();
        continue;
      }
      ++ok_;
      if (!r->keep_alive) {
        ++reconnects_;
        client.reset();
      }
      // Odd clients pause now and then, so some connections are idle when a drain starts.
      if (index % 2 == 1 && ++n % 20 == 0) std::this_thread::sleep_for(30ms);
    }
  }

  std::atomic<bool> running_{true};
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
  std::atomic<int> reconnects_{0};
  std::vector<std::thread> threads_;
};

TEST(LifecycleTest, SighupAppliesAChangedRoute) {
  ShoalServer server(config_with_body("one"));
  EXPECT_EQ(body_of(server.port()), "one");
  server.rewrite_config(config_with_body("two"));
  kill(server.pid(), SIGHUP);
  EXPECT_TRUE(wait_until([&] { return body_of(server.port()) == "two"; }));
  EXPECT_TRUE(wait_until(
      [&] { return server.error_log().find("generation 1 has exited") != std::string::npos; }));
}

TEST(LifecycleTest, ReloadCommandWaitsAndReportsTheNewGeneration) {
  ShoalServer server(config_with_body("one"));
  const auto listening_before = loopback_sockets_on(server.port());
  server.rewrite_config(config_with_body("two") +
                        "      - match: /new\n"
                        "        return: { status: 204 }\n");
  auto result = control(server, "reload");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("generation 2 (2 workers) is serving"), std::string::npos)
      << result.output;
  // The command returns once the new generation serves: no waiting needed here.
  EXPECT_EQ(body_of(server.port()), "two");
  EXPECT_EQ(get(server.port(), "/new")->status, 204);
  // The listening socket is the very same one (never closed or rebound).
  const auto listening_after = loopback_sockets_on(server.port());
  ASSERT_FALSE(listening_before.empty());
  auto listen_inode = [](const std::vector<TcpSocketRow>& rows) {
    for (const auto& r : rows) {
      if (r.state == "0A") return r.inode;
    }
    return std::string();
  };
  EXPECT_EQ(listen_inode(listening_before), listen_inode(listening_after));
}

TEST(LifecycleTest, ReloadChangesTheWorkerCountAndTheListenAddresses) {
  ShoalServer server(config_with_body("one"));
  const int second = free_port();
  auto config = [&](int workers, const std::string& listen) {
    return "workers: " + std::to_string(workers) +
           "\n"
           "servers:\n"
           "  - listen: [" +
           listen +
           "]\n"
           "    routes:\n"
           "      - match: /\n"
           "        return: { status: 200, body: \"two\" }\n";
  };
  const std::string first = "127.0.0.1:" + std::to_string(server.port());
  server.rewrite_config(config(3, first + ", 127.0.0.1:" + std::to_string(second)));
  auto result = control(server, "reload");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(body_of(server.port()), "two");
  EXPECT_EQ(body_of(second), "two");
  EXPECT_TRUE(wait_until([&] { return server.children().size() == 3; }));

  server.rewrite_config(config(1, "127.0.0.1:" + std::to_string(second)));
  result = control(server, "reload");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(body_of(second), "two");
  EXPECT_TRUE(wait_until([&] { return server.children().size() == 1; }));
  // The removed address is closed once the generation that used it has exited.
  EXPECT_TRUE(wait_until([&] {
    for (const auto& row : loopback_sockets_on(server.port())) {
      if (row.state == "0A") return false;
    }
    return true;
  }));
}

TEST(LifecycleTest, ReuseportGroupsGrowAndShrinkWithoutAnUnservedSocket) {
  ShoalServer server("reuse_port: true\n" + config_with_body("one"));
  auto listening = [&] {
    size_t n = 0;
    for (const auto& row : loopback_sockets_on(server.port())) n += row.state == "0A" ? 1 : 0;
    return n;
  };
  EXPECT_EQ(listening(), 2u);
  server.rewrite_config("reuse_port: true\n" + std::regex_replace(config_with_body("two"),
                                                                  std::regex("workers: 2"),
                                                                  "workers: 3"));
  ASSERT_EQ(control(server, "reload").status, 0);
  EXPECT_TRUE(wait_until([&] { return listening() == 3u; }));
  server.rewrite_config("reuse_port: true\n" + std::regex_replace(config_with_body("three"),
                                                                  std::regex("workers: 2"),
                                                                  "workers: 1"));
  ASSERT_EQ(control(server, "reload").status, 0);
  EXPECT_TRUE(wait_until([&] { return server.children().size() == 1; }));
  // The kernel spreads new connections over all three sockets; the one worker accepts on
  // each, so every connection is answered.
  for (int i = 0; i < 30; ++i) ASSERT_EQ(body_of(server.port()), "three") << i;
}

TEST(LifecycleTest, AnInvalidReloadIsRefusedWithEveryErrorAndKeepsServing) {
  ShoalServer server(config_with_body("one"));
  auto workers = server.children();
  server.rewrite_config(config_with_body("two", "helpers: { count: -1 }\nbogus_key: 1\n"));
  auto result = control(server, "reload");
  EXPECT_EQ(result.status, 1) << result.output;
  const std::string config = server.config_path();
  EXPECT_NE(result.output.find(config + ":8:19:"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(config + ":9:1: unknown key"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("generation 1 (2 workers) keeps serving"), std::string::npos)
      << result.output;
  EXPECT_EQ(body_of(server.port()), "one");
  EXPECT_EQ(server.children(), workers);
  // A bare SIGHUP logs the same errors.
  kill(server.pid(), SIGHUP);
  EXPECT_TRUE(wait_until([&] {
    return server.error_log().find("reload refused: configuration") != std::string::npos;
  }));
  EXPECT_EQ(body_of(server.port()), "one");
}

TEST(LifecycleTest, AReloadWhoseWorkersCannotStartKeepsTheOldGeneration) {
  ShoalServer server(config_with_body("one"));
  auto workers = server.children();
  // Valid for the parser, but no worker can open this access log (it is a directory): they
  // fail at start-up.
  std::filesystem::create_directory(server.dir() / "a-directory");
  server.rewrite_config(config_with_body("one"), {server.dir() / "a-directory"});
  auto result = control(server, "reload");
  EXPECT_EQ(result.status, 1) << result.output;
  // The worker's own reason (issue 14, item 12), not "exited with status 2 during start-up".
  EXPECT_NE(result.output.find("could not start: "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Is a directory"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("generation 1 (2 workers) keeps serving"), std::string::npos);
  EXPECT_EQ(body_of(server.port()), "one");
  for (pid_t pid : workers) EXPECT_TRUE(alive(pid));
}

TEST(LifecycleTest, ReloadsUnderKeepAliveLoadLoseNoRequest) {
  ShoalServer server(config_with_body("one"));
  KeepAliveLoad load(server.port(), 8);
  ASSERT_TRUE(wait_until([&] { return load.ok() > 100; }));
  for (int i = 0; i < 6; ++i) {
    server.rewrite_config(config_with_body(i % 2 ? "one" : "two"));
    auto result = control(server, "reload");
    ASSERT_EQ(result.status, 0) << result.output;
  }
  const int before = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > before + 100; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.ok() << " answered";
  // Draining workers closed keep-alive connections the safe way: after Connection: close.
  EXPECT_GT(load.reconnects(), 0);
}

TEST(LifecycleTest, ReopenReturnsAfterEveryProcessReopenedItsLogs) {
  ShoalServer server(config_with_body("one"));
  ASSERT_EQ(body_of(server.port()), "one");
  std::filesystem::rename(server.dir() / "access.log", server.dir() / "access.log.1");
  std::filesystem::rename(server.dir() / "error.log", server.dir() / "error.log.1");
  auto result = control(server, "reopen");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("reopened the logs of the master and 2 workers"), std::string::npos)
      << result.output;
  // No waiting: when -s reopen returns, every process writes to the new files.
  EXPECT_TRUE(std::filesystem::exists(server.dir() / "access.log"));
  EXPECT_TRUE(std::filesystem::exists(server.dir() / "error.log"));
  ASSERT_EQ(body_of(server.port()), "one");
  EXPECT_TRUE(wait_until(
      [&] { return read_file(server.dir() / "access.log").find("GET / ") != std::string::npos; }));
  const auto old_lines = read_file(server.dir() / "access.log.1");
  EXPECT_NE(old_lines.find("GET / "), std::string::npos);
  // SIGUSR1 does the same without an answer.
  std::filesystem::rename(server.dir() / "access.log", server.dir() / "access.log.2");
  kill(server.pid(), SIGUSR1);
  EXPECT_TRUE(wait_until([&] { return std::filesystem::exists(server.dir() / "access.log"); }));
}

TEST(LifecycleTest, AWorkerThatKeepsFailingIsRestartedWithGrowingDelays) {
  ShoalServer server(config_with_body("one"));
  // Workers open their access log at start: put a directory where the file was, then kill a
  // worker; its replacements fail until the directory is gone.
  const std::string access_log = server.dir() / "access.log";
  std::filesystem::remove(access_log);
  std::filesystem::create_directory(access_log);
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[0], SIGKILL);
  const std::regex delay_line("restarting worker \\d+ in (\\d+) ms");
  std::vector<long> delays;
  ASSERT_TRUE(wait_until([&] {
    delays.clear();
    const auto log = server.error_log();
    for (std::sregex_iterator it(log.begin(), log.end(), delay_line), end; it != end; ++it) {
      delays.push_back(std::stol((*it)[1]));
    }
    return delays.size() >= 4;
  }));
  for (size_t i = 1; i < delays.size(); ++i) EXPECT_GT(delays[i], delays[i - 1]) << i;
  // The worker's own reason, not "exited with status 2" (issue 14, item 12).
  EXPECT_NE(server.error_log().find("could not start: "), std::string::npos);
  EXPECT_NE(server.error_log().find("Is a directory"), std::string::npos);
  EXPECT_NE(server.error_log().find("degraded"), std::string::npos);
  EXPECT_EQ(body_of(server.port()), "one");  // the other worker serves meanwhile
  std::filesystem::remove(access_log);
  EXPECT_TRUE(wait_until(
      [&] { return server.error_log().find("are serving again") != std::string::npos; }, 30s));
  EXPECT_EQ(server.children().size(), 2u);
}

// Issue 29: `kill -9` of every worker, again and again, held each slot in a growing backoff
// (up to 30 s) with nothing serving. A worker that served is replaced at once, every time.
TEST(LifecycleTest, WorkersKilledAgainAndAgainAreReplacedAtOnceEveryTime) {
  ShoalServer server(config_with_body("one"));
  for (int round = 0; round < 8; ++round) {
    std::vector<pid_t> workers;
    // Every worker of the round must be serving (said ready) before it is killed: its own
    // "is ready" line, by pid (a status line of an earlier round could pass for it).
    ASSERT_TRUE(wait_until([&] {
      workers = server.children();
      const auto log = server.error_log();
      return workers.size() == 2 && std::all_of(workers.begin(), workers.end(), [&](pid_t p) {
               return log.find("(pid " + std::to_string(p) + ") is ready") != std::string::npos;
             });
    })) << round
        << server.error_log();
    for (pid_t pid : workers) kill(pid, SIGKILL);
    ASSERT_TRUE(wait_until([&] { return body_of(server.port()) == "one"; })) << round;
  }
  EXPECT_TRUE(wait_until([&] {
    return count(server.error_log(), "was killed by signal 9 (Killed) while serving") == 16;
  })) << server.error_log();
  const auto log = server.error_log();
  // No restart waited: a delayed one logs "restarting worker N in M ms".
  EXPECT_EQ(log.find("restarting worker"), std::string::npos) << log;
}

// Issue 29: worker_max_rss (uWSGI's reload-on-rss). A worker that holds 300 MiB (a test-only
// ballast, taken by the first worker to start) above a 150 MiB limit for two samples is
// replaced: its successor starts, then it drains, under keep-alive load without a failed
// request; logged with its memory and counted as a restart by cause "rss".
TEST(LifecycleTest, AWorkerAboveWorkerMaxRssIsReplacedWithoutAFailedRequest) {
  TempDir scratch;
  const std::string ballast = scratch / "ballast";
  write_file(ballast, "300\n");
  setenv("SHOAL_TEST_WORKER_BALLAST", ballast.c_str(), 1);
  // As root the workers would drop to nobody before the ballast is read: that is fine (it is
  // read first), but the metrics route is read from loopback only.
  ShoalServer server(config_with_body("one", "worker_max_rss: 150m\n"));
  unsetenv("SHOAL_TEST_WORKER_BALLAST");
  ASSERT_FALSE(std::filesystem::exists(ballast)) << "a worker took the ballast";
  const auto before = server.children();
  ASSERT_EQ(before.size(), 2u);
  KeepAliveLoad load(server.port(), 4);
  ASSERT_TRUE(wait_until([&] { return load.ok() > 100; }));
  ASSERT_TRUE(wait_until(
      [&] {
        return server.error_log().find("above worker_max_rss (150.0 MiB)") != std::string::npos;
      },
      30s))
      << server.error_log();
  ASSERT_TRUE(wait_until(
      [&] { return server.error_log().find("replaced worker") != std::string::npos; }, 30s))
      << server.error_log();
  const int after_replacement = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > after_replacement + 100; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  const auto log = server.error_log();
  EXPECT_EQ(count(log, "above worker_max_rss"), 1u) << log;  // the successor is small
  EXPECT_NE(log.find("is ready: pid"), std::string::npos) << log;
  auto now = server.children();
  EXPECT_EQ(now.size(), 2u);
  size_t kept = 0;
  for (pid_t pid : now) kept += std::count(before.begin(), before.end(), pid);
  EXPECT_EQ(kept, 1u);  // one of the two was replaced
  auto status = control(server, "status");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("generation 1"), std::string::npos);  // not a reload
}

TEST(LifecycleTest, UpgradeKeepsThePidRunsTheNewImageAndLosesNoRequest) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);
  ShoalServer server(config_with_body("one"), true, binary);
  const auto exe = "/proc/" + std::to_string(server.pid()) + "/exe";
  // Install a "new" binary the way package managers do: a new file renamed over the old.
  std::filesystem::copy_file(SHOAL_BINARY, binary + ".new");
  std::filesystem::rename(binary + ".new", binary);
  ASSERT_EQ(std::filesystem::read_symlink(exe).string(), binary + " (deleted)");
  auto old_workers = server.children();

  KeepAliveLoad load(server.port(), 6);
  ASSERT_TRUE(wait_until([&] { return load.ok() > 100; }));
  auto result = control(server, "upgrade");
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("generation 2 (2 workers) is serving"), std::string::npos)
      << result.output;
  const int before = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > before + 100; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0);

  EXPECT_EQ(std::filesystem::read_symlink(exe).string(), binary);  // the new image
  EXPECT_EQ(read_file(server.dir() / "shoal.pid"), std::to_string(server.pid()) + "\n");
  for (pid_t pid : old_workers) EXPECT_TRUE(wait_until([&] { return !alive(pid); })) << pid;
  EXPECT_EQ(server.children().size(), 2u);
  // The new image is fully in charge: it reloads and stops as the old one did.
  EXPECT_EQ(control(server, "reload").status, 0);
  auto stop = control(server, "quit");
  EXPECT_EQ(stop.status, 0) << stop.output;
  EXPECT_NE(stop.output.find("stopped"), std::string::npos);
}

TEST(LifecycleTest, AnUpgradeToABinaryThatFailsItsCheckIsRefused) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  ShoalServer server(config_with_body("one"), true, binary);
  write_file(binary + ".new", "#!/bin/sh\necho 'this binary is broken' >&2\nexit 3\n");
  std::filesystem::permissions(binary + ".new", std::filesystem::perms::owner_all);
  std::filesystem::rename(binary + ".new", binary);
  auto workers = server.children();
  auto result = control(server, "upgrade");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("this binary is broken"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("keeps serving"), std::string::npos) << result.output;
  const auto exe = "/proc/" + std::to_string(server.pid()) + "/exe";
  EXPECT_EQ(std::filesystem::read_symlink(exe).string(), binary + " (deleted)");
  EXPECT_EQ(server.children(), workers);
  EXPECT_EQ(body_of(server.port()), "one");
}

// Installs `script` (a shell script standing in for a new binary; @REAL@ is the real one) over
// `binary` the way package managers do: a new file renamed over the old.
void install_wrapper(const std::string& binary, const std::string& script) {
  std::string text = "#!/bin/sh\n" + script;
  for (size_t at; (at = text.find("@REAL@")) != std::string::npos;) {
    text.replace(at, 6, SHOAL_BINARY);
  }
  write_file(binary + ".new", text);
  std::filesystem::permissions(binary + ".new", std::filesystem::perms::owner_all);
  std::filesystem::rename(binary + ".new", binary);
}

// Issue 14, defect 1: a new binary that passes -t but cannot start (exits, crashes, hangs) is
// caught by its trial start: the old image, its pid and its workers keep serving.
TEST(LifecycleTest, AnUpgradeToABinaryThatCannotStartLeavesTheOldOneServing) {
  const std::pair<const char*, const char*> cases[] = {
      {"exit 1", "exited with status 1"},
      {"kill -SEGV $$", "was killed by signal 11"},
      {"exec sleep 60", "hung for 5 s and was killed"},
  };
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  ShoalServer server(config_with_body("one"), true, binary);
  const auto exe = "/proc/" + std::to_string(server.pid()) + "/exe";
  const auto workers = server.children();
  for (const auto& [behaviour, expected] : cases) {
    install_wrapper(binary, "if [ \"$1\" = -t ]; then exec @REAL@ \"$@\"; fi\n" +
                                std::string(behaviour) + "\n");
    auto result = control(server, "upgrade");
    EXPECT_EQ(result.status, 1) << result.output;
    EXPECT_NE(result.output.find("failed its trial start"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("keeps serving"), std::string::npos) << result.output;
    EXPECT_EQ(std::filesystem::read_symlink(exe).string(), binary + " (deleted)");
    EXPECT_EQ(server.children(), workers);
    EXPECT_EQ(body_of(server.port()), "one");
  }
  EXPECT_EQ(read_file(server.dir() / "shoal.pid"), std::to_string(server.pid()) + "\n");
  EXPECT_EQ(control(server, "reload").status, 0);  // still fully in charge
}

// Issue 14, defect 1: a new binary that passes its check and its trial but fails once exec'd
// in place (here: it refuses the old image's arguments) execs the previous image again from
// the fd the old master kept; that image takes its workers back and says what happened.
// Issue 29: a new image that hangs while adopting the upgrade state used to pass its trial
// (which adopted nothing) and hang after the exec, holding the master's pid: no worker was
// replaced and `-s upgrade` never returned. The trial now adopts a copy of the state, so the
// hang happens there, is killed at the step's deadline, and the upgrade is refused.
TEST(LifecycleTest, ANewImageThatHangsWhileAdoptingIsCaughtByItsTrial) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  ShoalServer server(config_with_body("one"), true, binary);
  const auto exe = "/proc/" + std::to_string(server.pid()) + "/exe";
  install_wrapper(binary,
                  "if [ -n \"$SHOAL_UPGRADE_STATE\" ]; then exec sleep 600; fi\n"
                  "exec @REAL@ \"$@\"\n");
  KeepAliveLoad load(server.port(), 4);
  ASSERT_TRUE(wait_until([&] { return load.ok() > 50; }));
  auto result = control(server, "upgrade");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("failed its trial start"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("was killed"), std::string::npos) << result.output;
  const int before = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > before + 50; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_EQ(std::filesystem::read_symlink(exe).string(), binary + " (deleted)");  // the old one
  // The master is in charge: a killed worker is replaced, and it answers.
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[0], SIGKILL);
  EXPECT_TRUE(wait_until([&] {
    auto now = server.children();
    return now.size() == 2 && std::find(now.begin(), now.end(), workers[0]) == now.end();
  }));
  EXPECT_EQ(control(server, "status").status, 0);
}

TEST(LifecycleTest, ANewImageThatFailsAfterTheExecFallsBackToThePreviousOne) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  ShoalServer server(config_with_body("one"), true, binary);
  const auto exe = "/proc/" + std::to_string(server.pid()) + "/exe";
  install_wrapper(
      binary,
      "if [ \"$1\" = -t ] || [ -n \"$SHOAL_UPGRADE_TRIAL\" ]; then exec @REAL@ \"$@\"; fi\n"
      "exec @REAL@ --no-such-flag \"$@\"\n");
  KeepAliveLoad load(server.port(), 4);
  ASSERT_TRUE(wait_until([&] { return load.ok() > 50; }));
  auto result = control(server, "upgrade");
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("the new binary could not start"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("no-such-flag"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("previous binary"), std::string::npos) << result.output;
  const int before = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > before + 50; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_EQ(std::filesystem::read_symlink(exe).string(), binary + " (deleted)");  // the old one
  EXPECT_EQ(read_file(server.dir() / "shoal.pid"), std::to_string(server.pid()) + "\n");
  EXPECT_TRUE(wait_until([&] { return server.children().size() == 2u; }));
  EXPECT_EQ(body_of(server.port()), "one");
  EXPECT_EQ(control(server, "reload").status, 0);
  auto stop = control(server, "quit");
  EXPECT_EQ(stop.status, 0) << stop.output;
}

// Makes fork() fail (EAGAIN) in the server started next while `flag` exists: an LD_PRELOAD
// shim, since RLIMIT_NPROC does not hold for root.
class ForkFailures {
 public:
  explicit ForkFailures(const std::string& flag)
      : flag_(flag), shim_(SHOAL_FAIL_FORK_SHIM, "SHOAL_TEST_FAIL_FORK", flag) {}
  void on() { write_file(flag_, ""); }
  void off() { std::filesystem::remove(flag_); }

 private:
  std::string flag_;
  PreloadedShim shim_;
};

// Issue 14, defect 4: the first generation's failed forks are retried with the backoff (it
// used to wait forever: no retry, no READY=1, -s reload blocked on it).
TEST(LifecycleTest, TheFirstGenerationsFailedForksAreRetried) {
  TempDir flags;
  ForkFailures forks(flags / "fail");
  forks.on();
  ShoalServer server(config_with_body("one"), false);
  ASSERT_TRUE(wait_until([&] {
    const auto log = server.error_log();
    return log.find("fork() of worker 0 failed (11: Resource temporarily unavailable)") !=
               std::string::npos &&
           log.find("restarting worker 0 in") != std::string::npos;
  })) << server.error_log();
  forks.off();
  ASSERT_TRUE(
      wait_until([&] { return server.error_log().find("shoal started") != std::string::npos; }));
  EXPECT_EQ(body_of(server.port()), "one");
  EXPECT_EQ(control(server, "reload").status, 0);
}

// Issue 14, defect 4: the first generation that cannot start within the ready deadline is a
// failed start: reported, exit status 2, nothing left behind.
TEST(LifecycleTest, AFirstGenerationThatNeverStartsIsAFailedStart) {
  TempDir flags;
  ForkFailures forks(flags / "fail");
  forks.on();
  ShoalServer server(config_with_body("one"), false);
  auto status = server.signal_and_wait(0, 20s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << *status;
  const auto log = server.error_log();
  EXPECT_NE(log.find("shoal could not start: not every new worker was ready within 10 s; "
                     "worker 0: fork() of worker 0 failed"),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(server.dir() / "shoal.pid"));
  EXPECT_FALSE(std::filesystem::exists(server.dir() / "shoal.sock"));
}

// Issue 14, defect 4: a reload whose new worker cannot be forked is abandoned at once, with
// the reason; the serving generation is not marked degraded.
TEST(LifecycleTest, AReloadWhoseForkFailsIsAbandonedAtOnce) {
  TempDir flags;
  ForkFailures forks(flags / "fail");
  ShoalServer server(config_with_body("one"));
  server.rewrite_config(config_with_body("two"));
  forks.on();
  auto result = control(server, "reload");
  forks.off();
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("fork() of worker 0 failed"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("generation 1 (2 workers) keeps serving"), std::string::npos)
      << result.output;
  EXPECT_EQ(body_of(server.port()), "one");
  EXPECT_EQ(server.error_log().find("degraded"), std::string::npos) << server.error_log();
  EXPECT_EQ(control(server, "reload").status, 0);
  EXPECT_EQ(body_of(server.port()), "two");
}

// The descriptors a process holds, as readlink shows them ("socket:[123]", "/path", ...).
std::vector<std::string> fd_targets(pid_t pid) {
  std::vector<std::string> targets;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    targets.push_back(std::filesystem::read_symlink(entry.path(), ec).string());
  }
  return targets;
}

// A forked worker keeps only what it is given (its sockets, its channel, stdio) and opens its
// own logs: nothing the master holds, such as the control socket or another worker's channel,
// leaks into it (issue 14: the master no longer clears its members by hand in the child).
TEST(LifecycleTest, AWorkerHoldsNothingOfTheMastersOwn) {
  ShoalServer server(config_with_body("one"));
  std::string control_inode;
  std::istringstream unix_sockets(read_file("/proc/net/unix"));
  for (std::string line; std::getline(unix_sockets, line);) {
    if (line.find(server.dir() / "shoal.sock") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; i < 7 && fields >> field; ++i) {
    }
    control_inode = "socket:[" + field + "]";
  }
  ASSERT_FALSE(control_inode.empty());
  const auto master_fds = fd_targets(server.pid());
  ASSERT_NE(std::find(master_fds.begin(), master_fds.end(), control_inode), master_fds.end());
  const auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  for (pid_t worker : workers) {
    const auto fds = fd_targets(worker);
    EXPECT_EQ(std::find(fds.begin(), fds.end(), control_inode), fds.end()) << worker;
    // The sockets a worker shares with the master: the listening socket and the hand-over
    // sockets (its own receiving end, its sibling's sending end). Not the master's end of any
    // channel, its own or another worker's.
    size_t shared = 0;
    for (const auto& fd : fds) {
      if (fd.rfind("socket:", 0) == 0 &&
          std::find(master_fds.begin(), master_fds.end(), fd) != master_fds.end()) {
        ++shared;
      }
    }
    EXPECT_EQ(shared, 3u) << worker;
  }
}

// A second master with the same pid file (here both with reuse_port, so the port itself does
// not stop it) is refused before it takes the first one's control socket and pid file.
TEST(LifecycleTest, ASecondMasterWithTheSamePidFileIsRefused) {
  ShoalServer server(config_with_body("one", "reuse_port: true\n"));
  // The same file but for the error log (the second one's critical line is expected).
  std::string config = read_file(server.config_path());
  const std::string log = "error: { path: error.log";
  ASSERT_NE(config.find(log), std::string::npos);
  config.replace(config.find(log), log.size(), "error: { path: second.log");
  write_file(server.dir() / "second.yaml", config);
  auto second = run_shoal({"-c", server.dir() / "second.yaml"}, server.dir());
  EXPECT_EQ(second.status, 2) << second.output;
  EXPECT_NE(read_file(server.dir() / "second.log").find("another shoal master answers on"),
            std::string::npos)
      << second.output;
  EXPECT_EQ(read_file(server.dir() / "shoal.pid"), std::to_string(server.pid()) + "\n");
  EXPECT_EQ(control(server, "reload").status, 0);  // the first one still answers
}

TEST(LifecycleTest, QuitLetsAJobInFlightFinish) {
  ShoalServer server(
      "workers: 1\n"
      "helpers: { count: 1 }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /nap\n"
      "        job: { builtin: sleep, ms: 1500 }\n");
  HttpClient client(server.port());
  client.send("GET /nap HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(
      wait_until([&] { return server.error_log().find("takes a job") != std::string::npos; }));
  auto result = control(server, "quit");
  EXPECT_EQ(result.status, 0) << result.output;
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.rfind("slept ", 0), 0u) << r->body;  // "slept 1500 ms" or a bit more
  EXPECT_FALSE(r->keep_alive);
  auto status = server.signal_and_wait(0, 5s);  // already gone: reaps it
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(LifecycleTest, TheControlSocketIsOwnerOnly) {
  ShoalServer server(config_with_body("one"));
  struct stat st {};
  ASSERT_EQ(stat((server.dir() / "shoal.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(LifecycleTest, SignalCommandsSayWhenNoMasterRuns) {
  TempDir dir;
  write_file(dir / "shoal.yaml", "pid_file: shoal.pid\n");
  auto result = run_shoal({"-c", dir / "shoal.yaml", "-s", "reload"}, dir);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("no running master"), std::string::npos) << result.output;
  // Without pid_file the default one is looked for (cli_test.cpp starts a master that way).
  write_file(dir / "none.yaml", "workers: 1\npid_file: [a]\n");
  result = run_shoal({"-c", dir / "none.yaml", "-s", "quit"}, dir);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find("pid_file is not a path"), std::string::npos) << result.output;
  result = run_shoal({"-c", dir / "shoal.yaml", "-s", "restart"}, dir);
  EXPECT_EQ(result.status, 2);  // a usage error
  EXPECT_NE(result.output.find("restart"), std::string::npos) << result.output;
}

// Issue 14, defect 2: a stale pid file that names a running stranger (pid reuse) is reported
// and the stranger is never signalled, whether the socket file is missing or left behind.
TEST(LifecycleTest, AStalePidFileNeverSignalsTheProcessItNames) {
  TempDir dir;
  write_file(dir / "shoal.yaml", "pid_file: shoal.pid\n");
  pid_t stranger = fork();
  if (stranger == 0) {
    execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(stranger, 0);
  write_file(dir / "shoal.pid", std::to_string(stranger) + "\n");
  for (const char* command : {"stop", "reload", "quit", "reopen", "upgrade"}) {
    auto result = run_shoal({"-c", dir / "shoal.yaml", "-s", command}, dir);
    EXPECT_EQ(result.status, 1) << command << ": " << result.output;
    EXPECT_NE(result.output.find("stale pid file"), std::string::npos) << result.output;
    EXPECT_NE(result.output.find("no signal sent"), std::string::npos) << result.output;
  }
  // A socket file nobody listens on (a master that was SIGKILLed) is no proof either.
  {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = dir / "shoal.sock";
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the file stays; connect() gets ECONNREFUSED
  }
  auto result = run_shoal({"-c", dir / "shoal.yaml", "-s", "stop"}, dir);
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("stale pid file"), std::string::npos) << result.output;
  EXPECT_TRUE(alive(stranger));
  kill(stranger, SIGKILL);
  waitpid(stranger, nullptr, 0);
}

// Issue 14, defect 11: the pid file's directory is created when missing (no systemd to make
// /run/shoal), 0755.
TEST(LifecycleTest, ThePidFilesDirectoryIsCreatedWhenMissing) {
  ShoalServer server("pid_file: run/shoal/shoal.pid\n" + config_with_body("one"));
  struct stat st {};
  ASSERT_EQ(stat((server.dir() / "run/shoal").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(read_file(server.dir() / "run/shoal/shoal.pid"), std::to_string(server.pid()) + "\n");
  auto result = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(result.status, 0) << result.output;
}

// Issue 29: a master that does not answer (SIGSTOPped here) never holds `-s` for good: the
// command gives up at its deadline with the reason, and the master, once it runs again, does
// not carry out the command whose client gave up.
TEST(LifecycleTest, SignalCommandsGiveUpOnAStoppedMasterWhichThenDoesNotAct) {
  ShoalServer server(config_with_body("one"));
  ASSERT_EQ(kill(server.pid(), SIGSTOP), 0);
  auto reload =
      run_shoal({"-c", server.config_path(), "-s", "reload", "--timeout", "500ms"}, server.dir());
  auto reopen =
      run_shoal({"-c", server.config_path(), "-s", "reopen", "--timeout", "300ms"}, server.dir());
  ASSERT_EQ(kill(server.pid(), SIGCONT), 0);
  EXPECT_EQ(reload.status, 1) << reload.output;
  EXPECT_NE(reload.output.find("no answer from the master (pid " + std::to_string(server.pid()) +
                               ") within 500 ms"),
            std::string::npos)
      << reload.output;
  EXPECT_EQ(reopen.status, 1) << reopen.output;
  EXPECT_TRUE(wait_until([&] {
    return count(server.error_log(), "after its client stopped waiting; not carried out") == 2;
  })) << server.error_log();
  // Still generation 1, and a command with time to wait works as before.
  auto status = control(server, "status");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_EQ(server.error_log().find("reload: "), std::string::npos) << server.error_log();
  EXPECT_EQ(control(server, "reload").status, 0);
  auto bad =
      run_shoal({"-c", server.config_path(), "-s", "reload", "--timeout", "soon"}, server.dir());
  EXPECT_EQ(bad.status, 2) << bad.output;
}

// The deadline rides on a line of its own, so the previous release's `shoal -s` (the command
// line alone) is still understood: what an operator runs while a new binary is installed but
// not yet upgraded to, or the other way round.
TEST(LifecycleTest, ARequestWithoutADeadlineLineStillWorks) {
  ShoalServer server(config_with_body("one"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = server.dir() / "shoal.sock";
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(fd, "reload\n", 7, MSG_NOSIGNAL), 7);
  std::string answer;
  char buf[512];
  for (ssize_t n; answer.find("\nok ") == std::string::npos && answer.find("ok ") != 0 &&
                  (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_NE(answer.find("ok generation 2"), std::string::npos) << answer;
}

// Issue 29: a reload asked while an upgrade's check runs waits for the upgrade and is answered
// by the new image (its new generation read the configuration again), never dropped at the exec.
TEST(LifecycleTest, AReloadAskedDuringAnUpgradeIsAnsweredAfterTheExec) {
  TempDir bin;
  const std::string binary = bin / "shoal";
  std::filesystem::copy_file(SHOAL_BINARY, binary);
  ShoalServer server(config_with_body("one"), true, binary);
  // The new binary takes a second to start each time: the check, the trial and the new image.
  write_file(binary + ".new",
             std::string("#!/bin/sh\nsleep 1\nexec ") + SHOAL_BINARY + " \"$@\"\n");
  std::filesystem::permissions(binary + ".new", std::filesystem::perms::owner_all);
  std::filesystem::rename(binary + ".new", binary);
  CommandResult upgrade;
  std::thread upgrading([&] { upgrade = control(server, "upgrade"); });
  EXPECT_TRUE(wait_until(
      [&] { return server.error_log().find("upgrade: checking") != std::string::npos; }));
  auto reload = control(server, "reload");
  upgrading.join();
  EXPECT_EQ(upgrade.status, 0) << upgrade.output;
  EXPECT_EQ(reload.status, 0) << reload.output;
  EXPECT_NE(reload.output.find("is serving"), std::string::npos) << reload.output;
}

// worker_max_rss when the successor cannot start (its fork fails, as at RLIMIT_NPROC): the
// replacement is given up, the old worker keeps its slot and serves on, with no failed
// request; once forks work again the next samples replace it.
TEST(LifecycleTest, AWorkerThatCannotBeReplacedForItsMemoryServesOnUntilItCanBe) {
  TempDir scratch;
  ForkFailures forks(scratch / "fail");
  const std::string ballast = scratch / "ballast";
  write_file(ballast, "300\n");
  setenv("SHOAL_TEST_WORKER_BALLAST", ballast.c_str(), 1);
  ShoalServer server(config_with_body("one", "worker_max_rss: 150m\n"));
  unsetenv("SHOAL_TEST_WORKER_BALLAST");
  const auto before = server.children();
  ASSERT_EQ(before.size(), 2u);
  forks.on();
  KeepAliveLoad load(server.port(), 2);
  ASSERT_TRUE(wait_until(
      [&] {
        return server.error_log().find("is given up: it could not be started") != std::string::npos;
      },
      30s))
      << server.error_log();
  EXPECT_EQ(server.children(), before);  // both old workers, nothing else
  forks.off();
  ASSERT_TRUE(wait_until(
      [&] { return server.error_log().find("replaced worker") != std::string::npos; }, 30s))
      << server.error_log();
  const int after = load.ok();
  ASSERT_TRUE(wait_until([&] { return load.ok() > after + 50; }));
  load.stop();
  EXPECT_EQ(load.failed(), 0);
  EXPECT_EQ(server.children().size(), 2u);
}

}  // namespace
}  // namespace shoal::test
