// SPDX-License-Identifier: Apache-2.0
// Stage 2 of the test inits: execute the command after "--".
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string_view>

#include "nsenter/nsexec.hpp"

inline void exec_after_dashes(nsenter::InitContext& ctx, int argc, char** argv) {
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
