// The helper process: a single-threaded loop over blocking pipes. It reads one job at a time
// (JOB_START, BODY*, BODY_END), runs it, and answers with frames. Blocking is allowed here:
// that is what helpers are for.
#pragma once

namespace shoal::helpers {

// Serves jobs from `in_fd` and answers on `out_fd` until the worker closes `in_fd`.
[[noreturn]] void helper_main(int in_fd, int out_fd);

}  // namespace shoal::helpers
