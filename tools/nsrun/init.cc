// SPDX-License-Identifier: Apache-2.0
// nsrun as an init: started with _LIBCONTAINER_INITPIPE set (by runc's
// parent side, by the Launcher in this same binary, or by a test driver),
// its constructor runs the pipeline before main(). Stage 2 then finishes
// the few things only the container's first process can do and executes
// the command after "--" (or $SHELL, or /bin/sh).
//
// Between argv[0] and "--", the parent may pass init flags of its own:
//   --propagation=private|slave|shared|unchanged  the propagation of /
//                  (recursively) in a new mount namespace: private, what
//                  `unshare -m` does by default, keeps mounts made inside
//                  from propagating back to the host's
//   --mount-proc   mount a fresh /proc for the new pid namespace, as
//                  `unshare --mount-proc` (after the propagation)
//   --root=DIR, --wd=DIR  chroot to DIR, then chdir to DIR (or to / after
//                  a chroot), as `unshare --root --wd`
//   --setgid=GID, --setuid=UID  become GID (no supplementary groups where
//                  the user namespace allows dropping them) and UID, last,
//                  as `nsenter -G -S`
//   --keep-caps    the command keeps the capabilities stage 2 holds in its
//                  user namespace, though its uid there is not 0: they are
//                  kept across --setuid and made ambient, as with
//                  `unshare --keep-caps`
//   --tty          fd 0 is a pseudo-terminal made for this init: make it
//                  the controlling terminal (stage 2 leads a new session)
//   --reaper       stage 2 is pid 1 of a new pid namespace, which the
//                  kernel spares every signal it has no handler for: run
//                  the command as its child instead, forward signals to
//                  it, reap orphans, and exit with its status
//   --preserve-fds=N  the command keeps fds 3 .. 3+N-1, as with
//                  `runc run --preserve-fds=N`; every other fd above 2 is
//                  closed at its exec, whatever the runtime left open
//   --target-pidfd=N  nsrun -t: fd N is a pidfd of the target; its
//                  namespaces are joined through it, and the command runs
//                  only if the target still lives (a join by path, on a
//                  kernel before 5.8, may have met a newcomer on its pid)
//
// The protocol profile is runc 1.1's unless the runtime speaks runc 1.2+
// (_LIBCONTAINER_SYNCPIPE set: the Launcher sets it for its profile
// runc-1.2, as nsrun's does to send time-namespace offsets).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <spawn.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/embed.hpp"
#include "nsenter/env.hpp"
#include "nsenter/exec_fds.hpp"
#include "nsenter/log.hpp"
#include "nsenter/nsexec.hpp"
#include "init.hpp"

