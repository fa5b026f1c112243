// SPDX-License-Identifier: Apache-2.0
// nsenter: writing a user namespace's uid/gid maps from outside it (stage 0
// for stage 1). Direct writes to /proc/PID/{uid,gid}_map, the setuid
// newuidmap/newgidmap helpers, and runc's composition of the two.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>

#include "nsenter/bootstrap_view.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/result.hpp"
#include "nsenter/sys.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

enum class IdKind { Uid, Gid };

// The runtime that asked for the maps, for a writer that waits on a
// helper (a stuck newuidmap): stage 0's end of the init pipe, whose peer
// hangs up when the runtime dies, and the runtime's pid, our parent until
// then. Empty where nobody is to be watched (a runtime writing the maps
// itself).
struct RuntimeWatch {
  int init_pipe = -1;
  pid_t pid = 0;
  bool watched() const noexcept { return init_pipe >= 0; }
};

// What stage 0 is asked to write for one id kind.
struct IdMapRequest {
  pid_t pid;
  IdKind kind;
  IdMapView map;
  std::string_view helper;  // NUL-terminated in the message buffer; empty = none
  RuntimeWatch runtime{};
};

namespace detail {

inline Error stage0_error(Op op, int err, std::string_view what) noexcept {
  return in_stage(make_sys_error(op, err, what), Stage::Parent);
}

struct ProcPath {
  char data[64];
  ProcPath(pid_t pid, std::string_view file) noexcept {
    const auto r = fmt::format_to_n(data, sizeof data - 1, "/proc/{}/{}", pid, file);
    *r.out = '\0';
  }
};


}  // namespace detail

// Direct writes only.
struct ProcIdMapWriter {
  Result<void> write(const IdMapRequest& req) const noexcept {
    if (req.map.empty()) return {};
    const detail::ProcPath path(req.pid, req.kind == IdKind::Uid ? "uid_map" : "gid_map");
    // The kernel takes a map in one write only: LinuxSys::write_file's.
    if (const int err = LinuxSys{}.write_file(path.data, req.map.text))
      return detail::stage0_error(req.kind == IdKind::Uid ? Op::WriteUidMap : Op::WriteGidMap, err, path.data);
    return {};
  }
};

namespace detail {

// Until the helper `child` has ended (it is then left to reap): where a
// runtime is watched and the helper outlives it (its end of the init pipe
// hung up, or we were reparented), the helper is killed and reaped, and
// the error says so: a stuck helper would otherwise keep stages 0 and 1
// waiting for a runtime that is gone. A second's poll catches a runtime
// whose end of the pipe lives on in another process. Without pidfds
// (before Linux 5.3) the plain wait.
inline Result<void> wait_while_runtime_lives(pid_t child, const IdMapRequest& req) noexcept {
  if (!req.runtime.watched()) return {};
  UniqueFd helper(pidfd_open(child));
  if (!helper) return {};
  pollfd fds[2] = {{helper.get(), POLLIN, 0}, {req.runtime.init_pipe, 0, 0}};  // 0: a hang-up is always said
  for (;;) {
    const int n = ::poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) return {};
    if (fds[0].revents != 0) return {};
    if ((fds[1].revents & (POLLHUP | POLLERR)) == 0 && (req.runtime.pid <= 0 || ::getppid() == req.runtime.pid)) continue;
    ::kill(child, SIGKILL);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return in_stage(make_error(Op::RunMapHelper, Code::ParentGone, kNoOffset,
                               detail_text("pid {}, while {} ran: killed it", req.runtime.pid, req.helper)),
                    Stage::Parent);
  }
}

}  // namespace detail

