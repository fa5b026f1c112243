// SPDX-License-Identifier: Apache-2.0
/* nsenter: the runc-compatible pipeline for programs written in C, Go (cgo)
 * or Rust. Declarations only; the definition is compiled from
 * nsenter/c_api_impl.hpp in one C++ translation unit (Bazel: //:nsenter_c).
 *
 * Call it from a constructor:
 *
 *   __attribute__((constructor)) static void init(void) {
 *     int init_pipe, log_pipe;
 *     if (nsenter_nsexec(&init_pipe, &log_pipe) == 1) { ...stage 2... }
 *   }
 */
#ifndef NSENTER_C_API_H
#define NSENTER_C_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs runc 1.1's init protocol with the default policies.
 * Returns 0 at once when _LIBCONTAINER_INITPIPE is not set (not an init).
 * Returns 1 in stage 2, the container's init, with *init_pipe (still open,
 * for the caller's own protocol) and *log_pipe (-1 if none) set.
 * Never returns in stages 0 and 1; on any error, writes runc's fatal log
 * record (or "FATAL: ..." on stderr) and exits with status 1. */
int nsenter_nsexec(int *init_pipe, int *log_pipe);

#ifdef __cplusplus
}
#endif

#endif
