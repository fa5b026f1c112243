// SPDX-License-Identifier: Apache-2.0
// nsenter: InitPool, starting inits without exec'ing the init binary each
// time.
//
//   nsenter::InitPool pool;                         // this program is the init
//   auto init = pool.launch(config, {.argv = {"myinit", "--", "/bin/true"}});
//
// The pool execs the binary once, from the Launcher's sealed memfd (or
// its read-only view), as a template process (pool_template.hpp); each
// launch sends the template the init's argv, environment and fds, and the
// template clones the init with CLONE_PARENT. The init is then this
// process's child, exactly as one the Launcher spawns: the same protocol,
// the same pidfds and process group, the same checks of the pid line and
// cleanup on failure. Everything else (the message, the pipes, the log,
// the deadline) is Launcher::launch's own code.
//
// The binary must wire its pipeline with NSENTER_INIT_CONSTRUCTOR (or
// _AFTER), whose constructor serves as the template, and its on_init must
// not return (embed.hpp). runc itself cannot be a template.
//
// Thread-safe: any number of threads may launch at once; the exchange with
// the template (a few microseconds) is serialised, the protocol is not. Not
// fork-safe: a forked child gets ECHILD from launch() and leaves the
// template to its owner (a child makes a pool of its own).
// The host never forks. A template found dead, or silent past a launch's
// deadline, is reaped (killed first if silent), the launch fails with
// Code::TemplateGone or Code::TimedOut, and the next launch starts a new
// template. The destructor closes the template's socket, gives it a second
// to exit, then kills it, and reaps it: no process is left behind.
//
// What the template holds at a clone is what every init gets: its fds
// (the control socket and its stderr, neither of which reaches an init),
// default signal dispositions and an empty mask, and this process's
// credentials, rlimits, umask, working directory and namespaces as they
// were when the template started (an exec'd init takes them at its
// launch): change those before the first launch, or make a new pool.
#pragma once

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "nsenter/init_process.hpp"
#include "nsenter/launcher.hpp"
#include "nsenter/pool_template.hpp"
#include "nsenter/spawn.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

class InitPool {
 public:
  explicit InitPool(LauncherConfig config = {}) : launcher_(std::move(config)) {}
  ~InitPool() { stop_template(); }
  InitPool(const InitPool&) = delete;
  InitPool& operator=(const InitPool&) = delete;

  // Launcher::launch, with the init cloned by the template. Starts the
  // template on the first call (and after one was lost).
  Result<InitProcess> launch(const Bootstrap& config, const LaunchOptions& opt = {}) {
    const Launcher::StartFn starter = [this](const SpawnRequest& req, std::chrono::steady_clock::time_point deadline) {
      return ask_template(req, deadline);
    };
    // The template runs from the Launcher's sealed memfd unless told to
    // prefer a read-only mount (or to exec by path).
    const LauncherConfig& c = launcher_.config_;
    return launcher_.launch_with(config, opt, &starter,
                                 c.exec_from_sealed_memfd && !c.prefer_read_only_mount ? Starter::PoolSealed : Starter::PoolView);
  }

  // The template's pid, or -1 while none runs (for tests and monitoring).
  pid_t template_pid() const {
    std::lock_guard lock(mutex_);
    return template_pid_;
  }
  // How many templates were started, and how many inits launched.
  unsigned template_starts() const noexcept { return template_starts_.load(); }
  unsigned launches() const noexcept { return launcher_.launches(); }
  unsigned sealed_copies() const noexcept { return launcher_.sealed_copies(); }

 private:
  using Clock = std::chrono::steady_clock;

  // Under mutex_: reaps the template and says how it was lost. A binary
  // whose constructor does not serve (runc, the C API, a program without
  // NSENTER_INIT_CONSTRUCTOR) ends before its first answer, every time:
  // that is said as such, not as a template to restart.
  Error template_lost(std::string_view how) {
    const bool never_served = !template_answered_;
    lose_template();
    const std::string detail =
        never_served ? "it exited before its first answer: is the init binary's pipeline wired with "
                       "NSENTER_INIT_CONSTRUCTOR (embed.hpp)?"
                     : fmt::format("{}; the next launch starts a new template", how);
    return in_stage(make_error(Op::SpawnInit, Code::TemplateGone, kNoOffset, detail), Stage::Launcher);
  }

