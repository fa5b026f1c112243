// SPDX-License-Identifier: Apache-2.0
// nsrun's init (init.cc), for the launch that forks it rather than exec'ing
// the binary: LauncherConfig::in_process_init.
#pragma once

namespace nsrun {

[[noreturn]] void init_in_process(int argc, char** argv);

// Stage 2's exit status when it did not run the command for a reason of
// nsrun's (its -t target gone, a mount, --root, --wd or an id it could not
// set up): nsrun's own failure, as env(1) says it.
inline constexpr int kExitNotRun = 125;

}  // namespace nsrun
