// SPDX-License-Identifier: Apache-2.0
// What the Launcher's integration tests share: the test binary is an init
// too (its constructor, and NSENTER_INIT_ENTRY for in_process_init), the
// runfiles of the real inits (nsrun, the library's own pipeline; c_embed,
// the C API; fault_init; runc's nsexec), the Launcher or InitPool each
// case uses (TestLauncher: NSENTER_TEST_THROUGH_POOL builds every init
// through a pool), and the helpers the cases share. Included by exactly
// one .cc per test binary (launch_test, start_paths_test,
// cve_2019_5736_test, pool_test), which gives it the main() below.
// Runs as root (cgroups, namespaces); cases drop to nobody to cover the
// rootless path. The process is a child subreaper, so anything a launch
// leaks becomes our child and fails the leak checks.
#pragma once
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "init_driver.hpp"
#include "nsenter/embed.hpp"
#include "nsenter/exec_fds.hpp"
#include "nsenter/init_pool.hpp"
#include "nsenter/launcher.hpp"
#include "support/root.hpp"
#include "support/subid_user.hpp"
#include "support/test_util.hpp"

using namespace nsenter;
using namespace std::chrono_literals;
using nsenter::test::live_children;
using nsenter::test::require_root;

namespace launch_test {

constexpr const char* kNsrun = "tools/nsrun/nsrun";  // runfiles paths
constexpr const char* kCEmbed = "tests/integration/c_embed";
constexpr const char* kFaultInit = "tests/integration/fault_init";
constexpr const char* kRuncInit = "bench/runc_ref_init";  // runc 1.1's own nsexec (Debian's source)
constexpr const char* kAttacker = "tests/integration/exe_attacker";
constexpr const char* kRefuseCalls = "tests/integration/refuse_calls";
constexpr uid_t kNobody = 65534;

// This test program is an init too, exec'd (the constructor) or forked by
// its own Launcher (LauncherConfig::in_process_init): stage 2 hands the
// command what nsrun's init does (stdio only, the protocol's variables
// gone) and execs what follows "--".
// With "report" first, stage 2 says what c_embed's main() says of what it
// holds (fds 3-9, its pid, the init pipe's number, a hello on the init
// pipe) and exits 0: the reporting init of the pool's run, where c_embed
// (the C API continues into main()) cannot be a template.
[[noreturn]] void report_what_stage2_holds(const InitContext& ctx) {
  std::string said;
  for (int fd = 3; fd <= 9; ++fd) {
    char target[4096] = {};
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::readlink(path.c_str(), target, sizeof target - 1) < 0) std::strcpy(target, "none");
    said += fmt::format("fd{}={}\n", fd, target);
  }
  said += fmt::format("pid={}\ninit_pipe={}\n", ::getpid(), ctx.init_pipe);
  constexpr std::string_view hello = "hello from stage 2\n";
  if (detail::write_all_no_sigpipe(1, said.data(), said.size()) != 0) ::_exit(2);
  if (detail::write_all_no_sigpipe(ctx.init_pipe, hello.data(), hello.size()) != 0) ::_exit(3);
  ::_exit(0);
}

// With "hold" first, stage 2 waits, still running this binary, until its
// stdin closes (for the CVE-2019-5736 attack on a pool's init).
void exec_after_dashes(InitContext& ctx, int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "report") report_what_stage2_holds(ctx);
  if (argc > 1 && std::string_view(argv[1]) == "hold")
    for (char c; ::read(0, &c, 1) > 0;) {
    }
  for (const char* name : RuncEnv::all) ::unsetenv(name);
  (void)cloexec_fds_from(3);
  ::fcntl(ctx.init_pipe, F_SETFD, FD_CLOEXEC);
  if (ctx.log_pipe >= 0) ::fcntl(ctx.log_pipe, F_SETFD, FD_CLOEXEC);
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "--") ::execv(argv[i + 1], argv + i + 1);
  ::_exit(127);  // never into main(): that would run the tests again
}
NSENTER_INIT_CONSTRUCTOR(test_init, 200, RuncCompatNsexec, exec_after_dashes)

#ifndef NSENTER_TEST_THROUGH_POOL
NSENTER_INIT_ENTRY(test_init_in_process, RuncCompatNsexec, nothing_before_pipeline, exec_after_dashes)
#endif

