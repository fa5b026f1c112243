// SPDX-License-Identifier: Apache-2.0
// nsenter: CloneParent, the fork-like way a stage makes the next one.
#pragma once

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "nsenter/error.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// Contract (the CloneStrategy concept):
// - Returns like fork(2): 0 in the child, the child's pid in the parent.
// - CLONE_PARENT | SIGCHLD: the child's parent is the caller's parent (the
//   runtime), which reaps it; SIGCHLD is what the runtime's waitpid expects.
// - No new stack: the raw clone syscall with a NULL stack gives the child a
//   copy-on-write copy of the caller's stack, so it continues in the same
//   C++ frame with its destructors intact (runc's setjmp/longjmp would skip
//   them). No CLONE_VM, so nothing is shared afterwards.
// - Runs no pthread_atfork handlers and leaves glibc's cached TID stale in
//   the child: child code must use plain system calls only (no stdio, no
//   heap, no locks), which the stages do.
struct CloneParent {
  Result<pid_t> spawn(Stage stage) const noexcept {
    const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
      return in_stage(make_sys_error(Op::Clone, errno, "CLONE_PARENT"), stage);
    }
    return static_cast<pid_t>(pid);
  }

  // The same, the child made in the new namespaces `create` (the
  // one-clone plan, start_plan.hpp). Not a time namespace: clone(2) takes
  // CLONE_NEWTIME's bit for the exit signal's.
  Result<pid_t> spawn_into(Stage stage, NsSet create) const noexcept {
    const long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD | create.clone_flags(), nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) {
      return in_stage(make_sys_error(Op::Clone, errno, "CLONE_PARENT and new namespaces"), stage);
    }
    return static_cast<pid_t>(pid);
  }
};

NSENTER_END_NAMESPACE
