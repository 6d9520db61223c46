// The job state machine's transitions (see job_state.hpp).
#include "exchange/job_state.hpp"

namespace shoal {

JobStep next_job_step(JobState state, JobEvent event) {
  const bool head_out = state == JobState::kAnsweredEarly || state == JobState::kStreaming;
  switch (event) {
    case JobEvent::kRequestComplete:
      if (state == JobState::kSendingBody) return {JobState::kAwaiting};
      if (state == JobState::kAnsweredEarly) return {JobState::kStreaming};
      return {state};
    case JobEvent::kHead:
      if (state == JobState::kSendingBody) return {JobState::kAnsweredEarly};
      if (state == JobState::kAwaiting) return {JobState::kStreaming};
      return {state};
    case JobEvent::kEnd:
      return {JobState::kNone};
    case JobEvent::kFailed:
      return {JobState::kNone, false, !head_out, head_out};
    case JobEvent::kEarlyEnd:
      return {JobState::kNone, state != JobState::kNone};
  }
  return {state};
}

}  // namespace shoal
