// SPDX-License-Identifier: Apache-2.0
// nsenter: the runtime's side of the init protocol. Launcher::launch()
// starts an init binary (one built with Nsexec, or runc itself), speaks
// runc 1.1's protocol to it and returns the container's first process:
//
//   nsenter::Launcher launcher;                 // this program is the init
//   nsenter::Bootstrap config;
//   config.clone_flags = nsenter::NsSet{nsenter::NsKind::pid, nsenter::NsKind::uts};
//   auto init = launcher.launch(config, {.argv = {"myinit", "--", "/bin/true"}});
//   if (!init) fmt::print(stderr, "{}\n", nsenter::to_string(init.error()));
//   else auto status = init->wait();
//
// What it does, in order: encode the config; make the init pipe (a
// socketpair, fd 3 in the init) and the log pipe (fd 4); choose the start
// plan (how_to_start gathers the facts, choose_start in start_plan.hpp
// decides); spawn the init without forking this process (see spawn.hpp),
// from a sealed memfd copy of the binary made once per Launcher (or from a
// read-only mount of it, or its path: LauncherConfig), or, with
// in_process_init, fork this program into it; place it in a cgroup if
// asked; send the message while waiting for the NUL handshake (as runc's
// Go side does, so the two overlap); then, by the plan's topology:
//   three stages (runc's): read the pid line, reap stage 0 and stage 1
//     (both this process's children, stage 1 through CLONE_PARENT);
//   one clone: the same, the pid line naming stage 2 twice (stage 0
//     cloned it, no stage 1);
//   direct: the spawn itself was cloned into the new namespaces; this
//     process writes its maps (stage 0's work) and reads a second NUL,
//     the init saying it is stage 2 and ready (no pid line, nothing to
//     reap).
// It returns stage 2 with a pidfd and the still-open init pipe.
//
// Every wait shares one deadline. On any failure everything started is
// killed and reaped before the error returns: stage 0 leads a process group
// of its own, which holds every stage until stage 2 calls setsid, and stage
// 2 does that only after the pid line has named it.
//
// Requirements: Linux >= 5.4 (pidfds, waitid(P_PIDFD)); an ELF init binary
// when it is exec'd from the sealed memfd (execveat of a close-on-exec fd
// cannot run a #! script); the program must not reap children
// it did not start (a SIGCHLD handler calling waitpid(-1) would steal
// stage 1, as it would from runc).
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nsenter/bootstrap.hpp"
#include "nsenter/detail/libc.hpp"
#include "nsenter/detail/threads.hpp"
#include "nsenter/env.hpp"
#include "nsenter/error.hpp"
#include "nsenter/exe_rebase.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/held_namespaces.hpp"
#include "nsenter/idmap.hpp"
#include "nsenter/init_process.hpp"
#include "nsenter/log_reader.hpp"
#include "nsenter/start_plan.hpp"
#include "nsenter/pid_line.hpp"
#include "nsenter/result.hpp"
#include "nsenter/self_protection.hpp"
#include "nsenter/spawn.hpp"
#include "nsenter/stage_names.hpp"
#include "nsenter/start_clock.hpp"
#include "nsenter/sys.hpp"
#include "nsenter/unwritable_exe.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

extern char** environ;

NSENTER_BEGIN_NAMESPACE

struct LauncherConfig {
  std::string init_binary;            // empty: this program
  bool exec_from_sealed_memfd = true;  // copy the binary once, exec every init from the copy
  // With the above: where privileges allow (CAP_SYS_ADMIN, Linux 5.12),
  // exec every init from a detached read-only mount of the binary made once
  // instead: nothing copied, no memory held. The sealed memfd is immutable
  // even to a container process with CAP_SYS_ADMIN over the host's user
  // namespace; the mount is not (it could be made writable again), so this
  // suits one-shot launchers (nsrun) and containers with their own user
  // namespace, and stays off by default.
  bool prefer_read_only_mount = false;
  // Exec the init from disk, copying and mounting nothing, for a launch
  // whose container cannot write the binary (unwritable_exe.hpp: a user
  // namespace of its own, nothing joined, the binary's owner unmapped,
  // no group or other write bit); a forked init is told (the claim lets it
  // start direct) and checks it, one exec'd by path finds it so itself.
  // For one-shot rootless launchers (nsrun), where the copy would be made
  // per run.
  bool skip_protection_when_unwritable = false;
  // With no init_binary: the function of this program that runs the init
  // (NSENTER_INIT_ENTRY, embed.hpp). A launch then forks this process and
  // calls it instead of exec'ing the binary (one exec fewer per start)
  // where no protection is needed (skip_protection_when_unwritable, and
  // containers_share_our_filesystem below), or where the init can protect
  // itself by moving onto the read-only mount (prefer_read_only_mount with
  // protect_forks_in_place, below); else it execs as usual. Only while
  // this process has a single thread (checked at each launch; with more,
  // the binary is exec'd as usual): a fork of a threaded process may find
  // any lock held, and the init runs far more than async-signal-safe code.
  void (*in_process_init)(int argc, char** argv) = nullptr;
  // With in_process_init, as root: the embedder's word that its containers
  // see this program's filesystem (the init neither pivots nor chroots, as
  // nsrun's does not). A container that could write the binary through
  // /proc/PID/exe could then write it by its path too, so a protected exec
  // buys nothing, and a launch that creates a user namespace and joins
  // nothing is forked as well, made non-dumpable so that no /proc/PID
  // handle of ours is within the container's reach. Never set it for
  // containers with a root filesystem of their own: there the protected
  // exec is what keeps a `#!/proc/self/exe` command from reaching the
  // binary on disk (CVE-2019-5736).
  bool containers_share_our_filesystem = false;
  // With in_process_init, exec_from_sealed_memfd and prefer_read_only_mount:
  // a launch whose init must be protected (none of the above applies: a
  // join, say) is forked too, and the init moves itself in place onto the
  // read-only mount of the binary (_NSENTER_START's view=FD, exe_rebase.hpp)
  // instead of being exec'd from it, where the kernel allows this process
  // the move (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; asked once). One
  // exec fewer per protected start.
  bool protect_forks_in_place = true;
};