// The same tests run twice: with NSENTER_TEST_THROUGH_POOL (the target
// launcher_pool_test) every init is cloned by an InitPool's template
// instead of spawned by a Launcher. Cases about what only a Launcher does
// (how it execs, scripts and other binaries as inits, in_process_init,
// self-protection) or whose init cannot serve as a template (the C API's
// c_embed continues into main()) are in the Launcher run only.

#ifdef NSENTER_TEST_THROUGH_POOL
constexpr bool kThroughPool = true;
#endif

#ifdef NSENTER_TEST_THROUGH_POOL
#else
constexpr bool kThroughPool = false;
#endif

#ifdef NSENTER_TEST_THROUGH_POOL
std::mutex g_pools_mutex;
std::vector<const InitPool*> g_pools;

// An InitPool the leak checks know of: its template is a child of ours
// that a test did not leave behind.
class TestLauncher : public InitPool {
 public:
  explicit TestLauncher(LauncherConfig config = {}) : InitPool(std::move(config)) {
    std::lock_guard lock(g_pools_mutex);
    g_pools.push_back(this);
  }
  ~TestLauncher() {
    std::lock_guard lock(g_pools_mutex);
    std::erase(g_pools, this);
  }
};
constexpr ExecFrom kLaunchedFrom = ExecFrom::PoolTemplate;

std::vector<pid_t> pool_templates() {
  std::lock_guard lock(g_pools_mutex);
  std::vector<pid_t> out;
  for (const InitPool* pool : g_pools)
    if (const pid_t pid = pool->template_pid(); pid > 0) out.push_back(pid);
  return out;
}
#endif

#ifdef NSENTER_TEST_THROUGH_POOL
#else
using TestLauncher = Launcher;
constexpr ExecFrom kLaunchedFrom = ExecFrom::SealedMemfd;
std::vector<pid_t> pool_templates() { return {}; }
#endif

// Our children but the pools' templates: what the launches left running.
std::vector<pid_t> launched_children() {
  auto kids = live_children();
  for (pid_t t : pool_templates()) std::erase(kids, t);
  return kids;
}

// The init that reports what stage 2 holds: c_embed (through the C API)
// in the Launcher's run; this program through the pool.

#ifdef NSENTER_TEST_THROUGH_POOL
constexpr const char* kReportingInit = "";  // this program
const std::vector<std::string> kReportingArgv = {"launcher_pool_test", "report"};
#endif

#ifdef NSENTER_TEST_THROUGH_POOL
#else
constexpr const char* kReportingInit = kCEmbed;
const std::vector<std::string> kReportingArgv = {"c_embed"};
#endif

std::string self_ns(const char* kind) { return nsenter::test::ns_link("/proc/self", kind); }

int count_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A pipe whose write end becomes the init's stdout.
struct Capture {
  int fds[2] = {-1, -1};
  Capture() { REQUIRE(::pipe2(fds, O_CLOEXEC) == 0); }
  ~Capture() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int writer() const { return fds[1]; }
  // Call after the launch: closes our write end, reads to EOF.
  std::string text() {
    ::close(fds[1]);
    fds[1] = -1;
    const std::string s = nsenter::test::read_to_end_and_close(fds[0]);
    fds[0] = -1;
    return s;
  }
};

LaunchOptions nsrun_running(std::vector<std::string> command, int out_fd) {
  LaunchOptions opt;
  opt.argv = {"nsrun", "--"};
  opt.argv.insert(opt.argv.end(), command.begin(), command.end());
  opt.stdio = {-1, out_fd, 2};
  return opt;
}

LaunchOptions running(std::vector<std::string> argv, std::array<int, 3> stdio) {
  LaunchOptions opt;
  opt.argv = std::move(argv);
  opt.stdio = stdio;
  return opt;
}

Bootstrap pid_uts_ipc_mnt() {
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::pid, NsKind::uts, NsKind::ipc, NsKind::mnt};
  return b;
}

// Runs body(report_fd) in a forked child that became `uid`:`gid` (no
// supplementary groups); returns its exit code (10: could not drop) and
// what it wrote on report_fd.
std::pair<int, std::string> as_user(uid_t uid, gid_t gid, const std::function<int(int report_fd)>& body) {
  int report[2];
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(report[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(10);
    ::_exit(body(report[1]));
  }
  ::close(report[1]);
  std::string text = nsenter::test::read_to_end_and_close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text};
}

