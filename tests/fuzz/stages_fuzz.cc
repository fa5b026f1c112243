// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the stages themselves, in all three topologies: one
// stage's work (stage 0 serving stage 1 then releasing stage 2, stage 1
// entering its namespaces and reporting stage 2, stage 2 becoming the init;
// the one-clone plan's stage 0 making the joins, writing stage 2's maps and
// releasing it; a direct start's stage 2) run in-process on a plan made
// from the input's message, against a scripted peer whose sync bytes come
// from the input, with system calls faked (FuzzSys) and one of them failed
// where the input says. Nothing privileged happens and no process is made:
// the clone is faked too.
//
// Beyond "no crash, no leak, no UB, no hang": no fd is left open, an error
// names a stage, a stage that succeeds said to its peer exactly what the
// protocol asks, and the privilege steps keep their order (stage 1 creates
// the user namespace alone and first, and never the cgroup namespace; it
// clones only after its setresuid; stage 2 is session leader before it
// changes ids, and creates only the cgroup namespace).
//
// Input: stage (0-2; 3 one clone's stage 0, 4 a direct start's stage 2), call to fail (0: none), errno index, log level,
// parent-death byte, clone byte, then a 2-byte little-endian message
// length, the message, a 2-byte length and the first script (stage 1's
// bytes to stage 0, or the peer of the stage driven), and the rest: the
// second script (stage 2's bytes to stage 0).
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "nsenter/nsexec.hpp"

namespace {

using nsenter::Result;

constexpr int kErrnos[] = {EPERM, EINVAL, ENOENT, EBADF, ENOSPC, EAGAIN, EACCES, ENOMEM};
constexpr int kFirstMountFd = 600;  // where stage 1 may dup3 mount sources: above anything the harness holds
constexpr pid_t kStage2Pid = 4242;  // what the faked clone returns in "stage 1"

enum class Call : std::uint8_t { Unshare, Dumpable, Setresuid, Setsid, Setuid, Setgid, Groups, Death, Write, Join, Map, Clone };

// What the stage called, in order, and which call fails.
struct Record {
  std::array<Call, 64> calls{};
  std::array<int, 64> flags{};  // unshare's flags
  std::size_t count = 0;
  std::size_t fail_at = 0;  // 1-based call number to fail; 0: none
  int err = EPERM;

  int call(Call c, int f = 0) noexcept {
    if (count < calls.size()) {
      calls[count] = c;
      flags[count] = f;
    }
    ++count;
    return count == fail_at ? err : 0;
  }
  long first(Call c, std::size_t from = 0) const noexcept {
    for (std::size_t i = from; i < std::min(count, calls.size()); ++i)
      if (calls[i] == c) return static_cast<long>(i);
    return -1;
  }
};

// The sync socket's reads and writes are real (the scripted peer's);
// everything privileged is recorded and faked.
struct FuzzSys : nsenter::LinuxSys {
  Record* rec = nullptr;
  int unshare(int flags) const noexcept { return rec->call(Call::Unshare, flags); }
  int set_dumpable(bool on) const noexcept { return rec->call(Call::Dumpable, on); }
  int set_name(const char*) const noexcept { return 0; }
  int setresuid_to(uid_t) const noexcept { return rec->call(Call::Setresuid); }
  int setsid() const noexcept { return rec->call(Call::Setsid); }
  int setuid_to(uid_t) const noexcept { return rec->call(Call::Setuid); }
  int setgid_to(gid_t) const noexcept { return rec->call(Call::Setgid); }
  int clear_groups() const noexcept { return rec->call(Call::Groups); }
  int socketpair(int fds[2]) const noexcept { return LinuxSys::socketpair(fds); }
  int kill(pid_t) const noexcept { std::abort(); }  // only die() kills, and the harness never dies
  int set_parent_death_signal(int) const noexcept { return rec->call(Call::Death); }
  pid_t parent_pid() const noexcept { return ::getppid(); }
  int write_file(const char*, std::string_view) const noexcept { return rec->call(Call::Write); }
};

struct FuzzJoiner {
  Record* rec;
  Result<void> join(std::span<const nsenter::NsTarget> targets) const noexcept {
    for (const auto& t : targets)
      if (int err = rec->call(Call::Join))
        return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::Setns, err, t.path), nsenter::Stage::Child);
    return {};
  }
};

