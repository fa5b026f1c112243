// SPDX-License-Identifier: Apache-2.0
// The Launcher against real inits: nsrun (the library's own pipeline),
// c_embed (the C API) and shell scripts that break the protocol on purpose.
// Runs as root (cgroups, namespaces); one case drops to nobody to cover the
// rootless path. The process is a child subreaper, so anything a launch
// leaks becomes our child and fails the leak checks.
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

namespace {

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

}  // namespace

TEST_CASE("launch: stage 2 comes back in new namespaces, stages 0 and 1 reaped") {
  require_root();
  // runc's three stages, and the one-clone plan (no stage 1), which the
  // Launcher takes by default for a container that joins nothing.
  bool one_clone = true;
  SUBCASE("one clone") {}
  SUBCASE("three stages") { one_clone = false; }
  CAPTURE(one_clone);
  TestLauncher launcher({.init_binary = kNsrun});
  Capture out;
  LaunchOptions opt =
      nsrun_running({"/bin/sh", "-c", "echo pid=$$ sid=$(cut -d' ' -f6 /proc/self/stat); readlink /proc/self/ns/uts"},
                    out.writer());
  opt.one_clone = one_clone;
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(init->pid() > 0);
  if (one_clone)
    CHECK(init->stage1_pid() == -1);
  else
    CHECK(init->stage1_pid() > 0);
  CHECK(init->exec_from() == kLaunchedFrom);
  // Only stage 2 is still ours: stages 0 and 1 are already reaped.
  const auto kids = launched_children();
  CHECK((kids.empty() || kids == std::vector<pid_t>{init->pid()}));
  const std::string text = out.text();
  auto status = init->wait();
  REQUIRE(status);
  CHECK(status->success());
  CHECK(text.find("pid=1 sid=" + std::to_string(init->pid()) + "\n") != std::string::npos);  // stage 2 leads its own session
  CHECK(text.find(self_ns("uts")) == std::string::npos);
  CHECK(text.find("uts:[") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("launch: the init pipe stays open for the embedder's protocol") {
  require_root();
  TestLauncher launcher({.init_binary = kReportingInit});
  Capture out;
  LaunchOptions opt;
  opt.argv = kReportingArgv;
  opt.stdio = {-1, out.writer(), 2};
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::pid};
  auto init = launcher.launch(b, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  // Blocking again, and nothing of it was consumed by the launcher.
  CHECK((::fcntl(init->init_pipe(), F_GETFL) & O_NONBLOCK) == 0);
  CHECK((::fcntl(init->init_pipe(), F_GETFD) & FD_CLOEXEC) != 0);
  const std::string said = nsenter::test::read_all(init->init_pipe());
  CHECK(said == "hello from stage 2\n");
  const std::string text = out.text();
  CHECK(init->wait()->success());
  CHECK(text.find("pid=1\n") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("launch: log records arrive parsed, with stage and pid") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  std::vector<LogRecord> records;
  Capture out;
  LaunchOptions opt = nsrun_running({"/bin/true"}, out.writer());
  opt.log_level = LogLevel::Debug;
  opt.on_log = [&](const LogRecord& r) { records.push_back(r); };
  bool one_clone = true;
  SUBCASE("one clone: no stage 1 to log") {}
  SUBCASE("three stages") { one_clone = false; }
  CAPTURE(one_clone);
  opt.one_clone = one_clone;
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  // The pool's template clones the init into its namespaces itself.
  const bool started_directly = init->started_directly();
  CHECK(started_directly == (one_clone && kThroughPool));
  out.text();
  CHECK(init->wait()->success());
  REQUIRE(!records.empty());
  bool saw[3] = {false, false, false};
  for (const auto& r : records) {
    CHECK_MESSAGE(r.parsed, r.text);
    CHECK(r.level == LogLevel::Debug);
    CHECK(r.pid > 0);
    REQUIRE(r.stage.has_value());
    if (*r.stage == Stage::Parent) saw[0] = true;
    if (*r.stage == Stage::Child) saw[1] = true;
    if (*r.stage == Stage::Init) saw[2] = true;
  }
  // A direct start (the pool's, one clone asked) has no stage 0 either.
  CHECK(saw[0] == !started_directly);
  CHECK(saw[1] == !one_clone);
  CHECK(saw[2]);
  check_nothing_left();
}

TEST_CASE("launch: at log level debug the start comes back broken down; below it, nothing is timed") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  Bootstrap b = pid_uts_ipc_mnt();
  b.clone_flags->insert(NsKind::user);
  b.uid_map = {{0, 100000, 65536}};
  b.gid_map = {{0, 100000, 65536}};
  std::vector<LogRecord> records;
  LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
  opt.log_level = LogLevel::Debug;
  opt.on_log = [&](const LogRecord& r) { records.push_back(r); };
  auto init = launcher.launch(b, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(init->wait()->success());
  REQUIRE(init->start_breakdown().has_value());
  const StartBreakdown& t = *init->start_breakdown();
  CHECK(t.boot > 0);  // the launcher said when it spawned the init
  for (long long v : {t.protection, t.read, t.plan, t.joins, t.unshares, t.maps, t.stage2}) CHECK(v >= 0);
  CHECK(t.maps > 0);  // a user namespace: stage 0 wrote maps
  CHECK(t.total >= t.boot + t.joins);
  // One record of the Launcher's own, first: the plan it chose; the init's
  // records carry their time, and one of them names the plan it was sent.
  REQUIRE(!records.empty());
  CHECK(records.front().stage == Stage::Launcher);
  CHECK(records.front().text == describe_start(init->start()).view());
  CHECK(init->start().plan.topology == (kThroughPool ? Topology::Direct : Topology::OneClone));
  const std::string plan_record = "start: " + std::string(format_start(init->start().plan).view());
  int launcher_records = 0, init_plan_records = 0;
  for (const auto& r : records) {
    if (r.stage == Stage::Launcher) {
      ++launcher_records;
      continue;
    }
    if (r.level == LogLevel::Debug) CHECK_MESSAGE(r.text.starts_with("+"), r.text);
    if (r.text.find(plan_record) != std::string::npos) ++init_plan_records;
  }
  CHECK(launcher_records == 1);
  CHECK(init_plan_records == 1);

  LaunchOptions quiet = nsrun_running({"/bin/true"}, -1);
  records.clear();
  quiet.on_log = [&](const LogRecord& r) { records.push_back(r); };
  auto plain = launcher.launch(b, quiet);
  REQUIRE(plain);
  CHECK(plain->wait()->success());
  CHECK_FALSE(plain->start_breakdown().has_value());
  CHECK(records.empty());  // info: the init said nothing
  check_nothing_left();
}

// The Launcher run only: runc's init has no template mode. And not under
// the sanitizers: runc's nsexec, linked with their runtime, hangs in its
// clone(2) stages; the plain build runs this case (tools/test.sh's first pass).
#if !defined(NSENTER_TEST_THROUGH_POOL) && !defined(__SANITIZE_ADDRESS__)
TEST_CASE("launch: runc's own nsexec, asked for one clone, runs its three stages and the Launcher takes them") {
  require_root();
  // runc 1.1 knows nothing of _NSENTER_START: its pid line names a
  // stage 1, which the Launcher reaps as it reaps ours.
  Launcher launcher({.init_binary = kRuncInit});
  Capture out;
  LaunchOptions opt;
  opt.argv = {"runc_ref_init", "--", "/bin/sh", "-c", "echo pid=$$ uid=$(id -u) map=$(tr -s ' ' </proc/self/uid_map)"};
  opt.stdio = {-1, out.writer(), 2};
  REQUIRE(opt.one_clone);
  Bootstrap b = pid_uts_ipc_mnt();
  b.clone_flags->insert(NsKind::user);
  b.uid_map = {{0, 100000, 65536}};
  b.gid_map = {{0, 100000, 65536}};
  auto init = launcher.launch(b, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(init->stage1_pid() > 0);
  CHECK(init->stage1_pid() != init->pid());
  const std::string text = out.text();
  auto status = init->wait();
  REQUIRE(status);
  CHECK(status->success());
  CHECK(text == "pid=1 uid=0 map= 0 100000 65536\n");
  check_nothing_left();
}
#endif

TEST_CASE("launch: a fatal record becomes the error, with stage, errno and the init's words") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::uts};
  b.ns_paths = {{NsKind::net, "/nonexistent/netns"}};
  std::vector<LogRecord> fatal_records;
  LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
  // The stage that joins: stage 1, or stage 0 where one clone serves.
  Stage joiner = Stage::Child;
  SUBCASE("three stages") { opt.one_clone = false; }
  SUBCASE("one clone") { joiner = Stage::Parent; }
  opt.on_log = [&](const LogRecord& r) {
    if (r.level == LogLevel::Fatal) fatal_records.push_back(r);
  };
  auto init = launcher.launch(b, opt);
  REQUIRE_FALSE(init);
  const Error& e = init.error();
  CHECK(e.op == Op::InitFailed);
  CHECK(e.code == Code::InitFatal);
  CHECK(e.stage == joiner);
  CHECK(e.sys_errno == ENOENT);
  CHECK(e.detail_view().find("/nonexistent/netns") != std::string_view::npos);
  // Stage 1 states the cause; stage 0 follows with the consequence (its
  // peer vanished). The error is the first: the cause.
  REQUIRE(!fatal_records.empty());
  CHECK(fatal_records.front().stage == joiner);
  CHECK(e.detail_view() == fatal_records.front().text);
  check_nothing_left();
}

TEST_CASE("launch: stage 2's own failure after the handoff reaches the caller exactly once") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  std::vector<LogRecord> fatal;
  LaunchOptions opt = nsrun_running({"/nonexistent/command"}, -1);
  opt.on_log = [&](const LogRecord& r) {
    if (r.level == LogLevel::Fatal) fatal.push_back(r);
  };
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  auto status = init->wait();
  REQUIRE(status);
  CHECK(*status == ExitStatus{false, 127});
  // Whatever the launch did not see is still on the log pipe.
  LogPipeReader reader;
  auto sink = [&](const LogRecord& r) {
    if (r.level == LogLevel::Fatal) fatal.push_back(r);
  };
  while (reader.pump(init->log_pipe(), sink)) {
  }
  REQUIRE(fatal.size() == 1);
  CHECK(fatal[0].stage == Stage::Init);
  CHECK(fatal[0].text == "exec: /nonexistent/command: No such file or directory");
  check_nothing_left();
}

TEST_CASE("InitProcess: wait with a deadline, signal through the pidfd, kill on destruction") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  auto init = launcher.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/sleep", "1000"}, -1));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  auto early = init->wait(50ms);
  REQUIRE_FALSE(early);
  CHECK(early.error().code == Code::TimedOut);
  const pid_t pid = init->pid();
  CHECK(launched_children() == std::vector<pid_t>{pid});
  // sleep is pid 1 of its namespace: only SIGKILL reaches it from outside.
  REQUIRE(init->signal(SIGKILL));
  auto status = init->wait(10s);
  REQUIRE(status);
  CHECK(*status == ExitStatus{true, SIGKILL});
  // And one dropped unwaited is killed and reaped by its destructor.
  {
    auto dropped = launcher.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/sleep", "1000"}, -1));
    REQUIRE(dropped);
    CHECK(launched_children().size() == 1);
  }
  check_nothing_left();
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
TEST_CASE("launch: a missing init binary is ENOENT from the spawn, not a hang") {
  require_root();
  Launcher launcher({.init_binary = "/nonexistent/init", .exec_from_sealed_memfd = false});
  LaunchOptions opt;
  opt.timeout = 10s;
  auto init = launcher.launch(Bootstrap{}, opt);
  REQUIRE_FALSE(init);
  CHECK(init.error().op == Op::SpawnInit);
  CHECK(init.error().sys_errno == ENOENT);
  CHECK(init.error().stage == Stage::Launcher);
  check_nothing_left();
}

TEST_CASE("launch: a script cannot be exec'd from the sealed memfd, and says so") {
  require_root();
  nsenter::test::WorldExecutable dir(kNsrun);
  const std::string script = dir.add_script("init.sh", "#!/bin/sh\nexit 0\n");
  Launcher launcher({.init_binary = script});
  auto init = launcher.launch(Bootstrap{});
  REQUIRE_FALSE(init);
  CHECK(init.error().sys_errno == ENOEXEC);
  CHECK(init.error().detail_view().find("is a script") != std::string_view::npos);
  CHECK(launcher.launches() == 0);
  check_nothing_left();
}

TEST_CASE("launch: protocol breakers get typed errors and leave nothing running") {
  require_root();
  Launcher launcher({.init_binary = "/bin/sh", .exec_from_sealed_memfd = false});
  const auto msg = wire::encode(pid_uts_ipc_mnt());
  REQUIRE(msg);
  const std::string msg_len = std::to_string(msg->size());
  const std::string self = std::to_string(::getpid());
  struct Case {
    const char* name;
    std::string script;
    Op op;
    Code code;
    bool one_clone = true;  // LaunchOptions::one_clone
    const char* says = "";  // in the error's detail
  };
  const Case cases[] = {
      {"never answers", "exec sleep 1000", Op::ReadHandshake, Code::TimedOut},
      {"answers, then stalls", "printf '\\0' >&3; exec sleep 1000", Op::ReadPidLine, Code::TimedOut},
      {"wrong handshake byte", "printf 'x' >&3; exec sleep 1000", Op::ReadHandshake, Code::BadHandshake},
      {"dies before the handshake", "exit 3", Op::WaitInit, Code::InitDied},
      {"bad pid line", "printf '\\0' >&3; head -c " + msg_len + " <&3 >/dev/null; echo '{\"stage1_pid\":0}' >&3; exec sleep 1000",
       Op::ReadPidLine, Code::BadPidLine},
      // Our own pid: not our child. Were the check broken, the cleanup
      // would kill this test and nothing else.
      {"pid line naming a process that is not ours",
       "printf '\\0' >&3; head -c " + msg_len + " <&3 >/dev/null; echo '{\"stage1_pid\":" + self + ",\"stage2_pid\":" + self +
           "}' >&3; exec sleep 1000",
       Op::ReadPidLine, Code::BadPidLine},
      {"pid line with extra fields",
       "printf '\\0' >&3; head -c " + msg_len + " <&3 >/dev/null; echo '{\"stage1_pid\":1,\"stage2_pid\":1,\"x\":1}' >&3; exec sleep 1000",
       Op::ReadPidLine, Code::BadPidLine},
      // One pid for both stages is the one-clone plan's line, taken only
      // when that plan was asked for.
      {"pid line without stage 1, not asked for",
       "printf '\\0' >&3; head -c " + msg_len + " <&3 >/dev/null; echo '{\"stage1_pid\":" + self + ",\"stage2_pid\":" + self +
           "}' >&3; exec sleep 1000",
       Op::ReadPidLine, Code::BadPidLine, false, "no one-clone start was asked for"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    LaunchOptions opt;
    opt.argv = {"sh", "-c", c.script};
    opt.timeout = 500ms;
    opt.one_clone = c.one_clone;
    auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
    REQUIRE_FALSE(init);
    CHECK_MESSAGE(init.error().op == c.op, to_string(init.error()));
    CHECK_MESSAGE(init.error().code == c.code, to_string(init.error()));
    CHECK_MESSAGE(init.error().detail_view().find(c.says) != std::string_view::npos, to_string(init.error()));
    CHECK(init.error().stage == Stage::Launcher);
    check_nothing_left();
  }
}

TEST_CASE("launch: the sealed memfd is made once; inits run from it without copying") {
  require_root();
  Launcher launcher({.init_binary = kCEmbed});
  for (int i = 0; i < 3; ++i) {
    Capture out;
    LaunchOptions opt;
    opt.argv = {"c_embed"};
    opt.stdio = {-1, out.writer(), 2};
    auto init = launcher.launch(Bootstrap{}, opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->from_sealed_memfd());
    const std::string text = out.text();
    CHECK(init->wait()->success());
    CHECK_MESSAGE(text.find("exe=/memfd:nsenter-init (deleted)\n") != std::string::npos, text);
    // The init found its binary sealed and neither copied nor re-executed.
    CHECK_MESSAGE(text.find("cloned=\n") != std::string::npos, text);
  }
  CHECK(launcher.sealed_copies() == 1);
  CHECK(launcher.launches() == 3);

  // Without it, the init protects itself every time: as root, moving in
  // place onto a detached read-only mount of its binary, copying nothing
  // and not re-executing (which would have said so in the environment).
  Launcher by_path({.init_binary = kCEmbed, .exec_from_sealed_memfd = false});
  Capture out;
  LaunchOptions opt;
  opt.argv = {"c_embed"};
  opt.stdio = {-1, out.writer(), 2};
  auto init = by_path.launch(Bootstrap{}, opt);
  REQUIRE(init);
  CHECK_FALSE(init->from_sealed_memfd());
  const std::string text = out.text();
  CHECK(init->wait()->success());
  CHECK(text.find("cloned=\n") != std::string::npos);
  CHECK(text.find("exe=/\n") != std::string::npos);  // the binary itself, on a mount attached nowhere
  CHECK(text.find("exe_ro=1\n") != std::string::npos);
  CHECK(by_path.sealed_copies() == 0);
  // Given a state directory as runc gives it, the same, and the directory
  // is left as it was.
  {
    char dir[] = "/tmp/nsenter-state.XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    Capture out2;
    LaunchOptions with_dir = opt;
    with_dir.stdio = {-1, out2.writer(), 2};
    with_dir.state_dir = dir;
    auto bound = by_path.launch(Bootstrap{}, with_dir);
    REQUIRE(bound);
    const std::string text2 = out2.text();
    CHECK(bound->wait()->success());
    ::rmdir(dir);
    CHECK_MESSAGE(text2.find("exe_ro=1\n") != std::string::npos, text2);
    CHECK(text2.find("cloned=\n") != std::string::npos);
  }
  check_nothing_left();
}

TEST_CASE("launch: prefer_read_only_mount execs every init from one read-only mount, copying nothing") {
  require_root();
  Launcher launcher({.init_binary = kCEmbed, .prefer_read_only_mount = true});
  for (int i = 0; i < 2; ++i) {
    Capture out;
    auto init = launcher.launch(Bootstrap{}, running({"c_embed"}, {-1, out.writer(), 2}));
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->from_read_only_mount());
    CHECK_FALSE(init->from_sealed_memfd());
    const std::string text = out.text();
    CHECK(init->wait()->success());
    CHECK_MESSAGE(text.find("exe=/\n") != std::string::npos, text);  // the binary itself, on a mount attached nowhere
    CHECK_MESSAGE(text.find("exe_ro=1\n") != std::string::npos, text);
    CHECK_MESSAGE(text.find("cloned=1\n") != std::string::npos, text);  // trusted, not re-protected
  }
  CHECK(launcher.sealed_copies() == 0);
  // Without the privilege to mount, the sealed memfd it is.
  nsenter::test::WorldExecutable copy(kCEmbed);
  const auto nobody = as_nobody([&](int report) {
    Launcher unprivileged({.init_binary = copy.path(), .prefer_read_only_mount = true});
    Bootstrap b = rootless_config();
    b.clone_flags = NsSet{NsKind::user};
    auto init = unprivileged.launch(b, running({"c_embed"}, {-1, -1, 2}));
    const std::string said = init ? fmt::format("memfd={} copies={}", init->from_sealed_memfd(), unprivileged.sealed_copies())
                                  : to_string(init.error());
    [[maybe_unused]] auto n = ::write(report, said.data(), said.size());
    return init && init->wait()->success() ? 0 : 1;
  });
  // Named, not bound: clang 14 cannot capture a structured binding.
  const int code = nobody.first;
  const std::string& text = nobody.second;
  CHECK_MESSAGE(code == 0, text);
  CHECK(text == "memfd=true copies=1");
  check_nothing_left();
}
#endif

TEST_CASE("launch: many in a row leak no fd and no process") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  // Warm up once: the sealed memfd is the one fd the launcher keeps.
  {
    auto init = launcher.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
    REQUIRE(init);
    REQUIRE(init->wait()->success());
  }
  const int fds_before = count_fds();
  for (int i = 0; i < 40; ++i) {
    Bootstrap b = pid_uts_ipc_mnt();
    if (i % 4 == 3) b.ns_paths = {{NsKind::net, "/nonexistent/netns"}};  // some fail
    auto init = launcher.launch(b, nsrun_running({"/bin/true"}, -1));
    if (i % 4 == 3) {
      CHECK_FALSE(init);
      continue;
    }
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    if (i % 2 == 0) {
      CHECK(init->wait()->success());
    }  // else: the destructor kills and reaps it
  }
  CHECK(count_fds() == fds_before);
  CHECK(launcher.sealed_copies() == 1);
  check_nothing_left();
}

