// SPDX-License-Identifier: Apache-2.0
// The stage logic of Nsexec, unprivileged, in all three topologies (runc's
// three stages, one clone, the direct start): the stages are real processes
// (real clone, real sync sockets), but every privileged call goes through
// FaultySys, FakeJoiner, FakeMapWriter and FakeClone, which record it and
// can fail it. One case per topology shows the whole call sequence per
// stage; a table per topology fails each call in turn and checks the
// failing stage, the fatal record and that every process ended.
#include "nsenter/nsexec.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/fake_sys.hpp"
#include "support/message_builder.hpp"
#include "support/test_util.hpp"

using namespace nsenter::test;

namespace {

struct FakePolicies : nsenter::RuncPolicies {
  using Reader = nsenter::InMemoryReader;
  using Protection = nsenter::NoSelfProtection;
  using Joiner = FakeJoiner;
  using MapWriter = FakeMapWriter;
  using Clone = FakeClone;
  using Sys = FaultySys;
};
using FakeNsexec = nsenter::Nsexec<FakePolicies>;

struct StageRun {
  int stage0_status = -1;
  std::map<pid_t, int> statuses;  // every process reaped, by pid
  std::map<pid_t, std::vector<std::string>> calls;  // recorded calls per process, in order
  std::map<std::string, pid_t> pid_of;  // stage name (from set_name) -> pid
  std::string pid_line, log;

  std::vector<std::string> calls_of(const std::string& stage) const {
    auto it = pid_of.find(stage);
    return it == pid_of.end() ? std::vector<std::string>{} : calls.at(it->second);
  }
  std::string fatal() const {
    std::istringstream in(log);
    for (std::string l; std::getline(in, l);)
      if (l.find(R"("level":"fatal")") != std::string::npos) return l;
    return {};
  }
};

// `death`: the parent-death signal asked for, the runtime being this test
// process; `parent_gone_after`: the runtime dies after that many looks at
// it (see FaultySys::parent_pid).
StageRun run_stages(const std::string& message, const char* fail = nullptr, int err = EPERM, int death = 0,
                    int parent_gone_after = -1, int exit_at_look = -1, nsenter::StartPlan start = {},
                    void (*before_run)() = nullptr, const nsenter::StageNameTexts& names = {}) {
  const pid_t runtime = ::getpid();
  int calls[2], pids[2], logs[2];
  REQUIRE(::pipe(calls) == 0);
  REQUIRE(::pipe(pids) == 0);
  REQUIRE(::pipe(logs) == 0);
  const pid_t stage0 = ::fork();
  REQUIRE(stage0 >= 0);
  if (stage0 == 0) {
    ::close(calls[0]);
    ::close(pids[0]);
    ::close(logs[0]);
    nsenter::InMemoryReader reader;
    reader.message.assign(message.begin(), message.end());
    reader.pid_fd = pids[1];
    reader.log_fd = logs[1];
    reader.parent_death = {death, runtime};
    reader.start = start;
    reader.stage_names = names;
    if (before_run) before_run();
    const CallLog log{calls[1], fail, err};
    FakeNsexec pipeline(reader, {}, {}, FakeJoiner{log}, FakeMapWriter{log}, FakeClone{{}, log},
                        FaultySys{{}, log, parent_gone_after, exit_at_look});
    if (auto ctx = pipeline.run()) {
      (void)log.record("returned");
      ::_exit(0);
    }
    ::_exit(3);  // not an init: cannot happen with InMemoryReader
  }
  ::close(calls[1]);
  ::close(pids[1]);
  ::close(logs[1]);
  StageRun run;
  // Stages 1 and 2 are our children too (CLONE_PARENT); wait for all.
  int status = 0;
  for (pid_t pid; (pid = ::waitpid(-1, &status, 0)) > 0 || errno == EINTR;)
    if (pid > 0) run.statuses[pid] = status;
  run.stage0_status = run.statuses[stage0];
  std::istringstream lines(read_to_end_and_close(calls[0]));
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    const pid_t pid = std::stoi(line.substr(0, space));
    std::string call = line.substr(space + 1);
    while (!call.empty() && call.back() == ' ') call.pop_back();
    if (call.rfind("set_name ", 0) == 0) run.pid_of[call.substr(9)] = pid;
    run.calls[pid].push_back(call);
  }
  run.pid_line = read_to_end_and_close(pids[0]);
  run.log = read_to_end_and_close(logs[0]);
  return run;
}

