// An init with a fault injected where the test says: the default pipeline,
// whose Sys policy, at the first call whose "name arg" starts with
// NSENTER_TEST_FAULT's text, either kills its own process (action "kill":
// a stage dying mid-start), or fails the call with EPERM ("fail"), or stops
// (SIGSTOP) until the test lets it go and then fails the call ("stop").
// Everything else is the real LinuxSys. Test-only: the production pipeline
// has no such hook.
//
//   NSENTER_TEST_FAULT=kill:unshare 0x10000000   stage 1 dies creating its user namespace
//   NSENTER_TEST_FAULT=fail:setsid               stage 2's setsid fails
//   NSENTER_TEST_FAULT=stop:unshare 0x20000000   stage 1 holds its joins, stopped
//   NSENTER_TEST_FAULT=fail:write_map uid        stage 0 fails to write stage 1's uid map
//   NSENTER_TEST_FAULT=kill:parent_pid 1         stage 0 dies at its second look at the runtime
//                                                (with a parent-death signal: after stage 2 finished)
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "exec_after_dashes.hpp"
#include "nsenter/embed.hpp"

namespace {

enum class Action { Fail, Kill, Stop };

struct FaultPoint {
  Action action = Action::Fail;
  std::string_view call;  // empty: no fault
};

FaultPoint fault_point() {
  const char* spec = std::getenv("NSENTER_TEST_FAULT");
  if (spec == nullptr) return {};
  const std::string_view text(spec);
  if (text.starts_with("kill:")) return {Action::Kill, text.substr(5)};
  if (text.starts_with("fail:")) return {Action::Fail, text.substr(5)};
  if (text.starts_with("stop:")) return {Action::Stop, text.substr(5)};
  return {};
}

struct FaultySys : nsenter::LinuxSys {
  FaultPoint point = fault_point();

  // 0 to go on; EPERM to fail the call; or this process is gone.
  int hit(std::string_view name, std::string_view arg = {}) const noexcept {
    if (point.call.empty()) return 0;
    char text[128];
    const auto r = fmt::format_to_n(text, sizeof text, "{} {}", name, arg);
    const std::string_view call(text, std::min(r.size, sizeof text));
    if (!call.starts_with(point.call)) return 0;
    if (point.action == Action::Kill) {
      // Stage 2 of a new pid namespace is its pid 1, which the kernel spares
      // every signal sent from inside the namespace, SIGKILL included; a
      // trap's SIGILL is forced on it. Everyone else: SIGKILL.
      if (::getpid() == 1) __builtin_trap();
      ::kill(::getpid(), SIGKILL);
    }
    if (point.action == Action::Stop) ::raise(SIGSTOP);  // held there for the test to look at, then failed
    return EPERM;
  }
  static std::string_view hex(char (&buf)[16], int v) noexcept {
    const auto r = fmt::format_to_n(buf, sizeof buf, "{:#x}", v);
    return {buf, r.size};
  }

  int unshare(int flags) const noexcept {
    char buf[16];
    if (int err = hit("unshare", hex(buf, flags))) return err;
    return LinuxSys::unshare(flags);
  }
  int set_dumpable(bool on) const noexcept {
    if (int err = hit("set_dumpable", on ? "1" : "0")) return err;
    return LinuxSys::set_dumpable(on);
  }
  int set_name(const char* name) const noexcept {
    if (int err = hit("set_name", name)) return err;
    return LinuxSys::set_name(name);
  }
  int setresuid_to(uid_t id) const noexcept {
    if (int err = hit("setresuid")) return err;
    return LinuxSys::setresuid_to(id);
  }
  int setsid() const noexcept {
    if (int err = hit("setsid")) return err;
    return LinuxSys::setsid();
  }
  int setuid_to(uid_t id) const noexcept {
    if (int err = hit("setuid")) return err;
    return LinuxSys::setuid_to(id);
  }
  int setgid_to(gid_t id) const noexcept {
    if (int err = hit("setgid")) return err;
    return LinuxSys::setgid_to(id);
  }
  int clear_groups() const noexcept {
    if (int err = hit("clear_groups")) return err;
    return LinuxSys::clear_groups();
  }
  int socketpair(int fds[2]) const noexcept {
    if (int err = hit("socketpair")) return err;
    return LinuxSys::socketpair(fds);
  }
  int write_file(const char* path, std::string_view text) const noexcept {
    if (int err = hit("write_file", path)) return err;
    return LinuxSys::write_file(path, text);
  }
  // A failed look is a runtime that is gone (the stages were reparented).
  pid_t parent_pid() const noexcept {
    char n[16];
    const auto r = fmt::format_to_n(n, sizeof n, "{}", looks_++);  // the look's number, from 0
    if (hit("parent_pid", {n, r.size})) return 1;
    return LinuxSys::parent_pid();
  }
  mutable int looks_ = 0;
};

struct FaultyMapWriter {
  FaultySys sys;
  nsenter::Result<void> write(const nsenter::IdMapRequest& req) const noexcept {
    const bool uid = req.kind == nsenter::IdKind::Uid;
    if (int err = sys.hit("write_map", uid ? "uid" : "gid"))
      return nsenter::in_stage(nsenter::make_sys_error(uid ? nsenter::Op::WriteUidMap : nsenter::Op::WriteGidMap, err,
                                                       uid ? "uid_map" : "gid_map"),
                               nsenter::Stage::Parent);
    return nsenter::RuncIdMapWriter{}.write(req);
  }
};

struct FaultPolicies : nsenter::RuncPolicies {
  using MapWriter = FaultyMapWriter;
  using Sys = FaultySys;
};
using FaultNsexec = nsenter::Nsexec<FaultPolicies>;

}  // namespace

NSENTER_INIT_CONSTRUCTOR(fault_init, 200, FaultNsexec, exec_after_dashes)

int main() { return 0; }
