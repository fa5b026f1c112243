// SPDX-License-Identifier: Apache-2.0
// nsrun's parent side: launch the init for a RunRequest, then stay with
// the command until it exits: forward signals, relay a pseudo-terminal,
// print the init's log records, and return the command's exit status.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "nsenter/bootstrap_json.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/launcher.hpp"
#include "init.hpp"
#include "options.hpp"

namespace nsrun {

inline constexpr int kExitFailure = 125;  // nsrun itself failed, as env(1) and timeout(1) say it

// What to try, for the failures people actually hit. Empty when there is
// nothing useful to add.
inline std::string hint_for(const nsenter::Error& e, const RunRequest& req, uid_t euid) {
  // A sysctl's integer value (plain reads: no iostreams in nsrun, whose
  // init path must start fast).
  auto sysctl = [](const char* path) -> std::optional<long> {
    nsenter::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    char buf[32] = {};
    if (!fd || ::read(fd.get(), buf, sizeof buf - 1) <= 0) return std::nullopt;
    std::string_view text(buf);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    return nsenter::detail::parse_decimal<long>(text);
  };
  const bool new_user = req.config.clone_flags && req.config.clone_flags->contains(NsKind::user);
  const int err = e.sys_errno;
  if (new_user && euid != 0 && (err == EPERM || err == ENOSPC || err == EACCES || err == EINVAL)) {
    if (sysctl("/proc/sys/user/max_user_namespaces") == 0L)
      return "user namespaces are disabled: sysctl -w user.max_user_namespaces=10000";
    if (sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0L)
      return "unprivileged user namespaces are disabled: sysctl -w kernel.unprivileged_userns_clone=1";
    if (sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1L)
      return "AppArmor restricts unprivileged user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0";
  }
  if (err == EPERM && euid != 0 && !new_user && req.config.clone_flags)
    return "creating namespaces needs root, or a new user namespace: add -U (or -r)";
  // A map the kernel or its helper refused: written by the init's stage 0
  // (its fatal record names it), or by the launcher itself for an init it
  // started directly (start_plan.hpp).
  auto map_refused = [&](std::string_view file, std::string_view helper, nsenter::Op write_op) {
    const std::string_view d = e.detail_view();
    const bool named = d.find(file) != std::string_view::npos || d.find(helper) != std::string_view::npos;
    return e.op == write_op || ((e.op == nsenter::Op::InitFailed || e.op == nsenter::Op::RunMapHelper) && named);
  };
  if (map_refused("uid_map", "newuidmap", nsenter::Op::WriteUidMap))
    return "without root you can map only your own id (-r, --map-user); ranges need /etc/subuid and --map-users";
  if (map_refused("gid_map", "newgidmap", nsenter::Op::WriteGidMap))
    return "without root you can map only your own gid (-r, --map-group); ranges need /etc/subgid and --map-groups";
  if (err == ENOENT && e.detail_view().find("/proc/") != std::string_view::npos)
    return "is the --target process still running?";
  return {};
}

// One line for the user: the init's own words when it said why.
inline std::string describe_failure(const nsenter::Error& e, const RunRequest& req, uid_t euid) {
  std::string line = e.code == nsenter::Code::InitFatal
                         ? std::string(nsenter::label(e.stage)) + ": " + std::string(e.detail_view())
                         : nsenter::to_string(e);
  if (const std::string hint = hint_for(e, req, euid); !hint.empty()) line += " (" + hint + ")";
  return line;
}

// A record on stderr; `eol` is "\r\n" while the terminal is raw.
inline void print_record(const nsenter::LogRecord& r, const char* eol = "\n") {
  if (r.level <= nsenter::LogLevel::Fatal)
    std::fprintf(stderr, "nsrun: %s: %s%s", std::string(nsenter::label(r.stage.value_or(nsenter::Stage::Init))).c_str(),
                 r.text.c_str(), eol);
  else if (r.stage)
    std::fprintf(stderr, "nsrun: %s %s[%d]: %s%s", std::string(nsenter::level_name(r.level)).c_str(),
                 std::string(nsenter::label(*r.stage)).c_str(), static_cast<int>(r.pid), r.text.c_str(), eol);
  else
    std::fprintf(stderr, "nsrun: %s%s", r.text.c_str(), eol);
}

// The user's terminal in raw mode while the command owns its own pty;
// restored on every way out.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

struct Pty {
  nsenter::UniqueFd master, slave;
};

inline nsenter::Result<Pty> open_pty() {
  Pty p;
  p.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.master || ::grantpt(p.master.get()) != 0 || ::unlockpt(p.master.get()) != 0)
    return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::OpenPty, errno, "posix_openpt"),
                             nsenter::Stage::Launcher);
  char name[128];
  if (::ptsname_r(p.master.get(), name, sizeof name) != 0)
    return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::OpenPty, errno, "ptsname"), nsenter::Stage::Launcher);
  p.slave.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.slave)
    return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::OpenPty, errno, name), nsenter::Stage::Launcher);
  for (nsenter::UniqueFd* fd : {&p.master, &p.slave})
    if (auto r = nsenter::detail::lift_above_stdio(*fd); !r) return r.error();
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(p.slave.get(), TIOCSWINSZ, &ws);
  return p;
}