bool exited(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

// A call failed on purpose (EPERM), the stage that reports it and the
// rendered operation and detail it reports.
struct FailingCall {
  const char* fail;
  const char* label;
  const char* text;
};

// The init as a whole failed with that call's fatal record (stage 0 exits
// 1, itself or on its peer's EOF), and stage 2 never reached the program.
void check_failed_at(const StageRun& run, const FailingCall& c) {
  INFO(run.log);
  CHECK(exited(run.stage0_status, 1));
  const std::string fatal = run.fatal();
  CHECK(fatal.find(c.label) != std::string::npos);
  CHECK(fatal.find(std::string(c.text) + "Operation not permitted\"}") != std::string::npos);
  for (const auto& [pid, calls] : run.calls)
    for (const auto& call : calls) CHECK(call != "returned");
}

// A root runtime's container: join a netns, create user (maps written by
// stage 0), pid, mnt, uts, ipc and cgroup namespaces, oom_score_adj.
const std::string kMessage = MessageBuilder()
                                 .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
                                                       CLONE_NEWIPC | CLONE_NEWCGROUP)
                                 .str(kNsPaths, "net:/proc/1/ns/net")
                                 .str(kUidMap, "0 100000 65536\n")
                                 .str(kGidMap, "0 100000 65536\n")
                                 .u32(kSetGroup, 1)
                                 .str(kOomScoreAdj, "100")
                                 .u32(kRootlessEuid, 0)
                                 .build();

}  // namespace

TEST_CASE("each stage makes its calls in runc's order") {
  const StageRun run = run_stages(kMessage);
  INFO(run.log);
  for (const auto& entry : run.statuses) CHECK_MESSAGE(exited(entry.second, 0), entry.first);  // clang 14 cannot capture a binding
  CHECK(run.statuses.size() == 3);
  CHECK(run.calls_of("runc:[0:PARENT]") ==
        std::vector<std::string>{"write_file /proc/self/oom_score_adj", "set_dumpable 0", "socketpair", "socketpair",
                                 "set_name runc:[0:PARENT]", "write_map uid", "write_map gid"});
  CHECK(run.calls_of("runc:[1:CHILD]") ==
        std::vector<std::string>{"set_name runc:[1:CHILD]", "setns net", "unshare 0x10000000", "set_dumpable 1",
                                 "set_dumpable 0", "setresuid 0", "unshare 0x2c020000"});
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "clear_groups",
                                 "unshare 0x2000000", "returned"});
  CHECK(run.pid_line == fmt::format("{{\"stage1_pid\":{},\"stage2_pid\":{}}}\n", run.pid_of.at("runc:[1:CHILD]"),
                                    run.pid_of.at("runc:[2:INIT]")));
}

TEST_CASE("after joining a user namespace, stage 1 becomes its root before it creates anything (runc 1.2.1)") {
  // An exec-like start joining a container's user namespace, creating an
  // IPC namespace: its mqueue is to be owned by the namespace's root.
  const std::string joins_user = MessageBuilder()
                                     .u32(kCloneFlags, CLONE_NEWIPC)
                                     .str(kNsPaths, "user:/proc/1/ns/user,net:/proc/1/ns/net")
                                     .build();
  const StageRun run = run_stages(joins_user);
  INFO(run.log);
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.calls_of("runc:[1:CHILD]") == std::vector<std::string>{"set_name runc:[1:CHILD]", "setns user",
                                                                    "setns net", "setgid 0", "setresuid 0",
                                                                    "unshare 0x8000000"});
  // Joining no user namespace: no id change before stage 2.
  const StageRun plain = run_stages(MessageBuilder().u32(kCloneFlags, CLONE_NEWIPC).str(kNsPaths, "net:/proc/1/ns/net").build());
  CHECK(plain.calls_of("runc:[1:CHILD]") ==
        std::vector<std::string>{"set_name runc:[1:CHILD]", "setns net", "unshare 0x8000000"});
  // Either id change failing ends the start in stage 1, naming it.
  for (const char* fail : {"setgid 0", "setresuid 0"}) {
    CAPTURE(fail);
    const StageRun failed = run_stages(joins_user, fail);
    CHECK(exited(failed.stage0_status, 1));
    CHECK(failed.fatal().find("nsexec-1[") != std::string::npos);
    CHECK(failed.fatal().find(" of the joined user namespace: Operation not permitted") != std::string::npos);
    CHECK(failed.calls_of("runc:[2:INIT]").empty());
  }
}