namespace {

[[noreturn]] void die(nsenter::InitContext& ctx, nsenter::Op op, int err, std::string_view what, int status) {
  const nsenter::Error e = nsenter::in_stage(nsenter::make_sys_error(op, err, what), nsenter::Stage::Init);
  nsenter::RuncLogger(ctx.log_pipe, nsenter::LogLevel::Fatal).fatal(e);
  ::_exit(status);
}

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The signal mask the init was started with; the constructor blocks the
// forwarded signals for the whole pipeline (see nsrun_init).
sigset_t g_start_mask;

// nsrun -t's pidfd of its target, found in the init's flags; -1: none.
int g_target_pidfd = -1;

void ignore_signal(int) {}

sigset_t forwarded_signals() {
  sigset_t set;
  ::sigemptyset(&set);
  for (int sig : kForwardedSignals) ::sigaddset(&set, sig);
  return set;
}

// The --reaper's child, spawned without copying the reaper (posix_spawn:
// a vfork): its own session, default dispositions for what the reaper
// handles, the mask nsrun was started with. Without a tty only: the
// controlling terminal needs an ioctl in the child, which only a fork
// runs. -1: fork instead.
pid_t spawn_command(nsenter::InitContext& ctx, char** command) {
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t defaults = forwarded_signals();
  ::sigaddset(&defaults, SIGCHLD);
#ifdef __GLIBC__
  // glibc's spawn child sets its own two signals (32, 33) to SIG_IGN where
  // the parent handles them, and the exec keeps that: named here, they are
  // reset to SIG_DFL instead. sigaddset refuses them, so the bits are set
  // directly (signal n is bit n-1 of the first word, the kernel's layout).
  unsigned long word;
  std::memcpy(&word, &defaults, sizeof word);
  word |= (1UL << (32 - 1)) | (1UL << (33 - 1));
  std::memcpy(&defaults, &word, sizeof word);
#endif
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setsigmask(&attr, &g_start_mask);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t child = -1;
  const int err = ::posix_spawnp(&child, command[0], nullptr, &attr, command, environ);
  ::posix_spawnattr_destroy(&attr);
  // A script without #! is ENOEXEC here, where execvp runs it with
  // /bin/sh: the caller forks instead, so both paths run it alike. EPERM
  // may be the spawn's own clone3, refused by a seccomp profile (glibc
  // falls back to clone only on ENOSYS): the fork's exec then says
  // whether the command itself is refused.
  if (err == ENOEXEC || err == EPERM) return -1;
  if (err != 0) die(ctx, nsenter::Op::Exec, err, command[0], err == ENOENT ? 127 : 126);
  return child;
}

// The --reaper init: pid 1 with the command as its only child. Returns
// only in a forked child (with a tty, or for a script without #!), which
// goes on to exec the command; a spawned one is already running it.
void run_as_reaper(nsenter::InitContext& ctx, bool tty, char** command) {
  // The forwarded signals are blocked since the constructor, so any that
  // nsrun sent before this point are pending here, not lost.
  sigset_t waited = forwarded_signals();
  ::sigaddset(&waited, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &waited, nullptr);
  // A handler, so that the kernel queues these for pid 1 instead of
  // dropping them; it never runs: they stay blocked and sigwaitinfo takes
  // them.
  struct sigaction sa {};
  sa.sa_handler = ignore_signal;
  for (int sig : kForwardedSignals) ::sigaction(sig, &sa, nullptr);
  ::sigaction(SIGCHLD, &sa, nullptr);
  pid_t child = tty ? -1 : spawn_command(ctx, command);
  if (child < 0) {
    child = ::fork();
    if (child < 0) die(ctx, nsenter::Op::ForkCommand, errno, "under the pid-1 reaper", nsrun::kExitNotRun);
  }
  if (child == 0) {
    // A session of its own, with the pty as its controlling terminal:
    // Ctrl-C reaches the command, not the reaper; and its process group
    // is orphaned (its parent is in another session), so a Ctrl-Z is
    // discarded as it is without the reaper, instead of stopping the
    // command where nothing would ever resume it.
    ::setsid();
    if (tty && ::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0) die(ctx, nsenter::Op::ControllingTty, errno, "TIOCSCTTY", nsrun::kExitNotRun);
    sa.sa_handler = SIG_DFL;
    for (int sig : kForwardedSignals) ::sigaction(sig, &sa, nullptr);
    ::sigaction(SIGCHLD, &sa, nullptr);
    ::sigprocmask(SIG_SETMASK, &g_start_mask, nullptr);
    return;
  }
  ::close(ctx.init_pipe);
  if (ctx.log_pipe >= 0) ::close(ctx.log_pipe);
  while (true) {
    siginfo_t si{};
    if (::sigwaitinfo(&waited, &si) < 0) continue;
    if (si.si_signo != SIGCHLD) {
      ::kill(child, si.si_signo);
      continue;
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
      if (pid == child) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

// What this process may do in its user namespace, kept by the command it
// execs: an exec as any uid but 0 would drop it, except the ambient
// capabilities, which must be inheritable and permitted.
void keep_capabilities_across_exec(nsenter::InitContext& ctx) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) die(ctx, nsenter::Op::Exec, errno, "capget", nsrun::kExitNotRun);
  for (auto& d : data) d.effective = d.inheritable = d.permitted;
  if (::syscall(SYS_capset, &header, data) != 0) die(ctx, nsenter::Op::Exec, errno, "capset (--keep-caps)", nsrun::kExitNotRun);
  for (unsigned cap = 0; cap < 32 * _LINUX_CAPABILITY_U32S_3; ++cap)
    if ((data[cap / 32].permitted & (1u << (cap % 32))) != 0 &&
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0 && errno != EINVAL)
      die(ctx, nsenter::Op::Exec, errno, nsenter::detail::detail_text("PR_CAP_AMBIENT_RAISE {} (--keep-caps)", cap),
          nsrun::kExitNotRun);
}

// N of "--target-pidfd=N"; -1 if it is no fd number.
int target_pidfd_of(const char* arg) {
  const auto n = nsenter::parse_env_int("--target-pidfd", arg + std::strlen("--target-pidfd="));
  return n && *n ? **n : -1;
}

// Stage 2: hand the process over to the command. The init and log pipes
// become close-on-exec rather than closed, so that an exec failure can
// still be reported on the log pipe; the protocol's variables are removed
// so the command (another nsrun, say) is not an init again.
[[noreturn]] void exec_command(nsenter::InitContext& ctx, int argc, char** argv) {
  char** command = nullptr;
  bool mount_proc = false, tty = false, reaper = false;
  unsigned long propagation = 0;  // MS_PRIVATE, MS_SLAVE or MS_SHARED; 0: leave / as it is
  const char* root = nullptr;
  const char* wd = nullptr;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  bool keep_caps = false;
  int target_pidfd = -1;
  int preserved_fds = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      command = argv + i + 1;
      break;
    }
    if (arg == "--propagation=private") propagation = MS_PRIVATE;
    if (arg == "--propagation=slave") propagation = MS_SLAVE;
    if (arg == "--propagation=shared") propagation = MS_SHARED;
    if (arg == "--mount-proc") mount_proc = true;
    if (arg == "--keep-caps") keep_caps = true;
    if (arg.starts_with("--root=")) root = argv[i] + 7;
    if (arg.starts_with("--wd=")) wd = argv[i] + 5;
    if (arg.starts_with("--setuid=") || arg.starts_with("--setgid=")) {
      const auto n = nsenter::detail::parse_decimal<std::uint32_t>(arg.substr(9));
      if (!n) die(ctx, nsenter::Op::Exec, EINVAL, argv[i], nsrun::kExitNotRun);
      if (arg[5] == 'u') uid = *n;
      else gid = *n;
    }
    if (arg == "--tty") tty = true;
    if (arg == "--reaper") reaper = true;
    if (arg.starts_with("--target-pidfd=")) {
      target_pidfd = target_pidfd_of(argv[i]);
      if (target_pidfd < 0) die(ctx, nsenter::Op::Exec, EINVAL, argv[i], nsrun::kExitNotRun);
    }
    if (arg.starts_with("--preserve-fds=")) {
      const auto n = nsenter::parse_env_int("--preserve-fds", argv[i] + 15);
      if (!n || !*n) die(ctx, nsenter::Op::Exec, EINVAL, argv[i], nsrun::kExitNotRun);
      preserved_fds = **n;
    }
  }
  // nsrun -t: the joins are made (by stage 0 or 1, before this process
  // existed), through the pinned pidfd (PinnedTargetJoiner) where the
  // kernel allows; by path otherwise, so the target nsrun pinned must still
  // live, or PID may have named a newcomer whose namespaces they joined. A
  // pidfd polls readable once its process has exited.
  if (target_pidfd >= 0) {
    pollfd exited{target_pidfd, POLLIN, 0};
    int n;
    while ((n = ::poll(&exited, 1, 0)) < 0 && errno == EINTR) {
    }
    if (n != 0) {
      const nsenter::Error e = nsenter::in_stage(
          nsenter::make_error(nsenter::Op::Setns, nsenter::Code::NoProcess, nsenter::kNoOffset,
                              n > 0 ? "the --target process exited while the init joined its namespaces: its pid may name "
                                      "another process now; the command was not run"
                                    : "poll of the --target pidfd failed; the command was not run"),
          nsenter::Stage::Init);
      nsenter::RuncLogger(ctx.log_pipe, nsenter::LogLevel::Fatal).fatal(e);
      ::_exit(nsrun::kExitNotRun);
    }
    ::close(target_pidfd);
  }
  const char* shell = std::getenv("SHELL");
  char* fallback[] = {const_cast<char*>(shell != nullptr && *shell != '\0' ? shell : "/bin/sh"), nullptr};
  if (command == nullptr || *command == nullptr) command = fallback;
  // runc >= 1.2's sync pipe is the runtime's, as the init and log pipes
  // are: closed at the exec even where it lies among the preserved fds.
  // Nothing here reads it, so a value that names no fd changes nothing,
  // and one that names stdio is not the runtime's pipe.
  int sync_pipe = -1;
  if (const char* sync = std::getenv(nsenter::RuncEnv::sync_pipe); sync != nullptr && *sync != '\0')
    if (const auto n = nsenter::parse_env_int(nsenter::RuncEnv::sync_pipe, sync); n && *n && **n > 2) sync_pipe = **n;
  for (const char* name : nsenter::RuncEnv::all) ::unsetenv(name);
  // Only stdio and the preserved fds reach the command (and, through the
  // reaper's fork, nothing more): not what a leaky runtime left open, nor
  // the mount-source fds, which this init does not use.
  if (int err = nsenter::cloexec_fds_from(3 + preserved_fds))
    die(ctx, nsenter::Op::CloseInheritedFds, err, nsenter::detail::detail_text("from fd {}", 3 + preserved_fds), nsrun::kExitNotRun);
  ::fcntl(ctx.init_pipe, F_SETFD, FD_CLOEXEC);
  if (ctx.log_pipe >= 0) ::fcntl(ctx.log_pipe, F_SETFD, FD_CLOEXEC);
  if (sync_pipe >= 0) ::fcntl(sync_pipe, F_SETFD, FD_CLOEXEC);
  // Without the reaper stage 2 is the session leader that takes the pty.
  if (tty && !reaper && ::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0)
    die(ctx, nsenter::Op::ControllingTty, errno, "TIOCSCTTY", nsrun::kExitNotRun);
  // The propagation first, so the new /proc does not propagate to the
  // host's mount namespace through a shared /.
  if (propagation != 0 && ::mount(nullptr, "/", nullptr, MS_REC | propagation, nullptr) != 0)
    die(ctx, nsenter::Op::MountProc, errno,
        propagation == MS_PRIVATE ? "make / private (mount --make-rprivate /)"
        : propagation == MS_SLAVE ? "make / a slave (mount --make-rslave /)"
                                  : "make / shared (mount --make-rshared /)",
        1);
  if (mount_proc) {
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      die(ctx, nsenter::Op::MountProc, errno, "proc on /proc", nsrun::kExitNotRun);
  }
  // Root and working directory while still root of the namespaces; the
  // ids last, as unshare and nsenter order them.
  if (root != nullptr && ::chroot(root) != 0) die(ctx, nsenter::Op::ChangeRoot, errno, root, nsrun::kExitNotRun);
  if ((wd != nullptr || root != nullptr) && ::chdir(wd != nullptr ? wd : "/") != 0)
    die(ctx, nsenter::Op::ChangeDir, errno, wd != nullptr ? wd : "/", nsrun::kExitNotRun);
  if (gid) {
    // Dropping the supplementary groups is refused where the user namespace
    // denies setgroups (a rootless one): those stay, as with nsenter -G.
    if (::setgroups(0, nullptr) != 0 && errno != EPERM) die(ctx, nsenter::Op::Setgroups, errno, "none", nsrun::kExitNotRun);
    if (::setresgid(*gid, *gid, *gid) != 0)
      die(ctx, nsenter::Op::Setgid, errno, nsenter::detail::detail_text("--setgid {}", *gid), nsrun::kExitNotRun);
  }
  // A change of uid away from 0 clears the capabilities, unless asked to
  // keep the permitted ones (the effective ones are raised again below).
  if (uid && keep_caps && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
    die(ctx, nsenter::Op::Setuid, errno, "PR_SET_KEEPCAPS", nsrun::kExitNotRun);
  if (uid && ::setresuid(*uid, *uid, *uid) != 0)
    die(ctx, nsenter::Op::Setuid, errno, nsenter::detail::detail_text("--setuid {}", *uid), nsrun::kExitNotRun);
  if (keep_caps) keep_capabilities_across_exec(ctx);
  if (reaper) run_as_reaper(ctx, tty, command);
  ::sigprocmask(SIG_SETMASK, &g_start_mask, nullptr);
  ::execvp(command[0], command);
  const int err = errno;
  die(ctx, nsenter::Op::Exec, err, command[0], err == ENOENT ? 127 : 126);
}

}  // namespace