// At most PIPE_BUF bytes: after POLLOUT that much never blocks, so a slow
// reader of our stdout cannot stall the loop (signals, the pidfd, stdin).
inline bool write_some(int fd, std::string& pending) {
  const ssize_t n = ::write(fd, pending.data(), std::min<std::size_t>(pending.size(), PIPE_BUF));
  if (n > 0) pending.erase(0, static_cast<std::size_t>(n));
  return n >= 0 || errno == EAGAIN || errno == EINTR;
}

// Signals meant for the command, held from the start: one arriving during
// the launch is forwarded once there is a command to get it, rather than
// killing nsrun and orphaning a half-made container. Returns the signalfd
// that delivers them (invalid on failure, errno set).
inline nsenter::UniqueFd hold_forwarded_signals() {
  sigset_t forwarded;
  ::sigemptyset(&forwarded);
  // Default dispositions first: a shell starts background jobs with
  // SIGINT ignored, and an ignored signal is dropped, never queued.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2}) {
    ::sigaddset(&forwarded, sig);
    ::signal(sig, SIG_DFL);
  }
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  nsenter::UniqueFd sigfd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd || !nsenter::detail::lift_above_stdio(sigfd)) return nsenter::UniqueFd();
  return sigfd;
}

// What the Launcher is asked for: nsrun's own init flags, the command, the
// log level and profile, stdio (the pty's slave end, or ours) and the
// preserved fds, this process's environment.
inline nsenter::LaunchOptions launch_options(const RunRequest& req, const std::array<int, 3>& stdio,
                                             std::vector<int> preserved, const std::optional<Pty>& pty,
                                             std::vector<nsenter::LogRecord>& fatal_records) {
  nsenter::LaunchOptions opt;
  opt.argv = {"nsrun"};
  for (const auto& f : req.init_flags) opt.argv.push_back(f);
  if (pty) opt.argv.push_back("--tty");
  if (req.preserve_fds > 0) opt.argv.push_back(fmt::format("--preserve-fds={}", req.preserve_fds));
  // pid 1 of a new pid namespace gets only the signals it handles, so the
  // command runs as its child under a small init that forwards them.
  if (req.reaper && req.config.clone_flags && req.config.clone_flags->contains(NsKind::pid))
    opt.argv.push_back("--reaper");
  // -t: stage 2 checks, once the joins are made, that the target pinned by
  // the pidfd run() passes first among the extra fds still lives.
  if (req.target) opt.argv.push_back(fmt::format("--target-pidfd={}", nsenter::kLogPipeFd + 1 + req.preserve_fds));
  opt.argv.push_back("--");
  for (const auto& a : req.command) opt.argv.push_back(a);
  opt.log_level = req.log_level;
  opt.profile = req.profile;
  // ps shows the tool's processes as its own, not as runc's (whose names
  // the init keeps for a runc parent, which sets none).
  opt.stage_names = std::array<std::string, 3>{"nsrun:parent", "nsrun:child", "nsrun:init"};
  // A fatal record during the launch becomes the launch's error, printed
  // once by run(); one that arrives after stage 2 took over (its exec
  // failed before stage 0 was reaped) is the command's, printed when the
  // launch has succeeded.
  opt.on_log = [&fatal_records](const nsenter::LogRecord& r) {
    if (r.level <= nsenter::LogLevel::Fatal)
      fatal_records.push_back(r);
    else
      print_record(r);
  };
  opt.stdio = stdio;
  opt.preserve_fds = std::move(preserved);
  opt.parent_death_signal = req.kill_child;
  if (pty) opt.stdio = {pty->slave.get(), pty->slave.get(), pty->slave.get()};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  opt.env = std::move(env);
  return opt;
}

