// SPDX-License-Identifier: Apache-2.0
// The InitPool's own behaviour (launch_support.hpp, built with
// NSENTER_TEST_THROUGH_POOL): one template exec'd once whose clones are our
// children, direct starts only from a sealed template, an init from the
// pool against one from the Launcher, a template that dies or stops
// answering, large requests, 32 threads, a forked child, rootless pools,
// and CVE-2019-5736 on a pool's init. The Launcher's launches through a
// pool are launch_test's, built as launcher_pool_test.
#include "launch_support.hpp"

int main(int argc, char** argv) { return run_launch_tests(argc, argv); }

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
  const AttackTarget copy("/proc/self/exe");  // this test program, an init too
  std::optional<TestLauncher> pool;
  pool.emplace(LauncherConfig{.init_binary = copy.path()});
  // While the template runs from the memfd too, a write is ETXTBSY; the
  // handle is reopened once the init and the template (the pool) are gone,
  // where only the seals stand in the way.
  const std::string verdict =
      attack_held_init(*pool, copy, running({"launcher_pool_test", "hold", "--", "/bin/true"}, {-1, -1, 2}),
                       pid_uts_ipc_mnt(), [&] { pool.reset(); })
          .verdict;
  copy.check_failed(verdict, "memfd");
  CHECK_MESSAGE(verdict.find("reopen=opened, EPERM") != std::string::npos, verdict);  // sealed against writes
  check_nothing_left();
}