struct LaunchOptions {
  std::vector<std::string> argv;  // the init's argv; empty: {"nsenter-init"}
  // The init's environment; nullopt: this process's (read from environ, so
  // no thread may setenv() meanwhile). Either way every _LIBCONTAINER_*
  // variable is replaced by the launcher's own.
  std::optional<std::vector<std::string>> env;
  LogLevel log_level = LogLevel::Info;
  // Every record the init writes during the launch, fatal ones included,
  // on the launching thread. A fatal record in a launch that succeeds is
  // stage 2's own, written after it reported back (its exec failing, say).
  std::function<void(const LogRecord&)> on_log;
  std::chrono::milliseconds timeout{30000};       // for the whole launch
  std::string cgroup;                             // a cgroup v2 directory; empty: ours
  std::array<int, 3> stdio{0, 1, 2};              // the init's fds 0-2 (-1: closed)
  // Become fds 3, 4, ... in the init, ahead of the init and log pipes, as
  // `runc run --preserve-fds=N` lays them out: for the container's command.
  std::vector<int> preserve_fds;
  std::vector<int> extra_fds;                     // follow the init and log pipes
  // If not 0, the init's stages and then the container's first process get
  // this signal when the thread that called launch() exits (prctl(2)
  // PR_SET_PDEATHSIG: a thread, not the process; launch from one that
  // outlives the container). A runtime that dies before the init armed it
  // is noticed too: the launch fails and the init is killed.
  int parent_death_signal = 0;
  // _LIBCONTAINER_STATEDIR: where an init that protects itself (runc's,
  // or RuncSelfProtection) may place a read-only bind mount of its binary
  // instead of copying it. Unused by inits exec'd from the sealed memfd.
  std::string state_dir;
  // What ps shows for the init's stages (parent, child, init; each 1 to 15
  // printable bytes, no space or comma): a tool's own name instead of
  // runc's, which an init keeps where this is unset (stage_names.hpp). Our
  // inits take them from _NSENTER_STAGE_NAMES; runc's ignores it.
  std::optional<std::array<std::string, 3>> stage_names;
  // Which runc generation's protocol to speak. Runc11: the init writes a
  // NUL byte before it reads the message, attribute 27290 is mount
  // sources. Runc12 (runc 1.2 to 1.5): no NUL byte (the first byte is the
  // pid line's '{'), 27290 is time-namespace offsets, and the init gets a
  // second socketpair in _LIBCONTAINER_SYNCPIPE as runc's parent passes it,
  // which is also how an init tells the generations apart; its other end
  // is InitProcess::sync_pipe(), for a runtime driving runc's own Go init.
  wire::Profile profile = wire::Profile::Runc11;
  // A container that needs no stage 1 (no time namespace, no mount
  // sources, not both joins and a new user namespace) starts with one
  // clone, stage 0 making any joins itself (start_plan.hpp):
  // InitProcess::stage1_pid() is then -1. Where this process
  // (in_process_init) or a pool's template on the sealed memfd clones the
  // init itself, and no parent-death signal is asked for, it starts
  // directly, without a stage 0 either. InitProcess::start() says which
  // (start_plan.hpp). false: runc's three stages always.
  bool one_clone = true;
};

// The fd numbers of the init and log pipes in the init, as runc's Go side
// picks them for a container without preserved fds; each preserved fd
// moves them up by one.
inline constexpr int kInitPipeFd = 3;
inline constexpr int kLogPipeFd = 4;

namespace detail {

// Everything one launch started, killed and reaped on the way out unless
// disarmed. Stage 0 leads its own process group; stages 1 and 2 stay in it
// until stage 2 calls setsid, which happens after the pid line names them.
struct LaunchCleanup {
  pid_t stage0 = -1;
  UniqueFd stage0_pidfd;
  UniqueFd stage1_pidfd;
  UniqueFd stage2_pidfd;
  // Named by the pid line, checked to be our unreaped children, but
  // without a pidfd (pidfd_open failed): killed and reaped by pid, which is
  // safe for exactly that reason.
  std::vector<pid_t> children_by_pid;
  bool armed = true;

  ~LaunchCleanup() {
    if (!armed || stage0 < 0) return;
    // Stage 0 by its pidfd as well: a forked one may not have made its
    // process group yet.
    if (stage0_pidfd) pidfd_send_signal(stage0_pidfd.get(), SIGKILL);
    ::kill(-stage0, SIGKILL);
    if (stage1_pidfd) pidfd_send_signal(stage1_pidfd.get(), SIGKILL);
    if (stage2_pidfd) pidfd_send_signal(stage2_pidfd.get(), SIGKILL);
    for (pid_t pid : children_by_pid) ::kill(pid, SIGKILL);
    if (stage0_pidfd) reap_pidfd(stage0_pidfd.get());
    if (stage1_pidfd) reap_pidfd(stage1_pidfd.get());
    if (stage2_pidfd) reap_pidfd(stage2_pidfd.get());
    for (pid_t pid : children_by_pid)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    // Whatever else of the group is our child (a stage 1 or 2 whose pid
    // never reached us).
    while (::waitpid(-stage0, nullptr, 0) > 0 || errno == EINTR) {
    }
  }
};

// With fd 0, 1 or 2 closed in this process, a new pipe can land there and
// then pass for the init's stdin. The launcher's own fds are moved above 2.
inline Result<void> lift_above_stdio(UniqueFd& fd) noexcept {
  if (!fd || fd.get() > 2) return {};
  UniqueFd lifted(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!lifted) return in_stage(make_sys_error(Op::MoveFd, errno, detail::detail_text("fd {} above 2", fd.get())), Stage::Launcher);
  fd = std::move(lifted);
  return {};
}

// An stdio entry naming a closed fd means closed: inherited as it is.
inline int open_or_closed(int fd) noexcept { return fd >= 0 && ::fcntl(fd, F_GETFD) >= 0 ? fd : -1; }


}  // namespace detail