struct FuzzMapWriter {
  Record* rec;
  Result<void> write(const nsenter::IdMapRequest& req) const noexcept {
    if (int err = rec->call(Call::Map))
      return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::WriteUidMap, err, "uid_map"), nsenter::Stage::Parent);
    (void)req;
    return {};
  }
};

struct FuzzClone {
  Record* rec;
  pid_t result;
  Result<pid_t> spawn(nsenter::Stage stage) const noexcept {
    if (int err = rec->call(Call::Clone)) return nsenter::in_stage(nsenter::make_sys_error(nsenter::Op::Clone, err, "fake"), stage);
    return result;
  }
};

struct FuzzPolicies : nsenter::RuncPolicies {
  using Reader = nsenter::InMemoryReader;
  using Protection = nsenter::NoSelfProtection;
  using Joiner = FuzzJoiner;
  using MapWriter = FuzzMapWriter;
  using Clone = FuzzClone;
  using Sys = FuzzSys;
};
using Pipeline = nsenter::Nsexec<FuzzPolicies>;

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t byte() noexcept {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::string_view chunk() noexcept {
    std::size_t n = byte();
    n |= static_cast<std::size_t>(byte()) << 8;
    n = std::min(n, size);
    std::string_view s(reinterpret_cast<const char*>(data), n);
    data += n;
    size -= n;
    return s;
  }
  std::string_view rest() noexcept { return {reinterpret_cast<const char*>(data), size}; }
};

// Open fds among the low numbers (where the harness's and the stages' new
// fds land) and the mount-source numbers. Counted around each input, since
// the sanitizers' symbolizer opens pipes of its own between inputs.
int open_fds() noexcept {
  int n = 0;
  for (int fd = 0; fd < 128; ++fd) n += ::fcntl(fd, F_GETFD) != -1;
  for (int fd = kFirstMountFd; fd < kFirstMountFd + 64; ++fd) n += ::fcntl(fd, F_GETFD) != -1;
  return n;
}

// A stage's end and its scripted peer: the script is queued, then the peer
// stops writing, so the stage reads the script then EOF (never blocks). What
// the stage sends is drained as it comes by a reader thread: a script of many
// requests draws more replies (and SCM_RIGHTS messages) than a socket's
// buffer holds, and a stage blocked on a full peer would look like a hang.
struct ScriptedPeer {
  int stage_end = -1, peer_end = -1;
  std::string received;
  std::thread reader;
  explicit ScriptedPeer(std::string_view script) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    stage_end = fds[0];
    peer_end = fds[1];
    if (!script.empty() && ::send(peer_end, script.data(), script.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(script.size()))
      std::abort();  // one script (at most 64 KiB) fits a socket's buffer
    ::shutdown(peer_end, SHUT_WR);
    reader = std::thread([this] {
      char buf[4096];
      // Fds passed with SCM_RIGHTS are dropped (closed) by a plain recv.
      for (ssize_t n; (n = ::recv(peer_end, buf, sizeof buf, 0)) > 0;) received.append(buf, static_cast<std::size_t>(n));
    });
  }
  // Everything the stage sent, as sync words (a pid counts as one). Call
  // once, after the stage is done with its end.
  const std::string& said() {
    finish();
    return received;
  }
  ~ScriptedPeer() {
    finish();
    ::close(stage_end);
    ::close(peer_end);
  }

 private:
  void finish() {
    if (!reader.joinable()) return;
    ::shutdown(stage_end, SHUT_WR);  // the reader's EOF
    reader.join();
  }
};

std::string words(std::initializer_list<std::uint32_t> ws) {
  std::string s;
  for (std::uint32_t w : ws) s.append(reinterpret_cast<const char*>(&w), sizeof w);
  return s;
}

void check_error(const nsenter::Error& e) {
  if (nsenter::to_string(e).empty()) std::abort();
}

}  // namespace

NSENTER_BEGIN_NAMESPACE

struct StageHarness {
  static void log_to(Pipeline& p, int fd, LogLevel level) { p.logger_.configure(fd, level); }

  static void stage0(Pipeline& p, const Plan& plan, Record& rec, int init_pipe, std::string_view child_script,
                     std::string_view grandchild_script) {
    ScriptedPeer child(child_script), grandchild(grandchild_script);
    auto r = p.serve_stage1(plan, init_pipe, ::getpid(), child.stage_end);
    if (!r) return check_error(r.error());
    if (p.kill_on_error_[0] != -1) std::abort();  // stage 1 finished: no longer ours to kill
    auto g = p.release_stage2(plan, grandchild.stage_end);
    const std::string said = grandchild.said();
    if (!g) return check_error(g.error());
    const bool alive = plan.parent_death.signal != 0;
    const std::string want = alive ? words({0x44, 0x4a}) : words({0x44});
    if (said != want) std::abort();
    (void)rec;
  }

