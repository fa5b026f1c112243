// SPDX-License-Identifier: Apache-2.0
// nsenter: joining existing namespaces (stage 1). Every path is opened
// before the first setns, and the user namespace is placed in the order the
// kernel's ownership rules need.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "nsenter/error.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// One namespace to join; `path` is a C string owned by the plan.
struct NsTarget {
  NsKind kind = NsKind::mnt;
  const char* path = nullptr;
};

namespace detail {

inline Error join_error(Op op, int err, NsKind kind, const char* path) noexcept {
  return in_stage(make_sys_error(op, err, detail_text("{} {}", name(kind), path)), Stage::Child);
}

// Whether `fd` is a namespace of `kind` (in nsfs; NS_GET_NSTYPE, Linux
// 4.11: without it setns(2) still checks the kind); the error names `kind`
// and `what` (the path or the fd it came from).
inline Result<void> check_namespace(int fd, NsKind kind, std::string_view what, Stage stage) noexcept {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return in_stage(make_sys_error(Op::OpenNsPath, errno, detail_text("{} {}", name(kind), what)), stage);
  if (fs.f_type != NSFS_MAGIC) {
    struct stat st {};
    const char* type = ::fstat(fd, &st) == 0 ? file_type_name(st.st_mode) : "not in nsfs";
    return in_stage(make_error(Op::OpenNsPath, Code::NotANamespace, kNoOffset,
                               detail_text("{} {}: {}", name(kind), what, type)),
                    stage);
  }
  const int type = ::ioctl(fd, NS_GET_NSTYPE);
  if (type >= 0 && static_cast<std::uint32_t>(type) != clone_flag(kind)) {
    const auto actual = ns_kind_from_clone_flag(static_cast<std::uint32_t>(type));
    return in_stage(make_error(Op::OpenNsPath, Code::NotANamespace, kNoOffset,
                               detail_text("{} {}: a namespace of kind {}", name(kind), what,
                                           actual ? name(*actual) : std::string_view("unknown"))),
                    stage);
  }
  return {};
}

// Opens a namespace path for setns and checks, before anyone joins
// anything, that it is a namespace of the expected kind. Non-blocking, so
// that a FIFO given by mistake cannot hang the stage in open(2); O_NOCTTY,
// so that a terminal cannot become ours.
inline Result<UniqueFd> open_namespace(const NsTarget& t) noexcept {
  UniqueFd fd(::open(t.path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return join_error(Op::OpenNsPath, errno, t.kind, t.path);
  if (auto r = check_namespace(fd.get(), t.kind, t.path, Stage::Child); !r) return r.error();
  return fd;
}

inline bool same_file(int a, int b) noexcept {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace detail

// Opens all targets, then setns(2) into each.
//
// Why open first: after joining a mount namespace, the remaining paths
// would resolve in the container's filesystem, not the runtime's.
//
// Why reorder: once a process joins a user namespace it holds capabilities
// only there, so a namespace owned by some other user namespace (a netns
// created by the host, say) can no longer be joined. runc 1.1 joins in the
// given order (user first); runc 1.3 and util-linux retry failures after
// the rest. We ask the kernel instead (ioctl NS_GET_USERNS, Linux 4.9): the
// namespaces the target user namespace does not own are joined before it,
// while we still have the caller's privileges, and the ones it owns after.
// If the ioctl is unavailable the given order stands.
struct SetnsJoiner {
  Result<void> join(std::span<const NsTarget> targets) const noexcept {
    std::array<UniqueFd, kMaxNamespaces> fds;
    std::size_t user = targets.size();
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto fd = detail::open_namespace(targets[i]);
      if (!fd) return fd.error();
      fds[i] = std::move(*fd);
      if (targets[i].kind == NsKind::user) user = i;
    }
    std::array<std::size_t, kMaxNamespaces> order;
    std::size_t n = 0;
    std::array<bool, kMaxNamespaces> after_user{};
    if (user < targets.size()) {
      for (std::size_t i = 0; i < targets.size(); ++i) {
        if (i == user) continue;
        UniqueFd owner(::ioctl(fds[i].get(), NS_GET_USERNS));
        // No answer (old kernel, or an owner outside our view): keep the
        // runc order, i.e. after the user namespace.
        after_user[i] = !owner || detail::same_file(owner.get(), fds[user].get());
      }
      for (std::size_t i = 0; i < targets.size(); ++i)
        if (i != user && !after_user[i]) order[n++] = i;
      order[n++] = user;
    }
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (i != user && (user == targets.size() || after_user[i])) order[n++] = i;
    for (std::size_t k = 0; k < n; ++k) {
      const NsTarget& t = targets[order[k]];
      if (::setns(fds[order[k]].get(), static_cast<int>(clone_flag(t.kind))) != 0)
        return detail::join_error(Op::Setns, errno, t.kind, t.path);
    }
    return {};
  }
};

// Joins all namespaces of one process with a single setns(pidfd, flags)
// (Linux 5.8): the kernel switches them together, checking every
// permission first and ordering the user namespace itself, so the process
// is never left half-joined. Used when every target is /proc/PID/ns/<kind>
// of one PID (what runc sends to join a running container); otherwise, or
// on a kernel without pidfd setns, it does what SetnsJoiner does.
struct PidfdJoiner {
  // The PID every target names, if they all have that shape.
  static std::optional<pid_t> common_pid(std::span<const NsTarget> targets) noexcept {
    std::optional<pid_t> pid;
    for (const NsTarget& t : targets) {
      const std::string_view path(t.path);
      constexpr std::string_view prefix = "/proc/";
      if (!path.starts_with(prefix)) return std::nullopt;
      const std::size_t slash = path.find('/', prefix.size());
      if (slash == std::string_view::npos || slash == prefix.size() || slash - prefix.size() > 9) return std::nullopt;
      const pid_t p = detail::parse_decimal<pid_t>(path.substr(prefix.size(), slash - prefix.size())).value_or(0);
      const std::string_view file = path.substr(slash);  // "/ns/<kind>", compared in place: no heap after a clone
      if (!file.starts_with("/ns/") || file.substr(4) != name(t.kind)) return std::nullopt;
      if (p <= 0 || (pid && *pid != p)) return std::nullopt;
      pid = p;
    }
    return pid;
  }

  // Joins `targets`, every one /proc/`pid`/ns/<kind>, through `pidfd`, a
  // pidfd of that process: one setns for all their kinds. A runtime that
  // pinned the process itself (nsrun -t) passes its own pidfd here, so
  // that the PID cannot name another process by the time of the join.
  static Result<void> join_through(int pidfd, pid_t pid, std::span<const NsTarget> targets) noexcept {
    std::uint32_t flags = 0;
    for (const NsTarget& t : targets) flags |= clone_flag(t.kind);
    if (::setns(pidfd, static_cast<int>(flags)) == 0) return {};
    // EINVAL: a kernel before 5.8 that takes only namespace fds.
    if (errno == EINVAL) return SetnsJoiner{}.join(targets);
    return in_stage(make_sys_error(Op::Setns, errno, detail::detail_text("pidfd of {} (flags {:#x})", pid, flags)),
                    Stage::Child);
  }

  Result<void> join(std::span<const NsTarget> targets) const noexcept {
    const auto pid = common_pid(targets);
    if (!pid) return SetnsJoiner{}.join(targets);
    UniqueFd pidfd(detail::pidfd_open(*pid));
    if (!pidfd) {
      if (errno == ENOSYS) return SetnsJoiner{}.join(targets);
      return detail::join_error(Op::OpenNsPath, errno, targets.front().kind, targets.front().path);
    }
    return join_through(pidfd.get(), *pid, targets);
  }
};

NSENTER_END_NAMESPACE
