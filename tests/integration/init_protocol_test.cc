// SPDX-License-Identifier: Apache-2.0
// The real nsrun binary driven as runc drives `runc init`, as root and as an
// unprivileged user: namespaces created and joined (checked through
// /proc/*/ns inodes and what the command sees), id maps, failures that must
// end with exit 1, the cause in a fatal log record, and no process left.
//
// Needs root (CAP_SYS_ADMIN) and user namespaces. It fails, loudly, where
// they are missing: a skipped test would show as passed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <pwd.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "init_driver.hpp"
#include "support/message_builder.hpp"
#include "support/root.hpp"
#include "support/subid_user.hpp"

using namespace nsenter::test;

namespace {

constexpr const char* kNsrun = "tools/nsrun/nsrun";  // runfiles paths
constexpr const char* kCEmbed = "tests/integration/c_embed";
constexpr const char* kRunc12Init = "tests/integration/runc12_init";
constexpr const char* kPidfdInit = "tests/integration/pidfd_init";
constexpr const char* kFaultInit = "tests/integration/fault_init";
constexpr const char* kRefuseCalls = "tests/integration/refuse_calls";
constexpr uid_t kNobody = 65534;

// Prints what the command sees, one key=value per line.
const std::vector<std::string> kReport = {
    "/bin/sh", "-c",
    "echo pid=$$; echo sid=$(cut -d' ' -f6 /proc/self/stat); echo uid=$(id -u); echo gid=$(id -g); echo host=$(hostname);"
    " echo uid_map=$(cat /proc/self/uid_map | tr -s ' ' | tr '\\n' ';');"
    " echo gid_map=$(cat /proc/self/gid_map | tr -s ' ' | tr '\\n' ';');"
    " echo setgroups=$(cat /proc/self/setgroups); echo oom=$(cat /proc/self/oom_score_adj);"
    " echo uptime=$(cut -d' ' -f1 /proc/uptime);"
    " echo timens_offsets=$(tr -s ' ' < /proc/self/timens_offsets | tr '\\n' ';');"
    " for k in mnt uts ipc net pid user cgroup time; do echo ns_$k=$(readlink /proc/self/ns/$k); done;"
    " echo fds=$(ls /proc/self/fd | sort -n | tr '\\n' ' ')"};


std::string self_ns(const char* kind) { return ns_link("/proc/self", kind); }


std::string fatal_of(const InitResult& r) { return r.fatal(); }

// What runc sends for a rootless container whose uid map has a second range
// (so a direct write is refused and `helper` must write it).
std::string rootless_two_range_message(const std::string& helper) {
  return MessageBuilder()
      .u32(kCloneFlags, CLONE_NEWUSER)
      .str(kUidMapPath, helper)
      .str(kUidMap, "0 65534 1\n1 100000 1000\n")
      .str(kGidMap, "0 65534 1\n")
      .u32(kRootlessEuid, 1)
      .build();
}

}  // namespace

TEST_CASE("root: every namespace kind created at once, with a user namespace") {
  require_root();
  const std::string msg = MessageBuilder()
                              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                                    CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME)
                              .str(kUidMap, "0 100000 65536\n")
                              .str(kGidMap, "0 100000 65536\n")
                              .u32(kSetGroup, 1)
                              .u32(kRootlessEuid, 0)
                              .build();
  const InitResult r = run_init(kNsrun, msg, kReport);
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["pid"] == "1");
  CHECK(v["sid"] == std::to_string(*r.stage2_pid));  // stage 2 leads its own session (as /proc sees it)
  CHECK(v["uid"] == "0");
  CHECK(v["gid"] == "0");
  CHECK(v["uid_map"] == " 0 100000 65536;");
  CHECK(v["gid_map"] == " 0 100000 65536;");
  for (const char* kind : {"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}) {
    CAPTURE(kind);
    CHECK(v[std::string("ns_") + kind].rfind(std::string(kind) + ":[", 0) == 0);
    CHECK(v[std::string("ns_") + kind] != self_ns(kind));
  }
  // The pid line names real processes: stage 2 ran the command as pid 1 of
  // its namespace, and both stages were reaped by us (ok() above).
  CHECK(*r.stage2_pid != *r.stage1_pid);
  // Only stdio reaches the command: no sync socket, namespace fd, init or
  // log pipe. (ls lists its own fds: stdio it inherited, and 3, the
  // directory it is reading.)
  CHECK(v["fds"] == "0 1 2 3");
}

TEST_CASE("root: each namespace kind alone") {
  require_root();
  const std::pair<const char*, int> kinds[] = {{"mnt", CLONE_NEWNS},         {"uts", CLONE_NEWUTS},  {"ipc", CLONE_NEWIPC},
                                               {"net", CLONE_NEWNET},        {"pid", CLONE_NEWPID},  {"cgroup", CLONE_NEWCGROUP},
                                               {"time", CLONE_NEWTIME}};
  for (const auto& entry : kinds) {
    const auto& [kind_binding, flag] = entry;
    const char* kind = kind_binding;  // CAPTURE takes it by reference: clang 14 cannot capture a binding
    CAPTURE(kind);
    const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, flag).u32(kRootlessEuid, 0).build(), kReport);
    INFO(r.describe());
    REQUIRE(r.ok());
    auto v = r.values();
    CHECK(v["sid"] == std::to_string(*r.stage2_pid));  // a session leader, whatever it creates
    for (const char* other : {"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}) {
      CAPTURE(other);
      if (std::string(other) == kind)
        CHECK(v[std::string("ns_") + other] != self_ns(other));
      else
        CHECK(v[std::string("ns_") + other] == self_ns(other));
    }
  }
}

TEST_CASE("root: the hostname set inside a new uts namespace stays inside") {
  require_root();
  utsname before{};
  ::uname(&before);
  const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS | CLONE_NEWPID).build(),
                                {"/bin/sh", "-c", "hostname nsenter-test && echo host=$(hostname) && echo pid=$$"});
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["host"] == "nsenter-test");
  CHECK(r.values()["pid"] == "1");
  utsname after{};
  ::uname(&after);
  CHECK(std::string(after.nodename) == before.nodename);
}

TEST_CASE("root: user namespace with a multi-range map") {
  require_root();
  const InitResult r = run_init(kNsrun,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER)
                                    .str(kUidMap, "0 100000 1000\n1000 300000 64536\n")
                                    .str(kGidMap, "0 200000 65536\n")
                                    .build(),
                                kReport);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["uid_map"] == " 0 100000 1000; 1000 300000 64536;");
  CHECK(r.values()["gid_map"] == " 0 200000 65536;");
}

TEST_CASE("root: oom_score_adj is written before the stages") {
  require_root();
  const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, 0).str(kOomScoreAdj, "500").build(), kReport);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["oom"] == "500");
}

// Both ways a join is made: by stage 1 (runc's three stages), or, where the
// runtime reads a one-pid line, by stage 0 before its one clone.
InitOptions joined_by(bool one_clone) {
  InitOptions opt;
  if (one_clone) opt.env = {{"_NSENTER_START", "one-clone"}};
  return opt;
}

TEST_CASE("root: join the namespaces of a live process, its user namespace owning the others") {
  require_root();
  bool one_clone = false;
  SUBCASE("stage 1 joins") {}
  SUBCASE("one clone: stage 0 joins") { one_clone = true; }
  const Target target(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  const std::string paths = "user:" + target.ns("user") + ",net:" + target.ns("net") + ",uts:" + target.ns("uts") +
                            ",ipc:" + target.ns("ipc");
  const InitResult r = run_init(
      kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWNS).str(kNsPaths, paths).build(), kReport,
      joined_by(one_clone));
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.one_clone() == one_clone);
  auto v = r.values();
  for (const char* kind : {"user", "net", "uts", "ipc"}) {
    CAPTURE(kind);
    CHECK(v[std::string("ns_") + kind] == ns_link(target.proc(), kind));
  }
  CHECK(v["pid"] == "1");
  CHECK(v["uid"] == "0");  // uid 0 inside maps to 100000 outside
  CHECK(v["uid_map"] == " 0 100000 65536;");
}

TEST_CASE("root: PidfdJoiner joins all of a process's namespaces in one setns") {
  require_root();
  bool one_clone = false;
  SUBCASE("stage 1 joins") {}
  SUBCASE("one clone: stage 0 joins") { one_clone = true; }
  const Target target(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  const std::string paths = "user:" + target.ns("user") + ",net:" + target.ns("net") + ",uts:" + target.ns("uts") +
                            ",ipc:" + target.ns("ipc");
  const InitResult r = run_init(kPidfdInit, MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).str(kNsPaths, paths).build(),
                                kReport, joined_by(one_clone));
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.one_clone() == one_clone);
  for (const char* kind : {"user", "net", "uts", "ipc"}) {
    CAPTURE(kind);
    CHECK(r.values()[std::string("ns_") + kind] == ns_link(target.proc(), kind));
  }
  CHECK(r.values()["uid"] == "0");
}

TEST_CASE("root: PidfdJoiner falls back to paths when they are not one process's") {
  require_root();
  const Target owner(CLONE_NEWUSER | CLONE_NEWUTS);
  const Target host_net(CLONE_NEWNET);
  const std::string paths = "user:" + owner.ns("user") + ",uts:" + owner.ns("uts") + ",net:" + host_net.ns("net");
  const InitResult r = run_init(kPidfdInit, MessageBuilder().u32(kCloneFlags, 0).str(kNsPaths, paths).build(), kReport);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["ns_user"] == ns_link(owner.proc(), "user"));
  CHECK(r.values()["ns_net"] == ns_link(host_net.proc(), "net"));
}

// This process's child named `comm` in state `state`, or -1.
pid_t child_named(const std::string& comm, char state) {
  for (pid_t pid : live_children()) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) continue;
    if (line.substr(open + 1, close - open - 1) == comm && line[close + 2] == state) return pid;
  }
  return -1;
}

TEST_CASE("security: a set-user-ID copy of an init, run by anyone with an init pipe or a template fd, is no init") {
  require_root();  // to make a set-user-ID root copy, and to become nobody
  // Our own copy of a test init (its main() returns 0), set-user-ID root;
  // removed with its directory at the end.
  nsenter::test::WorldExecutable copy(kRunc12Init);
  REQUIRE(::chmod(copy.path().c_str(), 04755) == 0);
  for (const char* variable : {"_LIBCONTAINER_INITPIPE", "_NSENTER_POOL_TEMPLATE"}) {
    CAPTURE(variable);
    int sp[2], err[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
          ::setresuid(kNobody, kNobody, kNobody) != 0)
        ::_exit(10);
      if (::dup2(sp[1], 3) != 3 || ::dup2(err[1], 2) != 2) ::_exit(11);
      ::setenv(variable, "3", 1);
      ::execl(copy.path().c_str(), "runc12_init", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(sp[1]);
    ::close(err[1]);
    // Nothing will be sent: an init would send its handshake byte, then
    // find no message and fail; a template would find no request and exit,
    // saying nothing. This program just runs main().
    ::shutdown(sp[0], SHUT_WR);
    char byte = 0;
    const ssize_t n = ::read(sp[0], &byte, 1);
    ::close(sp[0]);
    const std::string said = read_all(err[0]);
    ::close(err[0]);
    int status = -1;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(n == 0);
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "status " << status << ": " << said);
    CHECK(said == std::string("nsenter: ") + variable +
                      " ignored: a set-user-ID or file-capability program is never an init\n");
  }
}