  static void stage1(Pipeline& p, const Plan& plan, Record& rec, std::string_view script) {
    ScriptedPeer parent(script);
    auto r = p.enter_namespaces(plan, parent.stage_end);
    // The user namespace alone and first; never the cgroup namespace.
    const long user = rec.first(Call::Unshare);
    for (long i = user; i >= 0; i = rec.first(Call::Unshare, static_cast<std::size_t>(i) + 1))
      if (rec.flags[static_cast<std::size_t>(i)] & CLONE_NEWCGROUP) std::abort();
    if (plan.create.contains(nsenter::NsKind::user) && user >= 0 && rec.flags[static_cast<std::size_t>(user)] != CLONE_NEWUSER)
      std::abort();
    // Root of a joined user namespace (gid, then uid) before anything is
    // created in it (runc 1.2.1).
    if (plan.joins_user() && user >= 0) {
      const long gid = rec.first(Call::Setgid), uid = rec.first(Call::Setresuid);
      if (gid < 0 || uid < gid || uid > user) std::abort();
    }
    const long clone = rec.first(Call::Clone);
    if (clone >= 0 && plan.create.contains(nsenter::NsKind::user) && rec.first(Call::Setresuid) > clone) std::abort();
    if (clone >= 0 && plan.create.contains(nsenter::NsKind::user) && rec.first(Call::Setresuid) < 0) std::abort();
    if (!r) return check_error(r.error());
    if (clone < 0) std::abort();
    if (*r == 0) return;  // stage 2 would go on
    auto s = p.report_stage2(parent.stage_end, *r);
    const std::string said = parent.said();
    if (!s) return check_error(s.error());
    // It ends with RECVPID_PLS, the pid, then CHILD_FINISH after the ack.
    if (!said.ends_with(words({0x42, static_cast<std::uint32_t>(kStage2Pid), 0x45}))) std::abort();
  }

  // The one-clone plan's stage 0, from its joins to stage 2's finish:
  // stage 2 (kStage2Pid) is ours to kill once made; the maps are written
  // exactly when a user namespace is created; nothing is unshared (the
  // clone makes the namespaces); a joined user namespace's root is become
  // after the joins.
  static void one_clone_stage0(Pipeline& p, const Plan& plan, Record& rec, std::string_view grandchild_script) {
    ScriptedPeer grandchild(grandchild_script);
    auto j = p.make_joins(plan, Stage::Parent);
    if (rec.first(Call::Unshare) >= 0) std::abort();
    if (plan.joins_user() && j) {
      const long gid = rec.first(Call::Setgid), uid = rec.first(Call::Setresuid);
      if (gid < 0 || uid < gid) std::abort();
      for (long i = rec.first(Call::Join); i >= 0; i = rec.first(Call::Join, static_cast<std::size_t>(i) + 1))
        if (i > gid) std::abort();
    }
    if (!j) return check_error(j.error());
    auto r = p.serve_one_clone(plan, -1, kStage2Pid);
    if (p.kill_on_error_[1] != kStage2Pid || p.kill_on_error_[0] != -1) std::abort();
    if (!plan.create.contains(nsenter::NsKind::user) && rec.first(Call::Map) >= 0) std::abort();
    // A call before the maps may fail (setgroups' "deny", written first
    // for a rootless container): the maps are owed only once it went on.
    if (!r) return check_error(r.error());
    if (plan.create.contains(nsenter::NsKind::user) && rec.first(Call::Map) < 0) std::abort();
    auto g = p.release_stage2(plan, grandchild.stage_end);
    const std::string said = grandchild.said();
    if (!g) return check_error(g.error());
    if (said != (plan.parent_death.signal != 0 ? words({0x44, 0x4a}) : words({0x44}))) std::abort();
  }

