// The master's pure pieces: restart backoff, the upgrade state's text form, the control
// socket's path.
#include <gtest/gtest.h>

#include "master/backoff.hpp"
#include "master/control.hpp"
#include "master/upgrade_state.hpp"

namespace shoal {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, AWorkerThatServedAWhileIsRestartedAtOnce) {
  EXPECT_EQ(restart_delay(RestartPolicy{}, 0, 1.0), milliseconds(0));
}

// Issue 29: every worker killed once a second held each slot in a 30 s backoff and left
// nothing serving for up to 25 s. A worker that served is replaced at once, however often.
TEST(BackoffTest, AWorkerThatServedIsReplacedAtOnceEvenAfterManyDeaths) {
  RestartPolicy policy;
  for (int failures : {0, 1, 5, 40}) {
    EXPECT_EQ(next_restart_delay(policy, {true, failures, false}, 1.0), milliseconds(0));
    EXPECT_EQ(next_restart_delay(policy, {true, failures, true}, 1.0), milliseconds(0));
  }
}

TEST(BackoffTest, AFailedStartBacksOffUnlessNothingServes) {
  RestartPolicy policy;
  EXPECT_EQ(next_restart_delay(policy, {false, 1, false}, 0.0), milliseconds(100));
  EXPECT_EQ(next_restart_delay(policy, {false, 6, false}, 0.0), milliseconds(3200));
  EXPECT_EQ(next_restart_delay(policy, {false, 30, false}, 0.0), milliseconds(30'000));
  // With no worker serving, a slot waits at most first_delay.
  EXPECT_EQ(next_restart_delay(policy, {false, 30, true}, 1.0), milliseconds(100));
  EXPECT_EQ(next_restart_delay(policy, {false, 1, true}, -1.0), milliseconds(75));
}

TEST(BackoffTest, DelaysDoubleThenStopAtTheCap) {
  RestartPolicy policy;
  EXPECT_EQ(restart_delay(policy, 1, 0.0), milliseconds(100));
  EXPECT_EQ(restart_delay(policy, 2, 0.0), milliseconds(200));
  EXPECT_EQ(restart_delay(policy, 5, 0.0), milliseconds(1600));
  EXPECT_EQ(restart_delay(policy, 20, 0.0), milliseconds(30'000));
  EXPECT_EQ(restart_delay(policy, 1'000'000, 1.0), milliseconds(30'000));
}

TEST(BackoffTest, JitterMovesAQuarterAtMostAndKeepsGrowth) {
  RestartPolicy policy;
  EXPECT_EQ(restart_delay(policy, 3, -1.0), milliseconds(300));
  EXPECT_EQ(restart_delay(policy, 3, 1.0), milliseconds(500));
  EXPECT_EQ(restart_delay(policy, 3, 7.0), milliseconds(500));  // clamped
  // Even the worst jitter keeps each step above the previous one.
  for (int f = 1; f < 8; ++f) {
    EXPECT_GT(restart_delay(policy, f + 1, -1.0), restart_delay(policy, f, 1.0)) << f;
  }
}

TEST(UpgradeStateTest, RoundTrips) {
  UpgradeState state;
  state.generation = 7;
  state.active = 6;
  state.listeners = {{"127.0.0.1:8080", {3}}, {"[::1]:8443", {4, 5, 6}}};
  state.control_fd = 7;
  state.reply_fds = {9, 10};
  state.workers = {{6, 0, 1234, 11}, {5, 1, 1240, 12}};
  state.config_path = "/etc/shoal/my  shoal.yaml";
  state.fallback_fd = 13;
  state.failed = "the new binary did not accept its arguments:  --x\nsecond line";
  std::string error;
  auto back = decode_upgrade_state(encode_upgrade_state(state), error);
  ASSERT_TRUE(back) << error;
  state.failed = "the new binary did not accept its arguments:  --x second line";  // one line
  EXPECT_EQ(*back, state);
  EXPECT_EQ(upgrade_state_fds(state), (std::vector<int>{3, 4, 5, 6, 7, 9, 10, 11, 12, 13}));
}

TEST(UpgradeStateTest, RejectsWhatItDidNotWrite) {
  std::string error;
  EXPECT_FALSE(decode_upgrade_state("", error));
  EXPECT_EQ(error, "no generation line");
  EXPECT_FALSE(decode_upgrade_state("generation 1\nworker 1 0 -5 4\n", error));
  EXPECT_EQ(error, "line 2: cannot read \"worker 1 0 -5 4\"");
  EXPECT_FALSE(decode_upgrade_state("generation 1\nlisten 127.0.0.1:80\n", error));
  EXPECT_FALSE(decode_upgrade_state("generation x\n", error));
  EXPECT_FALSE(decode_upgrade_state("generation 1\ncontrol 3x\n", error));
  EXPECT_FALSE(decode_upgrade_state("generation 1\nsomething 3\n", error));
}

// The deadline rides on a line of its own: an older master reads the first line only, and an
// older client's lone line is a whole request here.
TEST(ControlSocketTest, ARequestCarriesItsDeadlineOnALineOfItsOwn) {
  EXPECT_EQ(format_control_request({"reload", 1796283000847}), "reload\ndeadline=1796283000847\n");
  EXPECT_EQ(format_control_request({"status json", 0}), "status json\n");
  auto whole = parse_control_request("status json\ndeadline=1796283000847\n");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->name, "status json");
  EXPECT_EQ(whole->deadline_ms, 1796283000847);
  auto old = parse_control_request("reload\n");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->name, "reload");
  EXPECT_EQ(old->deadline_ms, 0);
  EXPECT_FALSE(parse_control_request("reload"));
  EXPECT_FALSE(parse_control_request("reload\ndead"));
  EXPECT_FALSE(parse_control_request("reload\ndeadline=12"));
  auto bad = parse_control_request("reload\ndeadline=soon\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->deadline_ms, 0);
  auto crlf = parse_control_request("quit\r\n");
  ASSERT_TRUE(crlf);
  EXPECT_EQ(crlf->name, "quit");
}

TEST(ControlSocketTest, LivesBesideThePidFile) {
  EXPECT_EQ(control_socket_path("/run/shoal/shoal.pid"), "/run/shoal/shoal.sock");
  EXPECT_EQ(control_socket_path("/run/shoal/pid"), "/run/shoal/pid.sock");
  EXPECT_EQ(control_socket_path(".pid"), ".pid.sock");
}

}  // namespace
}  // namespace shoal
