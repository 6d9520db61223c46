// HelperPool against scripted helpers (a HelperEntry of the test's own, forked as a real
// helper is): dispatch, the queue limit, a helper that breaks the protocol, cancel.
#include "helpers/helper_pool.hpp"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "helpers/frame.hpp"

namespace shoal::helpers {
namespace {

using namespace std::chrono_literals;

// Blocks until a whole frame arrives on fd; exits the process at EOF (the pool closed us).
Frame read_frame(int fd, FrameReader& reader) {
  Frame frame;
  while (reader.next(frame) != FrameReader::Status::kFrame) {
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) _exit(0);
    reader.append(std::string_view(buf, static_cast<size_t>(n)));
  }
  return frame;
}

void send_frame(int fd, FrameType type, std::string_view payload) {
  std::string out;
  append_frame(out, type, payload);
  (void)!::write(fd, out.data(), out.size());
}

// Answers each job with 200, "X-Fake: yes" and its body echoed back.
void echo_helper(int in_fd, int out_fd) {
  FrameReader reader;
  while (true) {
    Frame start = read_frame(in_fd, reader);
    if (start.type != FrameType::kJobStart) _exit(3);
    std::string body;
    for (Frame f = read_frame(in_fd, reader); f.type != FrameType::kBodyEnd;
         f = read_frame(in_fd, reader)) {
      body += f.payload;
    }
    send_frame(out_fd, FrameType::kHead, encode_fields({"200", "X-Fake", "yes"}));
    send_frame(out_fd, FrameType::kData, "echo:" + body);
    send_frame(out_fd, FrameType::kEnd, {});
  }
}

// Takes a job, then writes bytes that are no frame at all.
void garbage_helper(int in_fd, int out_fd) {
  FrameReader reader;
  while (read_frame(in_fd, reader).type != FrameType::kBodyEnd) {
  }
  (void)!::write(out_fd, "\xff\xff\xff\xff\xff\xff", 6);
  pause();
  _exit(0);
}

// Takes a job and never answers.
void silent_helper(int in_fd, int /*out_fd*/) {
  FrameReader reader;
  while (true) read_frame(in_fd, reader);
}

struct RecordingSink : JobSink {
  int head_status = 0;
  HeaderList headers;
  std::string data;
  bool ended = false;
  int failed = 0;
  void on_job_head(int status, HeaderList h) override {
    head_status = status;
    headers = std::move(h);
  }
  void on_job_data(std::string_view d) override { data += d; }
  void on_job_end() override { ended = true; }
  void on_job_failed(int status) override { failed = status; }
  void on_job_writable() override {}
  bool done() const { return ended || failed != 0; }
};

class HelperPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    base_ = event_base_new();
    config_.count = 1;
    config_.queue = 0;
    config_.timeout = std::chrono::milliseconds(10'000);
    config_.nice = 0;
  }
  void TearDown() override {
    pool_.reset();
    event_base_free(base_);
  }
  void start(HelperEntry entry) {
    pool_ = std::make_unique<HelperPool>(base_, config_, entry);
    pool_->start();
  }
  // Runs the loop until `sink` heard the end of its job (or 10 s pass).
  bool run_until_done(const RecordingSink& sink) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!sink.done() && std::chrono::steady_clock::now() < deadline) {
      timeval tick{0, 10'000};
      event_base_loopexit(base_, &tick);
      event_base_dispatch(base_);
    }
    return sink.done();
  }

  event_base* base_ = nullptr;
  HelpersConfig config_;
  std::unique_ptr<HelperPool> pool_;
};

TEST_F(HelperPoolTest, AJobGoesToAHelperAndItsAnswerComesBack) {
  start(echo_helper);
  EXPECT_EQ(pool_->idle_helpers(), 1u);
  RecordingSink sink;
  JobSpec spec;
  spec.type = JobType::kSleep;
  auto* job = pool_->submit(spec, &sink);
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(pool_->idle_helpers(), 0u);
  pool_->send_body(job, "abc");
  pool_->end_body(job);
  ASSERT_TRUE(run_until_done(sink));
  EXPECT_TRUE(sink.ended);
  EXPECT_EQ(sink.head_status, 200);
  ASSERT_EQ(sink.headers.size(), 1u);
  EXPECT_EQ(sink.headers[0].first, "X-Fake");
  EXPECT_EQ(sink.data, "echo:abc");
  EXPECT_EQ(pool_->idle_helpers(), 1u);  // free for the next job
}

TEST_F(HelperPoolTest, BeyondTheQueueLimitASubmitIsRefused) {
  start(silent_helper);
  RecordingSink first;
  RecordingSink second;
  JobSpec spec;
  spec.type = JobType::kSleep;
  auto* running = pool_->submit(spec, &first);
  ASSERT_NE(running, nullptr);
  EXPECT_EQ(pool_->submit(spec, &second), nullptr);  // queue: 0, and the helper is busy
  pool_->cancel(running);      // kills and replaces the helper that was running it
  EXPECT_FALSE(first.done());  // a cancelled job tells its sink nothing: the client is gone
}

TEST_F(HelperPoolTest, AHelperThatBreaksTheProtocolIsKilledAndItsJobFails) {
  start(garbage_helper);
  RecordingSink sink;
  JobSpec spec;
  spec.type = JobType::kSleep;
  auto* job = pool_->submit(spec, &sink);
  ASSERT_NE(job, nullptr);
  pool_->end_body(job);
  ASSERT_TRUE(run_until_done(sink));
  EXPECT_EQ(sink.failed, 502);
  EXPECT_FALSE(sink.ended);
}

TEST_F(HelperPoolTest, AJobPastItsDeadlineFailsWith504) {
  config_.timeout = std::chrono::milliseconds(100);
  start(silent_helper);
  RecordingSink sink;
  JobSpec spec;
  spec.type = JobType::kSleep;
  auto* job = pool_->submit(spec, &sink);
  ASSERT_NE(job, nullptr);
  pool_->end_body(job);
  ASSERT_TRUE(run_until_done(sink));
  EXPECT_EQ(sink.failed, 504);
}

}  // namespace
}  // namespace shoal::helpers