TEST_CASE("security: _NSENTER_POOL_TEMPLATE in anyone's environment makes no template: empty is unset, and the fd must be our parent's socketpair") {
  require_root();
  struct Case {
    const char* what;
    const char* value;
    int fd_kind;  // 0: none; 1: a listening socket (socket activation's); 2: a socketpair made by our grandparent
    int status;
    const char* said;
  };
  const Case cases[] = {
      {"empty", "", 0, 0, ""},
      {"a listening socket", "3", 1, 2, "nsenter pool template: _NSENTER_POOL_TEMPLATE names no pool's control socket: a listening socket\n"},
      {"a socketpair our parent did not make", "3", 2, 2,
       "nsenter pool template: _NSENTER_POOL_TEMPLATE names no pool's control socket: its peer is not our parent (a pool's socketpair is made by its owner)\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    int sp[2], err[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);  // made by this process
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      int fd = -1;
      if (c.fd_kind == 1) {
        fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        const sockaddr_un autobind{.sun_family = AF_UNIX, .sun_path = {}};  // an abstract name of the kernel's choosing
        if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&autobind), sizeof(sa_family_t)) != 0 ||
            ::listen(fd, 1) != 0)
          ::_exit(10);
      }
      if (c.fd_kind == 2) fd = sp[1];
      if ((fd >= 0 && ::dup2(fd, 3) != 3) || ::dup2(err[1], 2) != 2) ::_exit(11);
      ::setenv("_NSENTER_POOL_TEMPLATE", c.value, 1);
      // The program runs as a grandchild of the socketpair's maker.
      const pid_t program = ::fork();
      if (program == 0) {
        ::execl(kRunc12Init, "runc12_init", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      int status = 0;
      if (program < 0 || ::waitpid(program, &status, 0) != program) ::_exit(12);
      ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    ::close(sp[1]);
    ::close(err[1]);
    ::shutdown(sp[0], SHUT_WR);  // a template would find no request and exit, not hang
    const std::string said = read_all(err[0]);
    ::close(err[0]);
    ::close(sp[0]);
    int status = -1;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == c.status), "status " << status << ": " << said);
    CHECK(said == c.said);
  }
}

TEST_CASE("security: a process in a joined user namespace can neither ptrace the joining stage nor read its environ") {
  require_root();
  const Target target(CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNET);
  const std::string paths = "user:" + target.ns("user") + ",uts:" + target.ns("uts") + ",net:" + target.ns("net");
  InitOptions opt;
  // The joining stage stops right after its joins, holding them, until we
  // are done: stage 1, or, in one clone, stage 0 (at its pid line).
  std::string joiner_name;
  SUBCASE("three stages: stage 1 joins") {
    opt.env = {{"NSENTER_TEST_FAULT", "stop:unshare 0x20000000"}, {"SECRET_OF_THE_RUNTIME", "do-not-leak"}};
    joiner_name = "runc:[1:CHILD]";
  }
  SUBCASE("one clone: stage 0 joins") {
    opt.env = {{"NSENTER_TEST_FAULT", "stop:write_all runc:[0:PARENT]"},
               {"SECRET_OF_THE_RUNTIME", "do-not-leak"},
               {"_NSENTER_START", "one-clone"}};
    joiner_name = "runc:[0:PARENT]";
  }
  std::string ptrace_errno = "?", environ_errno = "?";
  opt.after_send = [&](pid_t) {
    pid_t stage1 = -1;  // the joining stage
    for (int i = 0; i < 2000 && stage1 < 0; ++i) {
      stage1 = child_named(joiner_name.c_str(), 'T');
      if (stage1 < 0) ::usleep(5000);
    }
    REQUIRE(stage1 > 0);
    // The attacker: root of the joined user namespace (uid 100000 outside).
    int report[2];
    REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
    const pid_t attacker = ::fork();
    if (attacker == 0) {
      const int userns = ::open(target.ns("user").c_str(), O_RDONLY | O_CLOEXEC);
      if (userns < 0 || ::setns(userns, CLONE_NEWUSER) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0)
        ::_exit(10);
      std::string out;
      out += ::ptrace(PTRACE_ATTACH, stage1, nullptr, nullptr) == 0 ? "attached" : ::strerrorname_np(errno);
      out += " ";
      const int env = ::open(("/proc/" + std::to_string(stage1) + "/environ").c_str(), O_RDONLY | O_CLOEXEC);
      char buf[4096];
      const ssize_t n = env < 0 ? -1 : ::read(env, buf, sizeof buf);
      out += n >= 0 ? std::string("read ") + (std::string(buf, static_cast<std::size_t>(n)).find("do-not-leak") !=
                                                          std::string::npos
                                                      ? "secret"
                                                      : "nothing")
                    : ::strerrorname_np(errno);
      (void)!::write(report[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(report[1]);
    const std::string said = read_all(report[0]);
    ::close(report[0]);
    int status = 0;
    ::waitpid(attacker, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    ptrace_errno = said.substr(0, said.find(' '));
    environ_errno = said.substr(said.find(' ') + 1);
    ::kill(stage1, SIGKILL);  // done: the init fails and cleans up
  };
  const InitResult r =
      run_init(kFaultInit, MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).str(kNsPaths, paths).build(), kReport, opt);
  INFO(r.describe());
  CHECK(ptrace_errno == "EPERM");
  CHECK(environ_errno == "EACCES");
  // Stage 0 fails once its stage 1 is killed; a stage 0 killed itself (one
  // clone) leaves stage 2 to see its socket close.
  if (joiner_name == "runc:[0:PARENT]")
    CHECK((WIFSIGNALED(r.stage0_status) && WTERMSIG(r.stage0_status) == SIGKILL));
  else
    CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
}

TEST_CASE("root: join a user namespace and a netns it does not own") {
  require_root();
  // runc 1.1's order (user first) fails here: once inside the user
  // namespace we have no privilege over a netns owned by the host's.
  bool one_clone = false;
  SUBCASE("stage 1 joins") {}
  SUBCASE("one clone: stage 0 joins") { one_clone = true; }
  const Target owner(CLONE_NEWUSER | CLONE_NEWUTS);
  const Target host_net(CLONE_NEWNET);
  const std::string paths = "user:" + owner.ns("user") + ",uts:" + owner.ns("uts") + ",net:" + host_net.ns("net");
  const InitResult r =
      run_init(kNsrun, MessageBuilder().u32(kCloneFlags, 0).str(kNsPaths, paths).build(), kReport, joined_by(one_clone));
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.one_clone() == one_clone);
  CHECK(r.values()["ns_user"] == ns_link(owner.proc(), "user"));
  CHECK(r.values()["ns_uts"] == ns_link(owner.proc(), "uts"));
  CHECK(r.values()["ns_net"] == ns_link(host_net.proc(), "net"));
}

TEST_CASE("root: a new time namespace with clock offsets (runc 1.2 profile)") {
  require_root();
  // runc >= 1.2 sends the offsets in attribute 27290, one line per clock.
  const std::string msg = MessageBuilder()
                              .u32(kCloneFlags, CLONE_NEWTIME | CLONE_NEWUSER | CLONE_NEWPID)
                              .str(kUidMap, "0 100000 65536\n")
                              .str(kGidMap, "0 100000 65536\n")
                              .u32(kRootlessEuid, 0)
                              .str(27290, "boottime 1000000000 0\nmonotonic 86400 5\n")
                              .build();
  const InitResult r = run_init(kRunc12Init, msg, kReport);
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["ns_time"] != self_ns("time"));
  CHECK(v["timens_offsets"] == "monotonic 86400 5;boottime 1000000000 0;");
  // /proc/uptime follows CLOCK_BOOTTIME: over 31 years inside.
  CHECK(std::stod(v["uptime"]) > 1e9);
}

TEST_CASE("failure: time offsets without a new time namespace") {
  require_root();
  const InitResult r = run_init(
      kRunc12Init, MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).str(27290, "monotonic 5 0\n").build(), kReport);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.other_statuses.empty());
  CHECK(r.fatal().find("plan bootstrap: time offsets given without creating a time namespace") != std::string::npos);
}

TEST_CASE("root: join a time namespace by path, its offsets set before anyone entered") {
  require_root();
  bool one_clone = false;
  SUBCASE("stage 1 joins") {}
  SUBCASE("one clone: stage 0 joins") { one_clone = true; }
  const Target target(CLONE_NEWTIME);
  // unshare(CLONE_NEWTIME) applies to the target's future children: its
  // namespace is time_for_children, still empty, so offsets may be set.
  std::ofstream(target.proc() + "/timens_offsets") << "boottime 2000000000 0\n";
  const std::string path = target.ns("time_for_children");
  const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, 0).str(kNsPaths, "time:" + path).build(),
                                kReport, joined_by(one_clone));
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.one_clone() == one_clone);
  CHECK(r.values()["ns_time"] == ns_link(target.proc(), "time_for_children"));
  CHECK(std::stod(r.values()["uptime"]) > 2e9);
}

TEST_CASE("unprivileged: rootless user namespace mapping the user to root, setgroups denied") {
  require_root();  // to become nobody
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  const InitResult r = run_init(nsrun.path(),
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)
                                    .str(kUidMap, "0 65534 1\n")
                                    .str(kGidMap, "0 65534 1\n")
                                    .u32(kRootlessEuid, 1)
                                    .build(),
                                kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["uid"] == "0");
  CHECK(v["pid"] == "1");
  CHECK(v["sid"] == std::to_string(*r.stage2_pid));
  CHECK(v["uid_map"] == " 0 65534 1;");
  CHECK(v["setgroups"] == "deny");
  CHECK(v["ns_user"] != self_ns("user"));
}