std::pair<int, std::string> as_nobody(const std::function<int(int report_fd)>& body) {
  return as_user(kNobody, kNobody, body);
}

// nobody mapped to root of a new user namespace, as a rootless runtime asks.
Bootstrap rootless_config() {
  Bootstrap b;
  b.uid_map = {{0, kNobody, 1}};
  b.gid_map = {{0, kNobody, 1}};
  b.rootless_euid = true;
  return b;
}

// The default sandbox of a rootless runtime: its own user, pid, uts, ipc
// and mount namespaces, nobody mapped to root.
Bootstrap rootless_sandbox() {
  Bootstrap b = rootless_config();
  b.clone_flags = NsSet{NsKind::user, NsKind::pid, NsKind::uts, NsKind::ipc, NsKind::mnt};
  return b;
}

// In an as_nobody() body: says why a launch failed, for the test to show;
// the body's exit code for it.
int launch_failed(int report, const Error& e) {
  const std::string said = "error: " + to_string(e);
  [[maybe_unused]] auto n = ::write(report, said.data(), said.size());
  return 11;
}

// Fails the test case if a launch left anything behind.
void check_nothing_left() {
  const auto left = launched_children();
  CHECK_MESSAGE(left.empty(), "children left: " << left.size());
  const auto templates = pool_templates();
  nsenter::test::kill_and_reap_children(templates);
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}


// The Launcher run only: runc's init has no template mode. And not under
// the sanitizers: runc's nsexec, linked with their runtime, hangs in its
// clone(2) stages; the plain build runs this case (tools/test.sh's first pass).

// `threads` threads, each launching `config` `per_thread` times and
// waiting for /bin/true; returns how many succeeded and how many failed.
template <class Starter>
std::pair<int, int> launch_from_threads(Starter& launcher, int threads, int per_thread, const Bootstrap& config) {
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t)
    running.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        auto init = launcher.launch(config, nsrun_running({"/bin/true"}, -1));
        auto status = init ? init->wait() : Result<ExitStatus>(init.error());
        if (status && status->success())
          ++ok;
        else
          ++failed;
      }
    });
  for (auto& t : running) t.join();
  return {ok.load(), failed.load()};
}

// A user namespace of its own where root is nobody outside: the test
// binary's owner (root) is unmapped, so the container cannot write it and
// a launch needs no protected copy (unwritable_exe.hpp).
Bootstrap own_userns_root_unmapped() {
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc};
  b.uid_map = {{0, kNobody, 1}};
  b.gid_map = {{0, kNobody, 1}};
  return b;
}

// What a command inherits from its init, in one text: fds, signal state,
// session (the shell is stage 2, which leads its own), ids, environment.
const char* const kInheritedState =
    "ls /proc/self/fd | tr '\\n' ' '; echo; grep -E '^(SigBlk|SigIgn|NoNewPrivs|Seccomp):' /proc/self/status; "
    "read -r p c st pp pgrp sid rest </proc/self/stat; [ $p = $pgrp ] && [ $p = $sid ] && echo session leader; "
    "echo ids=$(id -u):$(id -g) pid=$$; env | sort";