TEST_CASE("launch: only the fds asked for reach the init") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  // A descriptor opened without O_CLOEXEC, as another thread might.
  const int stray = ::open("/dev/null", O_RDONLY);
  REQUIRE(stray >= 0);
  int extra[2];
  REQUIRE(::pipe2(extra, O_CLOEXEC) == 0);
  Capture out;
  LaunchOptions opt = nsrun_running({"/bin/sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; "
                                                      "echo extra >&3"}, out.writer());
  opt.preserve_fds = {extra[1]};
  opt.argv.insert(opt.argv.begin() + 1, "--preserve-fds=1");  // nsrun's own say on what reaches the command
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  ::close(extra[1]);
  ::close(stray);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  const std::string text = out.text();
  CHECK(init->wait()->success());
  // 0 was closed (-1), so ls's own directory fd took it; 1 and 2 given, 3
  // the preserved one; the stray fd is gone and the init and log pipes
  // (4 and 5) were close-on-exec.
  CHECK_MESSAGE(text == "0 1 2 3 \n", text);
  CHECK(nsenter::test::read_to_end_and_close(extra[0]) == "extra\n");
  check_nothing_left();
}

TEST_CASE("launch: more fds than the spawn can place is TooManyFds, before anything starts") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  const UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(null_fd);
  LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
  opt.extra_fds.assign(kMaxSpawnFds, null_fd.get());  // with stdio and the two pipes: past the limit
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_FALSE(init);
  CHECK(init.error().code == Code::TooManyFds);
  CHECK(init.error().stage == Stage::Launcher);
  CHECK(launcher.launches() == 0);
  check_nothing_left();
}