TEST_CASE("rootless without SETGROUP: stage 0 denies setgroups before the maps, stage 2 keeps its groups") {
  const StageRun run = run_stages(MessageBuilder()
                                      .u32(kCloneFlags, CLONE_NEWUSER)
                                      .str(kUidMap, "0 1000 1\n")
                                      .str(kGidMap, "0 1000 1\n")
                                      .u32(kRootlessEuid, 1)
                                      .build());
  INFO(run.log);
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.calls_of("runc:[0:PARENT]") == std::vector<std::string>{"socketpair", "socketpair",
                                                                    "set_name runc:[0:PARENT]", "write_file setgroups",
                                                                    "write_map uid", "write_map gid"});
  CHECK(run.calls_of("runc:[2:INIT]") == std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0",
                                                                  "setgid 0", "returned"});
}

TEST_CASE("every failing call ends its stage with a fatal record, and every process ends") {
  const FailingCall cases[] = {
      {"write_file /proc/self/oom_score_adj", "nsexec[", "write /proc/self/oom_score_adj: 100: "},
      {"set_dumpable 0", "nsexec[", "prctl(PR_SET_DUMPABLE): 0: "},
      {"socketpair", "nsexec[", "socketpair: stage 1: "},
      {"setns net", "nsexec-1[", "setns: /proc/1/ns/net: "},
      {"unshare 0x10000000", "nsexec-1[", "unshare: user: "},
      {"set_dumpable 1", "nsexec-1[", "prctl(PR_SET_DUMPABLE): 1: "},
      {"write_map uid", "nsexec-0[", "write uid_map: uid_map: "},
      {"write_map gid", "nsexec-0[", "write gid_map: gid_map: "},
      {"setresuid 0", "nsexec-1[", "setresuid: uid 0: "},
      {"unshare 0x2c020000", "nsexec-1[", "unshare: flags 0x2c020000: "},
      {"setsid", "nsexec-2[", "setsid: "},
      {"setuid 0", "nsexec-2[", "setuid: uid 0: "},
      {"setgid 0", "nsexec-2[", "setgid: gid 0: "},
      {"clear_groups", "nsexec-2[", "setgroups(0, NULL): "},
      {"unshare 0x2000000", "nsexec-2[", "unshare: cgroup: "},
  };
  for (const FailingCall& c : cases) {
    CAPTURE(c.fail);
    check_failed_at(run_stages(kMessage, c.fail), c);
  }
}

TEST_CASE("unshare is retried on EINVAL, five times in all, then reported") {
  const StageRun run = run_stages(kMessage, "unshare 0x2c020000", EINVAL);
  CHECK(exited(run.stage0_status, 1));
  const auto calls = run.calls_of("runc:[1:CHILD]");
  CHECK(std::count(calls.begin(), calls.end(), "unshare 0x2c020000") == 5);
  CHECK(run.fatal().find("unshare: flags 0x2c020000: Invalid argument") != std::string::npos);
}

TEST_CASE("stage 0 kills stage 1 when it fails after spawning it") {
  const StageRun run = run_stages(kMessage, "write_map uid");
  const pid_t stage1 = run.pid_of.at("runc:[1:CHILD]");
  REQUIRE(run.statuses.count(stage1) == 1);
  const int st = run.statuses.at(stage1);
  // Killed by stage 0, or (if the kill raced its own EOF) exited 1: never 0.
  CHECK(((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) || exited(st, 1)));
  const auto calls0 = run.calls_of("runc:[0:PARENT]");
  CHECK(std::count(calls0.begin(), calls0.end(), "kill") == 1);
}

