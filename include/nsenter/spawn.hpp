// SPDX-License-Identifier: Apache-2.0
// nsenter: starting a program from a possibly multi-threaded process.
//
// fork() in a threaded program copies one thread and every lock the others
// held; only async-signal-safe calls are allowed until exec. So the child
// here runs one function of raw system calls (setpgid, sigaction, fcntl,
// dup2, close_range, execve) and nothing that allocates or locks.
//
// Two ways in:
//   - clone(CLONE_VM | CLONE_VFORK) on a stack of its own, like
//     posix_spawn: no page tables are copied, the parent waits only until
//     the exec;
//   - clone3(CLONE_VFORK | CLONE_INTO_CGROUP) when the child must be born
//     in a cgroup (Linux >= 5.7). clone3 has no glibc wrapper that can run a
//     function on a new stack, so this one shares nothing (copy on write).
// Both hand back a pidfd (CLONE_PIDFD) and report an exec failure's errno
// through a shared page, so the caller gets ENOENT, not just exit 127.
//
// And one way without an exec, for a single-threaded caller whose child
// runs a function of this very program (SpawnRequest::entry): fork(), the
// same fd layout and signal reset, every other fd closed (no exec will
// close them), then the function. The exec of the binary is the dearest
// step of a start; a one-shot launcher that needs no protected copy of
// its binary (nsrun) saves it this way.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <span>

#include "nsenter/detail/signals.hpp"
#include "nsenter/error.hpp"
#include "nsenter/exec_fds.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/log.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

extern char** environ;

NSENTER_BEGIN_NAMESPACE

inline constexpr std::size_t kMaxSpawnFds = 64;

struct SpawnRequest {
  const char* path = nullptr;  // the program, or (with exec_fd) only its name for errors
  int exec_fd = -1;            // if >= 0, exec this fd (execveat AT_EMPTY_PATH)
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // fds[i] becomes fd i in the child (-1: fd i is closed). Every other fd
  // is closed at exec, whatever its close-on-exec flag: a descriptor
  // another thread opened without O_CLOEXEC cannot leak into the child.
  std::span<const int> fds;
  int cgroup_fd = -1;               // an O_DIRECTORY fd of a cgroup v2 directory
  bool new_process_group = true;    // setpgid(0, 0) in the child
  // If set, the child calls this function of this program instead of
  // exec'ing (path then only names it in errors; exec_fd and cgroup_fd are
  // unused: the caller places the child by cgroup.procs). A fork, not a
  // vfork: only a single-threaded caller may ask (a forked copy of a
  // threaded process may find any lock held). argv and envp become the
  // function's arguments and the child's environ. It must not return; if
  // it does, the child exits 127.
  void (*entry)(int argc, char** argv) = nullptr;
  // With entry: the index in fds of a pipe on which the child writes a
  // fatal record (runc's log format) if its setup fails before the call.
  int report_index = -1;
  // With entry: the child is made non-dumpable (else dumpable, as an exec
  // of a readable binary leaves it).
  bool non_dumpable = false;
  // With entry: CLONE_NEW* flags the child is born with, cloned straight
  // into new namespaces (a direct start, start_plan.hpp). Not CLONE_NEWTIME,
  // whose bit clone(2) reads as part of the exit signal.
  std::uint32_t clone_flags = 0;
};

struct Spawned {
  pid_t pid = -1;
  UniqueFd pidfd;
  bool in_cgroup = false;  // born in SpawnRequest::cgroup_fd (clone3 worked)
};

namespace detail {

// The kernel's struct sigaction (not glibc's: different layout).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  std::uint64_t mask;
};

struct SpawnShared {
  const SpawnRequest* request;
  volatile int exec_errno;  // written by the child when exec fails
};

inline constexpr std::size_t kSpawnStackBytes = 256 * 1024;