// newuidmap/newgidmap only: `helper PID inside outside count ...` with an
// empty environment, exit status 0 required. Runs in stage 0, which is the
// original process (single-threaded), so fork+execve is safe; argv lives on
// the stack. exec failures come back through a close-on-exec pipe.
struct HelperIdMapWriter {
  Result<void> write(const IdMapRequest& req) const noexcept {
    if (req.map.empty()) return {};
    const Op op = Op::RunMapHelper;
    if (req.helper.empty()) return detail::stage0_error(op, EPERM, "no helper path given");
    char numbers[1 + 3 * kMaxIdMapLines][12];
    char* argv[2 + 3 * kMaxIdMapLines + 1];
    std::size_t argc = 0;
    argv[argc++] = const_cast<char*>(req.helper.data());
    auto add = [&](std::uint64_t v) {
      char* slot = numbers[argc - 1];
      *fmt::format_to_n(slot, sizeof numbers[0] - 1, "{}", v).out = '\0';
      argv[argc++] = slot;
    };
    add(static_cast<std::uint64_t>(req.pid));
    req.map.for_each([&](const IdMapEntry& e) {
      add(e.inside);
      add(e.outside);
      add(e.count);
    });
    argv[argc] = nullptr;

    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return detail::stage0_error(op, errno, "pipe2");
    UniqueFd report_read(report[0]), report_write(report[1]);
    const pid_t child = ::fork();
    if (child < 0) return detail::stage0_error(op, errno, req.helper);
    if (child == 0) {
      char* envp[] = {nullptr};
      ::execve(argv[0], argv, envp);
      const int err = errno;
      (void)!::write(report_write.get(), &err, sizeof err);
      ::_exit(127);
    }
    report_write.reset();
    int exec_errno = 0;
    ssize_t n;
    do n = ::read(report_read.get(), &exec_errno, sizeof exec_errno);
    while (n < 0 && errno == EINTR);
    if (auto gone = detail::wait_while_runtime_lives(child, req); !gone) return gone.error();
    int status = 0;
    while (::waitpid(child, &status, 0) < 0)
      if (errno != EINTR) return detail::stage0_error(op, errno, req.helper);
    if (n == static_cast<ssize_t>(sizeof exec_errno)) return detail::stage0_error(op, exec_errno, req.helper);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      const auto what = WIFEXITED(status) ? detail::detail_text("{} exited with status {}", req.helper, WEXITSTATUS(status))
                                          : detail::detail_text("{} killed by signal {}", req.helper, WTERMSIG(status));
      return in_stage(make_error(op, Code::HelperFailed, kNoOffset, what), Stage::Parent);
    }
    return {};
  }
};

// The maps of the new user namespace `pid` is in, as stage 0 writes them
// (or a runtime that cloned the init into it, start_plan.hpp): "deny" to
// setgroups first for a rootless container that keeps setgroups off (an
// unprivileged writer of gid_map must, user_namespaces(7); ENOENT means a
// kernel older than 3.19, which needs none), then each map through
// `writer`.
template <class Writer, class SysCalls>
Result<void> write_user_namespace_maps(pid_t pid, const BootstrapView& config, const Writer& writer,
                                       const SysCalls& sys, RuntimeWatch runtime = {}) noexcept {
  if (config.rootless_euid.value_or(false) && !config.setgroups.value_or(false)) {
    const detail::ProcPath path(pid, "setgroups");
    const int err = sys.write_file(path.data, "deny");
    if (err != 0 && err != ENOENT) return detail::stage0_error(Op::WriteSetgroups, err, path.data);
  }
  if (auto r = writer.write({pid, IdKind::Uid, config.uid_map, config.uid_map_helper, runtime}); !r) return r;
  return writer.write({pid, IdKind::Gid, config.gid_map, config.gid_map_helper, runtime});
}

// runc's composition: write directly; if the kernel says EPERM (an
// unprivileged parent mapping ids it does not own) and the bootstrap named
// a helper, run the helper instead.
struct RuncIdMapWriter {
  Result<void> write(const IdMapRequest& req) const noexcept {
    auto direct = ProcIdMapWriter{}.write(req);
    if (direct || direct.error().sys_errno != EPERM || req.helper.empty()) return direct;
    return HelperIdMapWriter{}.write(req);
  }
};

NSENTER_END_NAMESPACE
