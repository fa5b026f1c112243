// SPDX-License-Identifier: Apache-2.0
// nsenter: the definition behind c_api.h. Include it in exactly one C++
// translation unit of the program (//:nsenter_c does this for Bazel users).
#pragma once

#include "nsenter/c_api.h"
#include "nsenter/nsexec.hpp"

extern "C" int nsenter_nsexec(int* init_pipe, int* log_pipe) {
  auto ctx = nsenter::RuncCompatNsexec{}.run();
  if (!ctx) return 0;
  if (init_pipe != nullptr) *init_pipe = ctx->init_pipe;
  if (log_pipe != nullptr) *log_pipe = ctx->log_pipe;
  // The message buffer is freed here; C callers get only the fds.
  return 1;
}