// One launch per run: a read-only mount of our binary costs nothing, where
// a sealed copy would be 1 MB written per run (root only). Without
// privileges, a container that cannot write our binary anyway (its own
// user namespace, our owner unmapped there: the rootless default) needs
// neither; only the rest get the copy. And that one forks this process
// into the init rather than exec'ing the binary again: nsrun is
// single-threaded, and the fork runs the same pipeline the exec would. As
// root too, for a sandbox of its own user namespace: nsrun's containers
// see the host's files (no root of their own), so one that could write our
// binary through /proc/PID/exe could write it by its path as well; the
// fork, non-dumpable, leaves it no /proc handle of ours either.
inline nsenter::LauncherConfig launcher_config() {
  nsenter::LauncherConfig config;
  config.prefer_read_only_mount = true;
  config.skip_protection_when_unwritable = true;
  config.in_process_init = init_in_process;
  config.containers_share_our_filesystem = true;
  return config;
}

// Stays with the command until it exits: forwards signals, relays the pty
// both ways, prints the init's log records; then drains what is left.
class CommandRelay {
 public:
  CommandRelay(nsenter::InitProcess& init, int sigfd, std::optional<Pty>& pty)
      : init_(init), sigfd_(sigfd), pty_(pty), stdin_open_(pty.has_value()), master_open_(pty.has_value()) {
    if (pty_ && ::isatty(STDIN_FILENO)) raw_.emplace(STDIN_FILENO);
    if (pty_) ::fcntl(pty_->master.get(), F_SETFL, O_NONBLOCK);
  }

  // Returns nsrun's exit status.
  int run() {
    serve_until_exit();
    auto status = init_.wait();
    // What the command wrote before it exited, and what its stage 2 said.
    if (pty_) {
      drain_master();
      while (!to_stdout_.empty() && write_some(STDOUT_FILENO, to_stdout_)) {
      }
    }
    raw_.reset();
    pump_logs();
    auto print_one = [&](const nsenter::LogRecord& r) { print(r); };
    if (log_open_) logs_.finish(print_one);
    if (!status) {
      std::fprintf(stderr, "nsrun: %s\n", nsenter::to_string(status.error()).c_str());
      return kExitFailure;
    }
    return status->shell_code();
  }

 private:
  void print(const nsenter::LogRecord& r) const { print_record(r, raw_ ? "\r\n" : "\n"); }

  void pump_logs() {
    auto print_one = [&](const nsenter::LogRecord& r) { print(r); };
    if (log_open_) log_open_ = logs_.pump(init_.log_pipe(), print_one);
  }

