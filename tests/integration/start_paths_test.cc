// SPDX-License-Identifier: Apache-2.0
// How the Launcher starts an init (start_plan.hpp; docs/design.md, "How an
// init starts"), one case per leaf that needs root: exec'd from the sealed
// memfd or the read-only mount, forked (in_process_init) where nothing
// needs protecting, forked non-dumpable, forked onto the read-only mount,
// the direct start and its check as the container's root, and runc's own
// nsexec asked for one clone. Each case checks InitProcess::start() (the
// plan, and where the code came from) as well as what the init did.
#include "launch_support.hpp"

int main(int argc, char** argv) { return run_launch_tests(argc, argv); }

#if !defined(__SANITIZE_ADDRESS__)
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
  // exec'd (from disk: nothing to protect, which the init finds itself).
  CHECK(with_second_thread([&] { return from(own_userns_root_unmapped()); }) == "one-clone path");
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
