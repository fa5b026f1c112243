// SPDX-License-Identifier: Apache-2.0
// An init with a fault injected where the test says: the default pipeline,
// whose Sys policy, at the first call whose "name arg" starts with
// NSENTER_TEST_FAULT's text, either kills its own process (action "kill":
// a stage dying mid-start), or fails the call with EPERM ("fail"), or stops
// (SIGSTOP) until the test lets it go and then fails the call ("stop").
// Everything else is the real LinuxSys. Test-only: the production pipeline
// has no such hook.
//
// Its heap also closes at the first clone, in every stage, and reopens only
// when stage 2 hands over to the command: an allocation in between (the
// library promises none: a clone of a process whose other threads held the
// allocator's lock would deadlock in it) prints what was called and exits
// kHeapUsedExit (66). So every test that runs this init also shows that no
// stage path it reaches allocates.
//
//   NSENTER_TEST_FAULT=kill:unshare 0x10000000   stage 1 dies creating its user namespace
//   NSENTER_TEST_FAULT=fail:setsid               stage 2's setsid fails
//   NSENTER_TEST_FAULT=stop:unshare 0x20000000   stage 1 holds its joins, stopped
//   NSENTER_TEST_FAULT=fail:write_map uid        stage 0 fails to write stage 1's uid map
//   NSENTER_TEST_FAULT=kill:parent_pid 1         stage 0 dies at its second look at the runtime
//                                                (with a parent-death signal: after stage 2 finished)
//   NSENTER_TEST_FAULT=fail:read runc:[1:CHILD]  stage 1's first sync read fails (reads and writes
//                                                of the sync sockets and the pid line are named by
//                                                the stage that makes them, its process name)
//   NSENTER_TEST_FAULT=kill:send_fd              stage 0 dies sending the first mount source
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "exec_after_dashes.hpp"
#include "nsenter/embed.hpp"

namespace {

// ---- the heap, closed from the first clone until stage 2 hands over ----------
constexpr int kHeapUsedExit = 66;
volatile bool g_heap_closed = false;

[[noreturn]] void heap_used(const char* call) {
  constexpr std::string_view said = "fault_init: heap used after the first clone: ";
  (void)!::write(STDERR_FILENO, said.data(), said.size());
  (void)!::write(STDERR_FILENO, call, std::strlen(call));
  (void)!::write(STDERR_FILENO, "\n", 1);
  ::_exit(kHeapUsedExit);
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// ASan owns malloc; it calls a hook on every allocation instead. Declared
// here: GCC ships the runtime but not clang's <sanitizer/allocator_interface.h>.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                        void (*free_hook)(const volatile void*));
namespace {
void on_malloc(const volatile void*, std::size_t) {
  if (g_heap_closed) heap_used("malloc");
}
void on_free(const volatile void*) {}
void close_heap() noexcept {
  static bool hooked = false;
  if (!hooked) hooked = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
  g_heap_closed = true;
}
}  // namespace
#else
// glibc's allocator under its internal names; ours interpose the public ones
// (operator new calls malloc).
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) {
  if (g_heap_closed) heap_used("malloc");
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  if (g_heap_closed) heap_used("calloc");
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  if (g_heap_closed) heap_used("realloc");
  return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) {
  if (g_heap_closed) heap_used("memalign");
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) { return memalign(align, n); }
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  void* p = memalign(align, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
}
namespace {
void close_heap() noexcept { g_heap_closed = true; }
}  // namespace
#endif

namespace {

// The clone that closes the heap: before it, so both sides are closed.
struct HeapClosingClone {
  nsenter::Result<pid_t> spawn(nsenter::Stage stage) const noexcept {
    close_heap();
    return nsenter::CloneParent{}.spawn(stage);
  }
  nsenter::Result<pid_t> spawn_into(nsenter::Stage stage, nsenter::NsSet create) const noexcept {
    close_heap();
    return nsenter::CloneParent{}.spawn_into(stage, create);
  }
};

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
  // The sync sockets, the pid line and the mount sources. A stage reads
  // and writes several times: the process name (set_name) says whose.
  static std::string_view own_name(char (&buf)[17]) noexcept {
    buf[16] = '\0';
    if (::prctl(PR_GET_NAME, buf, 0, 0, 0) != 0) buf[0] = '\0';
    return buf;
  }
  int read(int fd, void* data, std::size_t size, std::size_t& got) const noexcept {
    char name[17];
    if (int err = hit("read", own_name(name))) return err;
    return LinuxSys::read(fd, data, size, got);
  }
  int write_all(int fd, const void* data, std::size_t size) const noexcept {
    char name[17];
    if (int err = hit("write_all", own_name(name))) return err;
    return LinuxSys::write_all(fd, data, size);
  }
  int open(const char* path, int flags, nsenter::UniqueFd& out) const noexcept {
    if (int err = hit("open", path)) return err;
    return LinuxSys::open(path, flags, out);
  }
  int setns(int fd, int nstype) const noexcept {
    char buf[16];
    if (int err = hit("setns", hex(buf, nstype))) return err;
    return LinuxSys::setns(fd, nstype);
  }
  int send_fd(int sock, int fd) const noexcept {
    if (int err = hit("send_fd")) return err;
    return LinuxSys::send_fd(sock, fd);
  }
  int receive_fd(int sock, nsenter::UniqueFd& out) const noexcept {
    if (int err = hit("receive_fd")) return err;
    return LinuxSys::receive_fd(sock, out);
  }
  int dup_onto(int fd, int target) const noexcept {
    if (int err = hit("dup_onto")) return err;
    return LinuxSys::dup_onto(fd, target);
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
  using Clone = HeapClosingClone;
  using Sys = FaultySys;
};
using FaultNsexec = nsenter::Nsexec<FaultPolicies>;

void hand_over(nsenter::InitContext& ctx, int argc, char** argv) {
  g_heap_closed = false;  // the command's process now
  exec_after_dashes(ctx, argc, argv);
}

}  // namespace

NSENTER_INIT_CONSTRUCTOR(fault_init, 200, FaultNsexec, hand_over)

int main() { return 0; }
