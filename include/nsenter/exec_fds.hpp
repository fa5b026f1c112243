// SPDX-License-Identifier: Apache-2.0
// nsenter: which fds a program exec'd into the container inherits. A
// runtime that started the init with fds open and not close-on-exec (a
// leaky parent, a shell's `exec 7<file`) would otherwise hand them to the
// container's command, which could reach the host through them (the
// CVE-2024-21626 class). runc's Go init marks every fd but stdio and the
// preserved ones close-on-exec just before it execs the command; this is
// that step. Raw system calls and a stack buffer only: safe in a child
// stage and in a vfork'd child.
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "nsenter/detail/decimal.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <span>

#include "nsenter/fd.hpp"
#include "nsenter/version.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

NSENTER_BEGIN_NAMESPACE

namespace detail {

inline void set_cloexec(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0 && (flags & FD_CLOEXEC) == 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

enum class FdAction : std::uint8_t { Cloexec, Close };

inline void apply(FdAction action, int fd) noexcept {
  if (action == FdAction::Close)
    ::close(fd);
  else
    set_cloexec(fd);
}

// Without close_range (Linux < 5.9, or < 5.11 for its CLOEXEC flag): the
// open fds, from /proc/self/fd; without /proc (a fresh mount namespace,
// say), every number up to the fd limit. Returns 0 or an errno.
inline int apply_to_open_fds(FdAction action, unsigned first, unsigned last) noexcept {
  UniqueFd dir(::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    rlimit nofile{};
    const rlim_t limit = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? std::min<rlim_t>(nofile.rlim_cur, 1 << 20) : 1024;
    for (rlim_t fd = first; fd <= last && fd < limit; ++fd) apply(action, static_cast<int>(fd));
    return 0;
  }
  alignas(8) char buf[4096];
  while (true) {
    const long n = ::syscall(SYS_getdents64, dir.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buf + off);
      off += entry->d_reclen;
      const auto fd = detail::parse_decimal<unsigned>(entry->d_name);  // "." and ".." are none
      if (fd && *fd >= first && *fd <= last && static_cast<int>(*fd) != dir.get()) apply(action, static_cast<int>(*fd));
    }
  }
}

inline int apply_to_range(FdAction action, unsigned first, unsigned last) noexcept {
  const unsigned flags = action == FdAction::Close ? 0 : CLOSE_RANGE_CLOEXEC;
  if (::syscall(SYS_close_range, first, last, flags) == 0) return 0;
  // ENOSYS before Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11;
  // EPERM only from a seccomp profile written before the call existed
  // (close_range itself never answers it).
  if (errno != ENOSYS && errno != EINVAL && errno != EPERM) return errno;
  return apply_to_open_fds(action, first, last);
}

}  // namespace detail

// Marks every fd from `first` up close-on-exec, except those in `keep`:
// after an exec only fds below `first` and the kept ones remain. Returns 0
// or the errno of the step that failed.
inline int cloexec_fds_from(int first, std::span<const int> keep = {}) noexcept {
  unsigned start = static_cast<unsigned>(std::max(first, 0));
  while (true) {
    // The lowest kept fd at or above `start` ends the next range.
    unsigned next_kept = UINT_MAX;
    for (int k : keep)
      if (k >= 0 && static_cast<unsigned>(k) >= start) next_kept = std::min(next_kept, static_cast<unsigned>(k));
    if (next_kept > start)
      if (int err = detail::apply_to_range(detail::FdAction::Cloexec, start, next_kept == UINT_MAX ? UINT_MAX : next_kept - 1)) return err;
    if (next_kept == UINT_MAX) return 0;
    start = next_kept + 1;
  }
}

// Closes every fd from `first` up, now: for a child that will not exec
// (spawn.hpp's entry) and so would keep even close-on-exec ones. Returns 0
// or an errno.
inline int close_fds_from(int first) noexcept {
  return detail::apply_to_range(detail::FdAction::Close, static_cast<unsigned>(std::max(first, 0)), UINT_MAX);
}

NSENTER_END_NAMESPACE
