// The command line as a new user meets it: usage errors, what -t checks before a start, a
// configuration without pid_file that -s still finds, and where a YAML mistake is reported.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.hpp"

namespace shoal::test {
namespace {

const char* kRoutes =
    "servers:\n"
    "  - listen: 127.0.0.1:@PORT@\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: \"hi\\n\" }\n";

// For -t alone: nothing is bound, so any port does.
const std::string kFixedRoutes = [] {
  std::string text = kRoutes;
  return text.replace(text.find("@PORT@"), 6, "8080");
}();

size_t lines_of(const std::string& text) {
  return count(text, "\n") + (text.empty() || text.back() == '\n' ? 0 : 1);
}

// shoal(8): 2 for a command line that is wrong, one line saying what.
TEST(CliTest, EveryUsageErrorExits2WithOneLine) {
  TempDir dir;
  write_file(dir / "shoal.yaml", "pid_file: shoal.pid\n" + kFixedRoutes);
  const std::vector<std::vector<std::string>> wrong = {
      {"-c", dir / "shoal.yaml", "-s", "bogus"},
      {"-c", dir / "shoal.yaml", "--no-such-flag"},
      {"-c"},
      {"-c", dir / "shoal.yaml", "-s", "reload", "--json"},
      {"-c", dir / "shoal.yaml", "stray"},
  };
  for (const auto& args : wrong) {
    auto result = run_shoal(args, dir);
    EXPECT_EQ(result.status, 2) << args.back() << ": " << result.output;
    EXPECT_EQ(lines_of(result.output), 1u) << result.output;
    EXPECT_TRUE(result.output.starts_with("shoal: ")) << result.output;
  }
  auto help = run_shoal({"--help"}, dir);
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--signal"), std::string::npos);
}

// nginx -t opens what the start opens; shoal -t checks it the same way (and fails as the start
// would have, with the key's position).
TEST(CliTest, TestFailsWhenALogDirectoryDoesNotExist) {
  TempDir dir;
  write_file(dir / "shoal.yaml", std::string("pid_file: shoal.pid\n"
                                             "log:\n"
                                             "  error: { path: missing/error.log }\n") +
                                     kFixedRoutes);
  auto result = run_shoal({"-t", "-c", dir / "shoal.yaml"}, dir);
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find(dir / "shoal.yaml:3:18: log.error.path: directory " + dir.path() +
                               "/missing"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("test failed"), std::string::npos);
  std::filesystem::create_directory(dir / "missing");
  result = run_shoal({"-t", "-c", dir / "shoal.yaml"}, dir);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "missing/error.log"));  // -t creates nothing
}

// The README's minimal configuration names no pid_file: -s finds the master at the default.
TEST(CliTest, SignalCommandsFindAMasterStartedWithoutPidFile) {
  // The comment keeps the harness from adding its own pid_file line.
  ShoalServer server(std::string("workers: 1\n# no pid_file: the default one\n") + kRoutes);
  const std::string pid_file =
      geteuid() == 0 ? std::string("/run/shoal/shoal.pid") : server.dir() / "shoal.pid";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(pid_file); }));
  EXPECT_EQ(read_file(pid_file), std::to_string(server.pid()) + "\n");
  auto reload = run_shoal({"-c", server.config_path(), "-s", "reload"}, server.dir());
  EXPECT_EQ(reload.status, 0) << reload.output;
  auto status = run_shoal({"-c", server.config_path(), "-s", "status"}, server.dir());
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("master pid " + std::to_string(server.pid())), std::string::npos);
  auto quit = run_shoal({"-c", server.config_path(), "-s", "quit"}, server.dir());
  EXPECT_EQ(quit.status, 0) << quit.output;
  EXPECT_TRUE(wait_until([&] { return !std::filesystem::exists(pid_file); }));
}

// yaml-cpp says "end of map flow not found" at the end of the file; the error names the line
// where the `{` was left open.
TEST(CliTest, AnUnclosedBraceIsReportedWhereItOpened) {
  TempDir dir;
  write_file(dir / "shoal.yaml",
             "pid_file: shoal.pid\n"
             "servers:\n"
             "  - listen: 127.0.0.1:8080\n"
             "    routes:\n"
             "      - match: /\n"
             "        return: { status: 200, body: hi\n"
             "      - match: /two\n"
             "        return: { status: 204 }\n"
             "\n"
             "\n");
  auto result = run_shoal({"-t", "-c", dir / "shoal.yaml"}, dir);
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.output.find(dir / "shoal.yaml:6:17: this '{' is never closed"),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace shoal::test
