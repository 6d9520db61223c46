// Privileges against the real binary, as root only (CI runs as root): workers and helpers
// run as the configured user and group with no supplementary groups; the master stays root;
// reload and reopen keep working after the drop.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "harness.hpp"

namespace shoal::test {
namespace {

// "Uid:" or "Gid:" (the four ids) or "Groups:" of /proc/PID/status.
std::string status_line(pid_t pid, const std::string& key) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::string value = line.substr(key.size());
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      return value;
    }
  }
  return "?";
}

TEST(PrivilegesTest, WorkersAndHelpersRunAsTheConfiguredUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const passwd* nobody = getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no user nobody";
  const std::string uid = std::to_string(nobody->pw_uid);
  ShoalServer server(
      "workers: 2\n"
      "user: nobody\n"
      "helpers: { count: 1 }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /nap\n"
      "        job: { builtin: sleep, ms: 1 }\n"
      "      - match: /\n"
      "        return: { status: 200, body: \"ok\" }\n");
  // Workers reopen logs by path as `nobody`: the directory must let them through.
  chmod(server.dir().path().c_str(), 0755);
  EXPECT_EQ(status_line(server.pid(), "Uid:"), "0\t0\t0\t0");
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 2u);
  const std::string ids = uid + "\t" + uid + "\t" + uid + "\t" + uid;
  const std::string gid = std::to_string(nobody->pw_gid);
  for (pid_t worker : workers) {
    EXPECT_EQ(status_line(worker, "Uid:"), ids) << worker;
    EXPECT_EQ(status_line(worker, "Gid:"), gid + "\t" + gid + "\t" + gid + "\t" + gid);
    EXPECT_EQ(status_line(worker, "Groups:"), "") << worker;
    auto helpers = children_of(worker);
    ASSERT_EQ(helpers.size(), 1u);
    EXPECT_EQ(status_line(helpers[0], "Uid:"), ids);
  }
  EXPECT_EQ(get(server.port(), "/nap")->status, 200);

  // Logrotate: the master creates the new files and gives them to nobody.
  std::filesystem::rename(server.dir() / "access.log", server.dir() / "access.log.1");
  auto result = run_shoal({"-c", server.config_path(), "-s", "reopen"}, server.dir());
  EXPECT_EQ(result.status, 0) << result.output;
  struct stat st {};
  ASSERT_EQ(stat((server.dir() / "access.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody->pw_uid);
  EXPECT_EQ(get(server.port(), "/")->status, 200);
  EXPECT_TRUE(wait_until(
      [&] { return read_file(server.dir() / "access.log").find("GET / ") != std::string::npos; }));

  // A reload starts a new generation, dropped as well; the master still binds as root.
  result = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(result.status, 0) << result.output;
  ASSERT_TRUE(wait_until([&] { return server.children() != workers; }));
  for (pid_t worker : server.children()) {
    // An old worker may finish its drain between the listing and the read: nothing to check.
    const auto worker_ids = status_line(worker, "Uid:");
    if (worker_ids == "?" && !alive(worker)) continue;
    EXPECT_EQ(worker_ids, ids) << worker;
  }
}

// nginx's default: a master started as root with no `user` runs its workers, helpers and CGI
// programs as nobody (and nobody's group); -T says so.
TEST(PrivilegesTest, WithoutAUserKeyRootRunsWorkersAsNobody) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const passwd* nobody = getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no user nobody";
  ShoalServer server(
      "workers: 1\n"
      "helpers: { count: 1 }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /nap\n"
      "        job: { builtin: sleep, ms: 1 }\n");
  const std::string uid = std::to_string(nobody->pw_uid);
  const std::string gid = std::to_string(nobody->pw_gid);
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(status_line(workers[0], "Uid:"), uid + "\t" + uid + "\t" + uid + "\t" + uid);
  EXPECT_EQ(status_line(workers[0], "Gid:"), gid + "\t" + gid + "\t" + gid + "\t" + gid);
  auto helpers = children_of(workers[0]);  // CGI programs are the helpers' children
  ASSERT_EQ(helpers.size(), 1u);
  EXPECT_EQ(status_line(helpers[0], "Uid:"), uid + "\t" + uid + "\t" + uid + "\t" + uid);
  EXPECT_EQ(get(server.port(), "/nap")->status, 200);
  EXPECT_EQ(server.error_log().find("run as root"), std::string::npos);
  auto dump = run_shoal({"-T", "-c", server.config_path()}, server.dir());
  EXPECT_NE(dump.output.find("# user: nobody (not set; the default as root)"), std::string::npos)
      << dump.output;
}

// `user: root` is the explicit way to keep root, and it is said in the error log.
TEST(PrivilegesTest, UserRootIsAnOptOutThatWarns) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ShoalServer server(
      "workers: 1\n"
      "user: root\n"
      "servers:\n"
      "  - listen: 127.0.0.1:@PORT@\n"
      "    routes:\n"
      "      - match: /\n"
      "        return: { status: 204 }\n");
  auto workers = server.children();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(status_line(workers[0], "Uid:"), "0\t0\t0\t0");
  const std::string log = server.error_log();
  const auto line = log.find("workers, helpers and CGI programs run as root (user: root)");
  ASSERT_NE(line, std::string::npos) << log;
  const auto start = log.rfind('\n', line);
  const std::string prefix = log.substr(start == std::string::npos ? 0 : start + 1,
                                        line - (start == std::string::npos ? 0 : start + 1));
  EXPECT_NE(prefix.find("[warn] "), std::string::npos) << prefix;
}

TEST(PrivilegesTest, AnUnknownUserIsAConfigError) {
  TempDir dir;
  write_file(dir / "shoal.yaml",
             "user: no-such-user-here\n"
             "group: no-such-group-here\n");
  auto r = run_shoal({"-t", "-c", dir / "shoal.yaml"}, dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("shoal.yaml:1:7: user: no such user \"no-such-user-here\""),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("shoal.yaml:2:8: group: no such group \"no-such-group-here\""),
            std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace shoal::test