  // Under mutex_: the template, exec'd from the Launcher's protected view
  // of the binary with its control socket on fd 3 and our stderr.
  Result<void> start_template() {
    if (auto r = launcher_.may_exec_init_binary(); !r) return r.error();
    int exec_fd = -1;
    if (launcher_.config_.exec_from_sealed_memfd) {
      auto view = launcher_.protected_binary();
      if (!view) return view.error();
      exec_fd = view->first;
    }
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
      return in_stage(make_sys_error(Op::Socketpair, errno, "pool control socket"), Stage::Launcher);
    UniqueFd ours(sp[0]), theirs(sp[1]);
    if (auto r = detail::lift_above_stdio(ours); !r) return r.error();
    const std::string path = launcher_.config_.init_binary.empty() ? "/proc/self/exe" : launcher_.config_.init_binary;
    std::string name = "nsenter-pool";
    std::string env = fmt::format("{}=3", detail::pool::kTemplateEnv);
    char* argv[] = {name.data(), nullptr};
    char* envp[] = {env.data(), nullptr};
    const int fds[] = {-1, -1, detail::open_or_closed(STDERR_FILENO), theirs.get()};
    SpawnRequest req;
    req.path = path.c_str();
    req.exec_fd = exec_fd;
    req.argv = argv;
    req.envp = envp;
    req.fds = fds;
    auto spawned = spawn(req);
    if (!spawned) return spawned.error();
    // With our stdin closed, the pidfd would be fd 0 and pass for the
    // next init's stdin.
    if (auto r = detail::lift_above_stdio(spawned->pidfd); !r) {
      ::kill(spawned->pid, SIGKILL);
      while (::waitpid(spawned->pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return r.error();
    }
    control_ = std::move(ours);
    template_pidfd_ = std::move(spawned->pidfd);
    template_pid_ = spawned->pid;
    owner_ = ::getpid();
    template_answered_ = false;
    template_starts_.fetch_add(1);
    return {};
  }

  // Under mutex_: kills the template (a signal to one that has exited
  // does nothing) and reaps it; no template runs afterwards. In a fork of
  // the owner, only this process's copies of its fds are dropped: the
  // template is the owner's, and so is the word to end it.
  void lose_template() {
    if (!template_pidfd_) return;
    control_.reset();
    if (::getpid() != owner_) {
      template_pidfd_.reset();
      template_pid_ = -1;
      return;
    }
    detail::pidfd_send_signal(template_pidfd_.get(), SIGKILL);
    detail::reap_pidfd(template_pidfd_.get());
    template_pidfd_.reset();
    template_pid_ = -1;
  }

  void stop_template() {
    std::lock_guard lock(mutex_);
    if (!template_pidfd_) return;
    if (::getpid() != owner_) return lose_template();  // not ours to wait for
    control_.reset();  // EOF: the template exits
    pollfd p{template_pidfd_.get(), POLLIN, 0};
    while (::poll(&p, 1, 1000) < 0 && errno == EINTR) {
    }
    lose_template();
  }

  // Whether the template has exited (its pidfd is readable).
  bool template_exited() const noexcept {
    pollfd p{template_pidfd_.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  Result<Spawned> ask_template(const SpawnRequest& req, Clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    // A forked copy of the owner shares the control socket (requests of
    // two processes would interleave on it) and is not the parent of what
    // the template clones.
    if (template_pidfd_ && ::getpid() != owner_)
      return in_stage(make_sys_error(Op::SpawnInit, ECHILD,
                                     "this InitPool's template belongs to the process that started it: "
                                     "make a pool of its own after fork()"),
                      Stage::Launcher);
    if (!template_pidfd_) {
      if (auto r = start_template(); !r) return r.error();
    } else if (template_exited()) {
      return template_lost("it exited since the last launch");
    }
    if (auto r = send_request(req, deadline); !r) return r.error();
    return receive_reply(deadline);
  }

  // The header with the fds, then the strings, by the launch's deadline
  // (a template that stopped reading must not hold the caller).
  Result<void> send_request(const SpawnRequest& req, Clock::time_point deadline) {
    if (req.fds.size() > kMaxSpawnFds)  // as spawn() says it: the header has room for no more
      return in_stage(make_error(Op::SpawnInit, Code::TooManyFds, kNoOffset,
                                 detail::detail_text("{} fds, at most {}", req.fds.size(), kMaxSpawnFds)),
                      Stage::Launcher);
    detail::pool::RequestHeader h;
    std::string strings;
    for (char* const* a = req.argv; *a != nullptr; ++a, ++h.argc) strings.append(*a).push_back('\0');
    for (char* const* e = req.envp; *e != nullptr; ++e, ++h.envc) strings.append(*e).push_back('\0');
    if (strings.size() > detail::pool::kMaxStringBytes)
      return in_stage(make_sys_error(Op::SpawnInit, E2BIG, fmt::format("{} bytes of argv and environment", strings.size())),
                      Stage::Launcher);
    h.string_bytes = static_cast<std::uint32_t>(strings.size());
    h.nfds = static_cast<std::uint32_t>(req.fds.size());
    h.report_index = req.report_index;
    h.clone_flags = req.clone_flags;
    h.new_process_group = req.new_process_group ? 1 : 0;
    std::vector<int> sent;
    for (std::size_t i = 0; i < req.fds.size(); ++i) {
      h.fd_slot[i] = req.fds[i] < 0 ? -1 : static_cast<std::int32_t>(sent.size());
      if (req.fds[i] >= 0) sent.push_back(req.fds[i]);
    }
    if (req.cgroup_fd >= 0) {
      h.cgroup_slot = static_cast<std::int32_t>(sent.size());
      sent.push_back(req.cgroup_fd);
    }
    if (auto r = send_by(deadline, &h, sizeof h, sent); !r) return r;
    return send_by(deadline, strings.data(), strings.size(), {});
  }

  // All of `data` (with `fds` on its first byte), waiting for room no
  // later than `deadline`.
  Result<void> send_by(Clock::time_point deadline, const void* data, std::size_t size, const std::vector<int>& fds) {
    const auto* p = static_cast<const char*>(data);
    bool fds_sent = fds.empty();
    while (size > 0) {
      detail::FdsMessage<detail::pool::kMaxRequestFds> m(const_cast<char*>(p), size);
      m.attach(fds.data(), fds_sent ? 0 : fds.size());
      const ssize_t n = ::sendmsg(control_.get(), &m.msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        fds_sent = true;
        p += n;
        size -= static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) {
        const int err = errno;
        if (err == EPIPE || err == ECONNRESET) return template_lost("it exited");
        lose_template();
        return in_stage(make_sys_error(Op::SpawnInit, err, "send to the pool's template"), Stage::Launcher);
      }
      if (auto r = wait_for(POLLOUT, deadline); !r) return r;
    }
    return {};
  }

  // Until the control socket is ready for `events`; a template that exits
  // or outlasts the deadline meanwhile is lost.
  Result<void> wait_for(short events, Clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        lose_template();
        return in_stage(make_error(Op::SpawnInit, Code::TimedOut, kNoOffset, "the pool's template did not answer"),
                        Stage::Launcher);
      }
      pollfd p[2] = {{control_.get(), events, 0}, {template_pidfd_.get(), POLLIN, 0}};
      const int ready = ::poll(p, 2, static_cast<int>(std::min<long long>(left, 1000)));
      if (ready < 0 && errno != EINTR) return in_stage(make_sys_error(Op::SpawnInit, errno, "poll"), Stage::Launcher);
      if (ready > 0 && (p[0].revents & events)) return {};
      if (ready > 0 && (p[0].revents != 0 || p[1].revents != 0)) return template_lost("it exited during the launch");
    }
  }

  // The reply and the init's pidfd, by the launch's deadline.
  Result<Spawned> receive_reply(Clock::time_point deadline) {
    if (auto r = wait_for(POLLIN, deadline); !r) return r.error();
    detail::pool::Reply reply;
    detail::FdsMessage<1> m(&reply, sizeof reply);
    ssize_t n;
    do n = ::recvmsg(control_.get(), &m.msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
    while (n < 0 && errno == EINTR);
    std::vector<UniqueFd> fds;
    const bool fds_ok = m.take(fds);
    if (n != static_cast<ssize_t>(sizeof reply) || !fds_ok) return template_lost("its reply was cut short");
    template_answered_ = true;
    if (reply.err != 0) return in_stage(make_sys_error(Op::Clone, reply.err, "the pool's template"), Stage::Launcher);
    Spawned out;
    out.pid = reply.pid;
    out.in_cgroup = reply.in_cgroup != 0;
    if (fds.size() == 1 && reply.pid > 0) {
      out.pidfd = std::move(fds[0]);
      if (auto r = detail::lift_above_stdio(out.pidfd); r) return out;
      out.pidfd.reset();  // killed and reaped below, by its pid
    }
    // A child without a pidfd we can keep: it is ours and unreaped, so its
    // pid is safe to kill and reap.
    if (reply.pid > 0 && detail::is_unreaped_child(reply.pid)) {
      ::kill(reply.pid, SIGKILL);
      while (::waitpid(reply.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    return template_lost("its reply carried no pidfd");
  }

  Launcher launcher_;
  mutable std::mutex mutex_;
  UniqueFd control_;         // guarded by mutex_, with the two below
  UniqueFd template_pidfd_;
  pid_t template_pid_ = -1;
  pid_t owner_ = -1;                // the process that started it
  bool template_answered_ = false;  // since it started
  std::atomic<unsigned> template_starts_{0};
};

NSENTER_END_NAMESPACE
