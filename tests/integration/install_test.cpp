// `make install` into a temporary DESTDIR, then the installed binary checks the installed
// config; a second install keeps an edited config; the installed unit passes
// `systemd-analyze verify`; `make uninstall` removes what install put outside /etc.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "harness.hpp"

namespace shoal::test {
namespace {

CommandResult sh(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string make_install(const std::string& arguments) {
  return std::string("make -s -C ") + SHOAL_SOURCE_DIR + " SHOAL_BIN=" + SHOAL_BINARY + " " +
         arguments;
}

TEST(InstallTest, InstallsIntoDestdirAndTheInstalledBinaryAcceptsTheInstalledConfig) {
  if (!getpwnam("www-data")) GTEST_SKIP() << "the shipped config runs workers as www-data";
  TempDir dest;
  auto r = sh(make_install("install DESTDIR=" + dest.path()));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* file :
       {"/usr/local/sbin/shoal", "/usr/local/share/man/man8/shoal.8",
        "/usr/local/share/man/man5/shoal.yaml.5", "/usr/local/lib/systemd/system/shoal.service",
        "/usr/local/lib/systemd/system/shoal.socket", "/etc/shoal/shoal.yaml",
        "/etc/shoal/mime.types", "/etc/shoal/www/index.html", "/etc/logrotate.d/shoal"}) {
    EXPECT_TRUE(std::filesystem::exists(dest.path() + file)) << file;
  }
  const std::string binary = dest.path() + "/usr/local/sbin/shoal";
  const std::string config = dest.path() + "/etc/shoal/shoal.yaml";
  EXPECT_TRUE(std::filesystem::is_directory(dest.path() + "/var/log/shoal"));
  // -t checks that the log files and the pid file can be made (issue 28): the installed
  // config's absolute paths are taken into the destination, whose log directory the install
  // made, so that the check runs on what the install laid out and not on this machine's /var.
  const std::string moved = dest.path() + "/etc/shoal/moved.yaml";
  std::string text = read_file(config);
  for (const std::string from : {"/var/log/shoal/", "/run/shoal/"}) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + 1)) {
      text.insert(at, dest.path());
      at += dest.path().size();
    }
  }
  write_file(moved, text);
  r = sh(binary + " -t -c " + moved);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("is ok"), std::string::npos) << r.output;
  const std::string unit = read_file(dest.path() + "/usr/local/lib/systemd/system/shoal.service");
  EXPECT_NE(unit.find("ExecReload=/usr/local/sbin/shoal -c /etc/shoal/shoal.yaml -s reload"),
            std::string::npos);

  // An operator's edit survives the next install; the binary is replaced.
  write_file(config, read_file(config) + "# edited\n");
  r = sh(make_install("install DESTDIR=" + dest.path()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read_file(config).find("# edited"), std::string::npos);

  r = sh(make_install("uninstall DESTDIR=" + dest.path()));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(binary));
  EXPECT_FALSE(
      std::filesystem::exists(dest.path() + "/usr/local/lib/systemd/system/shoal.service"));
  EXPECT_TRUE(std::filesystem::exists(config));
}

TEST(InstallTest, TheInstalledUnitPassesSystemdAnalyzeVerify) {
  if (sh("command -v systemd-analyze").status != 0) GTEST_SKIP() << "no systemd-analyze";
  TempDir root;
  // A real prefix (not DESTDIR), so the unit's ExecStart names a binary that exists.
  auto r =
      sh(make_install("install PREFIX=" + root.path() + "/usr SYSCONFDIR=" + root.path() + "/etc"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string units = root.path() + "/usr/lib/systemd/system/";
  r = sh("MANPATH=" + root.path() + "/usr/share/man systemd-analyze verify " + units +
         "shoal.service " + units + "shoal.socket");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << r.output;
}

}  // namespace
}  // namespace shoal::test
