// log/: the repeat limiter and the append-only file sink's failure accounting.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "log/append_file_sink.hpp"
#include "log/repeat_limiter.hpp"

namespace shoal {
namespace {

TEST(RepeatLimiterTest, OneLineASecondPerCauseWithTheCountHeldBack) {
  RepeatLimiter limiter;
  EXPECT_EQ(limiter.admit("accept4:24", 10'000), 0u);
  EXPECT_FALSE(limiter.admit("accept4:24", 10'100));
  EXPECT_FALSE(limiter.admit("accept4:24", 10'999));
  EXPECT_EQ(limiter.admit("open():24", 10'999), 0u);  // another cause has its own second
  EXPECT_EQ(limiter.admit("accept4:24", 11'000), 2u);
  EXPECT_EQ(limiter.admit("accept4:24", 12'500), 0u);
  EXPECT_EQ(suppressed_note(0), "");
  EXPECT_EQ(suppressed_note(1), " (1 similar line suppressed)");
  EXPECT_EQ(suppressed_note(7), " (7 similar lines suppressed)");
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Issue 14, defect 9: lines that cannot be written are counted and reported; once writes
// work again the log says how many were lost and goes on.
TEST(AppendFileSinkTest, LostLinesAreReportedAndLoggingResumes) {
  char dir_template[] = "/tmp/shoal-log-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string file = std::string(dir_template) + "/access.log";
  UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(full);
  const int fd_number = full.get();
  std::vector<std::string> reports;
  auto sink =
      std::make_shared<AppendFileSink>(std::move(full), "/dev/full", "access log",
                                       [&](const std::string& text) { reports.push_back(text); });
  spdlog::logger logger("test", sink);
  logger.set_pattern("%v");
  for (int i = 0; i < 5; ++i) logger.info("line {}", i);
  EXPECT_EQ(sink->lost(), 5u);
  ASSERT_EQ(reports.size(), 1u);  // the other four fell in the same second
  EXPECT_EQ(reports[0],
            "write() to access log \"/dev/full\" failed (28: No space left on device); 1 line "
            "lost so far; serving goes on");
  // Space is back: the same descriptor now reaches a file that takes writes.
  const int regular = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(regular, 0);
  ASSERT_EQ(dup2(regular, fd_number), fd_number);
  ::close(regular);
  logger.info("line 5");
  EXPECT_EQ(sink->lost(), 0u);
  EXPECT_EQ(read_all(file),
            "shoal: 5 lines of this access log could not be written and are lost\nline 5\n");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "access log \"/dev/full\" is written again; 5 lines were lost");
  std::remove(file.c_str());
  ::rmdir(dir_template);
}

// Issue 29: a disk that fills in the middle of a line tears it; the note about lost lines
// must not be glued to the torn half. A non-blocking pipe takes part of a long line and then
// refuses the rest, as a file system that runs out of space does.
TEST(AppendFileSinkTest, TheLostLinesNoteStartsOnItsOwnLineAfterATornLine) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(fds[0]);
  ASSERT_GT(fcntl(fds[1], F_SETPIPE_SZ, 4096), 0);
  const int capacity = fcntl(fds[1], F_GETPIPE_SZ);
  auto sink = std::make_shared<AppendFileSink>(UniqueFd(fds[1]), "pipe", "error log", nullptr);
  spdlog::logger logger("test", sink);
  logger.set_pattern("%v");
  const std::string long_line(static_cast<size_t>(capacity) * 3 / 2, 'x');
  logger.info("{}", long_line);  // a part goes in, the rest is refused
  EXPECT_EQ(sink->lost(), 1u);
  std::string read_back;
  char buf[8192];
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) read_back.append(buf, n);
  ASSERT_FALSE(read_back.empty());
  ASSERT_NE(read_back.back(), '\n');  // torn
  logger.info("next");
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) read_back.append(buf, n);
  EXPECT_TRUE(read_back.ends_with(
      "x\nshoal: 1 line of this error log could not be written and are lost\nnext\n"))
      << read_back.substr(read_back.size() - std::min<size_t>(read_back.size(), 120));
}

}  // namespace
}  // namespace shoal