TEST_CASE("unprivileged: multi-range maps through Debian's newuidmap/newgidmap") {
  require_root();  // to create the user
  REQUIRE_MESSAGE(::access("/usr/bin/newuidmap", X_OK) == 0, "install Debian's uidmap package (tools/setup.sh does)");
  SubidUser user;
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{user.uid(), user.gid()}};
  const std::string uid_map = "0 " + std::to_string(user.uid()) + " 1\n1 300000 65536\n";
  const std::string gid_map = "0 " + std::to_string(user.gid()) + " 1\n1 300000 65536\n";
  // What runc 1.1 sends for a rootless container with these maps (compare
  // tests/data/runc/rootless_multi.bin).
  const InitResult r = run_init(nsrun.path(),
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS)
                                    .str(kUidMapPath, "/usr/bin/newuidmap")
                                    .str(kUidMap, uid_map)
                                    .str(kGidMap, gid_map)
                                    .str(kGidMapPath, "/usr/bin/newgidmap")
                                    .u32(kSetGroup, 1)
                                    .u32(kRootlessEuid, 1)
                                    .build(),
                                kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["uid"] == "0");
  CHECK(v["uid_map"] == " 0 " + std::to_string(user.uid()) + " 1; 1 300000 65536;");
  CHECK(v["gid_map"] == " 0 " + std::to_string(user.gid()) + " 1; 1 300000 65536;");
  CHECK(v["setgroups"] == "allow");
}

TEST_CASE("embedding from C: stage 2 returns into main() with the init pipe open") {
  require_root();
  const InitResult r = run_init(kCEmbed,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
                                    .str(kUidMap, "0 100000 65536\n")
                                    .str(kGidMap, "0 100000 65536\n")
                                    .build(),
                                {});
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["pid"] == "1");
  CHECK(v["uid"] == "0");
  CHECK(v["ns_pid"] != self_ns("pid"));
  CHECK(v["init_pipe"] == "3");
  CHECK(r.pipe_tail == "hello from stage 2\n");
}

namespace {
std::string user_pid_message() {
  return MessageBuilder()
      .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
      .str(kUidMap, "0 100000 65536\n")
      .str(kGidMap, "0 100000 65536\n")
      .build();
}
// A rootless runtime's: a user namespace of its own, nobody mapped to root.
std::string nobody_as_root_message() {
  return MessageBuilder()
      .u32(kCloneFlags, CLONE_NEWUSER)
      .str(kUidMap, "0 65534 1\n")
      .str(kGidMap, "0 65534 1\n")
      .u32(kRootlessEuid, 1)
      .build();
}
// A container the init must protect itself from: no user namespace of
// its own, so its root is ours and could write our binary.
std::string pid_message() { return MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).build(); }
bool logged(const InitResult& r, const std::string& text) {
  for (const auto& l : r.log_lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

std::string mount_table() {
  std::ifstream in("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// ---- runc 1.2 to 1.5 as the parent (_LIBCONTAINER_SYNCPIPE, no NUL byte) -----------
// The plain init (nsrun: runc 1.1's policies, no project variable) tells
// the generation from the sync pipe alone.

namespace {
InitOptions as_runc12(InitOptions opt = {}) {
  opt.runc12 = true;
  return opt;
}
// For the cases that compare the two: a runc 1.1 parent in either build.
InitOptions as_runc11(InitOptions opt = {}) {
  opt.runc12 = false;
  return opt;
}
}  // namespace

TEST_CASE("runc 1.2+ parent: every namespace kind with time offsets in 27290, no NUL byte, the choice logged") {
  require_root();
  const std::string msg = MessageBuilder()
                              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                                                    CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME)
                              .str(kUidMap, "0 100000 65536\n")
                              .str(kGidMap, "0 100000 65536\n")
                              .u32(kRootlessEuid, 0)
                              .str(27290, "monotonic 86400 5\nboottime 1000000000 0\n")
                              .build();
  const InitResult r = run_init(kNsrun, msg, kReport, as_runc12());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.pid_line.front() == '{');  // what Go's json.Decoder wants first
  auto v = r.values();
  for (const char* k : {"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}) CHECK(v["ns_" + std::string(k)] != self_ns(k));
  CHECK(v["timens_offsets"] == "monotonic 86400 5;boottime 1000000000 0;");
  CHECK(v["uid_map"] == " 0 100000 65536;");
  CHECK(logged(r, "protocol runc-1.2: the runtime set _LIBCONTAINER_SYNCPIPE, as runc does from 1.2 on"));
  CHECK(logged(r, "=> nsexec container setup"));
  CHECK(logged(r, "<= nsexec container setup"));
}

TEST_CASE("runc 1.2+ parent: rootless, and a join, as runc 1.1's cases run") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  SUBCASE("rootless: nobody mapped to root") {
    InitOptions opt = as_runc12();
    opt.drop_to = {{kNobody, kNobody}};
    const InitResult r = run_init(nsrun.path(),
                                  MessageBuilder()
                                      .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS)
                                      .str(kUidMap, "0 65534 1\n")
                                      .str(kGidMap, "0 65534 1\n")
                                      .u32(kRootlessEuid, 1)
                                      .build(),
                                  kReport, opt);
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["uid"] == "0");
    CHECK(r.values()["pid"] == "1");
    CHECK(r.values()["setgroups"] == "deny");
  }
  SUBCASE("root: joins a process's namespaces") {
    const Target target(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
    const std::string paths =
        "user:" + target.ns("user") + ",net:" + target.ns("net") + ",uts:" + target.ns("uts") + ",ipc:" + target.ns("ipc");
    const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).str(kNsPaths, paths).build(), kReport,
                                  as_runc12());
    INFO(r.describe());
    REQUIRE(r.ok());
    for (const char* k : {"user", "net", "uts", "ipc"}) CHECK(r.values()["ns_" + std::string(k)] == ns_link(target.proc(), k));
  }
}

TEST_CASE("runc 1.2+ parent: the C entry point, as runc's cgo constructor calls it, tells the generation by itself too") {
  require_root();
  const InitResult r = run_init(kCEmbed,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME)
                                    .str(kUidMap, "0 100000 65536\n")
                                    .str(kGidMap, "0 100000 65536\n")
                                    .str(27290, "monotonic 7 0\n")
                                    .build(),
                                {}, as_runc12());
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.pid_line.front() == '{');
  CHECK(r.values()["ns_pid"] != self_ns("pid"));
  CHECK(r.pipe_tail == "hello from stage 2\n");  // the init pipe still open for the Go side's protocol
  CHECK(logged(r, "protocol runc-1.2: the runtime set _LIBCONTAINER_SYNCPIPE"));
}

// The owner of a new IPC namespace's mqueue as its namespace shows it:
// the superblock is made with the namespace, owned by whoever made it.
const std::vector<std::string> kMqueueOwner = {
    "/bin/sh", "-c",
    "echo uid=$(id -u); echo ns_ipc=$(readlink /proc/self/ns/ipc); echo ns_user=$(readlink /proc/self/ns/user);"
    " echo mqueue=$(unshare -m sh -c 'mount -t mqueue mq /mnt && stat -c %u:%g /mnt' 2>&1)"};

TEST_CASE("both generations: a new IPC namespace made after joining a user namespace belongs to the namespace's root (runc 1.2.1)") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  // Every generation, both plans (stage 1 joins; one clone: stage 0
  // joins), root (the namespace maps 0 to 100000, the host's root nowhere)
  // and rootless (nobody joins its own namespace).
  for (const bool runc12 : {false, true})
    for (const bool one_clone : {false, true})
      for (const bool rootless : {false, true}) {
        CAPTURE(runc12);
        CAPTURE(one_clone);
        CAPTURE(rootless);
        InitOptions opt = joined_by(one_clone);
        opt.runc12 = runc12;
        if (rootless) opt.drop_to = {{kNobody, kNobody}};
        const Target target(CLONE_NEWUSER, rootless ? std::optional<uid_t>(kNobody) : std::nullopt);
        const InitResult r = run_init(nsrun.path(),
                                      MessageBuilder()
                                          .u32(kCloneFlags, CLONE_NEWIPC | CLONE_NEWPID)
                                          .str(kNsPaths, "user:" + target.ns("user"))
                                          .u32(kRootlessEuid, rootless ? 1 : 0)
                                          .build(),
                                      kMqueueOwner, opt);
        INFO(r.describe());
        REQUIRE(r.ok());
        CHECK(r.one_clone() == one_clone);
        auto v = r.values();
        CHECK(v["ns_user"] == ns_link(target.proc(), "user"));
        CHECK(v["ns_ipc"] != self_ns("ipc"));
        CHECK(v["uid"] == "0");
        // Made while stage 1 still held the host's root, which the root
        // case's namespace does not map, it would show 65534:65534.
        CHECK(v["mqueue"] == "0:0");
      }
}

TEST_CASE("runc 1.2+ parent: the CPUs the init may run on are logged as runc 1.3 logs them; a runc 1.1 parent gets no such record") {
  require_root();
  cpu_set_t all;
  REQUIRE(::sched_getaffinity(0, sizeof all, &all) == 0);
  // The mask runc's cpu_affinity.bats builds: CPU N is bit N, in hex.
  const auto mask_of = [](const cpu_set_t& set) {
    unsigned long long mask = 0;
    for (int cpu = 0; cpu < 64; ++cpu)
      if (CPU_ISSET(cpu, &set)) mask |= 1ULL << cpu;
    char text[40];
    std::snprintf(text, sizeof text, "affinity: 0x%llx", mask);
    return std::string(text);
  };
  REQUIRE(CPU_COUNT(&all) >= 1);
  int last = CPU_SETSIZE - 1;
  while (!CPU_ISSET(last, &all)) --last;
  REQUIRE_MESSAGE(last < 64, "the mask is checked for CPUs 0-63");
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(last, &one);
  for (const cpu_set_t* set : {&all, &one}) {
    // runc's parent sets the init's affinity before it writes the message;
    // inherited from this thread here, the same by then.
    REQUIRE(::sched_setaffinity(0, sizeof *set, set) == 0);
    const InitResult r12 = run_init(kNsrun, pid_message(), kReport, as_runc12());
    const InitResult r11 = run_init(kNsrun, pid_message(), kReport, as_runc11());
    REQUIRE(::sched_setaffinity(0, sizeof all, &all) == 0);
    INFO(r12.describe());
    REQUIRE(r12.ok());
    REQUIRE(r11.ok());
    CAPTURE(mask_of(*set));
    CHECK(logged(r12, mask_of(*set) + "\"}"));  // the whole mask, the record's end
    CHECK(!logged(r11, "affinity: "));
  }
}