// The child's setup, whichever way it was made: its own process group,
// default signal dispositions, fds[i] on number i, every other fd
// close-on-exec (or closed, with close_rest), an empty signal mask.
// Returns 0 or the errno of the step that failed. *exec_fd: a copy of
// req.exec_fd above the new range (-1 without one). *report: an open copy
// of fds[report_index], whichever step failed (-1 without one).
// Async-signal-safe calls only. Not instrumented: under ASan the vfork'd
// child runs on a stack the sanitizer never saw.
__attribute__((no_sanitize("address", "undefined"), noinline)) inline int prepare_child(const SpawnRequest& req,
                                                                                     bool close_rest, int* exec_fd,
                                                                                     int* report) noexcept {
  *exec_fd = -1;
  const int n = static_cast<int>(req.fds.size());
  *report = req.report_index >= 0 && req.report_index < n ? req.fds[static_cast<std::size_t>(req.report_index)] : -1;
  if (req.new_process_group && ::setpgid(0, 0) != 0) return errno;
  // Default dispositions: a handler address means nothing after exec, and
  // the runtime's ignored signals (SIGPIPE, often) are not the init's. The
  // raw system call, because glibc's sigaction() refuses its own two
  // signals (32, 33), which may arrive ignored from whoever started us.
  for (int sig = 1; sig < NSIG; ++sig) {
    KernelSigaction old{};
    if (sig == SIGKILL || sig == SIGSTOP ||
        ::syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof(std::uint64_t)) != 0 || old.handler == nullptr)
      continue;
    const KernelSigaction dfl{};  // SIG_DFL, no flags, empty mask
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(std::uint64_t));
  }
  // Lift every source above the target range first, so that moving one
  // never overwrites another that is still to be moved.
  int lifted[kMaxSpawnFds];
  for (int i = 0; i < n; ++i) {
    lifted[i] = -1;
    if (req.fds[static_cast<std::size_t>(i)] >= 0 &&
        (lifted[i] = ::fcntl(req.fds[static_cast<std::size_t>(i)], F_DUPFD_CLOEXEC, n)) < 0)
      return errno;
  }
  // From here the original may be overwritten; its lifted copy stays open.
  if (req.report_index >= 0 && req.report_index < n) *report = lifted[req.report_index];
  if (req.exec_fd >= 0 && (*exec_fd = ::fcntl(req.exec_fd, F_DUPFD_CLOEXEC, n)) < 0) return errno;
  for (int i = 0; i < n; ++i) {
    if (lifted[i] < 0) {
      ::close(i);
    } else if (::dup2(lifted[i], i) < 0) {  // dup2 clears close-on-exec on i
      return errno;
    }
  }
  if (req.report_index >= 0 && req.report_index < n) *report = req.report_index;
  if (int err = close_rest ? close_fds_from(n) : cloexec_fds_from(n)) return err;
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  return 0;
}

// The vfork'd child: set up, then exec. Returns only by exec or _exit.
__attribute__((no_sanitize("address", "undefined"), noinline)) inline int spawn_child(void* arg) noexcept {
  auto* shared = static_cast<SpawnShared*>(arg);
  const SpawnRequest& req = *shared->request;
  auto fail = [&](int err) {
    shared->exec_errno = err != 0 ? err : EINVAL;
    ::_exit(127);
  };
  int exec_fd = -1, report = -1;
  if (int err = prepare_child(req, false, &exec_fd, &report)) fail(err);
  if (exec_fd >= 0) {
    ::syscall(SYS_execveat, exec_fd, "", req.argv, req.envp, AT_EMPTY_PATH);
    // Refused (before Linux 3.19, or by a seccomp profile): the fd by its
    // /proc path, as glibc's fexecve falls back; an ELF binary runs so
    // even from a close-on-exec fd.
    if (errno == ENOSYS || errno == EPERM) {
      char by_path[32];
      *fmt::format_to_n(by_path, sizeof by_path - 1, "/proc/self/fd/{}", exec_fd).out = '\0';
      ::execve(by_path, req.argv, req.envp);
    }
  } else {
    ::execve(req.path, req.argv, req.envp);
  }
  fail(errno);
  return 127;
}


inline bool clone3_unsupported(int err) noexcept {
  // ENOSYS: no clone3 (or Docker's default seccomp profile, which answers
  // so on purpose); EPERM: a profile written before clone3 whose default
  // is EPERM (a refusal clone() would share, it repeats); E2BIG: a kernel
  // that knows a smaller clone_args; EINVAL: CLONE_INTO_CGROUP unknown;
  // EOPNOTSUPP/EBADF: not a cgroup v2 directory (a v1 hierarchy still
  // takes a pid in cgroup.procs).
  return err == ENOSYS || err == EPERM || err == E2BIG || err == EINVAL || err == EOPNOTSUPP || err == EBADF;
}