TEST_CASE("a parent-death signal is armed by stage 0 before anything, and by stage 2 after its id changes") {
  const StageRun run = run_stages(kMessage, nullptr, EPERM, SIGKILL);
  INFO(run.log);
  for (const auto& entry : run.statuses) CHECK_MESSAGE(exited(entry.second, 0), entry.first);  // clang 14 cannot capture a binding
  const auto calls0 = run.calls_of("runc:[0:PARENT]");
  REQUIRE(!calls0.empty());
  CHECK(calls0.front() == "set_pdeathsig 9");
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "clear_groups",
                                 "unshare 0x2000000", "set_pdeathsig 9", "returned"});
  const auto calls1 = run.calls_of("runc:[1:CHILD]");
  CHECK(std::count(calls1.begin(), calls1.end(), "set_pdeathsig 9") == 0);  // stage 1 is short-lived
}

TEST_CASE("a runtime that is already gone ends the init before any clone") {
  const StageRun run = run_stages(kMessage, nullptr, EPERM, SIGKILL, 0);
  CHECK(exited(run.stage0_status, 1));
  CHECK(run.statuses.size() == 1);
  CHECK(run.fatal().find(fmt::format("parent-death signal: the runtime that started the init has exited: pid {}",
                                     ::getpid())) != std::string::npos);
}

TEST_CASE("a parent-death signal that cannot be armed is fatal, naming the signal") {
  const StageRun run = run_stages(kMessage, "set_pdeathsig", EINVAL, SIGTERM);
  CHECK(exited(run.stage0_status, 1));
  CHECK(run.statuses.size() == 1);
  CHECK(run.fatal().find("parent-death signal: signal 15: Invalid argument") != std::string::npos);
}

TEST_CASE("a runtime that dies before stage 2 armed its signal is caught by stage 0, which kills stage 2") {
  // Alive at setup's look, gone at the look after stage 2's CHILD_FINISH.
  const StageRun run = run_stages(kMessage, nullptr, EPERM, SIGKILL, 1);
  CHECK(exited(run.stage0_status, 1));
  CHECK(run.fatal().find("nsexec-0[") != std::string::npos);
  CHECK(run.fatal().find("the runtime that started the init has exited") != std::string::npos);
  const auto calls0 = run.calls_of("runc:[0:PARENT]");
  CHECK(std::count(calls0.begin(), calls0.end(), "kill") == 1);  // stage 2 only: stage 1 had finished
}

TEST_CASE("at log level debug, records carry their time and stage 0 breaks the start down") {
  const StageRun run = run_stages(kMessage);
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.log.find(R"("msg": "nsexec-1[)") != std::string::npos);
  std::istringstream in(run.log);
  int timed = 0, breakdowns = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.find(R"("level":"debug")") == std::string::npos) continue;
    const auto text = l.substr(l.find("]: ") + 3);
    timed += text[0] == '+' ? 1 : 0;
    if (auto b = nsenter::parse_breakdown(nsenter::without_elapsed(text.substr(0, text.size() - 2)))) {
      ++breakdowns;
      CHECK(b->boot == -1);  // an in-memory reader: nobody said when it spawned us
      for (long long v : {b->protection, b->read, b->plan, b->joins, b->maps, b->unshares, b->stage2, b->total})
        CHECK(v >= 0);
    }
  }
  CHECK(breakdowns == 1);
  CHECK(timed > 5);
}

TEST_CASE("a stage 0 that dies between stage 2's report and its own look leaves no stage 2 behind") {
  // Stage 0 dies with the runtime (its own parent-death signal) right
  // after stage 2 reported: stage 2, armed but maybe too late, waits for
  // stage 0's word, reads EOF, and never reaches the program.
  const StageRun run = run_stages(kMessage, nullptr, EPERM, SIGKILL, -1, 1);
  CHECK(exited(run.stage0_status, 9));
  const pid_t stage2 = run.pid_of.at("runc:[2:INIT]");
  REQUIRE(run.statuses.count(stage2) == 1);
  CHECK(exited(run.statuses.at(stage2), 1));
  for (const auto& [pid, calls] : run.calls)
    for (const auto& call : calls) CHECK(call != "returned");
  CHECK(run.log.find("expected RUNTIME_ALIVE") == std::string::npos);  // an EOF, not a wrong message
  CHECK(run.log.find("nsexec-2[") != std::string::npos);
}