TEST_CASE("runc 1.1 parent: the NUL byte comes first, and the choice is logged") {
  require_root();
  const InitResult r = run_init(kNsrun, pid_message(), kReport, as_runc11());
  INFO(r.describe());
  REQUIRE(r.ok());  // run_init waits for the NUL before it sends
  CHECK(logged(r, "protocol runc-1.1: no _LIBCONTAINER_SYNCPIPE (runc 1.1), the pipeline's own profile"));
  CHECK(logged(r, "=> nsexec container setup"));
  CHECK(logged(r, "<= nsexec container setup"));
}

TEST_CASE("runc 1.2+ parent: a binary its parent already protected (a read-only mount) is not protected again") {
  require_root();
  // runc 1.2's parent execs the init from a sealed copy (an overlay made
  // read-only, a sealed memfd) and sets no variable saying so.
  char dir[] = "/tmp/nsenter-ro.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string bound = std::string(dir) + "/nsrun";
  { std::ofstream touch(bound); }
  REQUIRE(::mount(std::filesystem::canonical(kNsrun).c_str(), bound.c_str(), nullptr, MS_BIND, nullptr) == 0);
  REQUIRE(::mount(nullptr, bound.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0);
  const InitResult r12 = run_init(bound, pid_message(), kReport, as_runc12());
  const InitResult r11 = run_init(bound, pid_message(), kReport, as_runc11());
  ::umount2(bound.c_str(), MNT_DETACH);
  ::unlink(bound.c_str());
  ::rmdir(dir);
  INFO(r12.describe());
  REQUIRE(r12.ok());
  CHECK_FALSE(logged(r12, "protected in place"));
  CHECK_FALSE(logged(r12, "re-exec from"));
  // runc 1.1's parent sets no such mount up: a read-only file the init did
  // not mount itself is not trusted there.
  INFO(r11.describe());
  REQUIRE(r11.ok());
  CHECK((logged(r11, "protected in place") || logged(r11, "re-exec from")));
}

constexpr const char* kInPlace =
    "protected in place: /proc/self/exe moved onto a detached read-only mount of itself (0 bytes copied, no re-exec)";

TEST_CASE("self-protection: as root, in place onto a detached read-only mount of the binary: nothing copied, no re-exec") {
  require_root();
  const std::string mounts_before = mount_table();
  const InitResult r = run_init(kCEmbed, pid_message(), {});
  INFO(r.describe());
  REQUIRE(r.ok());
  // The binary itself on a mount attached nowhere (so its path reads "/"),
  // read-only: nothing was copied, and nothing can write it. The process
  // that reads it is stage 2, a fork of the one that moved: no re-exec
  // (which would have said so in the environment).
  CHECK(r.values()["exe"] == "/");
  CHECK(r.values()["exe_ro"] == "1");
  CHECK(r.values()["cloned"] == "");
  CHECK(logged(r, kInPlace));
  CHECK_FALSE(logged(r, "re-exec from"));
  CHECK(mount_table() == mounts_before);
}

// The init, wrapped so that the kernel refuses `what` (refuse_calls.c).
InitOptions refusing(const std::string& what, InitOptions opt = {}) {
  opt.env.emplace_back("NSENTER_TEST_EXEC", std::filesystem::canonical(kCEmbed).string());
  opt.env.emplace_back("NSENTER_TEST_REFUSE", what);
  return opt;
}

TEST_CASE("self-protection: an init run through the dynamic loader is not moved in place (the loader is /proc/self/exe) but re-executed from its view") {
  require_root();
#if defined(__x86_64__)
  const std::string loader = "/lib64/ld-linux-x86-64.so.2";
#elif defined(__aarch64__)
  const std::string loader = "/lib/ld-linux-aarch64.so.1";
#else
#error "init_protocol_test: name this architecture's dynamic loader"
#endif
  const std::string mounts_before = mount_table();
  InitOptions opt;
  opt.init_flags = {std::filesystem::canonical(kCEmbed).string()};  // ld.so c_embed -- ...
  const InitResult r = run_init(loader, pid_message(), {}, opt);
  INFO(r.describe());
  REQUIRE(r.ok());  // before: stage 0 killed by SIGSEGV, the loader's bytes mapped over the program
  CHECK(logged(r, "re-exec from a detached read-only mount of /proc/self/exe (0 bytes copied): in place, "));
  CHECK(logged(r, "run through the dynamic loader"));
  // What the container could reach through /proc/PID/exe is the loader's
  // read-only view; the program itself the loader mapped again by its path.
  CHECK(r.values()["exe_ro"] == "1");
  CHECK(r.values()["cloned"] == "1");
  CHECK(r.pipe_tail == "hello from stage 2\n");
  CHECK(mount_table() == mounts_before);
}

TEST_CASE("self-protection: where the kernel refuses the move in place, a re-exec from the detached read-only mount") {
  require_root();
  const std::string mounts_before = mount_table();
  const InitResult r = run_init(kRefuseCalls, pid_message(), {}, refusing("set_mm"));
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["exe"] == "/");
  CHECK(r.values()["exe_ro"] == "1");
  CHECK(r.values()["cloned"] == "1");
  // Why it did not move: the refused call, its errno, as the init saw it.
  CHECK(logged(r, "re-exec from a detached read-only mount of /proc/self/exe (0 bytes copied): in place, "));
  CHECK(logged(r, "PR_SET_MM_MAP: may this process name its executable?: Operation not permitted"));
  CHECK_FALSE(logged(r, "protected in place"));
  CHECK(mount_table() == mounts_before);
}

TEST_CASE("self-protection: on a kernel without open_tree, in place onto runc's bind mount in the state directory") {
  require_root();
  char dir[] = "/tmp/nsenter-state.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string mounts_before = mount_table();
  for (const std::string what : {"mount_api", "mount_api,set_mm"}) {
    CAPTURE(what);
    InitOptions opt;
    opt.env = {{"_LIBCONTAINER_STATEDIR", dir}};
    const InitResult r = run_init(kRefuseCalls, pid_message(), {}, refusing(what, opt));
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["exe_ro"] == "1");
    if (what == "mount_api") {
      CHECK(logged(r, "protected in place: /proc/self/exe moved onto a read-only bind mount of itself"));
      CHECK(r.values()["cloned"] == "");
    } else {
      CHECK(logged(r, "re-exec from a read-only bind mount of /proc/self/exe (0 bytes copied): in place, "));
      CHECK(r.values()["cloned"] == "1");
    }
  }
  CHECK(mount_table() == mounts_before);
  CHECK(::rmdir(dir) == 0);  // nothing was left in it
}

TEST_CASE("self-protection: a state directory changes nothing where the detached mount works") {
  require_root();
  char dir[] = "/tmp/nsenter-state.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  InitOptions opt;
  opt.env = {{"_LIBCONTAINER_STATEDIR", dir}};
  const InitResult r = run_init(kCEmbed, pid_message(), {}, opt);
  const int removed = ::rmdir(dir);  // nothing was left in it
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(removed == 0);
  CHECK(r.values()["exe_ro"] == "1");
  CHECK(logged(r, kInPlace));
}

TEST_CASE("self-protection: an unprivileged init falls back to the memfd copy") {
  require_root();
  WorldExecutable c_embed(kCEmbed);
  // nobody's own binary, and nobody is root in the container: it could
  // write the binary, so the init must protect itself.
  REQUIRE(::chown(c_embed.path().c_str(), kNobody, kNobody) == 0);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  opt.env = {{"_LIBCONTAINER_STATEDIR", "/tmp"}};  // mounting there is not allowed to nobody
  const InitResult r = run_init(c_embed.path(), nobody_as_root_message(), {}, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["exe"] == "/memfd:nsenter_cloned:/proc/self/exe (deleted)");
  struct stat st {};
  REQUIRE(::stat(kCEmbed, &st) == 0);
  CHECK(logged(r, "re-exec from a sealed memfd copy of /proc/self/exe (" + std::to_string(st.st_size) + " bytes copied)"));
}

TEST_CASE("self-protection: where no process of the container could write the binary, nothing is copied or re-executed") {
  require_root();
  // As root: a user namespace of its own, root mapped to 100000, the
  // binary root's (mapped nowhere there), no group or other write bit.
  {
    const InitResult r = run_init(kCEmbed, user_pid_message(), {});
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["cloned"] == "");
    CHECK(r.values()["exe"] == std::filesystem::canonical(kCEmbed).string());  // the file itself
    CHECK(logged(r, "no re-exec: the container cannot write /proc/self/exe (0 bytes copied)"));
    CHECK_FALSE(logged(r, "re-exec from"));
  }
  // Rootless, the same binary (root's), nobody mapped to root.
  {
    WorldExecutable c_embed(kCEmbed);
    InitOptions opt;
    opt.drop_to = {{kNobody, kNobody}};
    const InitResult r = run_init(c_embed.path(), nobody_as_root_message(), {}, opt);
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["exe"] == c_embed.path());
    CHECK(logged(r, "no re-exec: the container cannot write /proc/self/exe (0 bytes copied)"));
  }
  // The decision is the message's: the same binary with root mapped to
  // root, and with a group write bit, is protected.
  {
    const InitResult r = run_init(kCEmbed,
                                  MessageBuilder()
                                      .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
                                      .str(kUidMap, "0 0 65536\n")
                                      .str(kGidMap, "0 0 65536\n")
                                      .build(),
                                  {});
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["exe_ro"] == "1");
    CHECK(logged(r, kInPlace));
  }
  {
    WorldExecutable c_embed(kCEmbed);
    REQUIRE(::chmod(c_embed.path().c_str(), 0775) == 0);
    const InitResult r = run_init(c_embed.path(), user_pid_message(), {});
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["exe_ro"] == "1");
    CHECK(logged(r, kInPlace));
  }
}

TEST_CASE("self-protection: the re-exec carries the message it read; a carried message only our own re-exec may name") {
  require_root();
  // Protected after the handshake and the message (pid_message(): no user
  // namespace; the move in place refused, so a re-exec): the runtime sees
  // one handshake byte and one pid line, as from runc's order; the command
  // runs.
  {
    const InitResult r = run_init(kRefuseCalls, pid_message(), {}, refusing("set_mm"));
    INFO(r.describe());
    REQUIRE(r.ok());
    CHECK(r.values()["cloned"] == "1");
    CHECK(r.values()["carried"] == "");  // not left in the environment
    for (int fd = 3; fd <= 9; ++fd) CHECK(r.values()["fd" + std::to_string(fd)].find("nsenter-message") == std::string::npos);
  }
  // Named by anyone else (a regular file on 7): refused, naming the
  // variable, before anything is read or run.
  {
    InitOptions opt;
    opt.leaked_fds = {7};
    opt.env = {{"_NSENTER_CARRIED_MESSAGE", "7"}};
    const InitResult r = run_init(kCEmbed, pid_message(), {}, opt);
    INFO(r.describe());
    CHECK_FALSE(r.ok());
    CHECK(fatal_of(r).find("_NSENTER_CARRIED_MESSAGE=7: set only by the init's own re-exec") != std::string::npos);
  }
  // With our marker too, but not a message of ours.
  {
    InitOptions opt;
    opt.env = {{"_NSENTER_CARRIED_MESSAGE", "0"}, {"_LIBCONTAINER_CLONED_BINARY", "1"}};
    const InitResult r = run_init(kCEmbed, pid_message(), {}, opt);
    INFO(r.describe());
    CHECK_FALSE(r.ok());
    CHECK(fatal_of(r).find("_NSENTER_CARRIED_MESSAGE=0: not a carried message") != std::string::npos);
  }
}