  // A direct start's stage 2: the same order as stage 2's, and nothing of
  // stage 0's (no joins, no maps).
  static void direct_stage2(Pipeline& p, const Plan& plan, Record& rec) {
    auto r = p.become_root_of_namespaces(plan);
    const long setsid = rec.first(Call::Setsid), setuid = rec.first(Call::Setuid);
    if (setuid >= 0 && (setsid < 0 || setsid > setuid)) std::abort();
    if (rec.first(Call::Join) >= 0 || rec.first(Call::Map) >= 0) std::abort();
    for (long i = rec.first(Call::Unshare); i >= 0; i = rec.first(Call::Unshare, static_cast<std::size_t>(i) + 1))
      if (rec.flags[static_cast<std::size_t>(i)] != CLONE_NEWCGROUP || !plan.create.contains(nsenter::NsKind::cgroup))
        std::abort();
    if (!r) return check_error(r.error());
    if (p.kill_on_error_[0] != -1 || p.kill_on_error_[1] != -1) std::abort();
  }

  static void stage2(Pipeline& p, const Plan& plan, Record& rec, std::string_view script) {
    ScriptedPeer parent(script);
    auto r = p.become_init(plan, parent.stage_end);
    const long setsid = rec.first(Call::Setsid), setuid = rec.first(Call::Setuid);
    if (setuid >= 0 && (setsid < 0 || setsid > setuid)) std::abort();
    for (long i = rec.first(Call::Unshare); i >= 0; i = rec.first(Call::Unshare, static_cast<std::size_t>(i) + 1))
      if (rec.flags[static_cast<std::size_t>(i)] != CLONE_NEWCGROUP || !plan.create.contains(nsenter::NsKind::cgroup))
        std::abort();
    const std::string said = parent.said();
    if (!r) return check_error(r.error());
    if (said != words({0x45})) std::abort();
    if (p.kill_on_error_[0] != -1 || p.kill_on_error_[1] != -1) std::abort();  // stage 2 kills nothing
  }
};

NSENTER_END_NAMESPACE

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int dev_null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int before = open_fds();

  Input in{data, size};
  const int stage = in.byte() % 5;
  Record rec;
  rec.fail_at = in.byte() % 24;
  rec.err = kErrnos[in.byte() % std::size(kErrnos)];
  const auto level = static_cast<nsenter::LogLevel>(in.byte() % 6);
  const std::uint8_t death = in.byte();
  const std::uint8_t clone = in.byte();
  const std::string_view message = in.chunk();
  const std::string_view first = in.chunk();
  const std::string_view second = in.rest();

  auto config = nsenter::wire::decode_view(nsenter::wire::ByteView(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()),
                                           nsenter::wire::Profile::Runc11);
  if (!config) return 0;  // wire_fuzz covers the decoder
  nsenter::BootstrapSource source;
  source.init_pipe = dev_null;
  source.log_pipe = dev_null;
  std::string mount_fds = "[";
  if (config->mount_sources) {
    std::size_t i = 0;
    config->mount_sources->for_each([&](std::string_view) {
      if (i) mount_fds += ',';
      mount_fds += std::to_string(kFirstMountFd + static_cast<int>(i++));
    });
  }
  mount_fds += ']';
  source.mount_fds = mount_fds.c_str();
  if (death & 0x7f) source.parent_death = {1 + (death & 0x7f) % 64, (death & 0x80) ? 1 : ::getppid()};
  if (stage == 3) source.start.topology = nsenter::Topology::OneClone;
  if (stage == 4) source.start = {.topology = nsenter::Topology::Direct, .guard = nsenter::BinaryGuard::Unreachable};
  nsenter::Plan plan;
  if (auto r = nsenter::make_plan(*config, source, plan); !r) return 0;  // plan_fuzz covers the plan
  std::string_view declined;
  if (!nsenter::accept_start(plan.start, *config, true, "_NSENTER_START", declined) || !declined.empty())
    return 0;  // a plan the init would refuse or decline (start_plan_test covers accept_start)

  Pipeline p(nsenter::InMemoryReader{}, {}, {}, FuzzJoiner{&rec}, FuzzMapWriter{&rec},
             FuzzClone{&rec, (clone & 1) ? kStage2Pid : 0}, FuzzSys{{}, &rec});
  nsenter::StageHarness::log_to(p, dev_null, level);
  switch (stage) {
    case 0: nsenter::StageHarness::stage0(p, plan, rec, dev_null, first, second); break;
    case 1: nsenter::StageHarness::stage1(p, plan, rec, first); break;
    case 2: nsenter::StageHarness::stage2(p, plan, rec, first); break;
    case 3: nsenter::StageHarness::one_clone_stage0(p, plan, rec, first); break;
    default: nsenter::StageHarness::direct_stage2(p, plan, rec); break;
  }
  for (int fd = kFirstMountFd; fd < kFirstMountFd + 64; ++fd) ::close(fd);
  if (open_fds() != before) std::abort();
  return 0;
}