  void drain_master() {
    char buf[8192];
    while (master_open_) {
      const ssize_t n = ::read(pty_->master.get(), buf, sizeof buf);
      if (n > 0) {
        to_stdout_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      master_open_ = false;  // EIO: every slave fd is closed
    }
  }

  void forward_signals() {
    signalfd_siginfo si;
    while (::read(sigfd_, &si, sizeof si) == sizeof si) {
      const int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGWINCH) {
        winsize ws{};
        if (pty_ && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ::ioctl(pty_->master.get(), TIOCSWINSZ, &ws);
        continue;
      }
      (void)init_.signal(sig);
    }
  }

  void read_stdin() {
    char buf[4096];
    const ssize_t r = ::read(STDIN_FILENO, buf, sizeof buf);
    if (r > 0) {
      to_master_.append(buf, static_cast<std::size_t>(r));
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      stdin_open_ = false;
      // End of input becomes end of file on the pty, as script(1) does:
      // the terminal's EOF character, which a reader in canonical mode
      // sees as EOF.
      termios t{};
      if (::tcgetattr(pty_->master.get(), &t) == 0 && (t.c_lflag & ICANON)) to_master_ += static_cast<char>(t.c_cc[VEOF]);
    }
  }

  void serve_until_exit() {
    while (true) {
      pollfd fds[6];
      nfds_t n = 0;
      auto add = [&](int fd, short events) {
        fds[n] = {fd, events, 0};
        return static_cast<int>(n++);
      };
      const int at_pid = add(init_.pidfd(), POLLIN);
      const int at_sig = add(sigfd_, POLLIN);
      const int at_log = log_open_ ? add(init_.log_pipe(), POLLIN) : -1;
      const int at_in = stdin_open_ && to_master_.size() < 65536 ? add(STDIN_FILENO, POLLIN) : -1;
      const int at_master =
          master_open_ ? add(pty_->master.get(), static_cast<short>(POLLIN | (to_master_.empty() ? 0 : POLLOUT))) : -1;
      const int at_out = !to_stdout_.empty() ? add(STDOUT_FILENO, POLLOUT) : -1;
      if (::poll(fds, n, -1) < 0) {
        if (errno == EINTR) continue;
        // Cannot serve the command any more: end it rather than leave it
        // running unsupervised, then report as usual.
        std::fprintf(stderr, "nsrun: poll: %s%s", nsenter::detail::errno_text(errno), raw_ ? "\r\n" : "\n");
        (void)init_.signal(SIGKILL);
        return;
      }
      if (fds[at_sig].revents & POLLIN) forward_signals();
      if (at_log >= 0 && fds[at_log].revents) pump_logs();
      if (at_in >= 0 && fds[at_in].revents) read_stdin();
      if (at_master >= 0 && fds[at_master].revents) {
        if (fds[at_master].revents & POLLOUT && !write_some(pty_->master.get(), to_master_)) to_master_.clear();
        if (fds[at_master].revents & (POLLIN | POLLHUP | POLLERR)) drain_master();
      }
      if (at_out >= 0 && (fds[at_out].revents & (POLLOUT | POLLERR | POLLHUP)) && !write_some(STDOUT_FILENO, to_stdout_))
        to_stdout_.clear();
      if (fds[at_pid].revents & POLLIN) return;
    }
  }

  nsenter::InitProcess& init_;
  int sigfd_;
  std::optional<Pty>& pty_;
  std::optional<RawTerminal> raw_;
  nsenter::LogPipeReader logs_;
  bool log_open_ = true, stdin_open_, master_open_;
  std::string to_master_, to_stdout_;
};

// PIDFS_MAGIC from <linux/magic.h>, which Debian's 6.1 headers predate.
inline constexpr unsigned long kPidfsMagic = 0x50494446;

// -t PID, pinned: a pidfd to the process whose namespaces were chosen, once
// its namespaces are found to be the ones read then (a pid reused in
// between names another process). Empty with the reason printed. The
// init's stage 2 gets it (--target-pidfd) and checks the process still
// lives once the joins are made: else PID could have named a newcomer
// whose namespaces the init joined (init.cc).
inline nsenter::UniqueFd pin_target(const RunRequest::Target& target) {
  nsenter::UniqueFd pidfd(nsenter::detail::pidfd_open(target.pid));
  if (!pidfd) {
    std::fprintf(stderr, "nsrun: --target %d: pidfd_open: %s\n", static_cast<int>(target.pid),
                 nsenter::detail::errno_text(errno));
    return pidfd;
  }
  if (target.pidfd_inode) {
    // Every pidfd of a process shares its pidfs inode; before pidfs (Linux
    // 6.9) every pidfd had the same anonymous one, which names nothing.
    struct statfs fs {};
    struct stat st {};
    if (::fstatfs(pidfd.get(), &fs) != 0 || fs.f_type != kPidfsMagic || ::fstat(pidfd.get(), &st) != 0) {
      std::fprintf(stderr, "nsrun: --target %d:%llu: this kernel's pidfds have no inode of their own (pidfs, Linux 6.9)\n",
                   static_cast<int>(target.pid), static_cast<unsigned long long>(*target.pidfd_inode));
      return nsenter::UniqueFd();
    }
    if (st.st_ino != *target.pidfd_inode) {
      std::fprintf(stderr, "nsrun: --target %d:%llu: pid %d is another process (its pidfd's inode is %llu)\n",
                   static_cast<int>(target.pid), static_cast<unsigned long long>(*target.pidfd_inode),
                   static_cast<int>(target.pid), static_cast<unsigned long long>(st.st_ino));
      return nsenter::UniqueFd();
    }
  }
  for (const auto& [path, inode] : target.joined) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_ino != inode) {
      std::fprintf(stderr, "nsrun: --target %d exited as nsrun read its namespaces: pid %d now names another process\n",
                   static_cast<int>(target.pid), static_cast<int>(target.pid));
      return nsenter::UniqueFd();
    }
  }
  return pidfd;
}