TEST_CASE("launch: with our stdin closed, the init's stdin is closed too, not one of our pipes") {
  require_root();
  Capture out;  // before fd 0 is freed, so that it does not take it
  const int saved = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
  REQUIRE(saved >= 0);
  ::close(0);
  std::string text;
  bool launched = true, exited = true;
  {
    // A fresh Launcher: its sealed memfd, too, is made with fd 0 free (and
    // a pool's template pidfd, by the first launch: the second shows it).
    TestLauncher launcher({.init_binary = kNsrun});
    for (int i = 0; i < 2; ++i) {
      LaunchOptions opt = nsrun_running({"/bin/sh", "-c", "readlink /proc/self/fd/0 || echo closed"}, out.writer());
      opt.stdio[0] = 0;
      auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
      launched = launched && static_cast<bool>(init);
      if (init) exited = exited && init->wait().has_value();
    }
    text = out.text();
  }
  ::dup2(saved, 0);
  ::close(saved);
  REQUIRE(launched);
  CHECK(exited);
  CHECK(text == "closed\nclosed\n");
  check_nothing_left();
}

TEST_CASE("launch: into a cgroup v2 directory atomically, and into v1 by cgroup.procs") {
  require_root();
  struct Dir {
    std::string path;
    explicit Dir(std::string p) : path(std::move(p)) { REQUIRE(::mkdir(path.c_str(), 0755) == 0); }
    ~Dir() { ::rmdir(path.c_str()); }
  };
  const std::string name = "nsenter-launcher-test-" + std::to_string(::getpid());
  TestLauncher launcher({.init_binary = kNsrun});
  const bool have_v2 = std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.procs") ||
                       std::filesystem::exists("/sys/fs/cgroup/cgroup.procs");
  REQUIRE_MESSAGE(have_v2, "no cgroup v2 hierarchy mounted");
  const std::string v2_root = std::filesystem::exists("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified"
                                                                                             : "/sys/fs/cgroup";
  // Launches `cat /proc/self/cgroup` into `dir`; checks how it got there
  // and that the init saw `expect` among its cgroups.
  auto launch_into = [&](const std::string& dir, bool by_clone3, const std::string& expect) {
    Dir made(dir);
    Capture out;
    LaunchOptions opt = nsrun_running({"/bin/cat", "/proc/self/cgroup"}, out.writer());
    opt.cgroup = made.path;
    auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->cgroup_by_clone3() == by_clone3);
    const std::string text = out.text();
    CHECK(init->wait()->success());
    CHECK_MESSAGE(text.find(expect) != std::string::npos, text);
  };
  launch_into(v2_root + "/" + name, true, "0::/" + name + "\n");
  // cgroup v1 has no CLONE_INTO_CGROUP: the launcher writes cgroup.procs
  // before sending the bootstrap, so stage 0 is there before it clones.
  if (std::filesystem::exists("/sys/fs/cgroup/pids/cgroup.procs"))
    launch_into("/sys/fs/cgroup/pids/" + name, false, "pids:/" + name + "\n");
  // A cgroup that does not exist is the caller's mistake, said as such.
  auto init = launcher.launch(pid_uts_ipc_mnt(), [] {
    LaunchOptions o;
    o.cgroup = "/sys/fs/cgroup/unified/nsenter-no-such-cgroup";
    return o;
  }());
  REQUIRE_FALSE(init);
  CHECK(init.error().op == Op::PlaceInCgroup);
  CHECK(init.error().sys_errno == ENOENT);
  check_nothing_left();
}

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

TEST_CASE("launch: from several threads at once") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  CHECK(launch_from_threads(launcher, 4, 5, pid_uts_ipc_mnt()) == std::pair{20, 0});
  CHECK(launcher.sealed_copies() == 1);
  check_nothing_left();
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
namespace {

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

}  // namespace

TEST_CASE("direct start: the init asks the kernel, as the container's root, whether it could write the binary") {
  require_root();
  // Root mapped to root: the container's root may write our binary, and
  // the runtime's word that it cannot is caught before anything runs.
  const DirectRun forged = direct_start_claiming_unwritable({0, 0, 1});
  INFO(forged.log);
  CHECK_FALSE(forged.ready);
  CHECK_FALSE(forged.status.success());
  CHECK(forged.log.find("_NSENTER_START=direct:unwritable, but the container could write the binary: its root may open it "
                        "for writing") != std::string::npos);
  // Root unmapped (100000 is root inside): the word holds, and the init runs.
  const DirectRun honest = direct_start_claiming_unwritable({0, 100000, 65536});
  INFO(honest.log);
  CHECK(honest.ready);
  CHECK(honest.status.success());
  check_nothing_left();
}

TEST_CASE("launch: in_process_init forks this program into the init; its command inherits what an exec'd init's does") {
  require_root();
  const LauncherLeftovers leftovers;

  auto state_from = [&](LauncherConfig config, ExecFrom& from) {
    config.skip_protection_when_unwritable = true;
    Launcher launcher(config);
    return what_the_command_says(launcher, nsrun_running({"/bin/sh", "-c", kInheritedState}, -1), from);
  };
  ExecFrom exec_from = ExecFrom::Forked, fork_from = ExecFrom::Path;
  const std::string exec_state = state_from({.init_binary = kNsrun}, exec_from);
  const std::string fork_state = state_from({.init_binary = "", .in_process_init = test_init_in_process}, fork_from);

  CHECK(exec_from == ExecFrom::Path);
  CHECK(fork_from == ExecFrom::Forked);
  CHECK(fork_state == exec_state);
  check_clean_state(fork_state);
  check_nothing_left();
}

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

TEST_CASE("launch: in_process_init is used only where no protection is needed and the launcher has one thread") {
  require_root();
  // This program as the init, exec'd (its constructor) or forked.
  Launcher launcher({.init_binary = "", .skip_protection_when_unwritable = true, .in_process_init = test_init_in_process});
  Launcher sharing({.init_binary = "",
                    .skip_protection_when_unwritable = true,
                    .in_process_init = test_init_in_process,
                    .containers_share_our_filesystem = true});
  auto from = [&](const Bootstrap& config, Launcher* with = nullptr) {
    return started_from(with ? *with : launcher, config, nsrun_running({"/bin/true"}, -1));
  };
  CHECK(from(own_userns_root_unmapped()) == "direct:unwritable fork");
  // Root mapped to root: the container could write this binary, so the
  // init runs from the protected copy, unless the embedder says its
  // containers share our filesystem (then the path is as good a handle as
  // /proc/PID/exe): forked, non-dumpable, out of reach of a user namespace
  // of the container's own.
  Bootstrap mapped = own_userns_root_unmapped();
  mapped.uid_map = {{0, 0, 1}};
  mapped.gid_map = {{0, 0, 1}};
  CHECK(from(mapped) == "one-clone memfd");
  CHECK(from(mapped, &sharing) == "direct:unreachable fork");
  // No user namespace of its own: the container's root is ours, so the
  // init runs from the protected copy.
  CHECK(from(pid_uts_ipc_mnt(), &sharing) == "one-clone memfd");
  // Joining a namespace: the processes already there could reach us.
  Bootstrap joins = own_userns_root_unmapped();
  joins.ns_paths = {{NsKind::uts, "/proc/self/ns/uts"}};
  CHECK(from(joins, &sharing) == "three-stages memfd");  // a join and a new user namespace need stage 1
  // A second thread: a fork could find any lock held, so the binary is
  // exec'd (from disk: nothing to protect).
  CHECK(with_second_thread([&] { return from(own_userns_root_unmapped()); }) == "one-clone:unwritable path");
  CHECK(from(own_userns_root_unmapped()) == "direct:unwritable fork");  // one thread again
  check_nothing_left();
}

TEST_CASE("launch: with prefer_read_only_mount, an in_process_init that must be protected is forked and moves onto the mount") {
  require_root();
  LauncherConfig config{.init_binary = "", .prefer_read_only_mount = true, .in_process_init = test_init_in_process};
  Launcher in_place(config);
  config.protect_forks_in_place = false;
  Launcher exec_only(config);
  LauncherConfig sealed_config = config;
  sealed_config.protect_forks_in_place = true;
  sealed_config.prefer_read_only_mount = false;  // a sealed memfd is another file: nothing to move onto
  Launcher sealed(sealed_config);
  auto from = [&](Launcher& launcher, const Bootstrap& config, std::vector<std::string>* said = nullptr) {
    LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
    opt.log_level = LogLevel::Debug;
    opt.on_log = [&](const LogRecord& r) {
      if (said) said->push_back(r.text);
    };
    return started_from(launcher, config, opt);
  };
  auto logged = [](const std::vector<std::string>& said, std::string_view text) {
    return std::any_of(said.begin(), said.end(), [&](const std::string& t) { return t.find(text) != std::string::npos; });
  };
  // No user namespace of its own (its root is ours), and a join (the
  // processes already there could reach us): both protected, in place.
  Bootstrap joins = own_userns_root_unmapped();
  joins.ns_paths = {{NsKind::uts, "/proc/self/ns/uts"}};
  for (const auto& c : {std::pair{pid_uts_ipc_mnt(), std::string("one-clone")},
                        std::pair{joins, std::string("three-stages")}}) {
    const Bootstrap& b = c.first;
    const std::string& topology = c.second;  // a join and a new user namespace need stage 1
    std::vector<std::string> said;
    CHECK(from(in_place, b, &said) == topology + ":view fork-onto-mount");
    CHECK(logged(said, "protected in place: /proc/self/exe moved onto the runtime's read-only view of itself"));
    CHECK_FALSE(logged(said, "re-exec from"));
    CHECK(from(exec_only, b) == topology + " mount");
    CHECK(from(sealed, b) == topology + " memfd");
  }
  // A second thread: no fork, so the exec from the mount.
  CHECK(with_second_thread([&] { return from(in_place, pid_uts_ipc_mnt()); }) == "one-clone mount");
  // Nothing to protect: forked as before, and given no view.
  std::vector<std::string> said;
  Launcher unwritable({.init_binary = "",
                       .prefer_read_only_mount = true,
                       .skip_protection_when_unwritable = true,
                       .in_process_init = test_init_in_process});
  CHECK(from(unwritable, own_userns_root_unmapped(), &said) == "direct:unwritable fork");
  CHECK_FALSE(logged(said, "protected in place"));
  check_nothing_left();
}