TEST_CASE("self-protection: a view the runtime names must be a read-only view of our binary, and never reaches the command") {
  require_root();
  // Not a number; a file that is not our binary (/etc/hostname, leaked on
  // 7); our binary on a writable mount (the path itself, on 7): refused,
  // naming the variable, before anything is created.
  struct Case {
    const char* value;
    const char* leaked;  // opened on 7, or nullptr
    const char* why;
  };
  const std::string binary = std::filesystem::canonical(kCEmbed).string();
  for (const Case& c : {Case{"three-stages:view=x", nullptr, "_NSENTER_START=three-stages:view=x: view=FD: not a non-negative decimal fd"},
                        Case{"three-stages:view=7", "/etc/hostname", "_NSENTER_START=three-stages:view=7: not a read-only view of /proc/self/exe"},
                        Case{"one-clone:view=7", binary.c_str(), "_NSENTER_START=one-clone:view=7: not a read-only view of /proc/self/exe"},
                        Case{"direct:view=7", binary.c_str(), "_NSENTER_START=direct:view=7: a direct start cannot move onto a view"}}) {
    CAPTURE(c.value);
    CAPTURE(c.leaked);
    InitOptions opt;
    opt.env = {{"_NSENTER_START", c.value}};
    if (c.leaked) {
      opt.leaked_fds = {7};
      opt.leaked_file = c.leaked;
    }
    const InitResult r = run_init(kCEmbed, pid_message(), {}, opt);
    INFO(r.describe());
    CHECK(r.exited(r.stage0_status, 1));
    CHECK(fatal_of(r).find(c.why) != std::string::npos);
    CHECK_FALSE(r.stage2_pid);
  }
  // A good view (the binary bound read-only over a file of ours, for the
  // length of the run) where nothing needs protecting (a user namespace of
  // its own, root unmapped): taken and closed all the same, so the command
  // holds no handle to the binary.
  struct ReadOnlyBind {
    std::string dir, path;
    explicit ReadOnlyBind(const std::string& source) {
      char d[] = "/tmp/nsenter-view.XXXXXX";
      REQUIRE(::mkdtemp(d) != nullptr);
      dir = d;
      path = dir + "/binary";
      std::ofstream(path).close();
      REQUIRE(::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) == 0);
      REQUIRE(::mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0);
    }
    ~ReadOnlyBind() {
      ::umount2(path.c_str(), MNT_DETACH);
      ::unlink(path.c_str());
      ::rmdir(dir.c_str());
    }
  } view(binary);
  InitOptions opt;
  opt.env = {{"_NSENTER_START", "three-stages:view=7"}};
  opt.leaked_fds = {7};
  opt.leaked_file = view.path;
  const InitResult r = run_init(kCEmbed, user_pid_message(), {}, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(logged(r, "no re-exec: the container cannot write /proc/self/exe (0 bytes copied)"));
  CHECK(r.values()["fd7"] == "none");
}

constexpr int kAllSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// A copy of `binary` in a memfd named `name` with `seals`, as a launcher
// makes one; on an fd clear of those the driver dup2()s onto.
int memfd_of(const char* binary, const char* name, int seals) {
  std::ifstream in(binary, std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(in)), {});
  const int raw = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(raw >= 0);
  const int memfd = ::fcntl(raw, F_DUPFD_CLOEXEC, 20);
  ::close(raw);
  REQUIRE(::write(memfd, image.data(), image.size()) == static_cast<ssize_t>(image.size()));
  if (seals != 0) REQUIRE(::fcntl(memfd, F_ADD_SEALS, seals) == 0);
  return memfd;
}

TEST_CASE("self-protection: a binary already run from a sealed memfd is neither copied nor re-executed") {
  require_root();
  // What a launcher does once and reuses: the binary in a sealed memfd.
  const int memfd = memfd_of(kCEmbed, "launcher-sealed-init", kAllSeals);
  InitOptions opt;
  opt.exec_fd = memfd;
  const InitResult r = run_init(kCEmbed, user_pid_message(), {}, opt);
  ::close(memfd);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["exe"] == "/memfd:launcher-sealed-init (deleted)");
  CHECK(r.values()["cloned"] == "");
  CHECK_FALSE(logged(r, "re-exec"));
}

TEST_CASE("self-protection: a memfd missing any one seal is not trusted: the init protects itself") {
  require_root();
  // Also where the environment claims our own re-exec made it (a forged
  // _LIBCONTAINER_CLONED_BINARY), and from a runc 1.2+ parent, which trusts
  // an unlinked copy: a memfd is unlinked, but one not sealed is not ours.
  for (const bool forged : {false, true})
  for (int missing : {kAllSeals, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE}) {
    CAPTURE(forged);
    CAPTURE(missing);
    const int memfd = memfd_of(kCEmbed, "launcher-unsealed-init", kAllSeals & ~missing);
    InitOptions opt;
    if (forged) opt.env = {{"_LIBCONTAINER_CLONED_BINARY", "1"}};
    opt.exec_fd = memfd;
    const InitResult r = run_init(kCEmbed, user_pid_message(), {}, opt);
    ::close(memfd);
    INFO(r.describe());
    REQUIRE(r.ok());
    // Re-executed from a protected copy of itself (a memfd's own mount
    // cannot be cloned, so a sealed copy), not from the memfd anyone
    // holding it could still change.
    CHECK(r.values()["cloned"] == "1");
    CHECK(r.values()["exe"] == "/memfd:nsenter_cloned:/proc/self/exe (deleted)");
    CHECK(logged(r, "re-exec from a sealed memfd copy"));
  }
}

#ifndef NSENTER_TEST_RUNC12_PARENT  // mount sources: runc 1.1 only
TEST_CASE("root: bind-mount sources reach the init on the fd numbers the runtime named") {
  require_root();
  char dir[] = "/tmp/nsenter-src.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string source = std::string(dir) + "/volume";
  REQUIRE(::mkdir(source.c_str(), 0755) == 0);
  // As runc 1.1 sends them: one entry per mount, "" for non-bind mounts.
  InitOptions opt;
  opt.env = {{"_LIBCONTAINER_MOUNT_FDS", "[-1,7,-1]"}};
  const InitResult r = run_init(kCEmbed,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)
                                    .str(kUidMap, "0 100000 65536\n")
                                    .str(kGidMap, "0 100000 65536\n")
                                    .u32(kSetGroup, 1)
                                    .u32(kRootlessEuid, 0)
                                    .str(kMountSources, std::string("\0", 1) + source + std::string("\0\0", 2))
                                    .build(),
                                {}, opt);
  ::rmdir(source.c_str());
  ::rmdir(dir);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["fd7"] == source);
}
#endif

TEST_CASE("root: fds a careless runtime leaked never reach the command; --preserve-fds keeps 3..3+N-1") {
  require_root();
  const std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWUTS).build();
  InitOptions opt;
  opt.leaked_fds = {7, 9};
  const InitResult r = run_init(kNsrun, msg, kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  // 3 is ls's own /proc/self/fd.
  CHECK(r.values()["fds"] == "0 1 2 3");
  opt.init_flags = {"--preserve-fds=5"};  // 3..7: 3 and 4 are the init and log pipes, closed anyway
  const InitResult kept = run_init(kNsrun, msg, kReport, opt);
  INFO(kept.describe());
  REQUIRE(kept.ok());
  CHECK(kept.values()["fds"] == "0 1 2 3 7");
}

TEST_CASE("failure: a FIFO as a namespace path is refused at once, not waited on, and named") {
  require_root();
  char dir[] = "/tmp/nsenter-fifo.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/netns";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const InitResult r =
      run_init(kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).str(kNsPaths, "net:" + fifo).build(), kReport);
  ::unlink(fifo.c_str());
  ::rmdir(dir);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.stdout_text.empty());
  CHECK(fatal_of(r).find("open namespace path: not a namespace of that kind: net " + fifo + ": a FIFO") !=
        std::string::npos);
}

TEST_CASE("failure: a namespace of another kind than its entry says is refused before any setns") {
  require_root();
  // uts first: were it joined before the check, the stage would be
  // half-joined when the net entry fails.
  const InitResult r = run_init(
      kNsrun, MessageBuilder().str(kNsPaths, "uts:/proc/self/ns/uts,net:/proc/self/ns/ipc").build(), kReport);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(fatal_of(r).find("not a namespace of that kind: net /proc/self/ns/ipc: a namespace of kind ipc") != std::string::npos);
}

#ifndef NSENTER_TEST_RUNC12_PARENT  // mount sources: runc 1.1 only
TEST_CASE("root: mount sources on numbers the runtime named but did not reserve") {
  require_root();
  char dir[] = "/tmp/nsenter-src.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string a = std::string(dir) + "/a", b = std::string(dir) + "/b";
  REQUIRE(::mkdir(a.c_str(), 0755) == 0);
  REQUIRE(::mkdir(b.c_str(), 0755) == 0);
  // 5 and 6 are free in the init: the numbers its own sync sockets would
  // otherwise take, and the first one is where SCM_RIGHTS lands.
  InitOptions opt;
  opt.env = {{"_LIBCONTAINER_MOUNT_FDS", "[5,6]"}};
  const InitResult r = run_init(kCEmbed,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWNS | CLONE_NEWPID)
                                    .str(kMountSources, a + std::string("\0", 1) + b + std::string("\0", 1))
                                    .build(),
                                {}, opt);
  ::rmdir(a.c_str());
  ::rmdir(b.c_str());
  ::rmdir(dir);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.values()["fd5"] == a);
  CHECK(r.values()["fd6"] == b);
}
#endif

