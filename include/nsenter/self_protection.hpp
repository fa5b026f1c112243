// SPDX-License-Identifier: Apache-2.0
// nsenter: protecting the runtime's binary from the container
// (CVE-2019-5736). A process in the container could open /proc/PID/exe of
// the init while it joins the container and write through it to the host
// binary. The defence: run from a copy the container cannot write, and
// re-execute from it; runc does so before the handshake. The pipeline
// (Nsexec) does so once it has read the message, and only where the
// container could write the binary (unwritable_exe.hpp): the re-exec then
// carries the message it read (carry_message, take_carried_message). Runs
// in the original process, before any clone, so it may allocate.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "nsenter/detail/throwaway_child.hpp"
#include "nsenter/env.hpp"
#include "nsenter/error.hpp"
#include "nsenter/exe_rebase.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/log.hpp"
#include "nsenter/result.hpp"
#include "nsenter/start_plan.hpp"
#include "nsenter/unwritable_exe.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

extern char** environ;

NSENTER_BEGIN_NAMESPACE

// The seals that make a memfd immutable, the same set runc checks for.
inline constexpr int kExeSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// A copy of the file at `path` in a memfd named `name`, sealed with
// kExeSeals: nothing can change it afterwards, not even through
// /proc/PID/exe of a process running it. Costs the file's size in memory.
inline Result<UniqueFd> sealed_memfd_copy(const char* path, const char* name) noexcept {
  UniqueFd src(::open(path, O_RDONLY | O_CLOEXEC));
  if (!src) return make_sys_error(Op::SelfProtect, errno, path);
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return make_sys_error(Op::SelfProtect, errno, path);
  UniqueFd memfd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return make_sys_error(Op::SelfProtect, errno, "memfd_create");
  for (off_t done = 0; done < st.st_size;) {
    const ssize_t n = ::sendfile(memfd.get(), src.get(), nullptr, static_cast<std::size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_sys_error(Op::SelfProtect, n < 0 ? errno : EIO, path);
    done += n;
  }
  // EBUSY: a page of the copy is pinned for the moment. Nothing of ours
  // maps the memfd, so the pin is someone else's passing look (a memory
  // monitor's, a migration; seen once in ~3000 rootless starts here), and
  // the kernel has already waited ~150 ms for it: try twice more.
  for (int attempt = 1; ::fcntl(memfd.get(), F_ADD_SEALS, kExeSeals) != 0; ++attempt)
    if (errno != EBUSY || attempt == 3) return make_sys_error(Op::SelfProtect, errno, "seal memfd");
  return memfd;
}

// True when /proc/self/exe is a memfd carrying all of kExeSeals: nobody,
// not even a process that opens /proc/PID/exe, can change it. Costs one
// open and one fcntl.
inline bool exe_is_sealed_memfd() noexcept {
  UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) return false;
  const int seals = ::fcntl(exe.get(), F_GET_SEALS);
  return seals >= 0 && (seals & kExeSeals) == kExeSeals;
}

// No protection: for embedders whose init binary is not reachable from the
// container, or who protect it some other way.
struct NoSelfProtection {
  template <class Log>
  Result<void> ensure_knowing(const Log&, const StartPlan&, const BootstrapView&,
                              std::span<const std::uint8_t>) const noexcept {
    return {};
  }
};

// Insists that the binary is already a sealed memfd (a launcher that execs
// inits from one, such as nsenter's, makes it so): never copies, never
// re-executes, and refuses to run unprotected.
struct RequireSealedExe {
  template <class Log>
  Result<void> ensure_knowing(const Log&, const StartPlan&, const BootstrapView&,
                              std::span<const std::uint8_t>) const noexcept {
    if (exe_is_sealed_memfd()) return {};
    return make_error(Op::SelfProtect, Code::NotProtected, kNoOffset, "/proc/self/exe is not a sealed memfd");
  }
};