TEST_CASE("launch: rootless, as nobody, from a memfd the privileged parent made") {
  require_root();
  Launcher launcher({.init_binary = kNsrun});
  // Made here, as root (nobody cannot read Bazel's runfiles under /root);
  // the child inherits the Launcher and with it the sealed copy.
  {
    auto warm = launcher.launch(Bootstrap{}, nsrun_running({"/bin/true"}, -1));
    REQUIRE(warm);
    REQUIRE(warm->wait()->success());
  }
  const auto nobody = as_nobody([&](int report) {
    auto init = launcher.launch(
        rootless_sandbox(),
        nsrun_running({"/bin/sh", "-c",
                       "echo uid=$(id -u) pid=$$ sid=$(cut -d' ' -f6 /proc/self/stat) map=$(cat /proc/self/uid_map | tr -s ' ')"},
                      report));
    if (!init) return launch_failed(report, init.error());
    auto status = init->wait();
    const std::string stage2 = "stage2=" + std::to_string(init->pid()) + "\n";
    [[maybe_unused]] auto n = ::write(report, stage2.data(), stage2.size());
    ::close(report);
    return status && status->success() ? 0 : 12;
  });
  // Named, not bound: clang 14 cannot capture a structured binding.
  const int code = nobody.first;
  const std::string& text = nobody.second;
  CHECK_MESSAGE(code == 0, text);
  // Stage 2 leads its own session: its sid, as /proc sees it, is its pid.
  REQUIRE(text.find("stage2=") != std::string::npos);
  const std::string stage2 = text.substr(text.find("stage2=") + 7, text.size() - text.find("stage2=") - 8);
  CHECK_MESSAGE(text == "uid=0 pid=1 sid=" + stage2 + " map= 0 65534 1\nstage2=" + stage2 + "\n", text);
  check_nothing_left();
}
#endif

TEST_CASE("launch: rootless, multi-range maps written by Debian's newuidmap and newgidmap") {
  require_root();  // to create the user
  REQUIRE_MESSAGE(::access("/usr/bin/newuidmap", X_OK) == 0, "install Debian's uidmap package (tools/setup.sh does)");
  nsenter::test::SubidUser user;
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);  // the user cannot read Bazel's runfiles under /root
  const unsigned first = nsenter::test::SubidUser::kFirstSubid, count = nsenter::test::SubidUser::kSubids;
  // The user's own launcher (a pool's template, or a Launcher's memfd,
  // made by that user), as a rootless runtime has one.
  const auto run = as_user(user.uid(), user.gid(), [&](int report) {
    TestLauncher launcher({.init_binary = nsrun_copy.path()});
    Bootstrap b;
    b.clone_flags = NsSet{NsKind::user, NsKind::pid, NsKind::mnt};
    b.uid_map = {{0, user.uid(), 1}, {1, first, count}};
    b.gid_map = {{0, user.gid(), 1}, {1, first, count}};
    b.uid_map_helper = "/usr/bin/newuidmap";
    b.gid_map_helper = "/usr/bin/newgidmap";
    b.setgroups = true;
    b.rootless_euid = true;
    auto init = launcher.launch(
        b, nsrun_running({"/bin/sh", "-c",
                          "echo uid=$(id -u) uid_map=$(tr -s ' ' </proc/self/uid_map | tr '\\n' ';') "
                          "gid_map=$(tr -s ' ' </proc/self/gid_map | tr '\\n' ';') setgroups=$(cat /proc/self/setgroups)"},
                         report));
    if (!init) return launch_failed(report, init.error());
    auto status = init->wait();
    return status && status->success() ? 0 : 12;
  });
  const int code = run.first;
  const std::string& text = run.second;
  CHECK_MESSAGE(code == 0, text);
  CHECK(text == fmt::format("uid=0 uid_map= 0 {0} 1; 1 {2} {3}; gid_map= 0 {1} 1; 1 {2} {3}; setgroups=allow\n", user.uid(),
                            user.gid(), first, count));
  check_nothing_left();
}