// ---- one clone -------------------------------------------------------------------

namespace {

StageRun run_one_clone(const std::string& message, const char* fail = nullptr, int death = 0) {
  return run_stages(message, fail, EPERM, death, -1, -1, nsenter::StartPlan{.topology = nsenter::Topology::OneClone});
}

// The rootless sandbox nsrun makes: every namespace new, nothing joined.
const std::string kOneCloneMessage = MessageBuilder()
                                         .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
                                                               CLONE_NEWIPC | CLONE_NEWCGROUP)
                                         .str(kUidMap, "0 100000 65536\n")
                                         .str(kGidMap, "0 100000 65536\n")
                                         .u32(kSetGroup, 1)
                                         .str(kOomScoreAdj, "100")
                                         .u32(kRootlessEuid, 0)
                                         .build();

}  // namespace

TEST_CASE("one clone: stage 0 clones stage 2 into its namespaces, writes its maps and names it twice") {
  const StageRun run = run_one_clone(kOneCloneMessage);
  INFO(run.log);
  for (const auto& entry : run.statuses) CHECK_MESSAGE(exited(entry.second, 0), entry.first);  // clang 14 cannot capture a binding
  CHECK(run.statuses.size() == 2);  // no stage 1
  CHECK(run.calls_of("runc:[1:CHILD]").empty());
  // One socketpair, one clone with every CLONE_NEW* but the cgroup one
  // (stage 2's, after its release), the maps from outside.
  CHECK(run.calls_of("runc:[0:PARENT]") ==
        std::vector<std::string>{"write_file /proc/self/oom_score_adj", "socketpair", "set_name runc:[0:PARENT]",
                                 "spawn_into 0x3c020000", "write_map uid", "write_map gid"});
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "clear_groups",
                                 "unshare 0x2000000", "returned"});
  const pid_t stage2 = run.pid_of.at("runc:[2:INIT]");
  CHECK(run.pid_line == fmt::format("{{\"stage1_pid\":{},\"stage2_pid\":{}}}\n", stage2, stage2));
  CHECK(run.log.find("start: one-clone\"") != std::string::npos);
}

TEST_CASE("one clone: stage 0 makes the joins itself, and becomes root of a joined user namespace first") {
  const StageRun run = run_one_clone(MessageBuilder()
                                         .u32(kCloneFlags, CLONE_NEWIPC | CLONE_NEWUTS)
                                         .str(kNsPaths, "user:/proc/1/ns/user,net:/proc/1/ns/net")
                                         .build());
  INFO(run.log);
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.calls_of("runc:[0:PARENT]") ==
        std::vector<std::string>{"set_dumpable 0", "socketpair", "set_name runc:[0:PARENT]", "setns user", "setns net",
                                 "setgid 0", "setresuid 0", "spawn_into 0xc000000"});
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "returned"});
}

TEST_CASE("one clone: where the container needs stage 1, the three stages run and the record says why") {
  const StageRun run = run_one_clone(kMessage);  // a join and a new user namespace
  INFO(run.log);
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.statuses.size() == 3);
  CHECK(run.log.find("start: three-stages (asked for one-clone, but it joins namespaces and creates a user namespace)") !=
        std::string::npos);
  CHECK(run.calls_of("runc:[0:PARENT]") ==
        std::vector<std::string>{"write_file /proc/self/oom_score_adj", "set_dumpable 0", "socketpair", "socketpair",
                                 "set_name runc:[0:PARENT]", "write_map uid", "write_map gid"});
}