// What -t --env and --join-cgroup take from the pinned target: its
// environment (/proc/PID/environ) and its cgroup v2 directory (its
// /proc/PID/cgroup "0::" line under our cgroup2 mount), read while the
// pidfd says it lives, so that they are its own and not a newcomer's on
// its pid. Empty with the reason printed.
struct TakenFromTarget {
  std::optional<std::vector<std::string>> env;
  std::string cgroup;
};

// Where cgroup2 is mounted here (/sys/fs/cgroup, or .../unified on a
// hybrid machine); "" if nowhere.
inline std::string cgroup2_mount() {
  std::string mount_point;
  detail::for_each_line(read_whole("/proc/self/mountinfo").value_or(""), [&](std::string_view line) {
    const auto dash = line.find(" - ");
    if (!mount_point.empty() || dash == std::string_view::npos || !line.substr(dash + 3).starts_with("cgroup2 ")) return;
    const auto fields = detail::words(line.substr(0, dash));  // ID PARENT DEV ROOT MOUNT ...
    if (fields.size() >= 5) mount_point = fields[4];
  });
  return mount_point;
}

inline std::optional<TakenFromTarget> take_from_target(const RunRequest::Target& target, int pidfd) {
  TakenFromTarget taken;
  const std::string proc = "/proc/" + std::to_string(target.pid);
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "nsrun: --target %d: %s\n", static_cast<int>(target.pid), why.c_str());
    return std::optional<TakenFromTarget>();
  };
  if (target.take_env) {
    const auto environ_text = read_whole(proc + "/environ");
    if (!environ_text) return fail("cannot read its environment (" + proc + "/environ: " + nsenter::detail::errno_text(errno) + ")");
    std::vector<std::string> env;
    for (std::size_t at = 0; at < environ_text->size();) {
      const std::size_t end = environ_text->find('\0', at);
      env.push_back(environ_text->substr(at, end == std::string::npos ? std::string::npos : end - at));
      at = end == std::string::npos ? environ_text->size() : end + 1;
    }
    taken.env = std::move(env);
  }
  if (target.join_cgroup) {
    std::string path;
    detail::for_each_line(read_whole(proc + "/cgroup").value_or(""), [&](std::string_view line) {
      if (line.starts_with("0::")) path = line.substr(3);
    });
    const std::string mount = cgroup2_mount();
    if (path.empty() || mount.empty())
      return fail("no cgroup v2 hierarchy to join (" + proc + "/cgroup has no 0:: line, or cgroup2 is not mounted)");
    taken.cgroup = path == "/" ? mount : mount + path;
  }
  if (nsenter::detail::pidfd_send_signal(pidfd, 0) != 0)
    return fail("it exited as nsrun read what --env/--join-cgroup take: its pid may name another process now");
  return taken;
}