// In an init only, before any stage exists: block the signals nsrun
// forwards. Stage 2 of a new pid namespace is pid 1 from birth, and pid 1
// drops every signal it neither handles nor blocks. Blocked, one that
// nsrun forwards before the command runs stays pending until stage 2
// restores the mask (to be delivered) or the reaper takes it (to be passed
// on).
static void block_forwarded_signals() {
  const sigset_t forwarded = forwarded_signals();
  ::sigprocmask(SIG_BLOCK, &forwarded, &g_start_mask);
  // After the CVE-2019-5736 re-exec the mask we find is the one blocked
  // above, not the one we were started with: unblock those at exec.
  if (const char* cloned = std::getenv(nsenter::RuncEnv::cloned_binary); cloned != nullptr && *cloned == '1')
    for (int sig : kForwardedSignals) ::sigdelset(&g_start_mask, sig);
}

// Before the pipeline: the pinned target, and the forwarded signals blocked.
static void before_pipeline(int argc, char** argv) {
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i)
    if (std::string_view(argv[i]).starts_with("--target-pidfd=")) g_target_pidfd = target_pidfd_of(argv[i]);
  block_forwarded_signals();
}

// -t's joins through the pidfd nsrun pinned the target with
// (--target-pidfd=N, found before the pipeline ran): every path is
// /proc/PID/ns/<kind> of the target, all joined in one setns(pidfd, flags),
// all or none, and only the pinned process's, whoever holds PID by now.
// (The message keeps the paths: the unwritable-binary check reads them.)
// Any other joins, or none pinned, are PidfdJoiner's.
struct PinnedTargetJoiner {
  nsenter::Result<void> join(std::span<const nsenter::NsTarget> targets) const noexcept {
    const auto pid = nsenter::PidfdJoiner::common_pid(targets);
    if (g_target_pidfd < 0 || !pid) return nsenter::PidfdJoiner{}.join(targets);
    auto joined = nsenter::PidfdJoiner::join_through(g_target_pidfd, *pid, targets);
    if (!joined && joined.error().sys_errno == ESRCH)
      return nsenter::in_stage(
          nsenter::make_sys_error(nsenter::Op::Setns, ESRCH,
                                  nsenter::detail::detail_text("the --target process {} exited before the init joined "
                                                               "its namespaces; the command was not run",
                                                               *pid)),
          nsenter::Stage::Child);
    return joined;
  }
};

// runc's pipeline with -t's joins pinned.
struct NsrunPolicies : nsenter::RuncPolicies {
  using Joiner = PinnedTargetJoiner;
};
using NsrunNsexec = nsenter::Nsexec<NsrunPolicies>;

// Not an init (nsrun run as a command): one getenv, nothing else.
NSENTER_INIT_CONSTRUCTOR_AFTER(nsrun_init, 200, NsrunNsexec, before_pipeline, exec_command)

// The same init, forked from nsrun's own launch instead of exec'd (run.hpp).
namespace nsrun {
NSENTER_INIT_ENTRY(init_in_process, NsrunNsexec, before_pipeline, exec_command)
}  // namespace nsrun