// What the command of an init `launcher` starts for `opt` (its stdout
// captured) writes, in a user namespace where root is nobody outside;
// `from` says where the init ran from. The command must succeed.
template <class Starter>
std::string what_the_command_says(Starter& launcher, LaunchOptions opt, ExecFrom& from) {
  Capture out;
  opt.stdio[1] = out.writer();
  auto init = launcher.launch(own_userns_root_unmapped(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  from = init->exec_from();
  const std::string text = out.text();
  auto status = init->wait();
  REQUIRE(status);
  CHECK(status->success());
  return text;
}

// That kInheritedState's report is the clean one: stdio only, nothing
// ignored or blocked, its own session as pid 1, root inside, none of the
// protocol's variables.
void check_clean_state(const std::string& state) {
  INFO(state);
  CHECK(state.starts_with("0 1 2 \n"));
  CHECK(state.find("SigBlk:\t0000000000000000\n") != std::string::npos);
  CHECK(state.find("SigIgn:\t0000000000000000\n") != std::string::npos);
  CHECK(state.find("session leader\nids=0:0 pid=1\n") != std::string::npos);
  CHECK(state.find("_LIBCONTAINER") == std::string::npos);
  CHECK(state.find("_NSENTER") == std::string::npos);
}

// What a launching process holds that an exec would drop and no init may
// inherit: an ignored and a blocked signal, and an fd without
// close-on-exec; restored at the end of the scope.
struct LauncherLeftovers {
  struct sigaction saved_usr1 {};
  sigset_t saved_mask{};
  int leaky = -1;
  LauncherLeftovers() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGUSR1, &ignore, &saved_usr1);
    sigset_t usr2;
    ::sigemptyset(&usr2);
    ::sigaddset(&usr2, SIGUSR2);
    ::pthread_sigmask(SIG_BLOCK, &usr2, &saved_mask);
    leaky = ::open("/dev/null", O_RDONLY);
    REQUIRE(leaky >= 0);
  }
  ~LauncherLeftovers() {
    ::close(leaky);
    ::pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
    ::sigaction(SIGUSR1, &saved_usr1, nullptr);
  }
};

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only

// Plays a runtime that clones the init into a user and a pid namespace
// itself (the Launcher's direct start, by hand): writes `map` as both id
// maps, sends the message, and returns what the init said (its log) and
// how it ended. The init says the container cannot write its binary
// (_NSENTER_START=direct:unwritable), whether or not that is so.
struct DirectRun {
  std::string log;
  bool ready = false;  // the second NUL came
  ExitStatus status;
};
DirectRun direct_start_claiming_unwritable(const IdMapEntry& map) {
  int sp[2], lp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  REQUIRE(::pipe2(lp, O_CLOEXEC) == 0);
  UniqueFd ours(sp[0]), theirs(sp[1]), log_read(lp[0]), log_write(lp[1]);
  std::string env[] = {"_LIBCONTAINER_INITPIPE=3", "_LIBCONTAINER_LOGPIPE=4", "_LIBCONTAINER_LOGLEVEL=5",
                       "_NSENTER_START=direct:unwritable"};
  char* envp[] = {env[0].data(), env[1].data(), env[2].data(), env[3].data(), nullptr};
  std::string args[] = {"launcher_test", "--", "/bin/true"};
  char* argv[] = {args[0].data(), args[1].data(), args[2].data(), nullptr};
  const int fds[] = {-1, -1, 2, theirs.get(), log_write.get()};
  SpawnRequest req;
  req.path = "this test";
  req.argv = argv;
  req.envp = envp;
  req.fds = fds;
  req.entry = test_init_in_process;
  req.clone_flags = CLONE_NEWUSER | CLONE_NEWPID;
  req.new_process_group = false;
  auto child = nsenter::spawn(req);
  REQUIRE_MESSAGE(child, (child ? "" : to_string(child.error())));
  theirs.reset();
  log_write.reset();
  const std::string line = fmt::format("{} {} {}\n", map.inside, map.outside, map.count);
  for (const char* file : {"uid_map", "gid_map"})
    CHECK(kLinuxSys.write_file(fmt::format("/proc/{}/{}", child->pid, file).c_str(), line) == 0);
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::user, NsKind::pid};
  b.uid_map = {map};
  b.gid_map = {map};
  auto msg = wire::encode(b);
  REQUIRE(msg);
  CHECK(::write(ours.get(), msg->data(), msg->size()) == static_cast<ssize_t>(msg->size()));
  DirectRun out;
  const std::string said = nsenter::test::read_all(ours.get());  // to EOF: the init exec'd or died
  out.ready = said == std::string(2, '\0');
  auto status = detail::reap_pidfd(child->pidfd.get());
  REQUIRE(status);
  out.status = *status;
  out.log = nsenter::test::read_all(log_read.get());
  return out;
}


#endif

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only

// What `body` returns, run while this process has a second thread.
template <class Body>
auto with_second_thread(Body body) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread second([&] {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
  });
  auto result = body();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_one();
  second.join();
  return result;
}

