// A job's life as the exchange that started it sees it (pure; unit-tested):
//   kNone --start--> kSendingBody --message complete--> kAwaiting --head--> kStreaming
//                    kSendingBody --head--> kAnsweredEarly --message complete--> kStreaming
//   any --END or failure from the runner--> kNone
// and from any state but kNone, an early end (408, 400, 413) cancels the job in its runner,
// which frees (kills and replaces) a helper that was running it. The client leaving destroys
// the exchange, which does the same.
#pragma once

#include <cstdint>

namespace shoal {

enum class JobState : std::uint8_t {
  kNone,           // no job for the current request
  kSendingBody,    // submitted; the request body is still arriving
  kAwaiting,       // the request is complete; the helper's head is pending
  kAnsweredEarly,  // the head is out while the request body still arrives
  kStreaming,      // the request is complete and the head is out; data until END
};

// The next step of a job when `event` happens in `state`.
enum class JobEvent : std::uint8_t { kRequestComplete, kHead, kEnd, kFailed, kEarlyEnd };
struct JobStep {
  JobState next = JobState::kNone;
  bool cancel = false;       // tell the runner to drop the job (and free its helper)
  bool error_reply = false;  // answer the failure with an error status (no head was sent)
  bool cut_off = false;      // the head is out: only closing tells the client
};
JobStep next_job_step(JobState state, JobEvent event);
// True when the request is complete and its job has not ended: nothing more is parsed (the
// next pipelined request waits its turn).
constexpr bool request_waits_for_job(JobState state) {
  return state == JobState::kAwaiting || state == JobState::kStreaming;
}

}  // namespace shoal
