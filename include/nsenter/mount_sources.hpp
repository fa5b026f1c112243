// SPDX-License-Identifier: Apache-2.0
// nsenter: passing bind-mount sources into the container (runc 1.1's
// MOUNT_SOURCES). Stage 0, still privileged on the host, opens each source
// from inside the container's new mount namespace and sends the fd over the
// sync socket (SCM_RIGHTS); stage 1 puts each one on the fd number that
// _LIBCONTAINER_MOUNT_FDS names, for the runtime's own init code to mount.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "nsenter/bootstrap_view.hpp"
#include "nsenter/error.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/idmap.hpp"
#include "nsenter/result.hpp"
#include "nsenter/sys.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// _LIBCONTAINER_MOUNT_FDS as runc's Go side writes it: a JSON array of fd
// numbers, -1 for "no fd" (json.Marshal of []int, e.g. [-1,5,-1]). Walks
// it without allocating; check_mount_fds() validated it before any clone.
class MountFdList {
 public:
  explicit MountFdList(std::string_view text) noexcept : text_(text) {}

  // Calls f(fd) per entry; returns false at the first malformed spot.
  template <class F>
  bool for_each(F&& f) const noexcept {
    std::size_t pos = skip(0);
    if (pos >= text_.size() || text_[pos] != '[') return false;
    pos = skip(pos + 1);
    if (pos < text_.size() && text_[pos] == ']') return skip(pos + 1) == text_.size();
    while (true) {
      const std::size_t start = pos;
      if (pos < text_.size() && text_[pos] == '-') ++pos;
      while (pos < text_.size() && text_[pos] >= '0' && text_[pos] <= '9') ++pos;
      const auto v = detail::parse_decimal<int>(text_.substr(start, pos - start));
      if (!v || (text_[start] == '-' && *v != -1)) return false;  // an fd number, or -1 for "none"
      f(*v);
      pos = skip(pos);
      if (pos >= text_.size()) return false;
      if (text_[pos] == ']') return skip(pos + 1) == text_.size();
      if (text_[pos] != ',') return false;
      pos = skip(pos + 1);
    }
  }

 private:
  std::size_t skip(std::size_t pos) const noexcept {
    while (pos < text_.size() && (text_[pos] == ' ' || text_[pos] == '\t' || text_[pos] == '\n')) ++pos;
    return pos;
  }
  std::string_view text_;
};

// Checks that `fds` pairs with `sources` entry by entry: an fd number
// (>= 0) for every source, -1 for every empty entry; and that no number is
// one the init cannot give up: stdio (the command's), `init_pipe`,
// `log_pipe`, or a number named twice (the second fd would replace the
// first). runc checks none of this; a mismatch would put the wrong mount's
// fd on a number, or replace the command's stdout.
inline Result<void> check_mount_fds(const char* env_name, const char* text, const MountSourcesView& sources,
                                    int init_pipe = -1, int log_pipe = -1) noexcept {
  auto fail = [&](auto why) {
    return make_error(Op::PlanBootstrap, Code::BadEnv, kNoOffset, detail::detail_text("{}: {}", env_name, std::string_view(why)));
  };
  if (text == nullptr) return fail("not set, but MOUNT_SOURCES was sent");
  const MountFdList list(text);
  std::size_t count = 0;
  bool paired = true;
  int taken = -1;  // the first number the init cannot give up
  const char* taken_by = nullptr;
  // Entries of the source list, in order, to pair with the fd numbers.
  std::string_view rest = sources.list;
  const bool ok = list.for_each([&](int fd) {
    const std::size_t index = count++;
    if (!rest.empty()) {
      const std::size_t nul = rest.find('\0');
      const bool has_source = nul > 0;
      rest.remove_prefix(nul + 1);
      if (has_source != (fd >= 0)) paired = false;
    }
    if (fd < 0 || taken_by != nullptr) return;
    if (fd <= 2) taken_by = "stdio";
    else if (fd == init_pipe) taken_by = "the init pipe";
    else if (fd == log_pipe) taken_by = "the log pipe";
    else {
      std::size_t earlier = 0;
      list.for_each([&](int other) {
        if (earlier++ < index && other == fd) taken_by = "named twice";
      });
    }
    if (taken_by != nullptr) taken = fd;
  });
  if (!ok) return fail("not a JSON array of fd numbers");
  if (count != sources.count) return fail("not one entry per mount source");
  if (!paired) return fail("an fd for an empty source, or none for a source");
  if (taken_by != nullptr) return fail(detail::detail_text("fd {} is {}", taken, taken_by));
  return {};
}

