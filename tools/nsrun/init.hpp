// nsrun's init (init.cc), for the launch that forks it rather than exec'ing
// the binary: LauncherConfig::in_process_init.
#pragma once

namespace nsrun {

[[noreturn]] void init_in_process(int argc, char** argv);

}  // namespace nsrun
