// SPDX-License-Identifier: Apache-2.0
// CVE-2019-5736, attempted on every path that starts an init through the
// Launcher: a process of the container opens /proc/PID/exe of the init (or
// of nsrun's reaper) and tries to write the binary, on a copy this test
// made; each case checks what the handle leads to before writing. Also
// the init's own protection (runc's bind mount in the state directory).
// The pool's case is in pool_test.
#include "launch_support.hpp"

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

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--launch-forked-holding") return launch_forked_holding();
  return run_launch_tests(argc, argv);
}

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

TEST_CASE("CVE-2019-5736: an init exec'd from the Launcher's sealed memfd cannot be written through /proc/PID/exe") {
  require_root();
  const AttackTarget copy(kCEmbed);
  Launcher launcher({.init_binary = copy.path()});
  const std::string verdict = attack_held_init(launcher, copy, running({"c_embed", "hold"}, {-1, -1, 2})).verdict;
  copy.check_failed(verdict, "memfd");
  CHECK(verdict.find("reopen=opened, EPERM") != std::string::npos);  // sealed against writes
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: an init that protects itself as root runs from a mount nobody can write") {
  require_root();
  const AttackTarget copy(kCEmbed);
  Launcher launcher({.init_binary = copy.path(), .exec_from_sealed_memfd = false});
  const std::string verdict = attack_held_init(launcher, copy, running({"c_embed", "hold"}, {-1, -1, 2})).verdict;
  // The very file, on its detached read-only mount.
  copy.check_failed(verdict, "copy");
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);  // mounted nowhere: out of mount_setattr's reach
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: the Launcher's read-only mount of the binary cannot be made writable while the Launcher holds it") {
  require_root();
  const AttackTarget copy(kCEmbed);
  // As nsrun runs: one mount for every init, kept by the Launcher for its
  // life, here past the init's exit, when the attacker reopens its handle
  // (a joined container's processes outlive the init that joined them).
  Launcher launcher({.init_binary = copy.path(), .prefer_read_only_mount = true});
  const HeldAttack seen = attack_held_init(launcher, copy, running({"c_embed", "hold"}, {-1, -1, 2}));
  const std::string& verdict = seen.verdict;
  CHECK(seen.start.image == ExecFrom::ReadOnlyMount);
  copy.check_failed(verdict, "copy");
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  // The attacker's own user and mount namespace gave it CAP_SYS_ADMIN
  // over a mount namespace; the mount it holds a handle to must not be
  // one that mount_setattr(2) still reaches.
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: on a kernel without open_tree, an init protects itself in place onto runc's bind mount in the state directory") {
  require_root();
  const AttackTarget copy(kCEmbed);
  char state[] = "/tmp/nsenter-state.XXXXXX";
  REQUIRE(::mkdtemp(state) != nullptr);
  const std::string mounts_before = mount_table();
  // The init binary is the wrapper; it execs the copy with open_tree and
  // mount_setattr failing as on Linux < 5.2.
  Launcher launcher({.init_binary = kRefuseCalls, .exec_from_sealed_memfd = false});
  LaunchOptions opt = running({"c_embed", "hold"}, {-1, -1, 2});
  opt.state_dir = state;
  opt.env = std::vector<std::string>{"NSENTER_TEST_EXEC=" + copy.path(), "NSENTER_TEST_REFUSE=mount_api"};
  opt.log_level = LogLevel::Debug;
  std::vector<std::string> said;
  opt.on_log = [&](const LogRecord& r) { said.push_back(r.text); };
  const std::string verdict = attack_held_init(launcher, copy, opt).verdict;
  // The very file, seen through a bind mount that is read-only and was
  // detached before the init ran anything.
  copy.check_failed(verdict, "copy");
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
  const AttackTarget copy(kCEmbed);
  // nobody's own binary, and nobody is root in the container: the kernel
  // would let the container write it.
  REQUIRE(::chown(copy.path().c_str(), kNobody, kNobody) == 0);
  // The runtime is nobody; the attacker (root) waits for its init's pid.
  int pid_pipe[2];
  REQUIRE(::pipe2(pid_pipe, O_CLOEXEC) == 0);
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
  in.reset();
  pid_t pid = -1;
  REQUIRE(::read(pid_pipe[0], &pid, sizeof pid) == sizeof pid);
  ::close(pid_pipe[0]);
  REQUIRE(pid > 0);
  int code = -1;
  const std::string verdict = attack(pid, copy.path(), std::move(release), [&] { code = exit_code_of(runtime); });
  CHECK(code == 0);
  copy.check_failed(verdict, "memfd");
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: a rootless init whose container cannot write its binary runs it from disk, and the container still cannot write it") {
  require_root();  // to become nobody
  const AttackTarget nsrun_copy(kNsrun);  // root's: mapped nowhere in the container
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  // The init decides by itself, from the message (no word from the
  // runtime): exec'd from disk, it copies nothing and does not re-execute.
  // Inside, a process runs the binary from disk (what a #!/proc/self/exe
  // command would start) and the attacker goes for it. The shell is pid 1
  // of the container's pid namespace, with a /proc of its own: what it
  // leaves running dies with it.
  const std::string attack =
      "mount -t proc proc /proc || exit 30; " + attack_a_process_running(attacker_copy.path(), nsrun_copy.path());
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
  CHECK(nsrun_copy.unchanged());
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: the nsrun tool's pid-1 reaper runs from a read-only mount of its binary, as root") {
  require_root();
  const AttackTarget copy(kNsrun);
  auto [in, release] = hold_pipe();
  const pid_t tool = start_command(copy.path(), {"nsrun", "--no-tty", "-p", "--", "sh", "-c", "cat >/dev/null"}, in.get(), -1, -1);
  REQUIRE(tool >= 0);
  in.reset();
  // The reaper is the tool's child once the launch is done: stage 2, pid 1
  // of the new pid namespace, named nsrun:init.
  pid_t reaper = -1;
  for (int i = 0; i < 2000 && reaper < 0; ++i) {
    std::ifstream children("/proc/" + std::to_string(tool) + "/task/" + std::to_string(tool) + "/children");
    for (pid_t child; children >> child;)
      if (file_bytes("/proc/" + std::to_string(child) + "/comm") == "nsrun:init\n") reaper = child;
    if (reaper < 0) ::usleep(5000);
  }
  REQUIRE(reaper > 0);
  int code = -1;
  const std::string verdict = attack(reaper, copy.path(), std::move(release), [&] { code = exit_code_of(tool); });
  CHECK(code == 0);
  // The very file (nsrun's Launcher prefers the mount, which copies
  // nothing), on a mount nobody can write.
  copy.check_failed(verdict, "copy");
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: a forked init that must be protected moves onto the Launcher's read-only mount, and nothing writes the binary") {
  require_root();
  // A copy of this program is both the launcher and, forked, the init.
  const AttackTarget copy("/proc/self/exe");
  auto [in, release] = hold_pipe();
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t tool = start_command(copy.path(), {"launcher_test", "--launch-forked-holding"}, in.get(), out[1], -1);
  REQUIRE(tool >= 0);
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
  int code = -1;
  const std::string verdict = attack(init, copy.path(), std::move(release), [&] { code = exit_code_of(tool); });
  said += nsenter::test::read_to_end_and_close(out[0]);
  INFO(said);
  CHECK(code == 0);
  CHECK(said.find("from=a fork of the launcher, moved onto a read-only mount of the binary (no exec)") != std::string::npos);
  CHECK(said.find("protected in place: /proc/self/exe moved onto the runtime's read-only view of itself") != std::string::npos);
  // The very file, on the Launcher's mount: read-only, mounted nowhere.
  copy.check_failed(verdict, "copy");
  CHECK(verdict.find("direct=ETXTBSY") != std::string::npos);
  CHECK(verdict.find("reopen=EROFS") != std::string::npos);
  CHECK(verdict.find("remount=mount_setattr EINVAL") != std::string::npos);
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: as root, the nsrun tool forks its init non-dumpable, and its container reaches no handle to the binary") {
  require_root();
  const AttackTarget nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  // Root mapped to root: the container could write the binary, had it a
  // handle. The attacker is the container's command and goes for pid 1
  // (the reaper, a fork of the tool: the binary on disk); without a pid
  // namespace, for its parent: the tool itself, in the host's.
  for (const auto& [flags, victim] : {std::pair{std::vector<std::string>{}, "1"},
                                      std::pair{std::vector<std::string>{"-U", "-r", "-m", "-u", "-i"}, "$PPID"}}) {
    Capture out;
    std::vector<std::string> args = flags;
    for (const std::string a : {"--", "/bin/sh", "-c"}) args.push_back(a);
    args.push_back("exec " + attack_at_once(attacker_copy.path(), victim, nsrun_copy.path()));
    const int code = run_tool(nsrun_copy.path(), args, out.writer());
    const std::string said = out.text();
    // Not even a handle to look at: /proc/PID/exe is refused outright.
    nsrun_copy.check_tool_attack(code, said, "forked us non-dumpable, out of the container's reach",
                                 "target=none direct=EACCES reopen=none");
  }
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: rootless, the nsrun tool copies nothing, and its container still cannot write the binary") {
  require_root();  // to become nobody
  const AttackTarget nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  // The default sandbox as nobody: its own user namespace, nobody mapped to
  // root there, the binary's owner (root) mapped nowhere. The attacker is
  // the container's command; pid 1 is the tool's reaper, a fork of the tool
  // (no exec), so the binary on disk. It reopens its handle at once (--now): no process of
  // the container outlives the reaper (the pid namespace dies with it), so
  // there is no later moment to wait for.
  const auto run = as_nobody([&](int report) {
    return run_tool(nsrun_copy.path(), {"--", attacker_copy.path(), "1", nsrun_copy.path(), "--now"}, report);
  });
  // Nothing copied, nothing mounted, not even an exec: the init ran from
  // the file itself, a fork of the tool. The reaper's /proc/1/exe is the
  // very file, and every write is refused.
  nsrun_copy.check_tool_attack(run.first, run.second, "no re-exec: the runtime says the container cannot write /proc/self/exe",
                               "target=copy direct=EACCES reopen=EACCES remount=none");
  check_nothing_left();
}

