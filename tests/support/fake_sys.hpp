// SPDX-License-Identifier: Apache-2.0
// Test doubles for the pipeline's system-call policies. Every call is
// recorded as one line "PID CALL ARGS\n" on a pipe (one write, so lines
// from the three stage processes never mix), and the first call whose
// "CALL ARGS" starts with `fail` returns `err` instead of happening.
// Nothing privileged really happens, so the stage logic runs unprivileged.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "nsenter/nsexec.hpp"

namespace nsenter::test {

struct CallLog {
  int fd = -1;               // write end of the record pipe
  const char* fail = nullptr;  // prefix of the call to fail, or none
  int err = EPERM;

  // Records the call; returns the errno to report (0: go on).
  int record(std::string_view call, std::string_view args = {}) const noexcept {
    char line[256];
    const auto r = fmt::format_to_n(line, sizeof line - 1, "{} {} {}", ::getpid(), call, args);
    std::size_t n = std::min(r.size, sizeof line - 1);
    line[n++] = '\n';
    (void)!::write(fd, line, n);
    if (fail == nullptr) return 0;
    char what[200];
    const auto w = fmt::format_to_n(what, sizeof what, "{} {}", call, args);
    const std::string_view text(what, std::min(w.size, sizeof what));
    return text.starts_with(fail) ? err : 0;
  }
};

// The privileged calls recorded and never made; the sync sockets' and
// mount sources' reads and writes are LinuxSys's, real and unrecorded.
struct FaultySys : LinuxSys {
  CallLog log;
  int parent_gone_after = -1;
  int exit_at_look = -1;  // the process exits instead of its look number N at the runtime
  mutable int parent_calls = 0;
  int unshare(int flags) const noexcept {
    char hex[16];
    const auto r = fmt::format_to_n(hex, sizeof hex, "{:#x}", flags);
    return log.record("unshare", {hex, r.size});
  }
  int set_dumpable(bool on) const noexcept { return log.record("set_dumpable", on ? "1" : "0"); }
  int set_name(const char* name) const noexcept { return log.record("set_name", name); }
  int setresuid_to(uid_t id) const noexcept { return log.record("setresuid", std::to_string(id)); }
  int setsid() const noexcept { return log.record("setsid"); }
  int setuid_to(uid_t id) const noexcept { return log.record("setuid", std::to_string(id)); }
  int setgid_to(gid_t id) const noexcept { return log.record("setgid", std::to_string(id)); }
  int clear_groups() const noexcept { return log.record("clear_groups"); }
  // Real sockets and real kills: the stages are real processes.
  int socketpair(int fds[2]) const noexcept {
    if (int err = log.record("socketpair")) return err;
    return LinuxSys::socketpair(fds);
  }
  int kill(pid_t pid) const noexcept {
    (void)log.record("kill");
    return LinuxSys::kill(pid);
  }
  int set_parent_death_signal(int sig) const noexcept { return log.record("set_pdeathsig", std::to_string(sig)); }
  // The runtime's pid as the stages see it; from the `parent_gone_after`th
  // call of a process on (0: the first), it plays a runtime that died (the
  // stages were reparented).
  pid_t parent_pid() const noexcept {
    const int look = parent_calls++;
    if (look == exit_at_look) ::_exit(9);  // dies, as by its own parent-death signal, before it looks
    return parent_gone_after >= 0 && look >= parent_gone_after ? 1 : ::getppid();
  }
  int write_file(const char* path, std::string_view text) const noexcept {
    (void)text;
    // /proc/<pid>/... paths name a pid that changes per run; keep the file.
    std::string_view p(path);
    if (p.starts_with("/proc/") && p.find('/', 6) != std::string_view::npos && !p.starts_with("/proc/self/"))
      p = p.substr(p.find('/', 6) + 1);
    return log.record("write_file", p);
  }
};

// The real CLONE_PARENT clone, and spawn_into recorded with its flags
// ("spawn_into 0x..."), its child made in no new namespace: the one-clone
// plan's stage 0, unprivileged.
struct FakeClone : CloneParent {
  CallLog log;
  Result<pid_t> spawn_into(Stage stage, NsSet create) const noexcept {
    char hex[16];
    const auto r = fmt::format_to_n(hex, sizeof hex, "{:#x}", create.clone_flags());
    if (int err = log.record("spawn_into", {hex, r.size}))
      return in_stage(make_sys_error(Op::Clone, err, "CLONE_PARENT and new namespaces"), stage);
    return spawn(stage);
  }
};

struct FakeJoiner {
  CallLog log;
  Result<void> join(std::span<const NsTarget> targets) const noexcept {
    for (const NsTarget& t : targets)
      if (int err = log.record("setns", name(t.kind))) {
        return in_stage(make_sys_error(Op::Setns, err, t.path), Stage::Child);
      }
    return {};
  }
};

struct FakeMapWriter {
  CallLog log;
  Result<void> write(const IdMapRequest& req) const noexcept {
    if (req.map.empty()) return {};
    const bool uid = req.kind == IdKind::Uid;
    if (int err = log.record("write_map", uid ? "uid" : "gid")) {
      return in_stage(make_sys_error(uid ? Op::WriteUidMap : Op::WriteGidMap, err, uid ? "uid_map" : "gid_map"), Stage::Parent);
    }
    return {};
  }
};

}  // namespace nsenter::test