TEST_CASE("one clone: every failing call ends its stage with a fatal record, and every process ends") {
  const FailingCall cases[] = {
      {"write_file /proc/self/oom_score_adj", "nsexec[", "write /proc/self/oom_score_adj: 100: "},
      {"socketpair", "nsexec[", "socketpair: stage 2: "},
      {"spawn_into", "nsexec-0[", "clone: CLONE_PARENT and new namespaces: "},
      {"write_map uid", "nsexec-0[", "write uid_map: uid_map: "},
      {"write_map gid", "nsexec-0[", "write gid_map: gid_map: "},
      {"setsid", "nsexec-2[", "setsid: "},
      {"setuid 0", "nsexec-2[", "setuid: uid 0: "},
      {"setgid 0", "nsexec-2[", "setgid: gid 0: "},
      {"clear_groups", "nsexec-2[", "setgroups(0, NULL): "},
      {"unshare 0x2000000", "nsexec-2[", "unshare: cgroup: "},
  };
  for (const FailingCall& c : cases) {
    CAPTURE(c.fail);
    check_failed_at(run_one_clone(kOneCloneMessage, c.fail), c);
  }
  // The joins stage 0 makes fail in stage 0.
  const StageRun join = run_one_clone(MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).str(kNsPaths, "net:/proc/1/ns/net").build(), "setns net");
  CHECK(exited(join.stage0_status, 1));
  CHECK(join.fatal().find("nsexec-0[") != std::string::npos);
  CHECK(join.fatal().find("setns: /proc/1/ns/net: Operation not permitted") != std::string::npos);
  CHECK(join.statuses.size() == 1);  // nothing cloned
}

TEST_CASE("one clone: a parent-death signal is checked by stage 0 after stage 2 armed it") {
  const StageRun run = run_one_clone(kOneCloneMessage, nullptr, SIGKILL);
  INFO(run.log);
  for (const auto& entry : run.statuses) CHECK_MESSAGE(exited(entry.second, 0), entry.first);  // clang 14 cannot capture a binding
  const auto calls0 = run.calls_of("runc:[0:PARENT]");
  REQUIRE(!calls0.empty());
  CHECK(calls0.front() == "set_pdeathsig 9");
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "clear_groups",
                                 "unshare 0x2000000", "set_pdeathsig 9", "returned"});
}

// ---- the direct start ------------------------------------------------------------

namespace {

// What a runtime's clone gives a direct start: a user namespace of its own
// (made here with unshare, unprivileged, the maps written from inside),
// and a process that is not dumpable (the unreachable guard's claim).
void become_a_direct_start() {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER) != 0) ::_exit(40);
  auto write = [](const char* path, const std::string& text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) ::close(fd);
    if (!ok) ::_exit(41);
  };
  write("/proc/self/setgroups", "deny");
  write("/proc/self/uid_map", fmt::format("0 {} 1\n", uid));
  write("/proc/self/gid_map", fmt::format("0 {} 1\n", gid));
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) ::_exit(42);
}

StageRun run_direct(const std::string& message, const char* fail = nullptr,
                    nsenter::BinaryGuard guard = nsenter::BinaryGuard::Unreachable) {
  return run_stages(message, fail, EPERM, 0, -1, -1,
                    nsenter::StartPlan{.topology = nsenter::Topology::Direct, .guard = guard}, become_a_direct_start);
}

const std::string kDirectMessage = MessageBuilder()
                                       .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWCGROUP)
                                       .str(kUidMap, "0 100000 65536\n")
                                       .str(kGidMap, "0 100000 65536\n")
                                       .u32(kRootlessEuid, 1)
                                       .build();

}  // namespace

TEST_CASE("direct start: the runtime's clone is stage 2 from the start, and says it is ready with a second NUL") {
  const StageRun run = run_direct(kDirectMessage);
  INFO(run.log);
  REQUIRE(run.statuses.size() == 1);  // no stage 0 or 1: the one process the runtime made
  CHECK(exited(run.stage0_status, 0));
  CHECK(run.calls_of("runc:[0:PARENT]").empty());
  CHECK(run.calls_of("runc:[2:INIT]") ==
        std::vector<std::string>{"set_name runc:[2:INIT]", "setsid", "setuid 0", "setgid 0", "unshare 0x2000000",
                                 "returned"});
  CHECK(run.pid_line == std::string(1, '\0'));  // no pid line: the ready byte
  CHECK(run.log.find("start: direct:unreachable\"") != std::string::npos);
}