namespace detail {

// The steps of detached_read_only_view, each fd recorded as soon as it is
// open: run by a throwaway child under a seccomp filter (either call may
// kill it there), whose fds are ours to close or keep.
struct DetachedViewSteps {
  const char* path = nullptr;
  int tree = -1;  // open_tree's fd, to be closed
  int view = -1;  // the O_PATH handle, the result
};

inline void make_detached_view(DetachedViewSteps& s) noexcept {
  constexpr unsigned kOpenTreeClone = 1;             // OPEN_TREE_CLONE
  constexpr unsigned kOpenTreeCloexec = O_CLOEXEC;   // OPEN_TREE_CLOEXEC
  constexpr std::uint64_t kMountAttrRdonly = 0x1;    // MOUNT_ATTR_RDONLY
  struct {
    std::uint64_t attr_set, attr_clr, propagation, userns_fd;
  } attr{kMountAttrRdonly, 0, 0, 0};                 // struct mount_attr, MOUNT_ATTR_SIZE_VER0
#if defined(SYS_open_tree) && defined(SYS_mount_setattr)
  s.tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, s.path, kOpenTreeClone | kOpenTreeCloexec));
  if (s.tree < 0) return;
  if (::syscall(SYS_mount_setattr, s.tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return;
  char handle[32];
  *fmt::format_to_n(handle, sizeof handle - 1, "/proc/self/fd/{}", s.tree).out = '\0';
  s.view = ::open(handle, O_PATH | O_CLOEXEC);
#else
  (void)attr;
#endif
}

// A binary on a read-only mount of its own that is attached nowhere:
// open_tree(OPEN_TREE_CLONE) of `path` (Linux 5.2) made read-only
// with mount_setattr (Linux 5.12), as an O_PATH fd to exec. Nothing is
// copied and nothing shows in any mount table; the mount lives as long as
// something runs from it. Needs CAP_SYS_ADMIN over our mount namespace.
// Raw system calls: glibc has wrappers only from 2.36, musl none.
//
// The fd open_tree returns keeps the clone in an anonymous mount
// namespace, and mount_setattr(2) accepts such a mount from anyone with
// CAP_SYS_ADMIN over their *own* mount namespace: any process, by making
// a user namespace. So the fd returned is a second handle to the file,
// and the first is closed: the namespace dissolves, the mount is left
// mounted nowhere (as runc's bind after its MNT_DETACH), and a container
// holding a /proc/PID/exe handle to it can no longer make it writable
// (launcher_test's attack tries exactly that).
inline UniqueFd detached_read_only_view(const char* path) noexcept {
  DetachedViewSteps steps{path};
  if (seccomp_filtered()) {
    const int killed = ask_in_throwaway_child<DetachedViewSteps>(make_detached_view, steps);
    UniqueFd tree(steps.tree), view(steps.view);  // `tree` closes: see above
    return killed == 0 ? std::move(view) : UniqueFd();
  }
  make_detached_view(steps);
  UniqueFd tree(steps.tree);
  return UniqueFd(steps.view);
}

}  // namespace detail