#ifndef NSENTER_TEST_RUNC12_PARENT  // mount sources: runc 1.1 only
TEST_CASE("failure: a mount-source fd number the init needs is refused, named") {
  require_root();
  for (const auto& [list, why] : std::vector<std::pair<std::string, std::string>>{
           {"[1]", "fd 1 is stdio"}, {"[3]", "fd 3 is the init pipe"}, {"[4]", "fd 4 is the log pipe"}}) {
    const std::string& list_text = list;  // clang 14 cannot capture a binding
    CAPTURE(list_text);
    InitOptions opt;
    opt.env = {{"_LIBCONTAINER_MOUNT_FDS", list}};
    const InitResult r = run_init(
        kCEmbed,
        MessageBuilder().u32(kCloneFlags, CLONE_NEWNS).str(kMountSources, std::string("/tmp\0", 5)).build(), {},
        opt);
    INFO(r.describe());
    CHECK(r.exited(r.stage0_status, 1));
    CHECK(r.other_statuses.empty());  // nothing was cloned
    CHECK(r.leftover_children == 0);
    CHECK(r.fatal().find("plan bootstrap: bad environment variable: _LIBCONTAINER_MOUNT_FDS: " + why) !=
          std::string::npos);
  }
}
#endif

TEST_CASE("failure: a namespace path that does not exist") {
  require_root();
  const InitResult r =
      run_init(kNsrun, MessageBuilder().u32(kCloneFlags, 0).str(kNsPaths, "net:/nonexistent/netns").build(), kReport);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.pid_line.empty());
  CHECK(r.leftover_children == 0);
  CHECK(r.stdout_text.empty());
  const std::string fatal = fatal_of(r);
  CHECK(fatal.find("nsexec-1[") != std::string::npos);
  CHECK(fatal.find("open namespace path: net /nonexistent/netns: No such file or directory") != std::string::npos);
}

TEST_CASE("failure: an unprivileged user mapping ids it does not own") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  const InitResult r = run_init(nsrun.path(),
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER)
                                    .str(kUidMap, "0 0 1\n")
                                    .str(kGidMap, "0 65534 1\n")
                                    .u32(kRootlessEuid, 1)
                                    .build(),
                                kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.stdout_text.empty());
  CHECK(fatal_of(r).find("write uid_map: /proc/") != std::string::npos);
  CHECK(fatal_of(r).find("/uid_map: Operation not permitted") != std::string::npos);
}

TEST_CASE("failure: the map helper exits non-zero") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  const std::string helper = nsrun.add_script("failing-newuidmap", "#!/bin/sh\necho refusing >&2\nexit 3\n");
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  const InitResult r = run_init(nsrun.path(), rootless_two_range_message(helper), kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(fatal_of(r).find("run id map helper: id map helper failed: " + helper + " exited with status 3") !=
        std::string::npos);
}

TEST_CASE("failure: the map helper does not exist") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  const InitResult r = run_init(nsrun.path(), rootless_two_range_message("/nonexistent/newuidmap"), kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.fatal().find("run id map helper: /nonexistent/newuidmap: No such file or directory") != std::string::npos);
}

#ifndef NSENTER_TEST_RUNC12_PARENT  // mount sources: runc 1.1 only
TEST_CASE("failure: a mount source that does not exist") {
  require_root();
  InitOptions opt;
  opt.env = {{"_LIBCONTAINER_MOUNT_FDS", "[7]"}};
  const InitResult r = run_init(kCEmbed,
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS)
                                    .str(kUidMap, "0 100000 65536\n")
                                    .str(kGidMap, "0 100000 65536\n")
                                    .str(kMountSources, std::string("/nonexistent/volume\0", 20))
                                    .build(),
                                {}, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.fatal().find("nsexec-0[") != std::string::npos);
  CHECK(r.fatal().find("send mount sources: /nonexistent/volume: No such file or directory") != std::string::npos);
}
#endif

TEST_CASE("failure: the parent closes the pipe in the middle of the message") {
  require_root();
  const std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).str(kNsPaths, "net:/proc/1/ns/net").build();
  InitOptions opt;
  opt.send_only = 20;
  const InitResult r = run_init(kNsrun, msg, kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.leftover_children == 0);
  CHECK(r.other_statuses.empty());  // nothing was cloned
  CHECK(fatal_of(r).find("read bootstrap: message ends early: got 20 of") != std::string::npos);
}

TEST_CASE("failure: a malformed message changes nothing and names the cause") {
  require_root();
  const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).u32(27299, 0).build(), kReport);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.other_statuses.empty());
  CHECK(r.leftover_children == 0);
  CHECK(fatal_of(r).find(R"("level":"fatal", "msg": "nsexec[)") != std::string::npos);
  CHECK(fatal_of(r).find("unknown attribute type: type 27299 (at byte 24)") != std::string::npos);
}

TEST_CASE("failure: stage 0 killed while stage 1 waits for its maps") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  // A helper that reports its pid and its target (stage 1), then blocks:
  // stage 0 is then inside the USERMAP_PLS step and stage 1 waits for the
  // ack.
  // The write end on fd 9: clear of the fds the driver dup2()s onto (1, 3,
  // 4), and a single digit, which is all dash's redirections accept.
  int raw[2];
  REQUIRE(::pipe(raw) == 0);
  REQUIRE(::dup2(raw[1], 9) == 9);
  const int marker[2] = {::fcntl(raw[0], F_DUPFD_CLOEXEC, 10), 9};
  ::close(raw[0]);
  ::close(raw[1]);
  const std::string helper =
      nsrun.add_script("blocking-newuidmap", "#!/bin/sh\necho \"$$ $1\" >&" + std::to_string(marker[1]) + "\nexec sleep 1000\n");
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  pid_t helper_pid = -1;
  opt.after_send = [&](pid_t stage0) {
    ::close(marker[1]);
    char buf[64] = {};
    REQUIRE(::read(marker[0], buf, sizeof buf - 1) > 0);
    helper_pid = std::atoi(buf);
    // A pid of 0 would make the kill below end this test's process group.
    REQUIRE_MESSAGE(helper_pid > 0, "the helper said: " << buf);
    // While blocked, the stages carry runc's names, visible to ps.
    std::ifstream comm0("/proc/" + std::to_string(stage0) + "/comm");
    std::string name0;
    std::getline(comm0, name0);
    CHECK(name0 == "runc:[0:PARENT]");
    const std::string rest(buf);
    std::ifstream comm1("/proc/" + rest.substr(rest.find(' ') + 1, rest.find('\n') - rest.find(' ') - 1) + "/comm");
    std::string name1;
    std::getline(comm1, name1);
    CHECK(name1 == "runc:[1:CHILD]");
    ::kill(stage0, SIGKILL);
    ::kill(helper_pid, SIGKILL);  // orphaned by stage 0's death: ours to end
  };
  const InitResult r = run_init(nsrun.path(), rootless_two_range_message(helper), kReport, opt);
  ::close(marker[0]);
  INFO(r.describe());
  CHECK(helper_pid > 0);
  CHECK(WIFSIGNALED(r.stage0_status));
  CHECK(r.leftover_children == 0);
  // Stage 1 noticed (EOF on its sync socket), said why, and exited 1.
  const std::string fatal = fatal_of(r);
  CHECK(fatal.find("nsexec-1[") != std::string::npos);
  CHECK(fatal.find("sync read: peer closed the connection") != std::string::npos);
  bool stage1_exited_1 = false;
  for (int st : r.other_statuses) stage1_exited_1 |= WIFEXITED(st) && WEXITSTATUS(st) == 1;
  CHECK(stage1_exited_1);
}

TEST_CASE("failure: the runtime killed while stage 0 waits on a stuck map helper: stage 0 kills the helper and stage 1, nothing left") {
  require_root();
  WorldExecutable nsrun(kNsrun);
  // The helper reports "its pid, its target (stage 1)" on fd 9, then
  // blocks, as a stuck newuidmap would.
  int raw[2];
  REQUIRE(::pipe(raw) == 0);
  REQUIRE(::dup2(raw[1], 9) == 9);
  const int marker = ::fcntl(raw[0], F_DUPFD_CLOEXEC, 10);
  ::close(raw[0]);
  ::close(raw[1]);
  const std::string helper =
      nsrun.add_script("stuck-newuidmap", "#!/bin/sh\necho \"$$ $1\" >&9\nexec sleep 1000\n");
  int said[2];
  REQUIRE(::pipe2(said, O_CLOEXEC) == 0);
  const std::vector<pid_t> before = live_children();
  // The runtime: a child of ours that runs the init and dies once the
  // helper runs. Its children (stages 0 and 1) then come to us, the
  // subreaper, with the helper below stage 0.
  const pid_t runtime = ::fork();
  REQUIRE(runtime >= 0);
  if (runtime == 0) {
    InitOptions opt;
    opt.drop_to = {{kNobody, kNobody}};
    opt.after_send = [&](pid_t stage0) {
      ::close(9);
      char buf[64] = {};
      if (::read(marker, buf, sizeof buf - 1) <= 0) ::_exit(3);
      const std::string text = std::to_string(stage0) + " " + buf;  // "stage0 helper stage1\n"
      (void)!::write(said[1], text.data(), text.size());
      ::kill(::getpid(), SIGKILL);
    };
    (void)run_init(nsrun.path(), rootless_two_range_message(helper), kReport, opt);
    ::_exit(4);
  }
  ::close(9);
  ::close(said[1]);
  ::close(marker);
  const std::string text = read_all(said[0]);
  ::close(said[0]);
  int status = 0;
  REQUIRE(::waitpid(runtime, &status, 0) == runtime);
  REQUIRE_MESSAGE(WIFSIGNALED(status), "the runtime did not reach the helper: status " << status);
  pid_t stage0 = 0, helper_pid = 0, stage1 = 0;
  std::istringstream(text) >> stage0 >> helper_pid >> stage1;
  REQUIRE(stage0 > 0);
  REQUIRE(helper_pid > 0);
  REQUIRE(stage1 > 0);
  // They end by themselves (the hang guard only keeps a failing test
  // from hanging: it is no time limit on what is tested).
  std::map<pid_t, int> ended;
  const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(kHangGuardSeconds);
  auto alive = [](pid_t pid) { return ::kill(pid, 0) == 0; };
  while (std::chrono::steady_clock::now() < guard) {
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) ended[pid] = status;
    bool any = false;
    for (pid_t pid : {stage0, helper_pid, stage1}) any |= !ended.count(pid) && alive(pid);
    if (!any) break;
    ::usleep(5000);
  }
  int left = 0;
  for (pid_t pid : {stage0, helper_pid, stage1})
    if (!ended.count(pid) && alive(pid)) {
      ::kill(pid, SIGKILL);
      ++left;
    }
  kill_and_reap_children(before);
  CHECK(left == 0);
  // Stage 0 said why and exited 1; the helper was killed by it.
  REQUIRE(ended.count(stage0));
  CHECK((WIFEXITED(ended[stage0]) && WEXITSTATUS(ended[stage0]) == 1));
}