TEST_CASE("direct start: every failing call ends it with a fatal record, before the ready byte") {
  for (const char* fail : {"setsid", "setuid 0", "setgid 0", "unshare 0x2000000"}) {
    CAPTURE(fail);
    const StageRun run = run_direct(kDirectMessage, fail);
    INFO(run.log);
    CHECK(exited(run.stage0_status, 1));
    CHECK(run.fatal().find("nsexec-2[") != std::string::npos);
    CHECK(run.pid_line.empty());
    for (const auto& [pid, calls] : run.calls)
      for (const auto& call : calls) CHECK(call != "returned");
  }
}

TEST_CASE("direct start: refused before anything where the plan does not hold") {
  struct Case {
    const char* what;
    std::string message;
    nsenter::BinaryGuard guard;
    const char* says;
  };
  const Case cases[] = {
      {"a join", MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER).str(kNsPaths, "net:/proc/1/ns/net").str(kUidMap, "0 0 1\n").build(),
       nsenter::BinaryGuard::Unreachable, "_NSENTER_START=direct:unreachable, but it joins namespaces"},
      {"a pid namespace this process is not pid 1 of", MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID).str(kUidMap, "0 0 1\n").build(),
       nsenter::BinaryGuard::Unreachable, "_NSENTER_START=direct:unreachable, but this process is not pid 1 of a new pid namespace"},
      {"no guard a direct start can rely on", kDirectMessage, nsenter::BinaryGuard::SelfProtect,
       "_NSENTER_START=direct, but the binary is neither a sealed memfd nor said to need no protection"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const StageRun run = run_direct(c.message, nullptr, c.guard);
    INFO(run.log);
    CHECK(exited(run.stage0_status, 1));
    CHECK(run.fatal().find(c.says) != std::string::npos);
    CHECK(run.calls_of("runc:[2:INIT]").empty());
    CHECK(run.pid_line.empty());
  }
}

TEST_CASE("a runtime's names for the stages replace runc's, in every topology") {
  auto names = nsenter::parse_stage_names("_NSENTER_STAGE_NAMES", "tool:parent,tool:child,tool:init");
  REQUIRE(names);
  const nsenter::StartPlan one_clone{.topology = nsenter::Topology::OneClone};
  const nsenter::StartPlan direct{.topology = nsenter::Topology::Direct, .guard = nsenter::BinaryGuard::Unreachable};
  const StageRun three = run_stages(kMessage, nullptr, EPERM, 0, -1, -1, {}, nullptr, *names);
  const StageRun one = run_stages(kOneCloneMessage, nullptr, EPERM, 0, -1, -1, one_clone, nullptr, *names);
  const StageRun alone = run_stages(kDirectMessage, nullptr, EPERM, 0, -1, -1, direct, become_a_direct_start, *names);
  for (const StageRun* run : {&three, &one, &alone}) {
    INFO(run->log);
    for (const auto& entry : run->statuses) CHECK_MESSAGE(exited(entry.second, 0), entry.first);
    for (const auto& entry : run->pid_of) CHECK_MESSAGE(entry.first.rfind("tool:", 0) == 0, entry.first);  // no runc name
    CHECK(run->calls_of("tool:init").front() == "set_name tool:init");
    CHECK(run->calls_of("tool:init").back() == "returned");
  }
  CHECK(three.pid_of.size() == 3);
  CHECK(three.calls_of("tool:child").front() == "set_name tool:child");
  CHECK(one.pid_of.size() == 2);  // stage 0 and stage 2
  CHECK(one.calls_of("tool:parent").size() > 1);
  CHECK(alone.pid_of.size() == 1);
  CHECK(three.pid_line == fmt::format("{{\"stage1_pid\":{},\"stage2_pid\":{}}}\n", three.pid_of.at("tool:child"),
                                      three.pid_of.at("tool:init")));
}
