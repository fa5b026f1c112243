// SPDX-License-Identifier: Apache-2.0
// The Launcher's launches against real inits (launch_support.hpp): what a
// start hands back (namespaces, pipes, logs, the start's breakdown),
// protocol breakers and every stage failing (typed errors, nothing left
// running), fds, cgroups, threads, rootless maps, mount sources, the
// parent-death signal, runc 1.2's protocol. Built twice: launcher_test,
// and launcher_pool_test (NSENTER_TEST_THROUGH_POOL), where every init is
// cloned by an InitPool's template; cases about what only a Launcher does
// are in the Launcher's build only. How an init starts is
// start_paths_test's; CVE-2019-5736, cve_2019_5736_test's; the pool's
// own behaviour, pool_test's.
#include "launch_support.hpp"

int main(int argc, char** argv) { return run_launch_tests(argc, argv); }

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
#endif

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
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
#endif

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
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

TEST_CASE("launch: from several threads at once") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  CHECK(launch_from_threads(launcher, 4, 5, pid_uts_ipc_mnt()) == std::pair{20, 0});
  CHECK(launcher.sealed_copies() == 1);
  check_nothing_left();
}

#ifndef NSENTER_TEST_THROUGH_POOL  // the Launcher run only
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

TEST_CASE("launch: with a parent-death signal the container dies with the thread that launched it") {
  require_root();
  const int status = orphaned_init(SIGKILL).second;  // not a binding: clang 14 cannot capture one
  CHECK_MESSAGE((status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "status " << status);
  // Without one it lives on, as runc's containers do (the case above is
  // what the option changes).
  CHECK(orphaned_init(0).second == -1);
  check_nothing_left();
}

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

// What the command says of its namespaces and of the namespaces its own fds
// hold (none, if the held joins' fds were closed at its exec).
const char* const kNsAndFds =
    "for k in uts ipc net user; do echo $k=$(readlink /proc/self/ns/$k); done; "
    "for f in /proc/$$/fd/*; do readlink $f; done | grep -c ':\\[' | sed 's/^/ns_fds=/'";

TEST_CASE("launch: namespaces held as fds or through a pidfd are joined, and their fds do not reach the command") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  {
    auto warm = launcher.launch(Bootstrap{}, nsrun_running({"/bin/true"}, -1));  // the memfd, made once
    REQUIRE(warm);
    REQUIRE(warm->wait()->success());
  }
  const nsenter::test::Target target(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
  for (const wire::Profile profile : {wire::Profile::Runc11, wire::Profile::Runc12})
    for (const bool by_pidfd : {false, true}) {
      CAPTURE(wire::profile_name(profile));
      CAPTURE(by_pidfd);
      UniqueFd uts(::open(target.ns("uts").c_str(), O_RDONLY | O_CLOEXEC));
      UniqueFd net(::open(target.ns("net").c_str(), O_RDONLY | O_CLOEXEC));
      UniqueFd pidfd(nsenter::detail::pidfd_open(target.pid()));
      REQUIRE((uts && net && pidfd));
      Bootstrap b;
      b.clone_flags = NsSet{NsKind::pid, NsKind::mnt};
      if (by_pidfd) {
        b.ns_of_process = nsenter::NsOfProcess{.pidfd = pidfd.get(), .kinds = NsSet{NsKind::uts, NsKind::ipc, NsKind::net}};
      } else {
        b.ns_fds = {{NsKind::uts, uts.get()}, {NsKind::net, net.get()}};
        b.ns_paths = {{NsKind::ipc, target.ns("ipc")}};  // by path, beside the fds
      }
      const int fds_before = count_fds();
      Capture out;
      LaunchOptions opt = nsrun_running({"/bin/sh", "-c", kNsAndFds}, out.writer());
      opt.profile = profile;
      std::string text;
      {
        auto init = launcher.launch(b, opt);
        REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
        text = out.text();
        CHECK(init->wait()->success());
      }
      CHECK(text == "uts=" + nsenter::test::ns_link(target.proc(), "uts") + "\nipc=" +
                        nsenter::test::ns_link(target.proc(), "ipc") + "\nnet=" +
                        nsenter::test::ns_link(target.proc(), "net") + "\nuser=" + self_ns("user") + "\nns_fds=0\n");
      CHECK(count_fds() == fds_before);  // the Launcher kept none of them, nor of the pidfd's
      CHECK(launched_children() == std::vector<pid_t>{target.pid()});
    }
}

TEST_CASE("launch: a held join that is no namespace, of another kind, twice, or of a process gone is refused before anything starts") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  const nsenter::test::Target target(CLONE_NEWUTS);
  UniqueFd uts(::open(target.ns("uts").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd file(::open("/etc/hostname", O_RDONLY | O_CLOEXEC));
  auto [pipe_r, pipe_w] = hold_pipe();
  REQUIRE((uts && file));
  // A pidfd of a process that has exited and been reaped.
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  UniqueFd gone_pidfd(nsenter::detail::pidfd_open(gone));
  REQUIRE(gone_pidfd);
  ::waitpid(gone, nullptr, 0);
  struct Bad {
    const char* what;
    Bootstrap config;
    Code code;
    std::string detail;
  };
  auto with_fds = [](std::vector<nsenter::NsFd> fds, std::vector<NsPath> paths = {}) {
    Bootstrap b;
    b.ns_fds = std::move(fds);
    b.ns_paths = std::move(paths);
    return b;
  };
  auto of_process = [](int pidfd, NsSet kinds) {
    Bootstrap b;
    b.ns_of_process = nsenter::NsOfProcess{.pidfd = pidfd, .kinds = kinds};
    return b;
  };
  const std::string file_fd = std::to_string(file.get()), uts_fd = std::to_string(uts.get());
  const Bad bad[] = {
      {"a regular file", with_fds({{NsKind::net, file.get()}}), Code::NotANamespace,
       "net ns_fds[0] (fd " + file_fd + "): a regular file"},
      {"a uts namespace given as net", with_fds({{NsKind::net, uts.get()}}), Code::NotANamespace,
       "net ns_fds[0] (fd " + uts_fd + "): a namespace of kind uts"},
      {"a closed fd", with_fds({{NsKind::net, 1000}}), Code::SystemError, "net ns_fds[0] (fd 1000)"},
      {"uts by path and by fd", with_fds({{NsKind::uts, uts.get()}}, {{NsKind::uts, target.ns("uts")}}),
       Code::DuplicateNsKind, "uts ns_fds[0] (fd " + uts_fd + "): uts is joined twice"},
      {"a process gone", of_process(gone_pidfd.get(), NsSet{NsKind::net}), Code::NoProcess,
       "ns_of_process: pidfd " + std::to_string(gone_pidfd.get()) + ": its process has exited"},
      {"a pipe as a pidfd", of_process(pipe_r.get(), NsSet{NsKind::net}), Code::SystemError,
       "ns_of_process: pidfd " + std::to_string(pipe_r.get()) + ": not a pidfd"},
      {"no kinds", of_process(gone_pidfd.get(), NsSet{}), Code::BadNsPath,
       "ns_of_process: pidfd " + std::to_string(gone_pidfd.get()) + ": no namespace kinds named"},
  };
  const int fds_before = count_fds();
  for (const Bad& b : bad) {
    CAPTURE(b.what);
    auto init = launcher.launch(b.config, nsrun_running({"/bin/true"}, -1));
    REQUIRE(!init);
    CHECK(init.error().code == b.code);
    CHECK(init.error().op == Op::OpenNsPath);
    CHECK(init.error().stage == Stage::Launcher);
    CHECK(init.error().detail_view() == b.detail);
    CHECK(launched_children() == std::vector<pid_t>{target.pid()});  // nothing started
  }
  CHECK(count_fds() == fds_before);
}

TEST_CASE("launch: rootless, as nobody, joins the user and uts namespaces it holds as fds") {
  require_root();  // to become nobody
  nsenter::test::WorldExecutable nsrun_copy(kNsrun);  // nobody cannot read Bazel's runfiles under /root
  // nobody's container: a user namespace mapping its root to nobody, and
  // a uts namespace it owns (which only a process in that user namespace
  // may join: the init joins the user namespace first).
  const nsenter::test::Target target(CLONE_NEWUSER | CLONE_NEWUTS, kNobody);
  const auto run = as_nobody([&](int report) {
    TestLauncher launcher({.init_binary = nsrun_copy.path()});
    UniqueFd user(::open(target.ns("user").c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd uts(::open(target.ns("uts").c_str(), O_RDONLY | O_CLOEXEC));
    if (!user || !uts) return 20;
    Bootstrap b;
    b.ns_fds = {{NsKind::uts, uts.get()}, {NsKind::user, user.get()}};
    b.clone_flags = NsSet{NsKind::pid, NsKind::mnt};
    auto init = launcher.launch(b, nsrun_running({"/bin/sh", "-c", std::string("echo uid=$(id -u); ") + kNsAndFds}, report));
    if (!init) return launch_failed(report, init.error());
    auto status = init->wait();
    return status && status->success() ? 0 : 12;
  });
  const int code = run.first;
  const std::string& text = run.second;
  CHECK(launched_children() == std::vector<pid_t>{target.pid()});
  CHECK_MESSAGE(code == 0, text);
  CHECK(text == "uid=0\nuts=" + nsenter::test::ns_link(target.proc(), "uts") + "\nipc=" + self_ns("ipc") + "\nnet=" +
                    self_ns("net") + "\nuser=" + nsenter::test::ns_link(target.proc(), "user") + "\nns_fds=0\n");
}

// The Launcher run only: runc's init cannot be a template. Not under the
// sanitizers, whose runtime runc's nsexec hangs in (start_paths_test).
#if !defined(NSENTER_TEST_THROUGH_POOL) && !defined(__SANITIZE_ADDRESS__)
TEST_CASE("launch: runc's own nsexec joins a namespace the Launcher holds as an fd, by the path the Launcher names") {
  require_root();
  const nsenter::test::Target target(CLONE_NEWUTS | CLONE_NEWNET);
  UniqueFd net(::open(target.ns("net").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd pidfd(nsenter::detail::pidfd_open(target.pid()));
  REQUIRE((net && pidfd));
  Launcher launcher({.init_binary = kRuncInit});
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::pid};
  b.ns_fds = {{NsKind::net, net.get()}};
  b.ns_of_process = nsenter::NsOfProcess{.pidfd = pidfd.get(), .kinds = NsSet{NsKind::uts}};
  Capture out;
  LaunchOptions opt;
  opt.argv = {"runc_ref_init", "--", "/bin/sh", "-c", "readlink /proc/self/ns/uts /proc/self/ns/net"};
  opt.stdio = {-1, out.writer(), 2};
  auto init = launcher.launch(b, opt);
  REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
  const std::string text = out.text();
  CHECK(init->wait()->success());
  CHECK(text == nsenter::test::ns_link(target.proc(), "uts") + "\n" + nsenter::test::ns_link(target.proc(), "net") + "\n");
  CHECK(launched_children() == std::vector<pid_t>{target.pid()});
}
#endif

TEST_CASE("launch: the stages carry the names the runtime gives them, runc's otherwise; bad names start nothing") {
  require_root();
  TestLauncher launcher({.init_binary = kNsrun});
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::pid, NsKind::mnt};
  // nsrun's reaper is stage 2 kept as pid 1, its command its child.
  auto pid1_name = [&](std::optional<std::array<std::string, 3>> names) {
    Capture out;
    LaunchOptions opt;
    opt.argv = {"nsrun", "--reaper", "--", "/bin/sh", "-c", "mount -t proc proc /proc && cat /proc/1/comm"};
    opt.stdio = {-1, out.writer(), 2};
    opt.stage_names = std::move(names);
    auto init = launcher.launch(b, opt);
    REQUIRE_MESSAGE(init, (init ? "" : to_string(init.error())));
    const std::string text = out.text();
    CHECK(init->wait()->success());
    return text;
  };
  CHECK(pid1_name(std::array<std::string, 3>{"rt:parent", "rt:child", "rt:init"}) == "rt:init\n");
  CHECK(pid1_name(std::nullopt) == "runc:[2:INIT]\n");
  struct Bad {
    std::array<std::string, 3> names;
    std::string why;
  };
  for (const Bad& bad :
       {Bad{{"a b", "c", "d"}, "stage_names[0] \"a b\": not printable ASCII without spaces or commas"},
        Bad{{"a", "", "d"}, "stage_names[1] \"\": empty"},
        Bad{{"a", "b", "0123456789abcdef"}, "stage_names[2] \"0123456789abcdef\": longer than 15 bytes"}}) {
    LaunchOptions opt = nsrun_running({"/bin/true"}, -1);
    opt.stage_names = bad.names;
    auto init = launcher.launch(b, opt);
    REQUIRE(!init);
    CHECK(init.error().code == Code::BadEnv);
    CHECK(init.error().detail_view() == bad.why);
    CHECK(launched_children().empty());
  }
  check_nothing_left();
}