// The forked child of an entry request: set up, then become the entry.
// A setup failure is written as a fatal record where the caller reads the
// init's log, so it reaches the caller as the launch's error.
[[noreturn]] inline void run_entry_child(const SpawnRequest& req) noexcept {
  int exec_fd = -1, report = -1;
  Op failed = Op::SpawnInit;
  int err = prepare_child(req, true, &exec_fd, &report);
  if (err == 0 && ::prctl(PR_SET_DUMPABLE, req.non_dumpable ? 0 : 1, 0, 0, 0) != 0) {
    err = errno;
    failed = Op::SetDumpable;
  }
  if (err != 0) {
    if (report >= 0)
      RuncLogger(report, LogLevel::Fatal)
          .fatal(in_stage(make_sys_error(failed, err, detail_text("set up the forked init {}", req.path)), Stage::Launcher));
    ::_exit(127);
  }
  environ = const_cast<char**>(req.envp);
  int argc = 0;
  while (req.argv[argc] != nullptr) ++argc;
  req.entry(argc, const_cast<char**>(req.argv));
  ::_exit(127);
}

}  // namespace detail

// Starts `req`. On success the child has exec'd (CLONE_VFORK waits for
// that), or, with req.entry, is running the entry; on failure nothing is
// left running and the error names the step.
inline Result<Spawned> spawn(const SpawnRequest& req) noexcept {
  if (req.fds.size() > kMaxSpawnFds)
    return in_stage(make_error(Op::SpawnInit, Code::TooManyFds, kNoOffset,
                               detail::detail_text("{} fds, at most {}", req.fds.size(), kMaxSpawnFds)),
                    Stage::Launcher);
  const char* what = req.path != nullptr ? req.path : "init";
  if (req.entry != nullptr) {
    Spawned out;
    pid_t pid;
    {
      // No handler of ours may run in the child before it resets them.
      detail::AllSignalsBlocked blocked;
      // Born in new namespaces, or a plain fork. The raw clone runs no
      // atfork handlers and leaves glibc's cached TID stale, as CloneParent
      // does: the entry is the pipeline, which makes system calls only
      // until it hands over.
      pid = req.clone_flags != 0 ? static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD | req.clone_flags, nullptr, nullptr,
                                                                 nullptr, nullptr))
                                 : ::fork();
      if (pid == 0) detail::run_entry_child(req);
    }
    if (pid < 0) return in_stage(make_sys_error(Op::SpawnInit, errno, what), Stage::Launcher);
    out.pid = pid;
    // Our unreaped child: its pid cannot be reused before we wait for it.
    out.pidfd.reset(detail::pidfd_open(pid));
    if (!out.pidfd) {
      const int err = errno;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return in_stage(make_sys_error(Op::SpawnInit, err, "pidfd_open"), Stage::Launcher);
    }
    return out;
  }
  void* region = ::mmap(nullptr, detail::kSpawnStackBytes + sizeof(detail::SpawnShared), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (region == MAP_FAILED) return in_stage(make_sys_error(Op::SpawnInit, errno, "mmap child stack"), Stage::Launcher);
  struct Unmap {
    void* p;
    ~Unmap() { ::munmap(p, detail::kSpawnStackBytes + sizeof(detail::SpawnShared)); }
  } unmap{region};
  auto* shared = new (static_cast<char*>(region) + detail::kSpawnStackBytes) detail::SpawnShared{&req, 0};

  Spawned out;
  int pidfd = -1;
  pid_t pid = -1;
  int clone_errno = 0;
  {
    detail::AllSignalsBlocked blocked;
    if (req.cgroup_fd >= 0) {
      clone_args args{};
      args.flags = CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP;
      args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
      args.exit_signal = SIGCHLD;
      args.cgroup = static_cast<std::uint64_t>(req.cgroup_fd);
      pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
      if (pid == 0) detail::spawn_child(shared);  // never returns
      if (pid > 0) out.in_cgroup = true;
      if (pid < 0) clone_errno = errno;
    }
    if (pid < 0 && (req.cgroup_fd < 0 || detail::clone3_unsupported(clone_errno))) {
      pid = ::clone(detail::spawn_child, static_cast<char*>(region) + detail::kSpawnStackBytes,
                    CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, shared, &pidfd);
      if (pid < 0) clone_errno = errno;
    }
  }
  if (pid < 0) return in_stage(make_sys_error(Op::SpawnInit, clone_errno, what), Stage::Launcher);
  out.pid = pid;
  out.pidfd.reset(pidfd);
  if (const int err = shared->exec_errno; err != 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return in_stage(make_sys_error(Op::SpawnInit, err, what), Stage::Launcher);
  }
  return out;
}

NSENTER_END_NAMESPACE