// The highest number in a checked fd list, -1 if it names none: the
// stages keep their own fds above it, so that placing a mount source's fd
// never replaces one of them.
inline int highest_mount_fd(std::string_view fd_list) noexcept {
  int highest = -1;
  MountFdList(fd_list).for_each([&](int fd) { highest = std::max(highest, fd); });
  return highest;
}

// One fd over a unix socket, with one data byte (SCM_RIGHTS needs one).
template <class SysCalls = LinuxSys>
Result<void> send_fd(int sock, int fd, Stage stage, const SysCalls& sys = kLinuxSys) noexcept {
  if (int err = sys.send_fd(sock, fd)) {
    Error e = make_sys_error(Op::SyncWrite, err, "send mount source fd");
    if (err == EPIPE || err == ECONNRESET) e.code = Code::PeerClosed;  // as SyncChannel says a death
    return in_stage(e, stage);
  }
  return {};
}

// Receives one fd (close-on-exec) and moves it onto `target`.
template <class SysCalls = LinuxSys>
Result<void> receive_fd_onto(int sock, int target, Stage stage, const SysCalls& sys = kLinuxSys) noexcept {
  auto fail = [&](int err, std::string_view what) {
    return in_stage(make_sys_error(Op::SyncRead, err, what), stage);
  };
  UniqueFd received;
  const int err = sys.receive_fd(sock, received);
  // End of file, or a reset (the peer died with bytes of ours unread): the
  // peer is gone, as SyncChannel says it.
  if ((err == 0 && !received) || err == ECONNRESET)
    return in_stage(make_error(Op::SyncRead, Code::PeerClosed, kNoOffset, "waiting for a mount source fd"), stage);
  if (err != 0) return fail(err, err == EBADMSG ? "expected one fd with one byte" : "receive mount source fd");
  // SCM_RIGHTS puts it on the lowest free number, which is the target
  // itself when the runtime named free numbers (our Launcher does; runc
  // reserves them with placeholder fds). dup3(n, n) would be EINVAL: it is
  // already where it belongs.
  if (received.get() == target) {
    (void)received.release();
    return {};
  }
  if (int err = sys.dup_onto(received.get(), target))
    return fail(err, detail::detail_text("dup3 onto fd {} of _LIBCONTAINER_MOUNT_FDS", target));
  return {};
}

// Stage 0: opens every source as seen from inside stage 1's mount
// namespace (which may differ from ours once the runtime has set it up),
// sends the fds in order, and returns to our own mount namespace.
template <class SysCalls = LinuxSys>
Result<void> send_mount_sources(int sock, pid_t stage1, const MountSourcesView& sources,
                                const SysCalls& sys = kLinuxSys) noexcept {
  auto fail = [](int err, std::string_view what) {
    return in_stage(make_sys_error(Op::SendMountSources, err, what), Stage::Parent);
  };
  UniqueFd home, container;
  if (int err = sys.open("/proc/self/ns/mnt", O_RDONLY, home)) return fail(err, "/proc/self/ns/mnt");
  const detail::ProcPath theirs(stage1, "ns/mnt");
  if (int err = sys.open(theirs.data, O_RDONLY, container)) {
    // Stage 1 asked and is waiting; a process that exited has no
    // namespaces left (ENOENT, even as a zombie): it died, as a read of
    // its socket would see.
    if (err == ENOENT || err == ESRCH)
      return in_stage(make_error(Op::SendMountSources, Code::PeerClosed, kNoOffset,
                                 detail::detail_text("stage 1 is gone ({})", theirs.data)),
                      Stage::Parent);
    return fail(err, theirs.data);
  }
  if (int err = sys.setns(container.get(), CLONE_NEWNS)) return fail(err, theirs.data);
  Result<void> result;
  sources.for_each([&](std::string_view source) {
    if (!result || source.empty()) return;
    // NUL-terminated in the message buffer (see MountSourcesView).
    UniqueFd fd;
    if (int err = sys.open(source.data(), O_PATH, fd)) {
      result = fail(err, source);
      return;
    }
    result = send_fd(sock, fd.get(), Stage::Parent, sys);
  });
  if (int err = sys.setns(home.get(), CLONE_NEWNS); err != 0 && result) result = fail(err, "back to our mount namespace");
  return result;
}

// Stage 1: receives the fds in order onto the numbers the list names.
template <class SysCalls = LinuxSys>
Result<void> receive_mount_sources(int sock, std::string_view fd_list, const SysCalls& sys = kLinuxSys) noexcept {
  Result<void> result;
  MountFdList(fd_list).for_each([&](int target) {
    if (result && target >= 0) result = receive_fd_onto(sock, target, Stage::Child, sys);
  });
  return result;
}

NSENTER_END_NAMESPACE