TEST_CASE("launch: bind-mount sources arrive on the numbers the launcher named, one to three of them") {
  require_root();
  char dir[] = "/tmp/nsenter-sources.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::vector<std::string> sources;
  for (const char* name : {"a", "b", "c"}) {
    sources.push_back(std::string(dir) + "/" + name);
    REQUIRE(::mkdir(sources.back().c_str(), 0755) == 0);
  }
  TestLauncher launcher({.init_binary = kReportingInit});
  const UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE(null_in);
  for (std::size_t n = 1; n <= sources.size(); ++n) {
    CAPTURE(n);
    Bootstrap b;
    b.clone_flags = NsSet{NsKind::mnt, NsKind::pid};
    // As runc sends them: an empty entry for each mount that is no bind.
    b.mount_sources = std::vector<std::string>{""};
    for (std::size_t i = 0; i < n; ++i) b.mount_sources->push_back(sources[i]);
    Capture out;
    LaunchOptions opt;
    opt.argv = kReportingArgv;
    // All of 0-4 open, as a runtime has them: the first fd stage 1
    // receives then lands on the first number named.
    opt.stdio = {null_in.get(), out.writer(), 2};
    auto init = launcher.launch(b, opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    const std::string text = out.text();
    CHECK(init->wait()->success());
    // fds 3 and 4 are the init and log pipes; the sources follow.
    for (std::size_t i = 0; i < n; ++i)
      CHECK_MESSAGE(text.find(fmt::format("fd{}={}\n", 5 + i, sources[i])) != std::string::npos, text);
    CHECK_MESSAGE(text.find(fmt::format("fd{}=none\n", 5 + n)) != std::string::npos, text);
  }
  for (const auto& s : sources) ::rmdir(s.c_str());
  ::rmdir(dir);
  check_nothing_left();
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
TEST_CASE("launch: rootless with mount sources is refused before anything starts, the cause named once") {
  require_root();
  Launcher launcher({.init_binary = kCEmbed});
  {  // the sealed copy, made as root (see the rootless case above)
    auto warm = launcher.launch(Bootstrap{}, running({"c_embed"}, {-1, -1, 2}));
    REQUIRE(warm);
    REQUIRE(warm->wait()->success());
  }
  const auto nobody = as_nobody([&](int report) {
    Bootstrap b = rootless_config();
    b.clone_flags = NsSet{NsKind::user, NsKind::mnt};
    b.mount_sources = std::vector<std::string>{"/tmp"};
    auto init = launcher.launch(b, running({"c_embed"}, {-1, -1, 2}));
    const std::string e = init ? "launched" : to_string(init.error());
    [[maybe_unused]] auto n = ::write(report, e.data(), e.size());
    return init ? 11 : 0;
  });
  // Named, not bound: clang 14 cannot capture a structured binding.
  const int code = nobody.first;
  const std::string& text = nobody.second;
  CHECK_MESSAGE(code == 0, text);
  // The Launcher's own word, not stage 0's EPERM from deep in its setns.
  CHECK(text ==
        "send mount sources: they need CAP_SYS_ADMIN here: stage 0 opens each in the container's mount "
        "namespace (runc 1.1 sends none for a rootless container): Operation not permitted");
  CHECK(launcher.launches() == 1);  // the warm-up's: nothing was spawned for it
  check_nothing_left();
}
#endif

TEST_CASE("launch: preserved fds come first, as runc lays them out; the pipes follow") {
  require_root();
  TestLauncher launcher({.init_binary = kReportingInit});
  // Not /etc/passwd: a suite running alongside adds a test user, and
  // useradd replaces that file (the fd would then name it "(deleted)").
  const int preserved = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  REQUIRE(preserved >= 0);
  Capture out;
  LaunchOptions opt;
  opt.argv = kReportingArgv;
  opt.stdio = {-1, out.writer(), 2};
  opt.preserve_fds = {preserved};
  auto init = launcher.launch(Bootstrap{}, opt);
  ::close(preserved);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(nsenter::test::read_all(init->init_pipe()) == "hello from stage 2\n");
  const std::string text = out.text();
  CHECK(init->wait()->success());
  CHECK_MESSAGE(text.find("fd3=/etc/hostname\n") != std::string::npos, text);
  CHECK_MESSAGE(text.find("init_pipe=4\n") != std::string::npos, text);
  check_nothing_left();
}

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

TEST_CASE("launch: with a parent-death signal the container dies with the thread that launched it") {
  require_root();
  const int status = orphaned_init(SIGKILL).second;  // not a binding: clang 14 cannot capture one
  CHECK_MESSAGE((status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "status " << status);
  // Without one it lives on, as runc's containers do (the case above is
  // what the option changes).
  CHECK(orphaned_init(0).second == -1);
  check_nothing_left();
}

std::string mount_table() {
  std::ifstream in("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
TEST_CASE("self-protection: runc's bind mount in the state directory (the fallback on older kernels)") {
  require_root();
  char dir[] = "/tmp/nsenter-state.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string mounts_before = mount_table();
  ::setenv("_LIBCONTAINER_STATEDIR", dir, 1);
  UniqueFd view = RuncSelfProtection<>::read_only_bind();
  ::unsetenv("_LIBCONTAINER_STATEDIR");
  const int removed = ::rmdir(dir);  // the placeholder was unlinked
  REQUIRE(view);
  struct statfs fs {};
  REQUIRE(::fstatfs(view.get(), &fs) == 0);
  CHECK((fs.f_flags & ST_RDONLY) != 0);
  struct stat a {}, b {};
  REQUIRE(::fstat(view.get(), &a) == 0);
  REQUIRE(::stat("/proc/self/exe", &b) == 0);
  CHECK(a.st_ino == b.st_ino);  // the binary itself, not a copy
  CHECK(removed == 0);
  CHECK(mount_table() == mounts_before);  // detached at once
}
#endif

namespace {

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

}  // namespace

TEST_CASE("launch: a stage killed or failing at each step is a typed error, never a hang, and leaves nothing") {
  require_root();
  TestLauncher launcher({.init_binary = kFaultInit});
  Bootstrap b = pid_uts_ipc_mnt();
  b.clone_flags->insert(NsKind::user);
  b.clone_flags->insert(NsKind::cgroup);
  b.uid_map = {{0, 100000, 65536}};
  b.gid_map = {{0, 100000, 65536}};
  b.setgroups = true;
  b.oom_score_adj = 100;
  // All of stage 2's own calls, in every plan.
  const std::vector<FaultPoint> stage2 = {
      {"set_name runc:[2:INIT]", Stage::Init}, {"setsid", Stage::Init},       {"setuid", Stage::Init},
      {"setgid", Stage::Init},                 {"clear_groups", Stage::Init}, {"unshare 0x2000000", Stage::Init},
  };
  // Where the three stages and the one clone both go: setup, stage 0's own
  // work, the sync sockets (and the pid line) by the stage that reads or
  // writes them, and stage 2.
  std::vector<FaultPoint> points = {
      {"write_file /proc/self/oom_score_adj", Stage::Setup},
      {"socketpair", Stage::Setup},
      {"set_name runc:[0:PARENT]", Stage::Parent},
      {"write_map uid", Stage::Parent},
      {"write_map gid", Stage::Parent},
      {"read runc:[0:PARENT]", Stage::Parent},
      {"write_all runc:[0:PARENT]", Stage::Parent},
      {"read runc:[2:INIT]", Stage::Init},
      {"write_all runc:[2:INIT]", Stage::Init},
  };
  points.insert(points.end(), stage2.begin(), stage2.end());
  SUBCASE("three stages (mount sources need stage 1)") {
    b.mount_sources = std::vector<std::string>{"/tmp"};
    points.insert(points.end(), {
                                    {"set_name runc:[1:CHILD]", Stage::Child},
                                    {"unshare 0x10000000", Stage::Child},
                                    {"setresuid", Stage::Child},
                                    {"unshare 0x2c020000", Stage::Child},
                                    {"read runc:[1:CHILD]", Stage::Child},
                                    {"write_all runc:[1:CHILD]", Stage::Child},
                                    // The mount source: opened by stage 0 from inside stage 1's
                                    // mount namespace, sent, received.
                                    {"open /proc/self/ns/mnt", Stage::Parent},
                                    {"setns 0x20000", Stage::Parent},
                                    {"open /tmp", Stage::Parent},
                                    {"send_fd", Stage::Parent},
                                    {"receive_fd", Stage::Child},
                                });
    check_fault_table(launcher, b, points, false);
  }
#ifndef NSENTER_TEST_THROUGH_POOL
  SUBCASE("one clone") {
    check_fault_table(launcher, b, points, false);
    // And there is no stage 1 to kill: the start goes through.
    LaunchOptions opt = running({"fault_init", "--", "/bin/true"}, {-1, -1, 2});
    opt.env = std::vector<std::string>{"NSENTER_TEST_FAULT=kill:set_name runc:[1:CHILD]"};
    auto init = launcher.launch(b, opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->stage1_pid() == -1);
    CHECK(init->wait()->success());
    check_nothing_left();
  }
  SUBCASE("one clone, joining: stage 0 makes the joins") {
    Bootstrap joins;
    joins.clone_flags = NsSet{NsKind::pid, NsKind::uts, NsKind::mnt, NsKind::cgroup};
    joins.ns_paths = {{NsKind::net, "/proc/self/ns/net"}, {NsKind::ipc, "/proc/self/ns/ipc"}};
    joins.oom_score_adj = 100;
    joins.setgroups = true;  // stage 2 clears its groups
    std::vector<FaultPoint> joined;
    for (const FaultPoint& p : points)
      if (!std::string_view(p.call).starts_with("write_map")) joined.push_back(p);  // no user namespace
    check_fault_table(launcher, joins, joined, false);
    auto init = launcher.launch(joins, running({"fault_init", "--", "/bin/true"}, {-1, -1, 2}));
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->stage1_pid() == -1);
    CHECK(init->wait()->success());
    check_nothing_left();
  }
#else
  SUBCASE("direct: the template clones stage 2 into its namespaces, the launcher writes the maps") {
    std::vector<FaultPoint> direct_points = stage2;
    direct_points.push_back({"write_all runc:[2:INIT]", Stage::Init});  // the ready byte
    check_fault_table(launcher, b, direct_points, true);
    // No stage 0 or 1 to kill, and no socketpair to fail: the start goes through.
    for (const char* where : {"kill:set_name runc:[0:PARENT]", "kill:set_name runc:[1:CHILD]", "fail:socketpair"}) {
      CAPTURE(where);
      LaunchOptions opt = running({"fault_init", "--", "/bin/true"}, {-1, -1, 2});
      opt.env = std::vector<std::string>{std::string("NSENTER_TEST_FAULT=") + where};
      auto init = launcher.launch(b, opt);
      REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
      CHECK(init->started_directly());
      CHECK(init->wait()->success());
      check_nothing_left();
    }
  }
#endif
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

void check_attack_failed(const std::string& verdict, const std::string& target, const std::string& before,
                         const std::string& copy) {
  INFO(verdict);
  CHECK(verdict.find("target=" + target + " ") == 0);
  CHECK(verdict.find("written") == std::string::npos);
  CHECK(verdict.find("skipped") == std::string::npos);
  CHECK(file_bytes(copy) == before);  // the binary on disk is unchanged
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
TEST_CASE("CVE-2019-5736: an init exec'd from the Launcher's sealed memfd cannot be written through /proc/PID/exe") {
  require_root();
  nsenter::test::WorldExecutable copy(kCEmbed);
  const std::string before = file_bytes(copy.path());
  Launcher launcher({.init_binary = copy.path()});
  auto [in, release] = hold_pipe();
  auto init = launcher.launch(pid_uts_ipc_mnt(), running({"c_embed", "hold"}, {in.get(), -1, 2}));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  in.reset();
  const std::string verdict = attack(init->pid(), copy.path(), std::move(release), [&] { CHECK(init->wait()->success()); });
  check_attack_failed(verdict, "memfd", before, copy.path());
  CHECK(verdict.find("reopen=opened, EPERM") != std::string::npos);  // sealed against writes
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: an init that protects itself as root runs from a mount nobody can write") {
  require_root();
  nsenter::test::WorldExecutable copy(kCEmbed);
  const std::string before = file_bytes(copy.path());
  Launcher launcher({.init_binary = copy.path(), .exec_from_sealed_memfd = false});
  auto [in, release] = hold_pipe();
  auto init = launcher.launch(pid_uts_ipc_mnt(), running({"c_embed", "hold"}, {in.get(), -1, 2}));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  in.reset();
  const std::string verdict = attack(init->pid(), copy.path(), std::move(release), [&] { CHECK(init->wait()->success()); });
  // The very file, on its detached read-only mount.
  check_attack_failed(verdict, "copy", before, copy.path());
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);  // mounted nowhere: out of mount_setattr's reach
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: the Launcher's read-only mount of the binary cannot be made writable while the Launcher holds it") {
  require_root();
  nsenter::test::WorldExecutable copy(kCEmbed);
  const std::string before = file_bytes(copy.path());
  // As nsrun runs: one mount for every init, kept by the Launcher for its
  // life, here past the init's exit, when the attacker reopens its handle
  // (a joined container's processes outlive the init that joined them).
  Launcher launcher({.init_binary = copy.path(), .prefer_read_only_mount = true});
  auto [in, release] = hold_pipe();
  auto init = launcher.launch(pid_uts_ipc_mnt(), running({"c_embed", "hold"}, {in.get(), -1, 2}));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  REQUIRE(init->from_read_only_mount());
  in.reset();
  const std::string verdict = attack(init->pid(), copy.path(), std::move(release), [&] { CHECK(init->wait()->success()); });
  check_attack_failed(verdict, "copy", before, copy.path());
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  // The attacker's own user and mount namespace gave it CAP_SYS_ADMIN
  // over a mount namespace; the mount it holds a handle to must not be
  // one that mount_setattr(2) still reaches.
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: on a kernel without open_tree, an init protects itself in place onto runc's bind mount in the state directory") {
  require_root();
  nsenter::test::WorldExecutable copy(kCEmbed);
  const std::string before = file_bytes(copy.path());
  char state[] = "/tmp/nsenter-state.XXXXXX";
  REQUIRE(::mkdtemp(state) != nullptr);
  const std::string mounts_before = mount_table();
  // The init binary is the wrapper; it execs the copy with open_tree and
  // mount_setattr failing as on Linux < 5.2.
  Launcher launcher({.init_binary = kRefuseCalls, .exec_from_sealed_memfd = false});
  auto [in, release] = hold_pipe();
  LaunchOptions opt = running({"c_embed", "hold"}, {in.get(), -1, 2});
  opt.state_dir = state;
  opt.env = std::vector<std::string>{"NSENTER_TEST_EXEC=" + copy.path(), "NSENTER_TEST_REFUSE=mount_api"};
  opt.log_level = LogLevel::Debug;
  std::vector<std::string> said;
  opt.on_log = [&](const LogRecord& r) { said.push_back(r.text); };
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  in.reset();
  const std::string verdict = attack(init->pid(), copy.path(), std::move(release), [&] { CHECK(init->wait()->success()); });
  // The very file, seen through a bind mount that is read-only and was
  // detached before the init ran anything.
  check_attack_failed(verdict, "copy", before, copy.path());
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);  // detached by umount2(MNT_DETACH)
  const auto method = std::find_if(said.begin(), said.end(),
                                   [](const std::string& t) { return t.find("protected in place") != std::string::npos; });
  REQUIRE(method != said.end());
  CHECK(method->find("moved onto a read-only bind mount of itself (0 bytes copied, no re-exec)") != std::string::npos);
  CHECK(mount_table() == mounts_before);
  CHECK(::rmdir(state) == 0);  // the placeholder is gone: the directory is empty
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: a rootless init whose container could write its binary protects itself with a sealed memfd copy") {
  require_root();
  nsenter::test::WorldExecutable copy(kCEmbed);
  // nobody's own binary, and nobody is root in the container: the kernel
  // would let the container write it.
  REQUIRE(::chown(copy.path().c_str(), kNobody, kNobody) == 0);
  const std::string before = file_bytes(copy.path());
  // The runtime is nobody; the attacker (root) waits for its init's pid.
  int pid_pipe[2], go_pipe[2];
  REQUIRE(::pipe2(pid_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(go_pipe, O_CLOEXEC) == 0);
  auto [in, release] = hold_pipe();
  const pid_t runtime = ::fork();
  REQUIRE(runtime >= 0);
  if (runtime == 0) {
    release.reset();
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(10);
    Launcher launcher({.init_binary = copy.path(), .exec_from_sealed_memfd = false});
    Bootstrap b = rootless_config();
    b.clone_flags = NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts};
    auto init = launcher.launch(b, running({"c_embed", "hold"}, {in.get(), -1, 2}));
    const pid_t pid = init ? init->pid() : -1;
    [[maybe_unused]] auto n = ::write(pid_pipe[1], &pid, sizeof pid);
    if (!init) ::_exit(11);
    in.reset();
    auto status = init->wait();
    ::_exit(status && status->success() ? 0 : 12);
  }
  ::close(pid_pipe[1]);
  ::close(go_pipe[0]);
  ::close(go_pipe[1]);
  in.reset();
  pid_t pid = -1;
  REQUIRE(::read(pid_pipe[0], &pid, sizeof pid) == sizeof pid);
  ::close(pid_pipe[0]);
  REQUIRE(pid > 0);
  int status = -1;
  const std::string verdict = attack(pid, copy.path(), std::move(release), [&] { ::waitpid(runtime, &status, 0); });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  check_attack_failed(verdict, "memfd", before, copy.path());
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: a rootless init whose container cannot write its binary runs it from disk, and the container still cannot write it") {
  require_root();  // to become nobody
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);  // root's: mapped nowhere in the container
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  const std::string before = file_bytes(nsrun_copy.path());
  // The init decides by itself, from the message (no word from the
  // runtime): exec'd from disk, it copies nothing and does not re-execute.
  // Inside, a process runs the binary from disk (what a #!/proc/self/exe
  // command would start) and the attacker goes for it. The shell is pid 1
  // of the container's pid namespace, with a /proc of its own: what it
  // leaves running dies with it.
  const std::string attack = fmt::format(
      "mount -t proc proc /proc || exit 30; "
      "sleep 100 2>/dev/null | {0} encode >/dev/null 2>&1 & victim=$!; "
      "n=0; while [ \"$(readlink /proc/$victim/exe)\" != {0} ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done; "
      "{1} $victim {0} --now; kill $victim",
      nsrun_copy.path(), attacker_copy.path());
  const auto run = as_nobody([&](int report) {
    Launcher launcher({.init_binary = nsrun_copy.path(), .exec_from_sealed_memfd = false});
    Bootstrap b = rootless_config();
    b.clone_flags = NsSet{NsKind::user, NsKind::mnt, NsKind::pid};
    LaunchOptions opt;
    opt.argv = {"nsrun", "--", "/bin/sh", "-c", attack};
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    opt.stdio = {null, report, report};
    opt.log_level = LogLevel::Debug;
    opt.on_log = [&](const LogRecord& r) {
      const std::string line = r.text + "\n";
      [[maybe_unused]] auto n = ::write(report, line.data(), line.size());
    };
    auto init = launcher.launch(b, opt);
    ::close(null);
    if (!init) return launch_failed(report, init.error());
    auto status = init->wait();
    return status && status->success() ? 0 : 12;
  });
  const int code = run.first;
  const std::string& said = run.second;
  INFO(said);
  CHECK(code == 0);
  CHECK(said.find("no re-exec: the container cannot write /proc/self/exe (0 bytes copied)") != std::string::npos);
  CHECK(said.find("memfd copy") == std::string::npos);
  CHECK(verdict_in(said) == "target=copy direct=EACCES reopen=EACCES remount=none");
  CHECK(file_bytes(nsrun_copy.path()) == before);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: the nsrun tool's pid-1 reaper runs from a read-only mount of its binary, as root") {
  require_root();
  nsenter::test::WorldExecutable copy(kNsrun);
  const std::string before = file_bytes(copy.path());
  auto [in, release] = hold_pipe();
  const pid_t tool = ::fork();
  REQUIRE(tool >= 0);
  if (tool == 0) {
    ::dup2(in.get(), 0);
    ::execl(copy.path().c_str(), "nsrun", "--no-tty", "-p", "--", "sh", "-c", "cat >/dev/null", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  in.reset();
  // The reaper is the tool's child once the launch is done: stage 2, pid 1
  // of the new pid namespace, named runc:[2:INIT].
  pid_t reaper = -1;
  for (int i = 0; i < 2000 && reaper < 0; ++i) {
    std::ifstream children("/proc/" + std::to_string(tool) + "/task/" + std::to_string(tool) + "/children");
    for (pid_t child; children >> child;)
      if (file_bytes("/proc/" + std::to_string(child) + "/comm") == "runc:[2:INIT]\n") reaper = child;
    if (reaper < 0) ::usleep(5000);
  }
  REQUIRE(reaper > 0);
  int status = -1;
  const std::string verdict = attack(reaper, copy.path(), std::move(release), [&] { ::waitpid(tool, &status, 0); });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The very file (nsrun's Launcher prefers the mount, which copies
  // nothing), on a mount nobody can write.
  check_attack_failed(verdict, "copy", before, copy.path());
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  check_nothing_left();
}
#endif

#ifndef NSENTER_TEST_THROUGH_POOL
// A copy of this program, run by an attack case with --launch-forked-holding:
// launches one init that must be protected (no user namespace of its
// own) through a Launcher that forks it (this program is its init), says
// "init=PID" and the init's records on stdout, and exits 0 once the init
// (holding until stdin closes) has run /bin/true.
int launch_forked_holding() {
  Launcher launcher({.init_binary = "", .prefer_read_only_mount = true, .in_process_init = test_init_in_process});
  LaunchOptions opt = running({"launcher_test", "hold", "--", "/bin/true"}, {0, -1, 2});
  opt.log_level = LogLevel::Debug;
  opt.on_log = [](const LogRecord& r) { std::printf("%s\n", r.text.c_str()); };
  auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
  if (!init) {
    std::printf("launch: %s\n", to_string(init.error()).c_str());
    return 11;
  }
  std::printf("from=%s\ninit=%d\n", std::string(to_string(init->exec_from())).c_str(), init->pid());
  std::fflush(stdout);
  auto status = init->wait();
  return status && status->success() ? 0 : 12;
}
#endif

int main(int argc, char** argv) {
#ifndef NSENTER_TEST_THROUGH_POOL
  if (argc == 2 && std::string_view(argv[1]) == "--launch-forked-holding") return launch_forked_holding();
#endif
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
TEST_CASE("CVE-2019-5736: a forked init that must be protected moves onto the Launcher's read-only mount, and nothing writes the binary") {
  require_root();
  // A copy of this program is both the launcher and, forked, the init.
  nsenter::test::WorldExecutable copy("/proc/self/exe");
  const std::string before = file_bytes(copy.path());
  auto [in, release] = hold_pipe();
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t tool = ::fork();
  REQUIRE(tool >= 0);
  if (tool == 0) {
    if (::dup2(in.get(), 0) < 0 || ::dup2(out[1], 1) < 0) ::_exit(21);
    ::execl(copy.path().c_str(), "launcher_test", "--launch-forked-holding", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  in.reset();
  ::close(out[1]);
  std::string said;
  char c;
  while (said.find("init=") == std::string::npos || said.back() != '\n') {
    if (::read(out[0], &c, 1) != 1) break;
    said += c;
  }
  const auto at = said.find("init=");
  REQUIRE_MESSAGE(at != std::string::npos, said);
  const pid_t init = std::stoi(said.substr(at + 5));
  int status = -1;
  const std::string verdict = attack(init, copy.path(), std::move(release), [&] { ::waitpid(tool, &status, 0); });
  said += nsenter::test::read_to_end_and_close(out[0]);
  INFO(said);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(said.find("from=a fork of the launcher, moved onto a read-only mount of the binary (no exec)") != std::string::npos);
  CHECK(said.find("protected in place: /proc/self/exe moved onto the runtime's read-only view of itself") != std::string::npos);
  // The very file, on the Launcher's mount: read-only, mounted nowhere.
  check_attack_failed(verdict, "copy", before, copy.path());
  CHECK(verdict.find("direct=ETXTBSY") != std::string::npos);
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: as root, the nsrun tool forks its init non-dumpable, and its container reaches no handle to the binary") {
  require_root();
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  const std::string before = file_bytes(nsrun_copy.path());
  // Root mapped to root: the container could write the binary, had it a
  // handle. The attacker is the container's command and goes for pid 1
  // (the reaper, a fork of the tool: the binary on disk); without a pid
  // namespace, for its parent: the tool itself, in the host's.
  auto attack_from_inside = [&](std::vector<std::string> flags, const char* victim) {
    Capture out;
    const pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out.writer(), 1) < 0 || ::dup2(out.writer(), 2) < 0) ::_exit(21);
      std::vector<std::string> args = {"nsrun", "--no-tty", "--log-level=debug"};
      args.insert(args.end(), flags.begin(), flags.end());
      const std::string command = fmt::format("exec {} {} {} --now", attacker_copy.path(), victim, nsrun_copy.path());
      for (const char* a : {"--", "/bin/sh", "-c", command.c_str()}) args.emplace_back(a);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(nsrun_copy.path().c_str(), argv.data());
      ::_exit(127);
    }
    const std::string said = out.text();
    int status = -1;
    ::waitpid(tool, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    return said;
  };
  for (const auto& [flags, victim] : {std::pair{std::vector<std::string>{}, "1"},
                                      std::pair{std::vector<std::string>{"-U", "-r", "-m", "-u", "-i"}, "$PPID"}}) {
    const std::string said = attack_from_inside(flags, victim);
    INFO(said);
    CHECK(said.find("runs from a fork of the launcher (no exec)") != std::string::npos);
    CHECK(said.find("forked us non-dumpable, out of the container's reach") != std::string::npos);
    // Not even a handle to look at: /proc/PID/exe is refused outright.
    CHECK(verdict_in(said) == "target=none direct=EACCES reopen=none");
  }
  CHECK(file_bytes(nsrun_copy.path()) == before);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: rootless, the nsrun tool copies nothing, and its container still cannot write the binary") {
  require_root();  // to become nobody
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  const std::string before = file_bytes(nsrun_copy.path());
  // The default sandbox as nobody: its own user namespace, nobody mapped to
  // root there, the binary's owner (root) mapped nowhere. The attacker is
  // the container's command; pid 1 is the tool's reaper, a fork of the tool
  // (no exec), so the binary on disk. It reopens its handle at once (--now): no process of
  // the container outlives the reaper (the pid namespace dies with it), so
  // there is no later moment to wait for.
  const auto run = as_nobody([&](int report) {
    const pid_t tool = ::fork();
    if (tool < 0) return 20;
    if (tool == 0) {
      const int null = ::open("/dev/null", O_RDONLY);  // the attacker's stdin: EOF at once, so it reopens now
      if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(report, 1) < 0 || ::dup2(report, 2) < 0) ::_exit(21);
      ::execl(nsrun_copy.path().c_str(), "nsrun", "--no-tty", "--log-level=debug", "--", attacker_copy.path().c_str(),
              "1", nsrun_copy.path().c_str(), "--now", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(report);
    int status = 0;
    ::waitpid(tool, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  });
  const int code = run.first;
  const std::string& said = run.second;
  INFO(said);
  CHECK(code == 0);
  // Nothing copied, nothing mounted: the init ran from the file itself.
  CHECK(said.find("no re-exec: the runtime says the container cannot write /proc/self/exe") != std::string::npos);
  CHECK(said.find("memfd copy") == std::string::npos);
  // Not even an exec: the init is a fork of the tool.
  CHECK(said.find("runs from a fork of the launcher (no exec)") != std::string::npos);
  // The reaper's /proc/1/exe is the very file, and every write is refused.
  CHECK(verdict_in(said) == "target=copy direct=EACCES reopen=EACCES remount=none");
  CHECK(file_bytes(nsrun_copy.path()) == before);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: rootless, nsrun -t joins a rootless container copying nothing, and the container still cannot write the binary") {
  require_root();  // to become nobody
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  const std::string before = file_bytes(nsrun_copy.path());
  // nobody's container: its own user namespace (root there is nobody
  // outside; the binary's owner, root, is mapped nowhere), pid, mnt (with
  // its own /proc), uts and ipc. nsrun -t joins all five. Inside, a process runs the binary
  // from disk (what a #!/proc/self/exe command of a forked stage 2 would
  // start) and the attacker goes for it.
  const std::string attack = fmt::format(
      // The victim reads a pipe nobody writes; the sleep behind it is left
      // to die with the container's pid namespace.
      // It is attacked once it runs the binary, not while it is still the
      // forked shell.
      "sleep 100 2>/dev/null | {0} encode >/dev/null 2>&1 & victim=$!; "
      "n=0; while [ \"$(readlink /proc/$victim/exe)\" != {0} ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done; "
      "{1} $victim {0} --now; kill $victim",
      nsrun_copy.path(),
      attacker_copy.path());
  const auto run = as_nobody([&](int report) {
    int ready[2];
    if (::pipe(ready) != 0) return 20;
    const pid_t holder = ::fork();
    if (holder < 0) return 21;
    if (holder == 0) {
      ::close(ready[0]);
      if (::dup2(ready[1], 1) < 0) ::_exit(22);
      ::execlp("unshare", "unshare", "-Urpmui", "--fork", "--mount-proc", "sh", "-c", "echo $$; exec sleep 1000",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(ready[1]);
    // The shell's pid in our namespace: the unshare's only child.
    char line[32] = {};
    if (::read(ready[0], line, sizeof line - 1) <= 0) return 23;
    ::close(ready[0]);
    pid_t target = -1;
    for (int i = 0; i < 1000 && target < 0; ++i) {
      std::ifstream children("/proc/" + std::to_string(holder) + "/task/" + std::to_string(holder) + "/children");
      if (!(children >> target)) ::usleep(2000);
    }
    if (target < 0) return 24;
    const pid_t tool = ::fork();
    if (tool < 0) return 25;
    if (tool == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(report, 1) < 0 || ::dup2(report, 2) < 0) ::_exit(26);
      const std::string pid = std::to_string(target);
      ::execl(nsrun_copy.path().c_str(), "nsrun", "--no-tty", "--log-level=debug", "-t", pid.c_str(), "--", "/bin/sh",
              "-c", attack.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(report);
    int status = 0;
    ::waitpid(tool, &status, 0);
    ::kill(target, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  });
  const int code = run.first;
  const std::string& said = run.second;
  INFO(said);
  CHECK(code == 0);
  // No copy, no mount, not even an exec of the init: its container cannot
  // write the binary (unwritable_exe.hpp, for joins).
  CHECK(said.find("no re-exec: the runtime says the container cannot write /proc/self/exe") != std::string::npos);
  CHECK(said.find("runs from a fork of the launcher (no exec)") != std::string::npos);
  CHECK(said.find("memfd copy") == std::string::npos);
  CHECK(verdict_in(said) == "target=copy direct=EACCES reopen=EACCES remount=none");
  CHECK(file_bytes(nsrun_copy.path()) == before);
  check_nothing_left();
}
#endif

// ---- the pool's own ------------------------------------------------------------
TEST_CASE("launch: runc 1.2's protocol: no NUL byte waited for, the sync pipe handed over, the init told by it alone") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  for (const wire::Profile profile : {wire::Profile::Runc12, wire::Profile::Runc11}) {
    CAPTURE(wire::profile_name(profile));
    LaunchOptions opt = nsrun_running({"/bin/sh", "-c", "echo sync=${_LIBCONTAINER_SYNCPIPE-none}"}, -1);
    opt.profile = profile;
    opt.log_level = LogLevel::Debug;
    std::vector<std::string> said;
    opt.on_log = [&](const LogRecord& r) { said.emplace_back(r.text); };
    Capture out;
    opt.stdio[1] = out.writer();
    auto init = launcher.launch(pid_uts_ipc_mnt(), opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->wait()->success());
    // Stage 2's last records may come after the launch returned: the rest
    // of its log pipe, which closes at the command's exec.
    nsenter::LogPipeReader rest;
    while (rest.pump(init->log_pipe(), [&](const LogRecord& r) { said.emplace_back(r.text); })) {
    }
    // The init scrubs it before the command: nsrun's own.
    CHECK(out.text() == "sync=none\n");
    const auto logged = [&](std::string_view text) {
      return std::any_of(said.begin(), said.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
    };
    CHECK(logged("=> nsexec container setup"));
    CHECK(logged("<= nsexec container setup"));
    if (profile == wire::Profile::Runc12) {
      REQUIRE(init->sync_pipe() >= 0);
      int type = 0;
      socklen_t len = sizeof type;
      CHECK(::getsockopt(init->sync_pipe(), SOL_SOCKET, SO_TYPE, &type, &len) == 0);
      CHECK(type == SOCK_SEQPACKET);
      CHECK(logged("protocol runc-1.2: the runtime set _LIBCONTAINER_SYNCPIPE, as runc does from 1.2 on"));
    } else {
      CHECK(init->sync_pipe() == -1);
      CHECK(logged("protocol runc-1.1: no _LIBCONTAINER_SYNCPIPE"));
    }
  }
  check_nothing_left();
}

TEST_CASE("launch: both generations join a user namespace and become its root before making an IPC namespace, whose mqueue is then the namespace root's") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  {
    // The namespace maps 0 to 100000: the host's root is nobody there.
    const nsenter::test::Target target(CLONE_NEWUSER);
    for (const wire::Profile profile : {wire::Profile::Runc12, wire::Profile::Runc11}) {
      CAPTURE(wire::profile_name(profile));
      Bootstrap joining;
      joining.clone_flags = NsSet{NsKind::ipc, NsKind::pid};
      joining.ns_paths = {{NsKind::user, target.ns("user")}};
      LaunchOptions opt =
          nsrun_running({"/bin/sh", "-c", "unshare -m sh -c 'mount -t mqueue mq /mnt && stat -c %u:%g /mnt'"}, -1);
      opt.profile = profile;
      Capture out;
      opt.stdio[1] = out.writer();
      auto init = launcher.launch(joining, opt);
      REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
      CHECK(init->wait()->success());
      CHECK(out.text() == "0:0\n");  // 65534:65534 had stage 1 made it as the host's root
    }
  }  // the target ended
  check_nothing_left();
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

TEST_CASE("pool: one template, exec'd once; every init is a fork of it and our own child") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  CHECK(pool.template_pid() == -1);  // started by the first launch
  pid_t first_template = -1;
  for (int i = 0; i < 5; ++i) {
    auto init = pool.launch(own_userns_root_unmapped(), nsrun_running({"/bin/sleep", "1000"}, -1));
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    if (i == 0) first_template = pool.template_pid();
    CHECK(pool.template_pid() == first_template);
    CHECK(init->exec_from() == ExecFrom::PoolTemplate);
    // CLONE_PARENT: the container's first process is ours, as a
    // Launcher's is, and so is the template.
    CHECK(parent_of(init->pid()) == ::getpid());
    CHECK(parent_of(pool.template_pid()) == ::getpid());
    REQUIRE(init->signal(SIGKILL));
    CHECK(init->wait()->signaled);
  }
  CHECK(pool.template_starts() == 1);
  CHECK(pool.sealed_copies() == 1);
  CHECK(pool.launches() == 5);
  // The template holds its control socket and stderr, nothing else.
  std::string fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(first_template) + "/fd"))
    fds += e.path().filename().string() + " ";
  CHECK(fds == "2 3 ");
  check_nothing_left();
}

TEST_CASE("pool: its inits start directly only from a template on the sealed memfd; from a read-only view, by stage 0") {
  require_root();
  struct Case {
    const char* name;
    LauncherConfig config;
    bool direct;
  };
  const Case cases[] = {
      {"the sealed memfd (the default)", {.init_binary = kNsrun}, true},
      // The clone could not protect itself, and a read-only view, unlike a
      // sealed memfd, is nothing it can check: stage 0 runs and decides.
      {"a detached read-only mount", {.init_binary = kNsrun, .prefer_read_only_mount = true}, false},
      {"the binary's path", {.init_binary = kNsrun, .exec_from_sealed_memfd = false}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    TestLauncher pool(c.config);
    Capture out;
    auto init = pool.launch(own_userns_root_unmapped(), nsrun_running({"/bin/sh", "-c", "echo uid=$(id -u) pid=$$"}, out.writer()));
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    CHECK(init->started_directly() == c.direct);
    CHECK(init->stage1_pid() == -1);  // one clone either way: nothing is joined
    const std::string text = out.text();
    CHECK(init->wait()->success());
    CHECK(text == "uid=0 pid=1\n");
  }
  check_nothing_left();
}

TEST_CASE("pool: an init from the pool inherits exactly what one from the Launcher does") {
  require_root();
  const LauncherLeftovers leftovers;
  const std::string probe = std::string(kInheritedState) +
                            "; cat /proc/self/cgroup /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups";
  auto state_from = [&](auto& launcher, ExecFrom& from) {
    auto opt = nsrun_running({"/bin/sh", "-c", probe}, -1);
    opt.argv.insert(opt.argv.begin() + 1, "--no-reaper");
    opt.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "PROBE=1"};
    return what_the_command_says(launcher, opt, from);
  };
  Launcher launcher({.init_binary = kNsrun});
  TestLauncher pool({.init_binary = kNsrun});
  ExecFrom launcher_from = ExecFrom::Path, pool_from = ExecFrom::Path;
  const std::string exec_state = state_from(launcher, launcher_from);
  const std::string pool_state = state_from(pool, pool_from);
  CHECK(launcher_from == ExecFrom::SealedMemfd);
  CHECK(pool_from == ExecFrom::PoolTemplate);
  CHECK(pool_state == exec_state);
  check_clean_state(pool_state);
  CHECK(pool_state.find("PROBE=1\n") != std::string::npos);
  CHECK(pool_state.find("0      65534          1") != std::string::npos);  // nobody mapped to root
  check_nothing_left();
}

TEST_CASE("pool: its inits join namespaces and get time offsets (runc 1.2's profile)") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  // A container to join: its own uts namespace, alive until killed.
  auto target = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/sleep", "1000"}, -1));
  REQUIRE_MESSAGE(target, (target ? "" : to_string(target.error())));
  const std::string target_uts = nsenter::test::ns_link("/proc/" + std::to_string(target->pid()), "uts");
  Bootstrap joining;
  joining.ns_paths = {{NsKind::uts, "/proc/" + std::to_string(target->pid()) + "/ns/uts"}};
  Capture joined;
  auto init = pool.launch(joining, nsrun_running({"/bin/readlink", "/proc/self/ns/uts"}, joined.writer()));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(joined.text() == target_uts + "\n");
  CHECK(init->wait()->success());
  REQUIRE(target->signal(SIGKILL));
  CHECK(target->wait()->signaled);

  Bootstrap timed;
  timed.clone_flags = NsSet{NsKind::time, NsKind::pid};
  timed.time_offsets = {{Clock::monotonic, 86400, 5}};
  LaunchOptions opt = nsrun_running({"/bin/sh", "-c", "tr -s ' ' </proc/self/timens_offsets | tr '\\n' ';'"}, -1);
  opt.profile = wire::Profile::Runc12;
  Capture offsets;
  opt.stdio[1] = offsets.writer();
  auto in_time = pool.launch(timed, opt);
  REQUIRE_MESSAGE(in_time, (in_time ? "" : to_string(in_time.error())));
  CHECK(offsets.text() == "monotonic 86400 5;boottime 0 0;");
  CHECK(in_time->wait()->success());
  check_nothing_left();
}

TEST_CASE("pool: a template that died is a typed error, and the next launch starts a new one") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  auto first = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_MESSAGE(first, (first ? "" : to_string(first.error())));
  CHECK(first->wait()->success());
  const pid_t dead = pool.template_pid();
  REQUIRE(dead > 0);
  REQUIRE(::kill(dead, SIGKILL) == 0);  // our own child, started by this pool
  auto lost = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_FALSE(lost);
  CHECK(lost.error().code == Code::TemplateGone);
  CHECK(lost.error().stage == Stage::Launcher);
  CHECK(pool.template_pid() == -1);
  CHECK(launched_children().empty());  // the dead template is reaped
  auto next = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_MESSAGE(next, (next ? "" : to_string(next.error())));
  CHECK(next->wait()->success());
  CHECK(pool.template_starts() == 2);
  CHECK(pool.template_pid() != dead);
  check_nothing_left();
}

TEST_CASE("pool: a request larger than the socket's buffer arrives whole") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  // 600 KB of environment, in six variables (exec takes at most 128 KB in
  // one): several of the control socket's buffers, sent as the template
  // reads them.
  const std::string big(100 * 1024, 'x');
  LaunchOptions opt = nsrun_running({"/bin/sh", "-c", "printf %s \"$B1$B2$B3$B4$B5$B6\" | wc -c"}, -1);
  opt.env = std::vector<std::string>{"PATH=/usr/bin:/bin"};
  for (int i = 1; i <= 6; ++i) opt.env->push_back("B" + std::to_string(i) + "=" + big);
  Capture out;
  opt.stdio[1] = out.writer();
  auto init = pool.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  CHECK(out.text() == std::to_string(6 * big.size()) + "\n");
  CHECK(init->wait()->success());
  check_nothing_left();
}

TEST_CASE("pool: a binary that cannot serve as a template is refused, saying why") {
  require_root();
  // c_embed wires its pipeline through the C API, whose constructor does
  // not serve: it runs main() and exits.
  TestLauncher pool({.init_binary = kCEmbed});
  for (int i = 0; i < 2; ++i) {
    auto init = pool.launch(pid_uts_ipc_mnt(), running({"c_embed"}, {-1, -1, -1}));
    REQUIRE_FALSE(init);
    CHECK(init.error().code == Code::TemplateGone);
    CHECK(init.error().detail_view().find("NSENTER_INIT_CONSTRUCTOR") != std::string_view::npos);
    CHECK(pool.template_pid() == -1);
  }
  CHECK(pool.template_starts() == 2);
  check_nothing_left();
}

TEST_CASE("pool: a clone the template cannot make is the kernel's errno, and the template serves on") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  auto first = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE(first);
  CHECK(first->wait()->success());
  // The template alone in a pids cgroup that holds one process: its next
  // clone is EAGAIN.
  const std::string root = "/sys/fs/cgroup/pids";
  REQUIRE_MESSAGE(std::filesystem::exists(root + "/cgroup.procs"), "no cgroup v1 pids hierarchy at " << root);
  const std::string dir = root + "/nsenter-pool-test-" + std::to_string(::getpid());
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  const std::string template_pid = std::to_string(pool.template_pid());
  struct Undo {
    std::string root, dir, pid;
    ~Undo() {
      std::ofstream(root + "/cgroup.procs") << pid;
      ::rmdir(dir.c_str());
    }
  } undo{root, dir, template_pid};
  std::ofstream(dir + "/pids.max") << "1";
  { std::ofstream(dir + "/cgroup.procs") << template_pid; }
  REQUIRE(nsenter::test::read_file(dir + "/cgroup.procs") == template_pid + "\n");
  auto refused = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().op == Op::Clone);
  CHECK(refused.error().sys_errno == EAGAIN);
  CHECK(refused.error().stage == Stage::Launcher);
  // The template is fine: room again, and it serves.
  std::ofstream(dir + "/pids.max") << "max";
  auto next = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_MESSAGE(next, (next ? "" : to_string(next.error())));
  CHECK(next->wait()->success());
  CHECK(pool.template_starts() == 1);
  check_nothing_left();
}

TEST_CASE("pool: a template that stops answering is a deadline, and is replaced") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  auto first = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE(first);
  CHECK(first->wait()->success());
  const pid_t wedged = pool.template_pid();
  REQUIRE(::kill(wedged, SIGSTOP) == 0);
  LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
  opt.timeout = 300ms;
  auto lost = pool.launch(pid_uts_ipc_mnt(), opt);
  REQUIRE_FALSE(lost);
  CHECK(lost.error().code == Code::TimedOut);
  CHECK(pool.template_pid() == -1);  // killed and reaped
  CHECK(::kill(wedged, 0) != 0);
  auto next = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_MESSAGE(next, (next ? "" : to_string(next.error())));
  CHECK(next->wait()->success());
  check_nothing_left();
}

TEST_CASE("pool: 32 threads launching at once") {
  require_root();
  TestLauncher pool({.init_binary = kNsrun});
  CHECK(launch_from_threads(pool, 32, 3, own_userns_root_unmapped()) == std::pair{96, 0});
  CHECK(pool.template_starts() == 1);
  check_nothing_left();
}

TEST_CASE("pool: a forked child cannot use or end its parent's template") {
  require_root();
  auto* pool = new TestLauncher({.init_binary = kNsrun});
  auto first = pool->launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE(first);
  CHECK(first->wait()->success());
  const pid_t template_pid = pool->template_pid();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto init = pool->launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
    const bool refused = !init && init.error().sys_errno == ECHILD;
    delete pool;  // drops its copies; the parent's template lives on
    ::_exit(refused ? 0 : 1);
  }
  int status = -1;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(pool->template_pid() == template_pid);
  auto after = pool->launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
  REQUIRE_MESSAGE(after, (after ? "" : to_string(after.error())));
  CHECK(after->wait()->success());
  CHECK(pool->template_starts() == 1);
  delete pool;
  check_nothing_left();
}

TEST_CASE("pool: its destructor stops the template and leaves no process") {
  require_root();
  pid_t template_pid = -1;
  {
    TestLauncher pool({.init_binary = kNsrun});
    auto init = pool.launch(pid_uts_ipc_mnt(), nsrun_running({"/bin/true"}, -1));
    REQUIRE(init);
    CHECK(init->wait()->success());
    template_pid = pool.template_pid();
    REQUIRE(template_pid > 0);
  }
  CHECK(::kill(template_pid, 0) != 0);  // gone and reaped: no zombie either
  CHECK(errno == ESRCH);
  check_nothing_left();
}

TEST_CASE("pool: rootless, as nobody, with a pool of its own") {
  require_root();
  // nobody cannot read Bazel's runfiles under /root: a world-readable copy.
  nsenter::test::WorldExecutable nsrun(kNsrun);
  const auto nobody = as_nobody([&](int report) {
    TestLauncher pool({.init_binary = nsrun.path()});
    for (int i = 0; i < 2; ++i) {
      auto init = pool.launch(rootless_sandbox(),
                              nsrun_running({"/bin/sh", "-c", "echo uid=$(id -u) pid=$$ map=$(cat /proc/self/uid_map | tr -s ' ')"},
                                            report));
      if (!init) return launch_failed(report, init.error());
      auto status = init->wait();
      if (!status || !status->success()) return 12;
    }
    return pool.template_starts() == 1 ? 0 : 13;
  });
  const int code = nobody.first;
  const std::string& text = nobody.second;
  CHECK_MESSAGE(code == 0, text);
  CHECK(text == "uid=0 pid=1 map= 0 65534 1\nuid=0 pid=1 map= 0 65534 1\n");
  check_nothing_left();
}

TEST_CASE("pool: what the launcher writes for a direct start, refused, is its typed error, and nothing is left") {
  require_root();
  nsenter::test::WorldExecutable nsrun(kNsrun);
  const auto nobody = as_nobody([&](int report) {
    TestLauncher pool({.init_binary = nsrun.path()});
    // Lowering oom_score_adj takes CAP_SYS_RESOURCE: stage 0's own
    // write, made by the launcher here, fails with EACCES.
    Bootstrap b = rootless_sandbox();
    b.oom_score_adj = -500;
    auto init = pool.launch(b, nsrun_running({"/bin/true"}, report));
    if (init) return 11;
    const Error& e = init.error();
    const std::string said = fmt::format("op={} stage={} errno={} {}", static_cast<int>(e.op), static_cast<int>(e.stage),
                                         e.sys_errno, to_string(e));
    [[maybe_unused]] auto n = ::write(report, said.data(), said.size());
    return e.op == Op::OomScoreAdj && e.stage == Stage::Launcher && e.sys_errno == EACCES ? 0 : 12;
  });
  const int code = nobody.first;
  const std::string& text = nobody.second;
  CHECK_MESSAGE(code == 0, text);
  CHECK_MESSAGE(text.find("oom_score_adj") != std::string::npos, text);  // the file named
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: an init from the pool runs from the sealed memfd and cannot be written through /proc/PID/exe") {
  require_root();
  nsenter::test::WorldExecutable copy("/proc/self/exe");  // this test program, an init too
  const std::string before = file_bytes(copy.path());
  std::optional<TestLauncher> pool;
  pool.emplace(LauncherConfig{.init_binary = copy.path()});
  auto [in, release] = hold_pipe();
  auto init = pool->launch(pid_uts_ipc_mnt(), running({"launcher_pool_test", "hold", "--", "/bin/true"}, {in.get(), -1, 2}));
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  in.reset();
  // While the template runs from the memfd too, a write is ETXTBSY; the
  // handle is reopened once the init and the template (the pool) are gone,
  // where only the seals stand in the way.
  const std::string verdict = attack(init->pid(), copy.path(), std::move(release), [&] {
    CHECK(init->wait()->success());
    pool.reset();
  });
  check_attack_failed(verdict, "memfd", before, copy.path());
  CHECK_MESSAGE(verdict.find("reopen=opened, EPERM") != std::string::npos, verdict);  // sealed against writes
  check_nothing_left();
}

#endif
