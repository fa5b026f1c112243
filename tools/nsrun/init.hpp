// nsrun's init (init.cc), for the launch that forks it rather than exec'ing
// the binary: LauncherConfig::in_process_init.
#pragma once

namespace nsrun {

[[noreturn]] void init_in_process(int argc, char** argv);

// The byte nsrun sends a -t init's stage 2 (--await-go) on the init pipe
// when the command may run (run.hpp's let_joined_init_go).
inline constexpr char kAwaitedGo = 'g';

}  // namespace nsrun