// ---- no stage allocates once the pipeline has cloned --------------------------
// fault_init's heap is closed from its first clone until stage 2 hands over
// (see fault_init.cc): a stage that allocates exits 66. Every stage path
// that a start can take, successful ones here; the fault tables (here and in
// launcher_test) run the failing ones through the same init.

TEST_CASE("no stage allocates after the first clone, on every path a start takes") {
  require_root();
  const Target target(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  char dir[] = "/tmp/nsenter-src.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string source = std::string(dir) + "/volume";
  REQUIRE(::mkdir(source.c_str(), 0755) == 0);
  struct Case {
    const char* what;
    std::string message;
    InitOptions opt;
  };
  InitOptions debug;
  debug.log_level = "6";  // every record formatted, the start timed and broken down
  InitOptions sources;
  sources.env = {{"_LIBCONTAINER_MOUNT_FDS", "[-1,7,-1]"}};
  InitOptions death;
  death.env = {{"_NSENTER_PARENT_DEATH", "9:" + std::to_string(::getpid())}};
  InitOptions nobody;
  nobody.drop_to = {{kNobody, kNobody}};
  std::vector<Case> cases = {
      {"every kind created, maps, setgroups, oom_score_adj, at log level trace",
       MessageBuilder()
           .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
                                 CLONE_NEWCGROUP | CLONE_NEWTIME)
           .str(kUidMap, "0 100000 65536\n")
           .str(kGidMap, "0 100000 65536\n")
           .u32(kSetGroup, 1)
           .str(kOomScoreAdj, "100")
           .u32(kRootlessEuid, 0)
           .build(),
       debug},
      {"joins of a live process's namespaces, its user namespace owning them",
       MessageBuilder()
           .u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWNS)
           .str(kNsPaths, "user:" + target.ns("user") + ",net:" + target.ns("net") + ",uts:" + target.ns("uts") +
                              ",ipc:" + target.ns("ipc"))
           .build(),
       debug},
      {"a parent-death signal",
       MessageBuilder().u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWUTS).u32(kRootlessEuid, 0).build(), death},
      {"rootless, as nobody, setgroups denied",
       MessageBuilder()
           .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS)
           .str(kUidMap, "0 65534 1\n")
           .str(kGidMap, "0 65534 1\n")
           .u32(kRootlessEuid, 1)
           .build(),
       nobody},
  };
  // Attribute 27290: mount sources from a runc 1.1 parent, time offsets from 1.2's.
  if (kRunc12ParentByDefault)
    cases.push_back({"time offsets",
                     MessageBuilder()
                         .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWTIME | CLONE_NEWPID)
                         .str(kUidMap, "0 100000 65536\n")
                         .str(kGidMap, "0 100000 65536\n")
                         .str(27290, "monotonic 86400 5\nboottime 1000000000 0\n")
                         .build(),
                     {}});
  else
    cases.push_back({"bind-mount sources",
                     MessageBuilder()
                         .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)
                         .str(kUidMap, "0 100000 65536\n")
                         .str(kGidMap, "0 100000 65536\n")
                         .u32(kRootlessEuid, 0)
                         .str(kMountSources, std::string("\0", 1) + source + std::string("\0\0", 2))
                         .build(),
                     sources});
  WorldExecutable fault_init(kFaultInit);  // nobody cannot run Bazel's copy
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const InitResult r = run_init(fault_init.path(), c.message, {"/bin/true"}, c.opt);
    INFO(r.describe());
    CHECK(r.ok());  // every stage exited 0: none exited 66
  }
  ::rmdir(source.c_str());
  ::rmdir(dir);
}

// ---- a runtime's claim that the container cannot write the binary ----------
// With _NSENTER_START=three-stages:unwritable the init skips its copy, and checks the
// claim against the message and the binary before anything is created.

TEST_CASE("unwritable binary: the claim holds, nothing is copied; it does not, and nothing starts") {
  require_root();
  auto with_claim = [](const std::string& binary, const std::string& message) {
    InitOptions opt;
    opt.env = {{"_NSENTER_START", "three-stages:unwritable"}};
    return run_init(binary, message, {"/bin/true"}, opt);
  };
  auto userns = [](const char* map) {
    return MessageBuilder()
        .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
        .str(kUidMap, map)
        .str(kGidMap, map)
        .u32(kRootlessEuid, 0)
        .build();
  };
  WorldExecutable nsrun(kNsrun);  // root's, 0755
  {
    const InitResult r = with_claim(nsrun.path(), userns("0 100000 65536\n"));
    INFO(r.describe());
    CHECK(r.ok());
    CHECK(logged(r, "no re-exec: the runtime says the container cannot write"));
    CHECK_FALSE(logged(r, "re-exec from"));  // no mount, no copy
  }
  const Target target(CLONE_NEWUTS);
  const std::pair<std::string, std::string> wrong[] = {
      {userns("0 0 1\n"), "the binary's owner is mapped into its user namespace"},
      {MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).build(), "no user namespace of its own"},
      {MessageBuilder()
           .u32(kCloneFlags, CLONE_NEWUSER)
           .str(kNsPaths, "uts:" + target.ns("uts"))
           .str(kUidMap, "0 100000 65536\n")
           .str(kGidMap, "0 100000 65536\n")
           .build(),
       "it joins namespaces"},
  };
  for (const auto& c : wrong) {
    const std::string& why = c.second;
    CAPTURE(why);
    const InitResult r = with_claim(nsrun.path(), c.first);
    INFO(r.describe());
    CHECK(r.exited(r.stage0_status, 1));
    CHECK(fatal_of(r).find("_NSENTER_START=three-stages:unwritable, but the container could write the binary: " + why) !=
          std::string::npos);
    CHECK(r.other_statuses.empty());  // nothing was cloned
    CHECK(r.leftover_children == 0);
  }
  // A binary its group may write: the claim is refused too.
  REQUIRE(::chmod(nsrun.path().c_str(), 0775) == 0);
  const InitResult r = with_claim(nsrun.path(), userns("0 100000 65536\n"));
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(fatal_of(r).find("the binary is writable by group or others") != std::string::npos);
}

// With _NSENTER_START=three-stages:unreachable (the Launcher forked us non-dumpable,
// launcher_test covers the claim that holds) the init checks both halves:
// a container that could reach us, and a process that is dumpable.
TEST_CASE("unreachable init: an exec'd init is dumpable, and a container without its own user namespace could reach it") {
  require_root();
  auto with_claim = [](const std::string& message) {
    InitOptions opt;
    opt.env = {{"_NSENTER_START", "three-stages:unreachable"}};
    return run_init(kNsrun, message, {"/bin/true"}, opt);
  };
  const std::pair<std::string, std::string> wrong[] = {
      {MessageBuilder()
           .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
           .str(kUidMap, "0 0 1\n")
           .str(kGidMap, "0 0 1\n")
           .build(),
       "_NSENTER_START=three-stages:unreachable, but this process is dumpable (1)"},
      {MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).build(),
       "_NSENTER_START=three-stages:unreachable, but the container could reach us: no user namespace of its own"},
  };
  for (const auto& c : wrong) {
    const std::string& why = c.second;
    CAPTURE(why);
    const InitResult r = with_claim(c.first);
    INFO(r.describe());
    CHECK(r.exited(r.stage0_status, 1));
    CHECK(fatal_of(r).find(why) != std::string::npos);
    CHECK(r.other_statuses.empty());  // nothing was cloned
    CHECK(r.leftover_children == 0);
  }
}

// ---- a failing stage 0 ends what it spawned; a dead stage 0 is seen ------------
// Under a runc-like parent, which kills no process group: what stage 0's
// die() kills is gone by SIGKILL, before it could read EOF and speak.

int count_fatal(const InitResult& r) {
  int n = 0;
  for (const std::string& l : r.log_lines) n += l.find(R"("level":"fatal")") != std::string::npos;
  return n;
}

std::string root_userns_message() {
  return MessageBuilder()
      .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS)
      .str(kUidMap, "0 100000 65536\n")
      .str(kGidMap, "0 100000 65536\n")
      .u32(kRootlessEuid, 0)
      .build();
}

// Stage 0 failed writing `map_file` and its one waiting child (stage 1, or
// stage 2 in one clone) was killed: not left to read EOF and say something
// of its own, and never reported on the pid line.
void check_killed_by_stage0(const InitResult& r, const std::string& map_file) {
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(fatal_of(r).find("nsexec-0[") != std::string::npos);
  CHECK(fatal_of(r).find(map_file) != std::string::npos);
  CHECK(count_fatal(r) == 1);
  CHECK_FALSE(r.stage2_pid);
  REQUIRE(r.other_statuses.size() == 1);
  CHECK(WIFSIGNALED(r.other_statuses[0]));
  CHECK(WTERMSIG(r.other_statuses[0]) == SIGKILL);
  CHECK(r.leftover_children == 0);
}

TEST_CASE("failure: stage 0 failing to write the maps kills stage 1, which waits for them") {
  require_root();
  InitOptions opt;
  opt.env = {{"NSENTER_TEST_FAULT", "fail:write_map uid"}};
  check_killed_by_stage0(run_init(kFaultInit, root_userns_message(), kReport, opt), "uid_map");
}

