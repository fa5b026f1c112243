// SPDX-License-Identifier: Apache-2.0
// nsenter: optional calls under a seccomp filter, asked by a throwaway
// child first.
//
// Some calls the library makes are optional: a refusal (ENOSYS, EPERM)
// takes it to a fallback. A seccomp filter may answer them by killing the
// caller instead (systemd's SystemCallFilter=, hardened profiles), which
// would take a whole start down in silence. Where a filter is in force,
// such a call is made first by a copy of this process that shares its fd
// table (so that fds it opens are ours) and writes its results into memory
// shared with us: its death by the filter costs nothing but the copy.
// Where no filter is in force (PR_GET_SECCOMP: one system call), nothing
// of this runs.
#pragma once

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <new>
#include <type_traits>

#include "nsenter/detail/signals.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// True when a seccomp filter is in force on this process (mode 2). A
// filter that kills this prctl kills every start anyway: the stages name
// themselves and set their dumpability with prctl, as runc's do.
inline bool seccomp_filtered() noexcept { return ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2; }

// Runs ask(answer) in a copy of this process sharing its fd table, with
// `answer` in memory shared between the two (copied in and back out).
// Returns 0 when the copy ran `ask` to its end, the signal that killed it
// otherwise (SIGSYS: a seccomp filter's kill), or -errno when no copy could
// be made. The copy sends no SIGCHLD and is waited for by pid (__WALL), so
// that a handler of the program's that reaps any child cannot take it.
template <class Answer>
int ask_in_throwaway_child(void (*ask)(Answer&), Answer& answer) noexcept {
  static_assert(std::is_trivially_copyable_v<Answer>);
  void* page = ::mmap(nullptr, sizeof(Answer), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return -errno;
  auto* shared = new (page) Answer(answer);
  long pid;
  {
    // No handler may run in the copy.
    const AllSignalsBlocked blocked;
    // A fork's copy (no stack of its own, no shared memory but the page),
    // with our fd table; raw, as CloneParent's: the copy makes system calls
    // only, then exits without running any exit handler.
    pid = ::syscall(SYS_clone, CLONE_FILES, nullptr, nullptr, nullptr, nullptr);
    if (pid == 0) {
      ask(*shared);
      ::syscall(SYS_exit_group, 0);
    }
  }
  int result = 0;
  if (pid < 0) {
    result = -errno;
  } else {
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, __WALL) < 0 && errno == EINTR) {
    }
    result = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  answer = *shared;
  ::munmap(page, sizeof(Answer));
  return result;
}

}  // namespace detail
NSENTER_END_NAMESPACE
