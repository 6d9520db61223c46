// The connection's job state machine (exchange/job_state.hpp): the decisions, without a loop.
#include "exchange/job_state.hpp"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(JobStateTest, TheUsualLifeOfAJob) {
  auto s = next_job_step(JobState::kSendingBody, JobEvent::kRequestComplete);
  EXPECT_EQ(s.next, JobState::kAwaiting);
  EXPECT_TRUE(request_waits_for_job(s.next));
  s = next_job_step(s.next, JobEvent::kHead);
  EXPECT_EQ(s.next, JobState::kStreaming);
  EXPECT_TRUE(request_waits_for_job(s.next));
  s = next_job_step(s.next, JobEvent::kEnd);
  EXPECT_EQ(s.next, JobState::kNone);
  EXPECT_FALSE(request_waits_for_job(s.next));
}

TEST(JobStateTest, AnAnswerBeforeTheWholeBodyKeepsTheBodyFlowing) {
  auto s = next_job_step(JobState::kSendingBody, JobEvent::kHead);
  EXPECT_EQ(s.next, JobState::kAnsweredEarly);
  EXPECT_FALSE(request_waits_for_job(s.next));  // the rest of the body is still parsed
  EXPECT_EQ(next_job_step(s.next, JobEvent::kRequestComplete).next, JobState::kStreaming);
}

// Issue 14, defect 3: every early end cancels a live job, in every state it can be in.
TEST(JobStateTest, AnEarlyEndCancelsTheJobWhateverItsState) {
  for (auto state : {JobState::kSendingBody, JobState::kAwaiting, JobState::kAnsweredEarly,
                     JobState::kStreaming}) {
    auto s = next_job_step(state, JobEvent::kEarlyEnd);
    EXPECT_EQ(s.next, JobState::kNone);
    EXPECT_TRUE(s.cancel) << static_cast<int>(state);
  }
  EXPECT_FALSE(next_job_step(JobState::kNone, JobEvent::kEarlyEnd).cancel);
}

TEST(JobStateTest, AFailureIsAnErrorReplyBeforeTheHeadAndACutAfter) {
  for (auto state : {JobState::kSendingBody, JobState::kAwaiting}) {
    auto s = next_job_step(state, JobEvent::kFailed);
    EXPECT_TRUE(s.error_reply);
    EXPECT_FALSE(s.cut_off);
    EXPECT_FALSE(s.cancel);  // the pool has let go of it already
  }
  for (auto state : {JobState::kAnsweredEarly, JobState::kStreaming}) {
    auto s = next_job_step(state, JobEvent::kFailed);
    EXPECT_FALSE(s.error_reply);
    EXPECT_TRUE(s.cut_off);
  }
}

}  // namespace
}  // namespace shoal
