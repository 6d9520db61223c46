// The new image's way back after an in-place upgrade: a start that fails before it serves
// (its flags are refused, the state cannot be adopted, the loop cannot be set up) execs the
// previous image again from the fd the old master kept open, with the same state plus why, so
// the old binary adopts its workers again and tells `shoal -s upgrade` what happened.
#pragma once

#include <string>

namespace shoal {

// `state_text` is SHOAL_UPGRADE_STATE as this image received it. Returns only when there is no
// way back (no fallback fd, or this image is itself the fallback) or fexecve failed; the
// caller then exits as any failed start does.
void exec_previous_image(const std::string& state_text, const std::string& why);

}  // namespace shoal