TEST_CASE("failure: stage 0 failing after stage 2 finished kills stage 2, which waits for its word") {
  require_root();
  InitOptions opt;
  // The runtime (this process) "dies" at stage 0's second look at it.
  opt.env = {{"_NSENTER_PARENT_DEATH", "9:" + std::to_string(::getpid())}, {"NSENTER_TEST_FAULT", "fail:parent_pid 1"}};
  const InitResult r = run_init(kFaultInit, root_userns_message(), kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(r.exited(r.stage1_status, 0));
  CHECK(fatal_of(r).find("nsexec-0[") != std::string::npos);
  CHECK(count_fatal(r) == 1);
  CHECK(WIFSIGNALED(r.stage2_status));
  CHECK(WTERMSIG(r.stage2_status) == SIGKILL);
  CHECK(r.stdout_text.empty());  // the command never ran
  CHECK(r.leftover_children == 0);
}

TEST_CASE("failure: stage 0 killed after stage 2 finished: stage 2 reads the peer's death and runs nothing") {
  require_root();
  InitOptions opt;
  opt.env = {{"_NSENTER_PARENT_DEATH", "9:" + std::to_string(::getpid())}, {"NSENTER_TEST_FAULT", "kill:parent_pid 1"}};
  const InitResult r = run_init(kFaultInit, root_userns_message(), kReport, opt);
  INFO(r.describe());
  CHECK(WIFSIGNALED(r.stage0_status));
  CHECK(r.exited(r.stage1_status, 0));
  CHECK(r.exited(r.stage2_status, 1));
  CHECK(fatal_of(r).find("nsexec-2[") != std::string::npos);
  CHECK(fatal_of(r).find("peer closed the connection") != std::string::npos);
  CHECK(r.stdout_text.empty());
  CHECK(r.leftover_children == 0);
}

int main(int argc, char** argv) {
  // Orphans of a killed stage come to us, so that tests can end them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}

// ---- the one-clone plan (start_plan.hpp): asked for by nsenter's parent side -----

TEST_CASE("one clone: asked for, stage 2 is made in every new namespace at once and the pid line names it twice") {
  require_root();
  InitOptions opt;
  opt.env = {{"_NSENTER_START", "one-clone"}};
  std::string msg;
  std::string uid_map = " 0 100000 65536;", setgroups = "allow";
  SUBCASE("root, every namespace kind but time") {
    msg = MessageBuilder()
              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
                                    CLONE_NEWCGROUP)
              .str(kUidMap, "0 100000 65536\n")
              .str(kGidMap, "0 100000 65536\n")
              .u32(kSetGroup, 1)
              .u32(kRootlessEuid, 0)
              .build();
  }
  SUBCASE("rootless: nobody mapped to root, setgroups denied") {
    opt.drop_to = {{kNobody, kNobody}};
    msg = MessageBuilder()
              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)
              .str(kUidMap, "0 65534 1\n")
              .str(kGidMap, "0 65534 1\n")
              .u32(kRootlessEuid, 1)
              .build();
    uid_map = " 0 65534 1;";
    setgroups = "deny";
  }
  WorldExecutable nsrun(kNsrun);
  const InitResult r = run_init(nsrun.path(), msg, kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK(r.one_clone());
  CHECK(r.other_statuses.empty());  // no process but stage 0 and stage 2 (and the command it became)
  CHECK(logged(r, "start: one-clone"));
  CHECK(logged(r, "one clone: stage-2 ("));
  CHECK_FALSE(logged(r, "nsexec-1"));
  auto v = r.values();
  CHECK(v["pid"] == "1");
  CHECK(v["sid"] == std::to_string(*r.stage2_pid));
  CHECK(v["uid"] == "0");
  CHECK(v["gid"] == "0");
  CHECK(v["uid_map"] == uid_map);
  CHECK(v["setgroups"] == setgroups);
  for (const char* kind : {"mnt", "uts", "ipc", "pid", "user"}) {
    CAPTURE(kind);
    CHECK(v[std::string("ns_") + kind] != self_ns(kind));
  }
  // The cgroup namespace, still made by stage 2 after its release, and the
  // time namespace, not asked for, are left as they were where not asked.
  CHECK(v["ns_time"] == self_ns("time"));
}

TEST_CASE("one clone: where the container needs stage 1, the init runs the three stages and says why") {
  require_root();
  InitOptions opt;
  opt.env = {{"_NSENTER_START", "one-clone"}};
  std::string msg, why;
  SUBCASE("a join and a new user namespace") {
    // Stage 0 could make the join, but then write the maps through the
    // joined mount namespace's /proc: stage 1 must.
    msg = MessageBuilder()
              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWUTS)
              .str(kUidMap, "0 100000 65536\n")
              .str(kGidMap, "0 100000 65536\n")
              .str(kNsPaths, "mnt:/proc/self/ns/mnt")
              .build();
    why = "it joins namespaces and creates a user namespace";
  }
  SUBCASE("a time namespace") {
    msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWTIME | CLONE_NEWPID).build();
    why = "it creates a time namespace";
  }
  const InitResult r = run_init(kNsrun, msg, kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  CHECK_FALSE(r.one_clone());
  CHECK(logged(r, "start: three-stages (asked for one-clone, but " + why + ")"));
}

TEST_CASE("start plan: a malformed one is refused before anything starts") {
  InitOptions opt;
  opt.env = {{"_NSENTER_START", "one-clone:yes"}};
  const InitResult r = run_init(kNsrun, MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).build(), kReport, opt);
  INFO(r.describe());
  CHECK(r.exited(r.stage0_status, 1));
  CHECK(fatal_of(r).find("_NSENTER_START=one-clone:yes: not a guard") != std::string::npos);
  CHECK_FALSE(r.stage2_pid);
  CHECK(r.leftover_children == 0);
}

TEST_CASE("failure: one clone, stage 0 failing to write the maps kills stage 2, which waits for them") {
  require_root();
  InitOptions opt;
  opt.env = {{"NSENTER_TEST_FAULT", "fail:write_map gid"}, {"_NSENTER_START", "one-clone"}};
  check_killed_by_stage0(run_init(kFaultInit, root_userns_message(), kReport, opt), "gid_map");
}

// ---- the direct start (start_plan.hpp): a runtime that clones the init itself --

TEST_CASE("direct start: an init not born in the namespaces its message names refuses to start") {
  require_root();
  // A runtime that said _NSENTER_START=direct but spawned the init plainly:
  // run, it would be the container in the runtime's own namespaces.
  struct Case {
    const char* name;
    std::string message;
    bool sealed;  // exec'd from a sealed memfd, as a pool's template is
    const char* says;
  };
  const Case cases[] = {
      {"a new pid namespace", MessageBuilder().u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWUTS).build(), true,
       "_NSENTER_START=direct, but this process is not pid 1 of a new pid namespace"},
      {"a new user namespace", MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER).str(kUidMap, "0 100000 65536\n").str(kGidMap, "0 100000 65536\n").build(),
       true, "_NSENTER_START=direct, but this process is in the initial user namespace"},
      {"a binary neither sealed nor said to need no protection", MessageBuilder().u32(kCloneFlags, CLONE_NEWPID).build(), false,
       "_NSENTER_START=direct, but the binary is neither a sealed memfd nor said to need no protection"},
      {"a container that needs stage 1", MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).str(kNsPaths, "net:/proc/self/ns/net").build(),
       true, "_NSENTER_START=direct, but it joins namespaces"},
      {"a container with no user or pid namespace to check", MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).build(), true,
       "_NSENTER_START=direct, but it creates neither a user nor a pid namespace"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const int memfd = c.sealed ? memfd_of(kNsrun, "direct-init", kAllSeals) : -1;
    InitOptions opt;
    opt.exec_fd = memfd;
    opt.env = {{"_NSENTER_START", "direct"}};
    const InitResult r = run_init(kNsrun, c.message, kReport, opt);
    if (memfd >= 0) ::close(memfd);
    INFO(r.describe());
    CHECK(r.exited(r.stage0_status, 1));
    CHECK(fatal_of(r).find(c.says) != std::string::npos);
    CHECK_FALSE(r.stage2_pid);       // no pid line, and nothing ran
    CHECK(r.stdout_text.empty());
    CHECK(r.other_statuses.empty());  // no process made
    CHECK(r.leftover_children == 0);
  }
}

TEST_CASE("direct start: a runtime that itself runs in a user namespace cannot pass its own off as the container's") {
  require_root();  // to become nobody
  // As rootless Podman or a CI sandbox runs: nobody, root of a user
  // namespace of its own (unshare -U -r), says _NSENTER_START=direct:unwritable
  // (a direct start whose container cannot write the binary: true, it is
  // root-owned and nobody's map leaves root out), and execs the init plainly. The uid map is not the initial namespace's, so
  // only a comparison with the runtime's own tells.
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  opt.env = {{"_NSENTER_START", "direct:unwritable"}};
  std::string message = MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER).str(kUidMap, "0 0 1\n").str(kGidMap, "0 0 1\n").u32(kRootlessEuid, 1).build();
  std::string says = "_NSENTER_START=direct:unwritable, but this process is in its runtime's user namespace";
  SUBCASE("a user namespace alone") {
    opt.init_flags = {"-U", "-r", "-f", nsrun.path()};  // unshare -U -r -f nsrun -- ...: its parent is the runtime, in there
  }
  SUBCASE("the init short of a capability its runtime holds, which hides the runtime's namespace link from it") {
    opt.init_flags = {"-U", "-r", "-f", "/usr/bin/setpriv", "--bounding-set=-sys_ptrace", nsrun.path()};
    says = "_NSENTER_START=direct:unwritable, but its runtime's user namespace is hidden from it, and without every capability";
  }
  SUBCASE("with a pid namespace, the init its pid 1") {
    opt.init_flags = {"-U", "-r", "-p", "-f", nsrun.path()};
    message = MessageBuilder()
                  .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
                  .str(kUidMap, "0 0 1\n")
                  .str(kGidMap, "0 0 1\n")
                  .u32(kRootlessEuid, 1)
                  .build();
  }
  const InitResult r = run_init("/usr/bin/unshare", message, kReport, opt);
  INFO(r.describe());
  CHECK(fatal_of(r).find(says) != std::string::npos);
  CHECK_FALSE(r.stage2_pid);  // no pid line, and nothing ran
  CHECK(r.stdout_text.empty());
  CHECK(r.leftover_children == 0);
}

TEST_CASE("direct start: the runtime's check of a genuine one holds where the runtime itself runs in a user namespace") {
  require_root();  // to become nobody
  // The same nested runtime, genuine this time: nsrun as nobody inside
  // unshare -U -r clones its init into a new user and pid namespace itself.
  WorldExecutable nsrun(kNsrun);
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(121);
    ::execl("/usr/bin/unshare", "unshare", "-U", "-r", nsrun.path().c_str(), "--no-tty", "--log-level=debug", "-U", "-p",
            "--", "/bin/sh", "-c", "echo pid=$$ uid=$(id -u)", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  const std::string said = read_all(out[0]);
  ::close(out[0]);
  int status = -1;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO(said);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(said.find("pid=2 uid=0") != std::string::npos);  // pid 1 is nsrun's reaper
  CHECK(said.find("started directly by the runtime") != std::string::npos);  // the direct start, checked and taken
}

TEST_CASE("unprivileged: a map that leaves 0 out makes the stages the caller's own id inside, in every plan") {
  require_root();  // to become nobody
  WorldExecutable nsrun(kNsrun);
  InitOptions opt;
  opt.drop_to = {{kNobody, kNobody}};
  SUBCASE("three stages") {}
  SUBCASE("one clone") { opt.env = {{"_NSENTER_START", "one-clone"}}; }
  const InitResult r = run_init(nsrun.path(),
                                MessageBuilder()
                                    .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
                                    .str(kUidMap, "1000 65534 1\n")
                                    .str(kGidMap, "2000 65534 1\n")
                                    .u32(kRootlessEuid, 1)
                                    .build(),
                                kReport, opt);
  INFO(r.describe());
  REQUIRE(r.ok());
  auto v = r.values();
  CHECK(v["uid"] == "1000");  // as unshare(1) --map-user does, not root
  CHECK(v["gid"] == "2000");
  CHECK(v["pid"] == "1");
}
