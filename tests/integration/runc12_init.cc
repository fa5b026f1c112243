// An init built with the runc >= 1.2 protocol profile (an embedder's
// choice): runs the pipeline in its constructor, then executes the command
// after "--", as nsrun does for the default profile.
#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "nsenter/embed.hpp"

namespace {
void exec_after_dashes(nsenter::InitContext& ctx, int argc, char** argv) {
  ::close(ctx.init_pipe);
  if (ctx.log_pipe >= 0) ::close(ctx.log_pipe);
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--" && i + 1 < argc) {
      ::execvp(argv[i + 1], argv + i + 1);
      std::perror("execvp");
      ::_exit(127);
    }
  ::_exit(0);
}
}  // namespace

NSENTER_INIT_CONSTRUCTOR(runc12_init, 200, nsenter::Runc12Nsexec, exec_after_dashes)

int main() { return 0; }