class Launcher {
 public:
  explicit Launcher(LauncherConfig config = {}) : config_(std::move(config)) {}

  // How many times the binary was copied into a sealed memfd (at most
  // once per Launcher), and how many inits were started.
  unsigned sealed_copies() const noexcept { return sealed_copies_.load(); }
  unsigned launches() const noexcept { return launches_.load(); }

  // Starts an init for `config`. Thread-safe. In phases: the message, the
  // pipes, how to start the init (exec'd from which file, or forked), its
  // argv, environment and fds, the spawn, then the protocol (Session).
  Result<InitProcess> launch(const Bootstrap& config, const LaunchOptions& opt = {}) {
    return launch_with(config, opt, nullptr);
  }

 private:
  friend class InitPool;

  // What starts the init once its request is built: spawn() (nullptr), or
  // an InitPool's template, which may clone it into its namespaces (a
  // direct start) only when it runs from a sealed memfd: its clone cannot
  // protect itself, and a read-only view proves nothing to it.
  using StartFn = std::function<Result<Spawned>(const SpawnRequest&, std::chrono::steady_clock::time_point deadline)>;

  Result<InitProcess> launch_with(const Bootstrap& config, const LaunchOptions& opt, const StartFn* starter,
                                  Starter starter_kind = Starter::Spawn) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + opt.timeout;
    auto fail = [](Error e) { return in_stage(e, e.stage == Stage::Setup ? Stage::Launcher : e.stage); };

    if (opt.parent_death_signal < 0 || opt.parent_death_signal > 64)
      return fail(make_sys_error(Op::SpawnInit, EINVAL, fmt::format("parent_death_signal {}", opt.parent_death_signal)));
    if (opt.stage_names)
      for (std::size_t i = 0; i < 3; ++i)
        if (const std::string_view why = why_not_a_stage_name((*opt.stage_names)[i]); !why.empty())
          return fail(make_error(Op::SpawnInit, Code::BadEnv, kNoOffset,
                                 fmt::format("stage_names[{}] \"{}\": {}", i, (*opt.stage_names)[i], why)));
    if (config.mount_sources && !detail::has_effective_cap(CAP_SYS_ADMIN))
      // Said once, before anything starts; else stage 0 meets it at its
      // first setns and the init dies mid-start.
      return fail(make_sys_error(Op::SendMountSources, EPERM,
                                 "they need CAP_SYS_ADMIN here: stage 0 opens each in the container's mount namespace "
                                 "(runc 1.1 sends none for a rootless container)"));
    auto pipes = make_pipes(opt);
    if (!pipes) return fail(pipes.error());
    // Joins held as fds go on the wire as paths to the numbers the init
    // gets them at (held_namespaces.hpp); from here on the config is the
    // wire's.
    auto held = carry_held_namespaces(config, held_fd_number(opt, *pipes));
    if (!held) return fail(held.error());
    const Bootstrap& wired = *held ? (*held)->wire : config;
    const std::span<const int> held_fds = *held ? std::span<const int>((*held)->fds) : std::span<const int>();
    auto message = wire::encode(wired, {.profile = opt.profile});
    if (!message) return fail(message.error());
    auto how = how_to_start(wired, opt, *message, starter_kind);
    if (!how) return fail(how.error());
    if (how->choice.plan.guard == BinaryGuard::MoveOntoView)
      how->choice.plan.view_fd = held_fd_number(opt, *pipes) + static_cast<int>(held_fds.size());
    const StartChoice& choice = how->choice;
    const bool direct = choice.plan.topology == Topology::Direct;
    if (opt.on_log && opt.log_level >= LogLevel::Debug)
      opt.on_log(LogRecord{.level = LogLevel::Debug, .stage = Stage::Launcher, .pid = ::getpid(),
                           .text = std::string(describe_start(choice).view()), .parsed = true});
    InitArgs args = init_args(wired, opt, *pipes, *how, held_fds);

    SpawnRequest req;
    const std::string path = config_.init_binary.empty() ? "/proc/self/exe" : config_.init_binary;
    req.path = path.c_str();
    req.exec_fd = how->exec_fd;
    req.argv = args.argv_ptrs.data();
    req.envp = args.env_ptrs.data();
    req.fds = args.fds;
    req.cgroup_fd = pipes->cgroup_dir.get();
    if (direct) {
      NsSet created = wired.clone_flags.value_or(NsSet{});
      created.erase(NsKind::cgroup);  // by the init, once it is in its cgroup
      req.clone_flags = created.clone_flags();
      // Its setsid makes it a session leader, which a process-group leader
      // cannot become; until then the pidfd reaches it.
      req.new_process_group = false;
    }
    if (choice.forked()) {
      req.entry = config_.in_process_init;
      req.report_index = args.log_index;
      req.non_dumpable = choice.plan.guard == BinaryGuard::Unreachable;
    }
    auto spawned = starter != nullptr ? (*starter)(req, deadline) : spawn(req);
    if (!spawned) return fail(spawned.error());
    launches_.fetch_add(1);
    pipes->child_init_pipe.reset();
    pipes->child_log_pipe.reset();
    pipes->child_sync_pipe.reset();
    UniqueFd& init_pipe = pipes->init_pipe;
    UniqueFd& log_pipe = pipes->log_pipe;