// Runs the request; returns nsrun's exit status.
inline int run(const RunRequest& req) {
  // Which of our stdio fds are open, before nsrun opens anything that could
  // take a closed one's number and be handed to the command in its place.
  std::array<int, 3> stdio{};
  for (int fd = 0; fd < 3; ++fd) stdio[static_cast<std::size_t>(fd)] = ::fcntl(fd, F_GETFD) >= 0 ? fd : -1;
  // The same for the fds the command keeps (--preserve-fds): a closed one
  // stays closed, whatever of ours takes its number later.
  std::vector<int> preserved;
  for (int fd = 3; fd < 3 + req.preserve_fds; ++fd) preserved.push_back(::fcntl(fd, F_GETFD) >= 0 ? fd : -1);
  // Auto: only when both ends are a terminal; `nsrun ls > file` must not
  // get a pty's \r\n line endings in the file.
  const bool use_pty = req.tty == TtyMode::Always ||
                       (req.tty == TtyMode::Auto && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO));

  nsenter::UniqueFd sigfd = hold_forwarded_signals();
  if (!sigfd) {
    std::fprintf(stderr, "nsrun: signalfd: %s\n", nsenter::detail::errno_text(errno));
    return kExitFailure;
  }
  // A reader of our output that goes away (nsrun ... | head -1) is EPIPE
  // on the next write, not a SIGPIPE that would kill nsrun with the
  // terminal still raw. The init gets default dispositions from spawn().
  ::signal(SIGPIPE, SIG_IGN);

  std::optional<Pty> pty;
  if (use_pty) {
    auto p = open_pty();
    if (!p) {
      std::fprintf(stderr, "nsrun: %s\n", nsenter::to_string(p.error()).c_str());
      return kExitFailure;
    }
    pty = std::move(*p);
  }

  nsenter::UniqueFd target_pin;
  if (req.target && !(target_pin = pin_target(*req.target))) return kExitFailure;

  std::vector<nsenter::LogRecord> fatal_records;
  nsenter::LaunchOptions opt = launch_options(req, stdio, std::move(preserved), pty, fatal_records);
  if (target_pin) opt.extra_fds = {target_pin.get()};
  if (req.target && (req.target->take_env || req.target->join_cgroup)) {
    auto taken = take_from_target(*req.target, target_pin.get());
    if (!taken) return kExitFailure;
    if (taken->env) opt.env = std::move(*taken->env);
    if (!taken->cgroup.empty()) opt.cgroup = std::move(taken->cgroup);
  }
  nsenter::Launcher launcher(launcher_config());
  auto init = launcher.launch(req.config, opt);
  if (!init) {
    std::fprintf(stderr, "nsrun: %s\n", describe_failure(init.error(), req, ::geteuid()).c_str());
    return kExitFailure;
  }
  if (pty) pty->slave.reset();
  for (const auto& r : fatal_records) print_record(r);
  if (req.log_level >= nsenter::LogLevel::Debug) {
    std::fprintf(stderr, "nsrun: debug: the init (pid %d) runs from %s\n", static_cast<int>(init->pid()),
                 std::string(nsenter::to_string(init->exec_from())).c_str());
    // Cloned into its namespaces by us: its own breakdown cannot see the
    // maps, which we wrote.
    if (init->started_directly() && init->start_breakdown())
      std::fprintf(stderr, "nsrun: debug: started directly, no stage 0 or 1; nsrun wrote its maps in %lld us\n",
                   init->start_breakdown()->maps);
  }
  return CommandRelay(*init, sigfd.get(), pty).run();
}

}  // namespace nsrun