// How `launcher` started an init for `config` that ran to success.
// How a launch started its init (InitProcess::start()), as "PLAN IMAGE":
// the plan as _NSENTER_START spells it, without the view's fd number
// ("one-clone:view"), and where the init's code came from.
std::string started_from(Launcher& launcher, const Bootstrap& config, const LaunchOptions& opt) {
  auto init = launcher.launch(config, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  const StartChoice how = init->start();
  auto status = init->wait();
  REQUIRE(status);
  CHECK(status->success());
  // The old accessors read the same value.
  CHECK(init->exec_from() == how.image);
  CHECK(init->started_directly() == (how.plan.topology == Topology::Direct));
  CHECK((how.plan.guard == BinaryGuard::MoveOntoView) == (how.plan.view_fd > 2));
  std::string text(to_string(how.plan.topology));
  if (how.plan.guard != BinaryGuard::SelfProtect) text += ":" + std::string(to_string(how.plan.guard));
  switch (how.image) {
    case ExecFrom::Path: return text + " path";
    case ExecFrom::SealedMemfd: return text + " memfd";
    case ExecFrom::ReadOnlyMount: return text + " mount";
    case ExecFrom::Forked: return text + " fork";
    case ExecFrom::ForkedOntoReadOnlyMount: return text + " fork-onto-mount";
    case ExecFrom::PoolTemplate: return text + " pool";
  }
  return text + " ?";
}

#endif

// A runtime (a forked child of the test) launches an init and dies; the
// test, a child subreaper, inherits the container's first process.
std::pair<pid_t, int> orphaned_init(int parent_death_signal) {
  int report[2];
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  const pid_t runtime = ::fork();
  if (runtime == 0) {
    ::close(report[0]);
    TestLauncher launcher({.init_binary = kNsrun});
    LaunchOptions opt = nsrun_running({"sleep", "1000"}, -1);
    opt.parent_death_signal = parent_death_signal;
    Bootstrap b;
    b.clone_flags = NsSet{NsKind::uts};
    auto init = launcher.launch(b, opt);
    const pid_t pid = init ? init->pid() : -1;
    [[maybe_unused]] auto n = ::write(report[1], &pid, sizeof pid);
    ::_exit(0);  // no destructors: the InitProcess would kill it
  }
  ::close(report[1]);
  pid_t init = -1;
  REQUIRE(::read(report[0], &init, sizeof init) == sizeof init);
  ::close(report[0]);
  REQUIRE(::waitpid(runtime, nullptr, 0) == runtime);
  REQUIRE(init > 0);
  // A hang guard, not a time limit on what is tested: below Bazel's
  // timeout, so that a failing run still kills what it waited for (stage 2
  // leads its own session, out of reach of Bazel's kill).
  int status = -1;
  for (int i = 0; i < 20 * 100; ++i) {
    if (::waitpid(init, &status, WNOHANG) == init) return {init, status};
    if (i == 100 && parent_death_signal == 0) break;  // alive a second after: not killed
    ::usleep(10000);
  }
  ::kill(init, SIGKILL);
  ::waitpid(init, nullptr, 0);
  return {init, -1};
}

std::string mount_table() {
  std::ifstream in("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}


// Where fault_init kills or fails a start, and the stage that dies or fails.
struct FaultPoint {
  const char* call;  // where (see fault_init.cc)
  Stage stage;       // who dies or fails there
};

// Each point killed and failed in turn: a typed error, never a hang, and
// nothing left behind.
// `direct`: the inits start directly (start_plan.hpp: the pool's, for a
// container the one-clone plan fits), stage 2 the only stage.
void check_fault_table(TestLauncher& launcher, const Bootstrap& b, std::span<const FaultPoint> points, bool direct) {
  {  // the sealed memfd, the one fd the launcher keeps, made before the baseline
    auto warm = launcher.launch(b, running({"fault_init", "--", "/bin/true"}, {-1, -1, 2}));
    REQUIRE_MESSAGE(warm, (warm ? "" : to_string(warm.error())));
    REQUIRE(warm->wait()->success());
  }
  const int fds_before = count_fds();

  for (const FaultPoint& p : points)
    for (const char* action : {"kill", "fail"}) {
      // set_name failures are ignored by design (a name is cosmetic).
      const bool cosmetic = std::string_view(p.call).starts_with("set_name");
      if (cosmetic && std::string_view(action) == "fail") continue;
      const std::string where = std::string(action) + ":" + p.call;
      CAPTURE(where);
      LaunchOptions opt;
      opt.argv = {"fault_init", "--", "/bin/true"};
      opt.stdio = {-1, -1, 2};
      opt.env = std::vector<std::string>{"NSENTER_TEST_FAULT=" + where};
      opt.timeout = 20s;  // the deadline a hang would run into; no case may reach it
      auto init = launcher.launch(b, opt);
      REQUIRE_FALSE(init);
      const Error& e = init.error();
      INFO(to_string(e));
      CHECK(e.code != Code::TimedOut);
      CHECK((e.code == Code::InitFatal || e.code == Code::InitDied));
      if (std::string_view(action) == "fail") {
        // The failing stage says so itself, naming the call.
        CHECK(e.code == Code::InitFatal);
        CHECK(e.stage == p.stage);
        CHECK(e.sys_errno == EPERM);
      } else if (p.stage == Stage::Setup || p.stage == Stage::Parent) {
        CHECK(e.code == Code::InitDied);  // stage 0 itself is gone: the launcher says how it ended
        CHECK(e.detail_view().find("stage 0 killed by signal 9") != std::string_view::npos);
      } else if (direct) {
        CHECK(e.code == Code::InitDied);  // no stage 0 to see it: the launcher does
        // pid 1 of its namespace: fault_init's trap (SIGILL) where others take SIGKILL
        CHECK(e.detail_view().find("stage 2 killed by signal") != std::string_view::npos);
      } else {
        CHECK(e.code == Code::InitFatal);  // stage 0 saw its peer die
        CHECK(e.stage == Stage::Parent);
        CHECK(e.detail_view().find("peer closed the connection") != std::string_view::npos);
      }
      check_nothing_left();
      CHECK(count_fds() == fds_before);
    }
}


// ---- CVE-2019-5736, attempted on every path that starts an init -----------

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs exe_attacker against `pid` (as root: the strongest attacker, past
// every permission check), lets the init go once the attacker holds its
// handle (closing `release`), waits for it and all else that ran the binary
// with `reap`, then lets the attacker reopen its handle, and returns the
// attacker's verdict line.
// The attacker's one line ("target=... direct=... reopen=..."), out of
// whatever else was said; all of it when there is no such line.
std::string verdict_in(const std::string& said) {
  const auto line = said.find("target=");
  return line == std::string::npos ? said : said.substr(line, said.find('\n', line) - line);
}

std::string attack(pid_t pid, const std::string& copy, nsenter::UniqueFd release, const std::function<void()>& reap) {
  int out[2], go[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
  const pid_t attacker = ::fork();
  REQUIRE(attacker >= 0);
  if (attacker == 0) {
    ::dup2(out[1], 1);
    ::dup2(go[0], 0);
    const std::string pid_text = std::to_string(pid);
    ::execl(kAttacker, "exe_attacker", pid_text.c_str(), copy.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(go[0]);
  std::string said;
  char c;
  while (said.find("ready\n") == std::string::npos && ::read(out[0], &c, 1) == 1) said += c;
  release.reset();  // the init's stdin closes: it exits
  reap();
  ::close(go[1]);  // everything that ran the binary is gone: the attacker reopens now
  said += nsenter::test::read_to_end_and_close(out[0]);
  int status = 0;
  ::waitpid(attacker, &status, 0);
  CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), said);
  return verdict_in(said);
}

// A pipe: the read end becomes the init's stdin, the write end releases it.
std::pair<UniqueFd, UniqueFd> hold_pipe() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The file an attack case may write: a copy of `source` this test made
// (what the attacker's handle leads to is checked against it, so a handle
// to a system file is never written), its bytes before, and the checks
// after.
class AttackTarget {
 public:
  explicit AttackTarget(const std::string& source) : copy_(source), before_(file_bytes(copy_.path())) {}
  const std::string& path() const { return copy_.path(); }
  bool unchanged() const { return file_bytes(copy_.path()) == before_; }
  // The attack on `pid` failed where it reached `target` (copy, memfd):
  // nothing written, nothing skipped, the file unchanged.
  void check_failed(const std::string& verdict, const std::string& target) const {
    INFO(verdict);
    CHECK(verdict.find("target=" + target + " ") == 0);
    CHECK(verdict.find("written") == std::string::npos);
    CHECK(verdict.find("skipped") == std::string::npos);
    CHECK(unchanged());
  }
  // The nsrun tool's attack from inside its container (`said`: the tool's
  // debug records and the attacker's line) met `verdict`: the tool exited
  // with `code` 0, its init a fork of it that copied nothing because `why`,
  // and the file is unchanged.
  void check_tool_attack(int code, const std::string& said, std::string_view why, const std::string& verdict) const {
    INFO(said);
    CHECK(code == 0);
    CHECK(said.find(why) != std::string::npos);
    CHECK(said.find("runs from a fork of the launcher (no exec)") != std::string::npos);
    CHECK(said.find("memfd copy") == std::string::npos);
    CHECK(verdict_in(said) == verdict);
    CHECK(unchanged());
  }

 private:
  nsenter::test::WorldExecutable copy_;
  std::string before_;
};

// What attack_held_init saw: the attacker's verdict, and how the init was
// started.
struct HeldAttack {
  std::string verdict;
  StartChoice start;
};

// `starter` (a Launcher or an InitPool) launches `opt` (its argv a command
// that holds until its stdin closes) into `config`; the attacker goes for
// the init while it holds, the init is released and must succeed, then
// `after_wait` runs (what else must go before the attacker reopens its
// handle) and the attacker reopens.
template <class Starter>
HeldAttack attack_held_init(Starter& starter, const AttackTarget& target, LaunchOptions opt,
                            const Bootstrap& config = pid_uts_ipc_mnt(), const std::function<void()>& after_wait = [] {}) {
  auto [in, release] = hold_pipe();
  opt.stdio[0] = in.get();
  auto init = starter.launch(config, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  in.reset();
  HeldAttack seen{.verdict = "", .start = init->start()};
  seen.verdict = attack(init->pid(), target.path(), std::move(release), [&] {
    CHECK(init->wait()->success());
    after_wait();
  });
  return seen;
}

// A command run by a forked child of this test, stdin, stdout and stderr
// placed: its pid (the caller waits for it with exit_code_of).
pid_t start_command(const std::string& path, const std::vector<std::string>& args, int in, int out, int err) {
  std::vector<char*> argv;
  std::vector<std::string> own(args);
  for (auto& a : own) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if ((in >= 0 && ::dup2(in, 0) < 0) || (out >= 0 && ::dup2(out, 1) < 0) || (err >= 0 && ::dup2(err, 2) < 0))
      ::_exit(126);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Its exit code, 128 + the signal that ended it, or -1 when it cannot be
// waited for.
int exit_code_of(pid_t pid) {
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The nsrun tool at `nsrun` run with `args` (after "nsrun --no-tty
// --log-level=debug"), its stdin /dev/null (an attacker inside reopens its
// handle at once), its stdout and stderr `out`: its exit code.
int run_tool(const std::string& nsrun, const std::vector<std::string>& args, int out) {
  std::vector<std::string> argv = {"nsrun", "--no-tty", "--log-level=debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) return -1;
  const pid_t tool = start_command(nsrun, argv, null, out, out);
  ::close(null);
  return exit_code_of(tool);
}

// The shell command by which the container's attacker (`attacker`, a copy
// of exe_attacker) goes for `victim`'s /proc/PID/exe at once, `target`
// being the copy it may write.
std::string attack_at_once(const std::string& attacker, const std::string& victim, const std::string& target) {
  return fmt::format("{} {} {} --now", attacker, victim, target);
}

// The shell command by which a process of the container runs `target`
// from disk (what a #!/proc/self/exe command would start) and the
// attacker goes for it, once it runs the binary rather than the forked
// shell. The victim reads a pipe nobody writes; the sleep behind it is
// left to die with the container's pid namespace.
std::string attack_a_process_running(const std::string& attacker, const std::string& target) {
  return fmt::format(
      "sleep 100 2>/dev/null | {0} encode >/dev/null 2>&1 & victim=$!; "
      "n=0; while [ \"$(readlink /proc/$victim/exe)\" != {0} ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done; "
      "{1}; kill $victim",
      target, attack_at_once(attacker, "$victim", target));
}

#ifdef NSENTER_TEST_THROUGH_POOL

// The parent of `pid`, from /proc/PID/stat.
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  char state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

#endif

}  // namespace launch_test

using namespace launch_test;

// main() of each test binary: a child subreaper, so that whatever a launch
// leaks is ours to see.
inline int run_launch_tests(int argc, char** argv) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
