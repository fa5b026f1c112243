// SPDX-License-Identifier: Apache-2.0
// nsenter: the sync messages between stages, runc 1.1's values on a
// SOCK_STREAM socketpair: 32-bit integers in host order, a pid after
// RECVPID_PLS. Every read is exact; EOF is Code::PeerClosed (the peer died),
// an unexpected value is Code::UnexpectedSync with expected and got.
#pragma once

#include <errno.h>
#include <sys/types.h>

#include <cstdint>
#include <cstring>

#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/result.hpp"
#include "nsenter/sys.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

enum class SyncMsg : std::uint32_t {
  UsermapPls = 0x40,       // SYNC_USERMAP_PLS: stage 1 -> 0, write my maps
  UsermapAck = 0x41,       // SYNC_USERMAP_ACK
  RecvpidPls = 0x42,       // SYNC_RECVPID_PLS: stage 1 -> 0, then stage 2's pid
  RecvpidAck = 0x43,       // SYNC_RECVPID_ACK
  Grandchild = 0x44,       // SYNC_GRANDCHILD: stage 0 -> 2, go
  ChildFinish = 0x45,      // SYNC_CHILD_FINISH: stage 1/2 -> 0, done
  MountsourcesPls = 0x46,  // SYNC_MOUNTSOURCES_PLS
  MountsourcesAck = 0x47,  // SYNC_MOUNTSOURCES_ACK
  // Internal to our stages (runc 1.2 reuses 0x46/0x47 for these, having
  // dropped mount sources; we keep both, so these get their own values).
  TimeoffsetsPls = 0x48,   // stage 1 -> 0: write my time namespace's offsets
  TimeoffsetsAck = 0x49,
  RuntimeAlive = 0x4a,     // stage 0 -> 2, with a parent-death signal: the runtime outlived your arming
};

constexpr std::string_view sync_name(std::uint32_t v) noexcept {
  switch (v) {
    case 0x40: return "USERMAP_PLS";
    case 0x41: return "USERMAP_ACK";
    case 0x42: return "RECVPID_PLS";
    case 0x43: return "RECVPID_ACK";
    case 0x44: return "GRANDCHILD";
    case 0x45: return "CHILD_FINISH";
    case 0x46: return "MOUNTSOURCES_PLS";
    case 0x47: return "MOUNTSOURCES_ACK";
    case 0x48: return "TIMEOFFSETS_PLS";
    case 0x49: return "TIMEOFFSETS_ACK";
    case 0x4a: return "RUNTIME_ALIVE";
  }
  return "unknown";
}

namespace detail {

// A peer that died is EPIPE (or a reset) here, never a SIGPIPE that would
// kill the stage before it could say why; it is reported as PeerClosed,
// as a read sees the same death.
template <class SysCalls = LinuxSys>
Result<void> write_exact(int fd, const void* data, std::size_t size, Stage stage, Op op,
                         const SysCalls& sys = kLinuxSys) noexcept {
  if (const int err = sys.write_all(fd, data, size)) {
    Error e = make_sys_error(op, err);
    if (err == EPIPE || err == ECONNRESET) e.code = Code::PeerClosed;
    return in_stage(e, stage);
  }
  return {};
}

template <class SysCalls = LinuxSys>
Result<void> read_exact_or_eof(int fd, void* data, std::size_t size, Stage stage, Op op,
                               const SysCalls& sys = kLinuxSys) noexcept {
  auto* p = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    std::size_t n = 0;
    const int err = sys.read(fd, p + got, size - got, n);
    // A peer that died with something we sent still unread resets the
    // connection instead of closing it: the same death, said the same way.
    if ((err == 0 && n == 0) || err == ECONNRESET)
      return in_stage(make_error(op, Code::PeerClosed, kNoOffset,
                                 detail::detail_text("got {} of {} bytes{}", got, size, err == 0 ? "" : " (connection reset)")),
                      stage);
    if (err != 0) return in_stage(make_sys_error(op, err), stage);
    got += n;
  }
  return {};
}

}  // namespace detail

// One end of a sync socket, owned elsewhere; `stage` is who is using it,
// so errors name the right process; every read and write goes through
// `sys`, the pipeline's Sys policy (which outlives the channel).
template <class SysCalls = LinuxSys>
class SyncChannel {
 public:
  SyncChannel(int fd, Stage stage, const SysCalls& sys = kLinuxSys) noexcept : fd_(fd), stage_(stage), sys_(&sys) {}

  Result<void> send(SyncMsg m) const noexcept {
    const auto v = static_cast<std::uint32_t>(m);
    return detail::write_exact(fd_, &v, sizeof v, stage_, Op::SyncWrite, *sys_);
  }

  Result<std::uint32_t> receive() const noexcept {
    std::uint32_t v = 0;
    if (auto r = detail::read_exact_or_eof(fd_, &v, sizeof v, stage_, Op::SyncRead, *sys_); !r) return r.error();
    return v;
  }

  Result<void> expect(SyncMsg want) const noexcept {
    auto got = receive();
    if (!got) return got.error();
    if (*got != static_cast<std::uint32_t>(want)) return unexpected(want, *got);
    return {};
  }

  Result<void> send_pid(pid_t pid) const noexcept {
    return detail::write_exact(fd_, &pid, sizeof pid, stage_, Op::SyncWrite, *sys_);
  }

  Result<pid_t> receive_pid() const noexcept {
    pid_t pid = 0;
    if (auto r = detail::read_exact_or_eof(fd_, &pid, sizeof pid, stage_, Op::SyncRead, *sys_); !r) return r.error();
    return pid;
  }

  Error unexpected(SyncMsg want, std::uint32_t got) const noexcept {
    return in_stage(make_error(Op::SyncRead, Code::UnexpectedSync, kNoOffset,
                               detail::detail_text("expected {}, got {:#x} ({})",
                                                   sync_name(static_cast<std::uint32_t>(want)), got, sync_name(got))),
                    stage_);
  }

 private:
  int fd_;
  Stage stage_;
  const SysCalls* sys_;
};

NSENTER_END_NAMESPACE