TEST_CASE("CVE-2019-5736: rootless, nsrun -t joins a rootless container copying nothing, and the container still cannot write the binary") {
  require_root();  // to become nobody
  const AttackTarget nsrun_copy(kNsrun);
  nsenter::test::WorldExecutable attacker_copy(kAttacker);
  // nobody's container: its own user namespace (root there is nobody
  // outside; the binary's owner, root, is mapped nowhere), pid, mnt (with
  // its own /proc), uts and ipc. nsrun -t joins all five. Inside, a process runs the binary
  // from disk (what a #!/proc/self/exe command of a forked stage 2 would
  // start) and the attacker goes for it.
  const std::string attack = attack_a_process_running(attacker_copy.path(), nsrun_copy.path());
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
    const int code = run_tool(nsrun_copy.path(), {"-t", std::to_string(target), "--", "/bin/sh", "-c", attack}, report);
    ::kill(target, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    return code;
  });
  // No copy, no mount, not even an exec of the init: its container cannot
  // write the binary (unwritable_exe.hpp, for joins).
  nsrun_copy.check_tool_attack(run.first, run.second, "no re-exec: the runtime says the container cannot write /proc/self/exe",
                               "target=copy direct=EACCES reopen=EACCES remount=none");
  check_nothing_left();
}