namespace detail {

// The message, across our own re-exec: once the handshake is sent and the
// message read, neither can happen again, so the protected image takes the
// bytes from a memfd the re-exec keeps open, named in
// Env::carried_message. The fd is not close-on-exec for that one exec;
// take_carried_message closes it before anything else runs.
template <class Env = RuncEnv>
Result<UniqueFd> carry_message(std::span<const std::uint8_t> message) noexcept {
  UniqueFd memfd(::memfd_create("nsenter-message", 0));
  if (!memfd) return make_sys_error(Op::SelfProtect, errno, "memfd_create for the message");
  if (auto r = write_all_no_sigpipe(memfd.get(), message.data(), message.size()); r != 0)
    return make_sys_error(Op::SelfProtect, r, "write the message to carry");
  char number[16];
  *fmt::format_to_n(number, sizeof number - 1, "{}", memfd.get()).out = '\0';
  if (::setenv(Env::carried_message, number, 1) != 0) return make_sys_error(Op::SelfProtect, errno, "setenv");
  return memfd;
}

// True with `out` filled when our own re-exec carried the message; false
// when there is none to take (read it from the runtime). Only after our
// re-exec (Env::cloned_binary): anyone else's fd named there is an
// error, as any other malformed variable is.
template <class Env = RuncEnv>
Result<bool> take_carried_message(wire::Bytes& out) noexcept {
  const char* value = std::getenv(Env::carried_message);
  if (value == nullptr) return false;
  auto fd = parse_env_int(Env::carried_message, value);
  if (!fd) return fd.error();
  const char* cloned = std::getenv(Env::cloned_binary);
  if (!*fd || cloned == nullptr || std::string_view(cloned) != "1")
    return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                      detail_text("{}={}: set only by the init's own re-exec", Env::carried_message, value));
  UniqueFd memfd(**fd);
  (void)::unsetenv(Env::carried_message);
  struct stat st {};
  if (::fstat(memfd.get(), &st) != 0) return make_sys_error(Op::ReadEnv, errno, detail_text("{}={}", Env::carried_message, **fd));
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || static_cast<std::uint64_t>(st.st_size) > kMaxMessageBytes)
    return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                      detail_text("{}={}: not a carried message ({} bytes)", Env::carried_message, **fd,
                                  static_cast<long long>(st.st_size)));
  out.resize(static_cast<std::size_t>(st.st_size));
  for (std::size_t done = 0; done < out.size();) {
    const ssize_t n = ::pread(memfd.get(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_sys_error(Op::ReadEnv, n < 0 ? errno : EIO, "read the carried message");
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace detail

// runc 1.1's defence, without its copy where privileges allow, and without
// its re-exec where the kernel allows. Already protected (a sealed memfd;
// or, after our own re-exec, a read-only or unlinked copy) -> nothing to
// do. Otherwise a protected view of the binary, in order:
//   1. a read-only view the runtime made and passed (StartPlan's view=FD:
//      the Launcher's, for the inits it forks), checked to be our very file
//      on a read-only mount;
//   2. a detached read-only mount of the binary (see
//      detail::detached_read_only_view): nothing copied, nothing left in any
//      mount table, no state directory; needs mount privileges, Linux 5.12;
//   3. runc's read-only bind mount of /proc/self/exe over a temporary file
//      in Env::state_dir, opened O_PATH and detached: nothing copied; needs
//      mount privileges and a state directory (older kernels);
//   4. else a memfd copy of the binary, sealed: costs the binary's size in
//      memory for the life of the init (the rootless case).
// Onto a view of the file itself (1-3) the process moves in place
// (exe_rebase.hpp): no exec, the pipeline goes on. Where the kernel
// refuses that, and from the copy (4), it sets Env::cloned_binary=1 and
// fexecve()s the view with the same argv and environment; the constructor
// then runs again from it.
template <class Env = RuncEnv>
struct RuncSelfProtection {
  // Once the message is read and planned (Nsexec's setup). Where no
  // process of the container it describes could write the binary
  // (unwritable_exe.hpp: a user namespace of its own, the owner unmapped,
  // no group or other write bit), there is nothing to protect: no copy, no
  // re-exec. Else a view, moved onto or re-exec'd from, the re-exec
  // carrying `message`.
  template <class Log>
  Result<void> ensure_knowing(const Log& log, const StartPlan& start, const BootstrapView& config,
                              std::span<const std::uint8_t> message) const noexcept {
    auto given = view_from_runtime(start);  // Nsexec closes it, whatever follows
    if (!given) return given.error();
    if (nothing_to_do(log, start)) return {};
    struct stat exe {};
    if (::stat("/proc/self/exe", &exe) == 0 && why_container_could_write(config, exe).empty()) {
      log.log(LogLevel::Debug, Stage::Setup, "no re-exec: the container cannot write /proc/self/exe (0 bytes copied)");
      return {};
    }
    return protect(log, start, *given, message);
  }

 private:
  // Already protected, or the runtime said why no protection is needed
  // (which Nsexec checks against the message and the binary before the
  // first clone).
  template <class Log>
  static bool nothing_to_do(const Log& log, const StartPlan& start) noexcept {
    if (already_protected()) return true;
    if (start.guard == BinaryGuard::Unwritable) {
      log.log(LogLevel::Debug, Stage::Setup, "no re-exec: the runtime says the container cannot write /proc/self/exe (0 bytes copied; checked)");
      return true;
    }
    if (start.guard == BinaryGuard::Unreachable) {
      log.log(LogLevel::Debug, Stage::Setup, "no re-exec: the runtime forked us non-dumpable, out of the container's reach (0 bytes copied; checked)");
      return true;
    }
    return false;
  }

  // The view the runtime passed (the plan's view=FD; Nsexec owns it): -1
  // when it passed none; an error when its fd is not a read-only view of
  // our binary (a runtime that meant to protect us and did not is not run
  // past).
  static Result<int> view_from_runtime(const StartPlan& start) noexcept {
    if (start.guard != BinaryGuard::MoveOntoView) return -1;
    const int view = start.view_fd;
    struct stat exe {}, seen {};
    struct statfs fs {};
    if (::stat("/proc/self/exe", &exe) != 0 || ::fstat(view, &seen) != 0 || ::fstatfs(view, &fs) != 0)
      return make_sys_error(Op::ReadEnv, errno, detail::detail_text("{}={}", Env::start, format_start(start).view()));
    if (seen.st_dev != exe.st_dev || seen.st_ino != exe.st_ino || (fs.f_flags & ST_RDONLY) == 0)
      return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                        detail::detail_text("{}={}: not a read-only view of /proc/self/exe", Env::start, format_start(start).view()));
    (void)::fcntl(view, F_SETFD, FD_CLOEXEC);  // a re-exec from it must not hand it on
    return view;
  }

  // A protected view of the binary (the runtime's, else the methods above
  // in order), moved onto in place, or exec'd (carrying `message`, when
  // there is one); returns only on failure, or protected.
  template <class Log>
  static Result<void> protect(const Log& log, const StartPlan& start, int given,
                              std::span<const std::uint8_t> message) noexcept {
    std::string_view what = "the runtime's read-only view";
    UniqueFd made;  // ours; the runtime's is Nsexec's to close
    if (given < 0 && (made = detail::detached_read_only_view("/proc/self/exe"))) what = "a detached read-only mount";
    if (given < 0 && !made && (made = read_only_bind())) what = "a read-only bind mount";
    int view = given >= 0 ? given : made.get();
    if (view >= 0) {
      auto moved = rebase_exe_onto(view);
      if (moved) {
        log.log(LogLevel::Debug, Stage::Setup,
                detail::detail_text("protected in place: /proc/self/exe moved onto {} of itself (0 bytes copied, no re-exec)", what));
        return {};
      }
      log.log(LogLevel::Debug, Stage::Setup,
              detail::detail_text("re-exec from {} of /proc/self/exe (0 bytes copied): in place, {}", what,
                                  std::string_view(to_string(moved.error()))));
    } else {
      auto memfd = sealed_memfd_copy("/proc/self/exe", "nsenter_cloned:/proc/self/exe");
      if (!memfd) return memfd.error();
      made = std::move(*memfd);
      view = made.get();
      struct stat st {};
      const long long copied = ::fstat(view, &st) == 0 ? static_cast<long long>(st.st_size) : -1;
      log.log(LogLevel::Debug, Stage::Setup,
              detail::detail_text("re-exec from a sealed memfd copy of /proc/self/exe ({} bytes copied)", copied));
    }
    UniqueFd carried;  // open across the exec
    if (!message.empty()) {
      auto c = detail::carry_message<Env>(message);
      if (!c) return c.error();
      carried = std::move(*c);
    }
    // The runtime's view does not survive the exec; the image exec'd is
    // protected already.
    if (start.guard == BinaryGuard::MoveOntoView)
      if (::setenv(Env::start, format_start(StartPlan{.topology = start.topology}).data, 1) != 0)
        return make_sys_error(Op::SelfProtect, errno, "setenv");
    return reexec(view);
  }

 public:
  static bool already_protected() noexcept {
    if (exe_is_sealed_memfd()) return true;
    // Our own re-exec from a bind mount or an unlinked file (the variable
    // says so), or the exec of runc >= 1.2's parent, which protects the
    // binary itself before it execs the init (a sealed overlay mount, a
    // sealed memfd, or an unlinked copy) and says nothing: trusted only if
    // the file really is read-only or gone.
    const char* cloned = std::getenv(Env::cloned_binary);
    if ((cloned == nullptr || std::string_view(cloned) != "1") && !runtime_speaks_runc12<Env>()) return false;
    // A memfd is unlinked too, but one that is not sealed (above) may be
    // shared, as a launcher shares its copy, and written by anyone who
    // holds it: never trusted.
    char target[8] = {};
    if (::readlink("/proc/self/exe", target, sizeof target) >= 7 && std::string_view(target, 7) == "/memfd:") return false;
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    struct stat st {};
    struct statfs fs {};
    if (!exe || ::fstat(exe.get(), &st) != 0 || ::fstatfs(exe.get(), &fs) != 0) return false;
    return st.st_nlink == 0 || (fs.f_flags & ST_RDONLY) != 0;
  }

  // runc's method (3 above), on its own so that tests can reach it on a
  // kernel where method 2 works.
  static UniqueFd read_only_bind() noexcept {
    const char* dir = std::getenv(Env::state_dir);
    if (dir == nullptr || *dir != '/') return UniqueFd();
    std::string path = std::string(dir) + "/nsenter-cloned-binary.XXXXXX";
    UniqueFd placeholder(::mkostemp(path.data(), O_CLOEXEC));
    if (!placeholder) return UniqueFd();
    placeholder.reset();
    UniqueFd fd;
    if (::mount("/proc/self/exe", path.c_str(), nullptr, MS_BIND, nullptr) == 0) {
      if (::mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0)
        fd.reset(::open(path.c_str(), O_PATH | O_CLOEXEC));
      ::umount2(path.c_str(), MNT_DETACH);
    }
    ::unlink(path.c_str());
    return fd;
  }

 private:
  static Result<void> reexec(int fd) noexcept {
    // argv as the kernel recorded it; environ as it is now, plus the marker.
    UniqueFd cmdline(::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));
    if (!cmdline) return make_sys_error(Op::SelfProtect, errno, "open /proc/self/cmdline");
    std::string args;
    char buf[4096];
    for (ssize_t n; (n = ::read(cmdline.get(), buf, sizeof buf)) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        return make_sys_error(Op::SelfProtect, errno, "read /proc/self/cmdline");
      }
      args.append(buf, static_cast<std::size_t>(n));
    }
    std::vector<char*> argv;
    for (std::size_t pos = 0; pos < args.size(); pos = args.find('\0', pos) + 1) argv.push_back(&args[pos]);
    argv.push_back(nullptr);
    if (::setenv(Env::cloned_binary, "1", 1) != 0) return make_sys_error(Op::SelfProtect, errno, "setenv");
    ::fexecve(fd, argv.data(), environ);
    return make_sys_error(Op::SelfProtect, errno, "fexecve the protected copy");
  }
};


NSENTER_END_NAMESPACE
