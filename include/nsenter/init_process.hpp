// SPDX-License-Identifier: Apache-2.0
// nsenter: the container's first process as a launcher holds it: stage 2,
// with a pidfd, the init pipe still open for the embedder's protocol and
// the log pipe; how it was started (StartChoice); how it ended (ExitStatus).
// Made by Launcher::launch (launcher.hpp).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nsenter/detail/libc.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/result.hpp"
#include "nsenter/start_clock.hpp"
#include "nsenter/start_plan.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// How a process ended, in the shell's terms.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when signaled

  // What a shell would report: the code, or 128 + signal.
  int shell_code() const noexcept { return signaled ? 128 + code : code; }
  bool success() const noexcept { return !signaled && code == 0; }
  bool operator==(const ExitStatus&) const = default;
};

inline std::string to_string(const ExitStatus& s) {
  if (s.signaled) return fmt::format("killed by signal {} ({})", s.code, detail::signal_name(s.code) ? detail::signal_name(s.code) : "?");
  return fmt::format("exited with status {}", s.code);
}

namespace detail {

// True when `pid` is a child of this process that nobody has reaped yet
// (running or a zombie): ECHILD otherwise. Looks without reaping.
inline bool is_unreaped_child(pid_t pid) noexcept {
  siginfo_t info{};
  int r;
  while ((r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT)) != 0 && errno == EINTR) {
  }
  return r == 0;
}

// Reaps the process behind `pidfd` (blocking). nullopt if it was not ours.
inline std::optional<ExitStatus> reap_pidfd(int pidfd, int options = 0) noexcept {
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | options) != 0)
    if (errno != EINTR) return std::nullopt;
  if (info.si_pid == 0) return std::nullopt;  // WNOHANG and still running
  if (info.si_code == CLD_EXITED) return ExitStatus{false, info.si_status};
  return ExitStatus{true, info.si_status};
}

}  // namespace detail

// The container's first process (stage 2), owned: unless released or
// waited for, the destructor kills and reaps it, so a launch can never
// leave a stray process behind.
class InitProcess {
 public:
  InitProcess() = default;
  InitProcess(InitProcess&&) noexcept = default;
  InitProcess& operator=(InitProcess&& other) noexcept {
    if (this != &other) {
      terminate();
      pid_ = other.pid_;
      stage1_pid_ = other.stage1_pid_;
      pidfd_ = std::move(other.pidfd_);
      init_pipe_ = std::move(other.init_pipe_);
      log_pipe_ = std::move(other.log_pipe_);
      start_ = other.start_;
      cgroup_by_clone3_ = other.cgroup_by_clone3_;
      start_breakdown_ = other.start_breakdown_;
      sync_pipe_ = std::move(other.sync_pipe_);
    }
    return *this;
  }
  ~InitProcess() { terminate(); }