    detail::LaunchCleanup started;
    started.stage0 = spawned->pid;
    started.stage0_pidfd = std::move(spawned->pidfd);
    if (pipes->cgroup_dir && !spawned->in_cgroup) {
      // Stage 0 is blocked on the message it has not been sent yet, so
      // every later stage inherits the cgroup, as with clone3.
      if (auto r = write_cgroup_procs(opt.cgroup, spawned->pid); !r) return fail(r.error());
    }
    long long stage0_work_us = -1;  // a direct start's: ours, so the init's breakdown cannot tell it
    if (direct) {
      const std::uint64_t began = monotonic_ns();
      if (auto r = do_stage0_work(*message, opt.profile, spawned->pid); !r) return fail(r.error());
      stage0_work_us = static_cast<long long>((monotonic_ns() - began) / 1000);
    }
    if (::fcntl(init_pipe.get(), F_SETFL, O_NONBLOCK) != 0)
      return fail(make_sys_error(Op::SendBootstrap, errno, "fcntl O_NONBLOCK"));

    Session s(opt, init_pipe.get(), log_pipe.get(), *message, choice.plan.topology);
    if (auto r = s.run(started, deadline); !r) {
      // A pid line may have arrived unread (the deadline passed, say): its
      // stage 2 may have left stage 0's process group by now, so it must be
      // named to be cleaned up.
      (void)s.read_what_is_left(started);
      // The init's own account comes first: it knows why it stopped. But
      // a stage that says only that its peer went away, where we saw a
      // stage killed by a signal, tells the echo of the cause we have.
      if (s.fatal && !(code_from_message(s.fatal->detail_view()) == Code::PeerClosed && s.a_stage_was_killed()))
        return *s.fatal;
      return fail(r.error());
    }
    if (::fcntl(init_pipe.get(), F_SETFL, 0) != 0)
      return fail(make_sys_error(Op::ReadPidLine, errno, "fcntl blocking"));
    started.armed = false;
    // A direct start's stage 0 is the init itself.
    if (!direct) detail::reap_pidfd(started.stage0_pidfd.get());
    InitProcess init(direct ? started.stage0 : s.stage2, s.stage1,
                     std::move(direct ? started.stage0_pidfd : started.stage2_pidfd), std::move(init_pipe),
                     std::move(log_pipe), choice, spawned->in_cgroup);
    if (direct && s.breakdown) s.breakdown->maps = stage0_work_us;
    init.set_start_breakdown(s.breakdown);
    init.set_sync_pipe(std::move(pipes->sync_pipe));
    return init;
  }

  // The init pipe (a socketpair, as runc's), the log pipe and the cgroup
  // directory, with the launcher's ends above fd 2.
  struct LaunchPipes {
    UniqueFd init_pipe, child_init_pipe, log_pipe, child_log_pipe, cgroup_dir;
    // runc >= 1.2's second socketpair (SOCK_SEQPACKET), for the runtime's
    // own protocol after the init's; only with wire::Profile::Runc12.
    UniqueFd sync_pipe, child_sync_pipe;
  };

  static Result<LaunchPipes> make_pipes(const LaunchOptions& opt) {
    LaunchPipes p;
    int sp[2], lp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
      return make_sys_error(Op::Socketpair, errno, "init pipe");
    p.init_pipe.reset(sp[0]);
    p.child_init_pipe.reset(sp[1]);
    if (::pipe2(lp, O_CLOEXEC | O_NONBLOCK) != 0) return make_sys_error(Op::Pipe, errno, "log pipe");
    p.log_pipe.reset(lp[0]);
    p.child_log_pipe.reset(lp[1]);
    // The init's end blocks as any fd does; only ours is non-blocking.
    ::fcntl(p.child_log_pipe.get(), F_SETFL, 0);
    if (!opt.cgroup.empty()) {
      p.cgroup_dir.reset(::open(opt.cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!p.cgroup_dir) return make_sys_error(Op::PlaceInCgroup, errno, opt.cgroup);
    }
    if (opt.profile == wire::Profile::Runc12) {
      int sync[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) != 0)
        return make_sys_error(Op::Socketpair, errno, "sync pipe");
      p.sync_pipe.reset(sync[0]);
      p.child_sync_pipe.reset(sync[1]);
    }
    for (UniqueFd* fd : {&p.init_pipe, &p.child_init_pipe, &p.log_pipe, &p.child_log_pipe, &p.cgroup_dir, &p.sync_pipe,
                         &p.child_sync_pipe})
      if (auto r = detail::lift_above_stdio(*fd); !r) return r.error();
    return p;
  }

  // How the init starts (start_plan.hpp), and the fds it needs: the facts
  // gathered here, the choice made by choose_start alone.
  struct HowToStart {
    StartChoice choice;
    int exec_fd = -1;        // the protected view to exec, if any
    int view_for_init = -1;  // the protected view a forked init moves onto
  };

  Result<HowToStart> how_to_start(const Bootstrap& config, const LaunchOptions& opt, const wire::Bytes& message,
                                  Starter starter) {
    StartFacts f;
    f.starter = starter;
    f.one_clone_asked = opt.one_clone;
    f.parent_death_signal = opt.parent_death_signal != 0;
    f.why_not_one_clone = why_not_one_clone(config);
    f.why_not_direct = why_not_direct(config);
    if (starter == Starter::Spawn) {
      f.forks = can_fork();  // one look at /proc/self/stat per launch
      f.skip_protection_when_unwritable = config_.skip_protection_when_unwritable;
      f.containers_share_our_filesystem = config_.containers_share_our_filesystem;
      f.exec_from_sealed_memfd = config_.exec_from_sealed_memfd;
      f.protect_forks_in_place = config_.protect_forks_in_place;
      f.euid_root = ::geteuid() == 0;
      if (f.skip_protection_when_unwritable) {
        const std::string path = config_.init_binary.empty() ? "/proc/self/exe" : config_.init_binary;
        auto view = wire::decode_view(message, opt.profile);
        struct stat st {};
        if (view && ::stat(path.c_str(), &st) == 0) {
          f.container_can_write_exe = !why_container_could_write(*view, st).empty();
          f.container_can_reach_init = !why_container_could_reach_init(*view).empty();
        }
      }
    }
    std::pair<int, ExecFrom> view{-1, ExecFrom::SealedMemfd};
    if (needs_protected_view(f)) {
      if (auto r = may_exec_init_binary(); !r) return r.error();
      auto made = protected_binary();
      if (!made) return made.error();
      view = *made;
      f.protected_view = view.second;
      f.may_move_in_place =
          view.second == ExecFrom::ReadOnlyMount && f.protect_forks_in_place && f.forks && may_move_in_place();
    }
    HowToStart how{.choice = choose_start(f)};
    if (how.choice.image == ExecFrom::Path)
      if (auto r = may_exec_init_binary(); !r) return r.error();
    if (how.choice.plan.guard == BinaryGuard::MoveOntoView)
      how.view_for_init = view.first;
    else if (how.choice.image == ExecFrom::SealedMemfd || how.choice.image == ExecFrom::ReadOnlyMount)
      how.exec_fd = view.first;
    return how;
  }

  // SpawnRequest::entry may run the init: this program's own, from a
  // process with one thread.
  bool can_fork() const noexcept {
    return config_.in_process_init != nullptr && config_.init_binary.empty() && detail::thread_count() == 1;
  }

  // Whether a fork of ours may name its executable (exe_rebase.hpp): the
  // kernel asked once per Launcher.
  bool may_move_in_place() {
    std::lock_guard lock(mutex_);
    if (move_refused_ < 0) move_refused_ = exe_rebase_refused();
    return move_refused_ == 0;
  }

  // Refused when the init is this program and it was started through the
  // dynamic loader (exe_rebase.hpp; asked once per Launcher): /proc/self/exe
  // is then the loader, which, exec'd (or sealed, or viewed), would take the
  // init's argv for its own and run no init at all.
  Result<void> may_exec_init_binary() {
    if (!config_.init_binary.empty()) return {};
    std::lock_guard lock(mutex_);
    if (through_loader_ < 0) through_loader_ = detail::runs_through_dynamic_loader() ? 1 : 0;
    if (through_loader_ == 0) return {};
    return in_stage(make_sys_error(Op::SpawnInit, ENOEXEC,
                                   "this program runs through the dynamic loader (/proc/self/exe is the loader): "
                                   "name the init in LauncherConfig::init_binary, or start the program by its own path"),
                    Stage::Launcher);
  }

  // The init's argv, environment and fds, built before the spawn: its child
  // may not allocate.
  struct InitArgs {
    std::vector<std::string> argv, env;
    std::vector<int> fds;  // fds[i] becomes fd i
    int log_index = -1;    // where the log pipe is in fds
    std::vector<char*> argv_ptrs, env_ptrs;
  };

  static InitArgs init_args(const Bootstrap& config, const LaunchOptions& opt, const LaunchPipes& pipes,
                            const HowToStart& how, std::span<const int> held_ns) {
    InitArgs a;
    a.argv = opt.argv.empty() ? std::vector<std::string>{"nsenter-init"} : opt.argv;
    auto keep = [](std::string_view var) {
      return !var.starts_with("_LIBCONTAINER_") && !var.starts_with("_NSENTER_");
    };
    if (opt.env) {
      for (const auto& v : *opt.env)
        if (keep(v)) a.env.push_back(v);
    } else {
      for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        if (keep(*e)) a.env.emplace_back(*e);
    }
    auto& env = a.env;
    const int preserved = static_cast<int>(opt.preserve_fds.size());
    env.push_back(fmt::format("{}={}", RuncEnv::init_pipe, kInitPipeFd + preserved));
    env.push_back(fmt::format("{}={}", RuncEnv::log_pipe, kLogPipeFd + preserved));
    env.push_back(fmt::format("{}={}", RuncEnv::log_level, static_cast<int>(opt.log_level)));
    if (!opt.state_dir.empty()) env.push_back(fmt::format("{}={}", RuncEnv::state_dir, opt.state_dir));
    // An init that protects itself trusts a read-only exe only when told it
    // is its protected copy (as after its own re-exec).
    if (how.choice.image == ExecFrom::ReadOnlyMount) env.push_back(fmt::format("{}=1", RuncEnv::cloned_binary));
    if (opt.parent_death_signal != 0)
      env.push_back(fmt::format("{}={}:{}", RuncEnv::parent_death, opt.parent_death_signal, ::getpid()));
    // runc 1.2 and later say which they are only by the sync pipe (below).
    // runc's plan is said by no variable, as runc's parent says it.
    const StartPlan& plan = how.choice.plan;
    if (!plan.is_runcs()) env.push_back(fmt::format("{}={}", RuncEnv::start, format_start(plan).view()));
    if (opt.stage_names)
      env.push_back(fmt::format("{}={},{},{}", RuncEnv::stage_names, (*opt.stage_names)[0], (*opt.stage_names)[1],
                                (*opt.stage_names)[2]));
    // At debug the init breaks its start down, from this moment on.
    if (opt.log_level >= LogLevel::Debug) env.push_back(fmt::format("{}={}", RuncEnv::spawned_ns, monotonic_ns()));
    a.fds = {detail::open_or_closed(opt.stdio[0]), detail::open_or_closed(opt.stdio[1]),
             detail::open_or_closed(opt.stdio[2])};
    for (int fd : opt.preserve_fds) a.fds.push_back(detail::open_or_closed(fd));
    a.fds.push_back(pipes.child_init_pipe.get());
    a.log_index = static_cast<int>(a.fds.size());
    a.fds.push_back(pipes.child_log_pipe.get());
    a.fds.insert(a.fds.end(), opt.extra_fds.begin(), opt.extra_fds.end());
    if (pipes.child_sync_pipe) {
      env.push_back(fmt::format("{}={}", RuncEnv::sync_pipe, a.fds.size()));
      a.fds.push_back(pipes.child_sync_pipe.get());
    }
    // Namespaces the runtime holds, at the numbers their wire paths name.
    assert(held_ns.empty() || held_fd_number(opt, pipes) == static_cast<int>(a.fds.size()));
    a.fds.insert(a.fds.end(), held_ns.begin(), held_ns.end());
    if (plan.guard == BinaryGuard::MoveOntoView) {
      assert(plan.view_fd == static_cast<int>(a.fds.size()));  // held_fd_number's layout
      a.fds.push_back(how.view_for_init);
    }
    if (config.mount_sources) {
      // Stage 1 receives each source's fd onto a free number past ours.
      std::string list = "[";
      int next = static_cast<int>(a.fds.size());
      for (const auto& source : *config.mount_sources)
        list += fmt::format("{}{}", list.size() > 1 ? "," : "", source.empty() ? -1 : next++);
      env.push_back(fmt::format("{}={}]", RuncEnv::mount_fds, list));
    }
    for (auto& arg : a.argv) a.argv_ptrs.push_back(arg.data());
    a.argv_ptrs.push_back(nullptr);
    for (auto& e : a.env) a.env_ptrs.push_back(e.data());
    a.env_ptrs.push_back(nullptr);
    return a;
  }

  // Where the namespaces the runtime holds land in the init, then the view a
  // forked init moves onto: past stdio, the preserved fds, the init and log
  // pipes, the extra fds and the sync pipe (init_args lays them out in that
  // order).
  static int held_fd_number(const LaunchOptions& opt, const LaunchPipes& pipes) noexcept {
    return static_cast<int>(3 + opt.preserve_fds.size() + 2 + opt.extra_fds.size() + (pipes.child_sync_pipe ? 1 : 0));
  }

  // What stage 0 does before its clone goes on, for an init we cloned into
  // its namespaces, before it is sent the message it waits for:
  // oom_score_adj (the init, in a user namespace of its own, could not
  // lower it), and the id maps.
  static Result<void> do_stage0_work(const wire::Bytes& message, wire::Profile profile, pid_t pid) {
    auto config = wire::decode_view(message, profile);
    if (!config) return config.error();
    if (config->oom_score_adj) {
      const detail::ProcPath path(pid, "oom_score_adj");
      if (int err = kLinuxSys.write_file(path.data, std::to_string(*config->oom_score_adj)))
        return in_stage(make_sys_error(Op::OomScoreAdj, err, path.data), Stage::Launcher);
    }
    if (config->clone_flags && config->clone_flags->contains(NsKind::user))
      if (auto r = write_user_namespace_maps(pid, *config, RuncIdMapWriter{}, kLinuxSys); !r)
        return in_stage(r.error(), Stage::Launcher);
    return {};
  }

  // The protocol after the spawn, as a small poll loop: every fd is
  // non-blocking, so no single read or write can outlast the deadline.
  struct Session {
    Session(const LaunchOptions& o, int sock_fd, int log_fd, const wire::Bytes& msg, Topology how)
        : opt(o),
          sock(sock_fd),
          log(log_fd),
          message(msg),
          direct(how == Topology::Direct),
          one_clone(how == Topology::OneClone),
          hello(o.profile == wire::Profile::Runc12) {}

    const LaunchOptions& opt;
    int sock;
    int log;
    const wire::Bytes& message;
    const bool direct;  // no pid line: the init says it is ready with a second NUL
    const bool one_clone;  // the init may name stage 2 twice (no stage 1)
    bool init_ready = false;   // a direct start's second NUL: the init is stage 2 and done
    std::size_t sent = 0;
    bool hello;  // runc 1.1's NUL read, or none to wait for (runc >= 1.2)
    bool sock_open = true;
    bool log_open = true;
    std::string pid_line;
    pid_t stage1 = -1, stage2 = -1;  // stage1 stays -1 under the one-clone plan
    std::optional<ExitStatus> stage0_status, stage1_status;
    std::optional<Error> fatal;
    std::optional<StartBreakdown> breakdown;
    LogPipeReader logs;

    void pump_logs() {
      if (!log_open) return;
      log_open = logs.pump(log, [&](const LogRecord& rec) {
        if (rec.level <= LogLevel::Fatal && !fatal) fatal = error_from_fatal(rec);
        if (rec.level == LogLevel::Debug && (rec.stage == Stage::Parent || rec.stage == Stage::Init))
          if (auto b = parse_breakdown(without_elapsed(rec.text))) breakdown = b;
        if (opt.on_log) opt.on_log(rec);
      });
    }

    Op waiting_for() const noexcept {
      if (!hello && sent == message.size()) return Op::ReadHandshake;
      if (sent < message.size()) return Op::SendBootstrap;
      if (!reported()) return direct ? Op::ReadHandshake : Op::ReadPidLine;
      return Op::WaitInit;
    }

    // The init said what it had to: the pid line, or a direct start's
    // ready byte.
    bool reported() const noexcept { return direct ? init_ready : stage2 >= 0; }
    bool done() const noexcept { return direct ? init_ready : stage0_status && stage1_done(); }

    // Reaped, or named by the pid line as not there (the one-clone plan).
    bool stage1_done() const noexcept { return stage1_status || (stage2 >= 0 && stage1 < 0); }

    bool a_stage_was_killed() const noexcept {
      return (stage0_status && stage0_status->signaled) || (stage1_status && stage1_status->signaled);
    }

    // A direct start's init dies while we wait for it to say it is
    // ready; otherwise a stage dies while we wait for stages 0 and 1.
    Result<void> died(const char* who, const ExitStatus& status) const {
      return in_stage(make_error(direct ? waiting_for() : Op::WaitInit, Code::InitDied, kNoOffset,
                                 fmt::format("{} {}", who, nsenter::to_string(status))),
                      Stage::Launcher);
    }

    Result<void> run(detail::LaunchCleanup& started, std::chrono::steady_clock::time_point deadline) {
      while (!done()) {
        pollfd fds[4];
        nfds_t n = 0;
        int sock_at = -1, log_at = -1, s0_at = -1, s1_at = -1;
        const bool want_read = !hello || (sent == message.size() && !reported());
        const bool want_write = sent < message.size();
        auto add = [&](int fd, short events) {
          fds[n] = {fd, events, 0};
          return static_cast<int>(n++);
        };
        if (sock_open && (want_read || want_write))
          sock_at = add(sock, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)));
        if (log_open) log_at = add(log, POLLIN);
        if (!stage0_status) s0_at = add(started.stage0_pidfd.get(), POLLIN);
        if (started.stage1_pidfd && !stage1_status) s1_at = add(started.stage1_pidfd.get(), POLLIN);

        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          pump_logs();
          return in_stage(make_error(waiting_for(), Code::TimedOut, kNoOffset,
                                     fmt::format("after {} ms", opt.timeout.count())),
                          Stage::Launcher);
        }
        const int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), INT32_MAX)));
        if (ready < 0) {
          if (errno == EINTR) continue;
          return in_stage(make_sys_error(waiting_for(), errno, "poll"), Stage::Launcher);
        }
        if (sock_at >= 0 && fds[sock_at].revents != 0) {
          if (auto r = on_sock(fds[sock_at].revents, started); !r) return r;
        }
        if (log_at >= 0 && fds[log_at].revents != 0) pump_logs();
        if (s0_at >= 0 && (fds[s0_at].revents & POLLIN)) {
          // Not reaped yet: while stage 0 is a zombie its pid, which is
          // the process group's id, cannot be reused, so the cleanup's
          // kill(-pgid) can only reach our own stages.
          stage0_status = detail::reap_pidfd(started.stage0_pidfd.get(), WNOWAIT);
          if (!stage0_status) return in_stage(make_sys_error(Op::WaitInit, errno, "waitid stage 0"), Stage::Launcher);
          pump_logs();  // a fatal record was written before the exit
          // So were the handshake and the pid line, but poll may have looked
          // at the socket just before they came and at the pidfd just after
          // the exit: read what stage 0 left before judging it.
          if (auto r = read_what_is_left(started); !r) return r;
          if (direct) {
            if (!init_ready) return died("stage 2", *stage0_status);  // there is no stage 0: this was the init
          } else if (stage2 < 0 || !stage0_status->success()) {
            return died("stage 0", *stage0_status);
          }
        }
        if (s1_at >= 0 && (fds[s1_at].revents & POLLIN)) {
          stage1_status = detail::reap_pidfd(started.stage1_pidfd.get());
          const int err = errno;
          started.stage1_pidfd.reset();
          if (!stage1_status) return in_stage(make_sys_error(Op::WaitInit, err, "waitid stage 1"), Stage::Launcher);
          if (!stage1_status->success()) {
            pump_logs();
            return died("stage 1", *stage1_status);
          }
        }
      }
      pump_logs();
      return {};
    }

    // A direct start's second NUL: one byte and not one past it.
    Result<void> read_ready() {
      char byte = 1;
      const ssize_t r = ::read(sock, &byte, 1);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) sock_open = false;
      if (r != 1) return {};
      if (byte != '\0')
        return in_stage(make_error(Op::ReadHandshake, Code::BadHandshake, kNoOffset, fmt::format("ready byte {:#04x}", byte)),
                        Stage::Launcher);
      init_ready = true;
      return {};
    }

    // Reads, without waiting, the handshake and pid line the init may have
    // written before it exited or the deadline passed.
    Result<void> read_what_is_left(detail::LaunchCleanup& started) {
      for (int i = 0; i < 3 && !reported() && sock_open; ++i)
        if (auto r = on_sock(POLLIN, started); !r) return r;
      return {};
    }

    Result<void> on_sock(short revents, detail::LaunchCleanup& started) {
      if ((revents & POLLOUT) && sent < message.size()) {
        const ssize_t w = ::send(sock, message.data() + sent, message.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) sent += static_cast<std::size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) sock_open = false;  // the init is gone; stage 0's exit says why
      }
      if (!(revents & (POLLIN | POLLHUP | POLLERR))) return {};
      if (!hello) {
        char byte = 1;
        const ssize_t r = ::read(sock, &byte, 1);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) sock_open = false;
        if (r == 1) {
          if (byte != '\0')
            return in_stage(make_error(Op::ReadHandshake, Code::BadHandshake, kNoOffset, fmt::format("byte {:#04x}", byte)),
                            Stage::Launcher);
          hello = true;
        }
        return {};
      }
      if (sent < message.size() || reported()) return {};
      if (direct) return read_ready();
      // The pid line, and not a byte past it: what follows belongs to the
      // embedder's protocol.
      char buf[64];
      const ssize_t peeked = ::recv(sock, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
      if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EINTR)) {
        sock_open = false;
        return {};
      }
      if (peeked < 0) return {};
      const auto nl = std::string_view(buf, static_cast<std::size_t>(peeked)).find('\n');
      const std::size_t take = nl == std::string_view::npos ? static_cast<std::size_t>(peeked) : nl + 1;
      const ssize_t got = ::read(sock, buf, take);
      if (got > 0) pid_line.append(buf, static_cast<std::size_t>(got));
      if (pid_line.size() > 64)
        return in_stage(make_error(Op::ReadPidLine, Code::BadPidLine, kNoOffset, pid_line), Stage::Launcher);
      if (pid_line.empty() || pid_line.back() != '\n') return {};
      const auto pids = parse_pid_line(pid_line);
      if (!pids) return in_stage(make_error(Op::ReadPidLine, Code::BadPidLine, kNoOffset, pid_line), Stage::Launcher);
      // Stage 2 named twice: the one-clone plan, and only if we asked.
      const bool no_stage1 = pids->first == pids->second;
      if (no_stage1 && !one_clone)
        return in_stage(make_error(Op::ReadPidLine, Code::BadPidLine, kNoOffset,
                                   fmt::format("stage 1 and 2 are one pid, but no one-clone start was asked for: {}", pid_line)),
                        Stage::Launcher);
      // Both must be our children (CLONE_PARENT made them so) and are
      // unreaped, so their pids cannot have been reused; a line naming
      // anyone else is refused, never acted on.
      for (pid_t pid : {pids->first, pids->second})
        if (!detail::is_unreaped_child(pid))
          return in_stage(make_error(Op::ReadPidLine, Code::BadPidLine, kNoOffset,
                                     fmt::format("pid {} is not a child of the launcher: {}", pid, pid_line)),
                          Stage::Launcher);
      stage2 = pids->second;
      started.stage2_pidfd.reset(detail::pidfd_open(stage2));
      if (!no_stage1) {
        stage1 = pids->first;
        started.stage1_pidfd.reset(detail::pidfd_open(stage1));
      }
      if ((!no_stage1 && !started.stage1_pidfd) || !started.stage2_pidfd) {
        const int err = errno;
        if (!no_stage1 && !started.stage1_pidfd) started.children_by_pid.push_back(stage1);
        if (!started.stage2_pidfd) started.children_by_pid.push_back(stage2);
        return in_stage(make_sys_error(Op::ReadPidLine, err, "pidfd_open"), Stage::Launcher);
      }
      return {};
    }
  };

  static Result<void> write_cgroup_procs(const std::string& cgroup, pid_t pid) {
    const std::string procs = cgroup + "/cgroup.procs";
    if (int err = kLinuxSys.write_file(procs.c_str(), std::to_string(pid)))
      return in_stage(make_sys_error(Op::PlaceInCgroup, err, procs), Stage::Launcher);
    return {};
  }

  // What every init is exec'd from, made by the first launch that needs
  // it: a detached read-only mount of the binary when asked for and
  // allowed, else a sealed memfd copy.
  Result<std::pair<int, ExecFrom>> protected_binary() {
    std::lock_guard lock(mutex_);
    if (!exec_view_) {
      const std::string path = config_.init_binary.empty() ? "/proc/self/exe" : config_.init_binary;
      // execveat() of a close-on-exec fd cannot run a script (the
      // interpreter would need /dev/fd/N, gone at exec): say so now rather
      // than let every launch fail with a puzzling ENOENT.
      char magic[2] = {};
      UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!file) return in_stage(make_sys_error(Op::SelfProtect, errno, path), Stage::Launcher);
      if (::pread(file.get(), magic, sizeof magic, 0) == 2 && magic[0] == '#' && magic[1] == '!')
        return in_stage(make_sys_error(Op::SpawnInit, ENOEXEC,
                                       path + " is a script: exec it by path (exec_from_sealed_memfd = false)"),
                        Stage::Launcher);
      UniqueFd view;
      if (config_.prefer_read_only_mount) view = detail::detached_read_only_view(path.c_str());
      if (view) {
        exec_from_ = ExecFrom::ReadOnlyMount;
      } else {
        auto fd = sealed_memfd_copy(path.c_str(), "nsenter-init");
        if (!fd) return in_stage(fd.error(), Stage::Launcher);
        view = std::move(*fd);
        exec_from_ = ExecFrom::SealedMemfd;
        sealed_copies_.fetch_add(1);
      }
      if (auto r = detail::lift_above_stdio(view); !r) return r.error();
      exec_view_ = std::move(view);
    }
    return std::pair{exec_view_.get(), exec_from_};
  }

  LauncherConfig config_;
  std::mutex mutex_;
  UniqueFd exec_view_;  // guarded by mutex_, with exec_from_, move_refused_ and through_loader_
  ExecFrom exec_from_ = ExecFrom::Path;
  int move_refused_ = -1;  // exe_rebase_refused(), once asked
  int through_loader_ = -1;  // may_exec_init_binary()'s question, once asked
  std::atomic<unsigned> sealed_copies_{0};
  std::atomic<unsigned> launches_{0};
};

NSENTER_END_NAMESPACE
