// SPDX-License-Identifier: Apache-2.0
// The sandbox matrix: every call the project makes that a seccomp'd sandbox
// or an older kernel may refuse, with each answer such a sandbox gives
// (ENOSYS, EPERM, and a kill where the call is optional), against every
// way a user starts an init: nsrun creating namespaces as root, nsrun -t
// as root, nsrun as nobody, the init under a runc-like parent as root and
// rootless, the Launcher and the InitPool as root and as nobody. The
// filter is refuse_calls'; it covers the whole start (launcher, init,
// stages, command).
//
// Each cell must either work, with the init's binary protected where the
// container could reach it, or fail with one message that names the
// refused call, and leave no process and no mount behind. Which cells fail
// is part of the test (kFailing): a cell that stops working fails it.
//
//   NSENTER_SANDBOX_TABLE=FILE sandbox_matrix_test   also writes the table
//   (tools/sandbox_table.sh puts it in docs/requirements.md)
//
// Needs root; it fails, never skips, without it.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "init_driver.hpp"
#include "support/message_builder.hpp"
#include "support/process.hpp"
#include "support/root.hpp"

using namespace nsenter::test;

namespace {

constexpr const char* kNsrun = "tools/nsrun/nsrun";  // runfiles paths
constexpr const char* kCEmbed = "tests/integration/c_embed";
constexpr const char* kRefuseCalls = "tests/integration/refuse_calls";
constexpr const char* kSandboxCell = "tests/integration/sandbox_cell";
constexpr uid_t kNobody = 65534;

// Each call, the answers a sandbox gives it, and what a message about its
// refusal must name.
struct Call {
  std::string name;
  std::vector<std::string> answers;
  std::vector<std::string> named_as;  // any of these in a failing cell's message
};
const std::vector<Call> kCalls = {
    {"clone3", {"enosys", "eperm"}, {"clone3"}},
    {"close_range", {"enosys", "eperm"}, {"close_range"}},
    {"pidfd_open", {"enosys", "eperm"}, {"pidfd_open"}},
    {"pidfd_send_signal", {"enosys", "eperm"}, {"pidfd_send_signal"}},
    {"open_tree", {"enosys", "eperm", "kill"}, {"open_tree"}},
    {"mount_setattr", {"enosys", "eperm", "kill"}, {"mount_setattr"}},
    {"set_mm", {"enosys", "eperm", "kill"}, {"PR_SET_MM"}},
    {"memfd_create", {"enosys", "eperm"}, {"memfd_create"}},
    {"execveat", {"enosys", "eperm"}, {"execveat", "fexecve"}},
    {"faccessat2", {"enosys", "eperm"}, {"faccessat"}},
};

enum class Cell { NsrunRoot, NsrunJoin, NsrunNobody, RuncRoot, RuncRootless, LauncherRoot, LauncherNobody, PoolRoot, PoolNobody };
const std::vector<std::pair<Cell, std::string>> kCells = {
    {Cell::NsrunRoot, "nsrun -p -m, root"},       {Cell::NsrunJoin, "nsrun -t PID, root"},
    {Cell::NsrunNobody, "nsrun, nobody"},         {Cell::RuncRoot, "runc-like parent, root"},
    {Cell::RuncRootless, "runc-like parent, rootless"}, {Cell::LauncherRoot, "Launcher, root"},
    {Cell::LauncherNobody, "Launcher, nobody"},   {Cell::PoolRoot, "InitPool, root"},
    {Cell::PoolNobody, "InitPool, nobody"},
};
// Cells whose container could write the init's binary: there the init must
// run protected (a sealed memfd, a read-only view, moved in place).
bool must_protect(Cell c) {
  return c == Cell::NsrunJoin || c == Cell::RuncRoot || c == Cell::LauncherRoot || c == Cell::PoolRoot;
}

// The cells that fail, each with its refused call named: the calls the
// Launcher cannot do without (pidfds: Linux 5.3 and 5.1) and the copy of the
// binary the rootless and the sealed starts need (memfd_create, Linux 3.17).
const std::set<std::string> kFailing = [] {
  std::set<std::string> cells;
  for (const char* answer : {"enosys", "eperm"}) {
    for (const char* cell : {"nsrun -p -m, root", "nsrun -t PID, root", "nsrun, nobody", "Launcher, root", "Launcher, nobody"})
      cells.insert(std::string("pidfd_open:") + answer + "|" + cell);
    for (const char* cell : {"Launcher, root", "Launcher, nobody", "InitPool, root", "InitPool, nobody"})
      cells.insert(std::string("memfd_create:") + answer + "|" + cell);
  }
  return cells;
}();

struct Outcome {
  bool ok = false;
  std::string how;    // how the init was protected, or why it needed not be
  std::string error;  // the one message a failing cell printed
  bool left_nothing = true;
};

// Copies every user can execute (Bazel's runfiles live under root's home).
std::string for_everyone(const char* runfile) {
  static std::map<std::string, WorldExecutable> copies;
  const std::string name = std::filesystem::path(runfile).filename();
  return copies.try_emplace(runfile, runfile, name).first->second.path();
}

struct Run {
  int status = -1;
  std::string out, err;
};

// Runs argv (refuse_calls with NSENTER_TEST_EXEC=program) as root or as
// nobody, with stdin closed, capturing stdout and stderr.
Run run_refused(const std::string& program, const std::string& rule, const std::vector<std::string>& args,
                bool as_nobody) {
  int out[2], err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  const std::string refuse = for_everyone(kRefuseCalls);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    if (as_nobody && (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
                      ::setresuid(kNobody, kNobody, kNobody) != 0))
      ::_exit(121);
    ::setenv("NSENTER_TEST_EXEC", program.c_str(), 1);
    ::setenv("NSENTER_TEST_REFUSE", rule.c_str(), 1);
    std::vector<char*> argv{const_cast<char*>(refuse.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(refuse.c_str(), argv.data());
    ::_exit(122);
  }
  ::close(out[1]);
  ::close(err[1]);
  Run r;
  r.out = read_all(out[0]);  // the command's stdout closes when it ends
  r.err = read_all(err[0]);
  ::close(out[0]);
  ::close(err[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

std::string last_line_without(const std::string& text, const std::string& skip) {
  std::string last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.find(skip) == std::string::npos) last = line;
  return last;
}

// How an init protected itself, from its debug records (or nsrun's).
std::string protection_said(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> kSaid = {
      {"protected in place: /proc/self/exe moved onto the runtime's read-only view", "moved in place onto the launcher's view"},
      {"protected in place: /proc/self/exe moved onto a detached read-only mount", "moved in place onto a read-only mount"},
      {"protected in place: /proc/self/exe moved onto a read-only bind mount", "moved in place onto a bind mount"},
      {"re-exec from the runtime's read-only view", "re-exec from the launcher's view"},
      {"re-exec from a detached read-only mount", "re-exec from a read-only mount"},
      {"re-exec from a read-only bind mount", "re-exec from a bind mount"},
      {"re-exec from a sealed memfd copy", "re-exec from a sealed memfd"},
      {"runs from a read-only mount", "exec'd from a read-only mount"},
      {"runs from a sealed memfd copy", "exec'd from a sealed memfd"},
      {"no re-exec: the container cannot write", "not needed: the container cannot write it"},
      {"no re-exec: the runtime says the container cannot write", "not needed: the container cannot write it"},
      {"no re-exec: the runtime forked us non-dumpable", "not needed: out of the container's reach"},
      {"no re-exec: /proc/self/exe is a sealed memfd", "a sealed memfd already"},
  };
  for (const auto& [needle, said] : kSaid)
    if (text.find(needle) != std::string::npos) return said;
  return {};
}

Outcome nsrun_cell(const std::string& nsrun, const std::string& rule, std::vector<std::string> flags, bool nobody) {
  std::vector<std::string> args = {"--no-tty", "--log-level=debug"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), {"--", "/bin/echo", "cell-ok"});
  const Run r = run_refused(nsrun, rule, args, nobody);
  Outcome o;
  o.ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && r.out == "cell-ok\n";
  o.how = protection_said(r.err);
  if (!o.ok)
    o.error = WIFSIGNALED(r.status) ? "killed by signal " + std::to_string(WTERMSIG(r.status))
                                    : last_line_without(r.err, ": debug");
  return o;
}

const std::string& fatal_text(const InitResult& r, std::string& out) {
  out = r.fatal();
  const auto at = out.find(R"("msg":")");
  if (at != std::string::npos) out = out.substr(at + 7, out.rfind('"') - at - 7);
  if (out.empty() && WIFSIGNALED(r.stage0_status)) out = "stage 0 killed by signal " + std::to_string(WTERMSIG(r.stage0_status));
  return out;
}

Outcome runc_cell(const std::string& rule, bool rootless) {
  InitOptions opt;
  opt.env = {{"NSENTER_TEST_EXEC", for_everyone(kCEmbed)}, {"NSENTER_TEST_REFUSE", rule}};
  std::string message;
  if (rootless) {
    opt.drop_to = std::pair<uid_t, gid_t>{kNobody, kNobody};
    message = MessageBuilder()
                  .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWPID)
                  .str(kUidMap, "0 65534 1\n")
                  .str(kGidMap, "0 65534 1\n")
                  .u32(kRootlessEuid, 1)
                  .build();
  } else {
    message = MessageBuilder().u32(kCloneFlags, CLONE_NEWPID | CLONE_NEWNS).build();
  }
  const InitResult r = run_init(for_everyone(kRefuseCalls), message, {}, opt);
  Outcome o;
  o.ok = r.ok() && r.pipe_tail == "hello from stage 2\n";
  std::string logs;
  for (const auto& l : r.log_lines) logs += l + "\n";
  o.how = protection_said(logs);
  if (!o.ok) fatal_text(r, o.error);
  o.left_nothing = r.leftover_children == 0;
  return o;
}

Outcome library_cell(const std::string& rule, const std::string& how, bool nobody) {
  std::vector<std::string> args = {how};
  if (nobody) args.push_back("user");
  const std::string cell = for_everyone(kSandboxCell);
  const Run r = run_refused(cell, rule, args, nobody);
  Outcome o;
  o.ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && r.out.starts_with("ok ");
  if (o.ok) {
    const auto exe = r.out.find("exe=");
    const std::string kind = exe == std::string::npos ? "" : r.out.substr(exe + 4, r.out.find('\n', exe) - exe - 4);
    o.how = kind == "sealed-memfd" ? "a sealed memfd" : kind == "read-only" ? "a read-only mount" : "";
  } else {
    o.error = WIFSIGNALED(r.status) ? "killed by signal " + std::to_string(WTERMSIG(r.status))
                                    : last_line_without(r.out + r.err, "\x01");
    if (o.error.starts_with("error: ")) o.error = o.error.substr(7);
  }
  return o;
}

std::string mount_table() {
  std::ifstream in("/proc/self/mountinfo");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}


}  // namespace

TEST_CASE("sandbox matrix: each refused call, each answer, each way to start an init") {
  require_root();  // it runs cells as root and as nobody
  const std::string nsrun = for_everyone(kNsrun);
  const std::string mounts_before = mount_table();
  const std::vector<pid_t> children_before = live_children();
  Target target(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC);
  std::string table = "| refused call | answer |";
  std::string rule_line = "|---|---|";
  for (const auto& [cell, name] : kCells) {
    table += " " + name + " |";
    rule_line += "---|";
  }
  table += "\n" + rule_line + "\n";
  for (const Call& call : kCalls) {
    for (const std::string& answer : call.answers) {
      const std::string rule = call.name + ":" + answer;
      table += "| `" + call.name + "` | " + answer + " |";
      for (const auto& entry : kCells) {
        // Named, not bound: clang 14 cannot capture a structured binding.
        const Cell cell = entry.first;
        const std::string& name = entry.second;
        Outcome o;
        switch (cell) {
          case Cell::NsrunRoot: o = nsrun_cell(nsrun, rule, {"-p", "-m"}, false); break;
          case Cell::NsrunJoin: o = nsrun_cell(nsrun, rule, {"-t", std::to_string(target.pid())}, false); break;
          case Cell::NsrunNobody: o = nsrun_cell(nsrun, rule, {}, true); break;
          case Cell::RuncRoot: o = runc_cell(rule, false); break;
          case Cell::RuncRootless: o = runc_cell(rule, true); break;
          case Cell::LauncherRoot: o = library_cell(rule, "launcher", false); break;
          case Cell::LauncherNobody: o = library_cell(rule, "launcher", true); break;
          case Cell::PoolRoot: o = library_cell(rule, "pool", false); break;
          case Cell::PoolNobody: o = library_cell(rule, "pool", true); break;
        }
        CAPTURE(rule);
        CAPTURE(name);
        CAPTURE(o.error);
        CAPTURE(o.how);
        // Nothing left: no process of the start, whatever its outcome.
        std::vector<pid_t> keep = children_before;
        keep.push_back(target.pid());
        const int left = kill_and_reap_children(keep);
        CHECK(left == 0);
        CHECK(o.left_nothing);
        const bool expected_to_fail = kFailing.contains(rule + "|" + name);
        if (o.ok) {
          CHECK_MESSAGE(!expected_to_fail, "works now: take it out of kFailing");
          if (must_protect(cell)) CHECK_MESSAGE(!o.how.empty(), "worked, but with no protection said or seen");
          table += " works" + (o.how.empty() ? std::string() : ": " + o.how) + " |";
        } else {
          CHECK_MESSAGE(expected_to_fail, "fails where it should work");
          bool named = false;
          for (const auto& n : call.named_as) named |= o.error.find(n) != std::string::npos;
          CHECK_MESSAGE(named, "the failure does not name the refused call");
          // The target's pid differs each run: the table says PID.
          std::string said = o.error;
          const std::string pid = std::to_string(target.pid());
          for (std::size_t at; (at = said.find(pid)) != std::string::npos;) said.replace(at, pid.size(), "PID");
          table += " fails: " + said + " |";
        }
      }
      table += "\n";
    }
  }
  CHECK(mount_table() == mounts_before);
  MESSAGE(table);
  if (const char* path = std::getenv("NSENTER_SANDBOX_TABLE")) std::ofstream(path) << table;
}

int main(int argc, char** argv) {
  // Orphans of a killed stage come to us, so that the cells can end them.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
