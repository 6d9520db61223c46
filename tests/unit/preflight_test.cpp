// What -t checks beyond the file (check_startup_paths), the default pid file, and where a
// YAML syntax error is reported (find_unclosed_flow).
#include "config/preflight.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/flow_brackets.hpp"
#include "config/loader.hpp"

namespace shoal {
namespace {

namespace fs = std::filesystem;

const std::string kServer =
    "servers:\n"
    "  - listen: 127.0.0.1:8080\n"
    "    routes:\n"
    "      - match: /\n"
    "        return: { status: 200, body: hi }\n";

class ScratchDir {
 public:
  ScratchDir() {
    char name[] = "/tmp/shoal-preflight-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string located(const ConfigError& e) {
  return std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

TEST(FlowBrackets, FindsTheInnermostUnclosedOpening) {
  auto opening = find_unclosed_flow("a: 1\nservers: [ { listen: x,\n  routes: [] \n");
  ASSERT_TRUE(opening);
  EXPECT_EQ(opening->line, 2);
  EXPECT_EQ(opening->column, 12);
  EXPECT_EQ(opening->bracket, '{');
}

TEST(FlowBrackets, SkipsQuotesCommentsAndBracketsInsidePlainScalars) {
  EXPECT_FALSE(
      find_unclosed_flow("match: /a[1]\nbody: \"{ [\"\nx: 'it''s {'  # {[\ny: [a, {b: c}]\n"));
  auto opening = find_unclosed_flow("match: /a[1]  # [\nroute: { body: \"}\", x: ']'\n");
  ASSERT_TRUE(opening);
  EXPECT_EQ(opening->line, 2);
  EXPECT_EQ(opening->column, 8);
  EXPECT_FALSE(find_unclosed_flow("list:\n  - [1, 2]\n  - { a: b }\n"));
}

TEST(FlowBrackets, ASyntaxErrorPointsAtTheUnclosedBracket) {
  try {
    load_config_from_string(
        "workers: 1\n"
        "servers:\n"
        "  - listen: 127.0.0.1:8080\n"
        "    routes:\n"
        "      - match: /\n"
        "        return: { status: 200, body: hi\n"
        "      - match: /b\n"
        "        return: { status: 204 }\n",
        "/etc/shoal/x.yaml");
    FAIL() << "expected a syntax error";
  } catch (const ConfigErrors& e) {
    ASSERT_EQ(e.errors().size(), 1u);
    const auto& error = e.errors()[0];
    EXPECT_EQ(error.line, 6);
    EXPECT_EQ(error.column, 17);
    EXPECT_NE(error.message.find("never closed"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("end of map flow not found"), std::string::npos);
  }
}

TEST(DefaultPidFile, IsBesideTheConfigForAUserAndUnderRunForRoot) {
  auto config = load_config_from_string(kServer, "/srv/site/shoal.yaml");
  if (::geteuid() == 0) {
    EXPECT_EQ(config.pid_file, kRootPidFile);
  } else {
    EXPECT_EQ(config.pid_file, "/srv/site/shoal.pid");
  }
  EXPECT_EQ(config.pid_file_mark.line, 0);
  EXPECT_EQ(default_pid_file("/home/u/site"),
            ::geteuid() == 0 ? std::string(kRootPidFile) : "/home/u/site/shoal.pid");
}

TEST(DefaultPidFile, FindPidFileAgreesWithTheLoader) {
  ScratchDir dir;
  const std::string file = dir.path() + "/shoal.yaml";
  std::ofstream(file) << kServer;
  EXPECT_EQ(find_pid_file(file), load_config(file).pid_file);
  std::ofstream(file) << "pid_file: run/x.pid\n" << kServer;
  EXPECT_EQ(find_pid_file(file), dir.path() + "/run/x.pid");
}

TEST(Preflight, AMissingLogDirectoryIsReportedAtItsKey) {
  ScratchDir dir;
  auto config = load_config_from_string(
      "pid_file: shoal.pid\n"
      "log:\n"
      "  error: { path: nowhere/error.log }\n"
      "  access: { path: gone/access.log }\n" +
          kServer,
      dir.path() + "/shoal.yaml");
  auto errors = check_startup_paths(config);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(located(errors[0]), "3:18: log.error.path: directory " + dir.path() + "/nowhere of " +
                                    dir.path() + "/nowhere/error.log does not exist");
  EXPECT_EQ(errors[0].file, dir.path() + "/shoal.yaml");
  EXPECT_EQ(errors[1].line, 4);
  EXPECT_NE(errors[1].message.find("log.access.path: directory"), std::string::npos);
}

TEST(Preflight, WhatTheStartCanOpenPasses) {
  ScratchDir dir;
  fs::create_directory(dir.path() + "/logs");
  auto config = load_config_from_string(
      "pid_file: run/deep/shoal.pid\n"  // missing directories are made at start
      "log:\n"
      "  error: { path: logs/error.log }\n"
      "  access: { path: logs/access.log }\n" +
          kServer,
      dir.path() + "/shoal.yaml");
  EXPECT_TRUE(check_startup_paths(config).empty());
}

TEST(Preflight, APathThatIsADirectoryOrUnderAFileFails) {
  ScratchDir dir;
  fs::create_directory(dir.path() + "/logs");
  std::ofstream(dir.path() + "/afile") << "x";
  auto config = load_config_from_string(
      "pid_file: afile/shoal.pid\n"
      "log:\n"
      "  error: { path: logs }\n" +
          kServer,
      dir.path() + "/shoal.yaml");
  auto errors = check_startup_paths(config);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].message.find("is a directory"), std::string::npos) << errors[0].message;
  EXPECT_EQ(errors[1].line, 1);
  EXPECT_NE(errors[1].message.find("is not a directory"), std::string::npos) << errors[1].message;
}

}  // namespace
}  // namespace shoal