  pid_t pid() const noexcept { return pid_; }       // in the launcher's pid namespace
  // Already reaped; -1 when the init started without one (start_plan.hpp).
  pid_t stage1_pid() const noexcept { return stage1_pid_; }
  int pidfd() const noexcept { return pidfd_.get(); }
  // Still open, blocking, close-on-exec: for the embedder's own protocol.
  int init_pipe() const noexcept { return init_pipe_.get(); }
  // Non-blocking read end; stage 2 may still log (its exec failing, say).
  // Drain it with LogPipeReader; EOF means stage 2 closed or exec'd.
  int log_pipe() const noexcept { return log_pipe_.get(); }
  // How it started (start_plan.hpp): the plan the init was sent (who
  // cloned whom, what guards the binary), where its code came from, and
  // why not something cheaper.
  const StartChoice& start() const noexcept { return start_; }
  ExecFrom exec_from() const noexcept { return start_.image; }
  bool from_sealed_memfd() const noexcept { return start_.image == ExecFrom::SealedMemfd; }
  bool from_read_only_mount() const noexcept {
    return start_.image == ExecFrom::ReadOnlyMount || start_.image == ExecFrom::ForkedOntoReadOnlyMount;
  }
  // Where the start's time went, as the init's stage 0 reported it at log
  // level debug (nullopt below debug, or from an init that does not say).
  const std::optional<StartBreakdown>& start_breakdown() const noexcept { return start_breakdown_; }
  void set_start_breakdown(std::optional<StartBreakdown> b) noexcept { start_breakdown_ = b; }
  // start().plan.topology == Topology::Direct: the launcher cloned the
  // init into its namespaces and did stage 0's work; no stage 0 or 1 ran.
  bool started_directly() const noexcept { return start_.plan.topology == Topology::Direct; }
  // The runtime's end of runc >= 1.2's sync pipe (LaunchOptions::profile
  // Runc12), open and close-on-exec; -1 otherwise.
  int sync_pipe() const noexcept { return sync_pipe_.get(); }
  void set_sync_pipe(UniqueFd fd) noexcept { sync_pipe_ = std::move(fd); }
  // True when clone3 placed the init in the cgroup at birth; false when it
  // was moved there by writing cgroup.procs before the bootstrap was sent.
  bool cgroup_by_clone3() const noexcept { return cgroup_by_clone3_; }

  // Waits for the init to exit and reaps it.
  Result<ExitStatus> wait() noexcept {
    if (!pidfd_) return in_stage(make_error(Op::WaitProcess, Code::NoProcess), Stage::Launcher);
    auto status = detail::reap_pidfd(pidfd_.get());
    if (!status) return in_stage(make_sys_error(Op::WaitProcess, errno, "waitid"), Stage::Launcher);
    pidfd_.reset();
    return *status;
  }

  // The same, giving up after `timeout`: Code::TimedOut, and the process
  // is still running and still owned.
  Result<ExitStatus> wait(std::chrono::milliseconds timeout) noexcept {
    if (!pidfd_) return in_stage(make_error(Op::WaitProcess, Code::NoProcess), Stage::Launcher);
    pollfd p{pidfd_.get(), POLLIN, 0};
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      const int r = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left.count(), 0, INT32_MAX)));
      if (r > 0) return wait();
      if (r == 0)
        return in_stage(make_error(Op::WaitProcess, Code::TimedOut, kNoOffset, fmt::format("after {} ms", timeout.count())),
                        Stage::Launcher);
      if (errno != EINTR) return in_stage(make_sys_error(Op::WaitProcess, errno, "poll pidfd"), Stage::Launcher);
    }
  }

  // Sends `sig` through the pidfd: never hits a recycled pid.
  Result<void> signal(int sig) const noexcept {
    if (detail::pidfd_send_signal(pidfd_.get(), sig) != 0)
      return in_stage(make_sys_error(Op::SignalInit, errno, detail::detail_text("signal {}", sig)), Stage::Launcher);
    return {};
  }

  // Gives up ownership: the caller reaps the pid itself.
  pid_t release() noexcept {
    pidfd_.reset();
    return pid_;
  }

  InitProcess(pid_t pid, pid_t stage1, UniqueFd pidfd, UniqueFd init_pipe, UniqueFd log_pipe, const StartChoice& start,
              bool clone3) noexcept
      : pid_(pid), stage1_pid_(stage1), pidfd_(std::move(pidfd)), init_pipe_(std::move(init_pipe)),
        log_pipe_(std::move(log_pipe)), start_(start), cgroup_by_clone3_(clone3) {}

 private:
  void terminate() noexcept {
    if (!pidfd_) return;
    detail::pidfd_send_signal(pidfd_.get(), SIGKILL);
    detail::reap_pidfd(pidfd_.get());
    pidfd_.reset();
  }

  pid_t pid_ = -1;
  pid_t stage1_pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd init_pipe_;
  UniqueFd log_pipe_;
  StartChoice start_;
  bool cgroup_by_clone3_ = false;
  std::optional<StartBreakdown> start_breakdown_;
  UniqueFd sync_pipe_;
};

NSENTER_END_NAMESPACE
