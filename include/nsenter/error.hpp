// SPDX-License-Identifier: Apache-2.0
// nsenter: the one error type. Small and trivially copyable so that a child
// stage can build, copy and render it without touching the heap.
#pragma once

#include <fmt/format.h>
#include <string.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "nsenter/detail/libc.hpp"
#include "nsenter/limits.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// Process roles, numbered as runc numbers them so log labels match
// ("nsexec" before any clone, "nsexec-N" in stage N).
// Launcher is the runtime's side (the process that starts the init).
enum class Stage : std::int8_t { Launcher = -2, Setup = -1, Parent = 0, Child = 1, Init = 2 };

// What was being done when the error happened.
enum class Op : std::uint8_t {
  None,
  DecodeBootstrap,
  EncodeBootstrap,
  ReadBootstrap,
  ParseJson,
  ReadEnv,
  Handshake,
  CheckThreads,
  OomScoreAdj,
  SetDumpable,
  Socketpair,
  Clone,
  OpenNsPath,
  Setns,
  Unshare,
  SyncRead,
  SyncWrite,
  WriteSetgroups,
  WriteUidMap,
  WriteGidMap,
  RunMapHelper,
  Setresuid,
  Setsid,
  Setuid,
  Setgid,
  Setgroups,
  WritePidLine,
  Exec,
  SelfProtect,
  WriteTimeOffsets,
  PlanBootstrap,
  SendMountSources,
  SpawnInit,
  PlaceInCgroup,
  SendBootstrap,
  ReadHandshake,
  ReadPidLine,
  WaitInit,
  ReadLog,
  InitFailed,
  ParentDeathSignal,
  Pipe,
  MoveFd,
  WaitProcess,
  SignalInit,
  OpenPty,
  ForkCommand,
  ControllingTty,
  MountProc,
  CloseInheritedFds,
  ChangeRoot,
  ChangeDir,
};

// Why it failed, for causes that are not just an errno.
enum class Code : std::uint8_t {
  SystemError,  // see Error::sys_errno
  ShortHeader,
  BadMessageLength,
  MessageTooLarge,
  BadMessageType,
  Truncated,
  ExtraData,
  AttrTooShort,
  AttrOverrun,
  BadAttrSize,
  MissingNul,
  EmbeddedNul,
  UnknownAttr,
  DuplicateAttr,
  BadCloneFlags,
  NsEntryNoColon,
  UnknownNsKind,
  BadNsPath,
  DuplicateNsKind,
  BadIdMap,
  IdMapZeroCount,
  IdMapOverflow,
  IdMapTooManyLines,
  IdMapOverlap,
  BadOomScoreAdj,
  BadBool,
  BadHelperPath,
  BadMountSources,
  TrailingBytes,
  AttrTooLong,
  BadJson,
  BadEnv,
  PeerClosed,
  UnexpectedSync,
  HelperFailed,
  MultiThreaded,
  NotProtected,
  BadTimeOffsets,
  NotInProfile,
  NoTimeNamespace,
  TimedOut,
  InitFatal,
  InitDied,
  BadPidLine,
  BadHandshake,
  NotANamespace,
  ParentGone,
  NoProcess,
  TooManyFds,
  TemplateGone,
};
inline constexpr Code kLastCode = Code::TemplateGone;

constexpr std::string_view describe(Code code) noexcept {
  switch (code) {
    case Code::SystemError: return "system call failed";
    case Code::ShortHeader: return "input shorter than the 16-byte netlink header";
    case Code::BadMessageLength: return "nlmsg_len below the 16-byte header";
    case Code::MessageTooLarge: return "nlmsg_len above the largest valid bootstrap message";
    case Code::BadMessageType: return "netlink message type is not INIT_MSG (62000)";
    case Code::Truncated: return "message ends early";
    case Code::ExtraData: return "bytes after the end of the message";
    case Code::AttrTooShort: return "nla_len below the 4-byte attribute header";
    case Code::AttrOverrun: return "attribute runs past the end of the message";
    case Code::BadAttrSize: return "fixed-size attribute has the wrong size";
    case Code::MissingNul: return "string attribute lacks its terminating NUL";
    case Code::EmbeddedNul: return "string attribute contains a NUL byte";
    case Code::UnknownAttr: return "unknown attribute type";
    case Code::DuplicateAttr: return "attribute appears twice";
    case Code::BadCloneFlags: return "clone flags hold bits that are not namespace flags";
    case Code::NsEntryNoColon: return "namespace entry is not 'type:path'";
    case Code::UnknownNsKind: return "unknown namespace type";
    case Code::BadNsPath: return "namespace path must be absolute and shorter than PATH_MAX";
    case Code::DuplicateNsKind: return "namespace type listed twice";
    case Code::BadIdMap: return "id map line is not 'inside outside count'";
    case Code::IdMapZeroCount: return "id map range has a zero count";
    case Code::IdMapOverflow: return "id map range overflows 32 bits";
    case Code::IdMapTooManyLines: return "id map has more lines than the kernel accepts (340)";
    case Code::IdMapOverlap: return "id map ranges overlap";
    case Code::BadOomScoreAdj: return "oom_score_adj is not an integer in -1000..1000";
    case Code::BadBool: return "boolean attribute is neither 0 nor 1";
    case Code::BadHelperPath: return "id map helper path must be absolute and shorter than PATH_MAX";
    case Code::BadMountSources: return "mount sources are not a NUL-terminated list";
    case Code::TrailingBytes: return "trailing bytes too short to be an attribute";
    case Code::AttrTooLong: return "attribute longer than nla_len can express (65535)";
    case Code::BadJson: return "invalid bootstrap JSON";
    case Code::BadEnv: return "bad environment variable";
    case Code::PeerClosed: return "peer closed the connection";
    case Code::UnexpectedSync: return "unexpected sync message";
    case Code::HelperFailed: return "id map helper failed";
    case Code::MultiThreaded: return "process has more than one thread";
    case Code::NotProtected: return "binary is not protected";
    case Code::BadTimeOffsets: return "time offsets are not lines of 'monotonic|boottime secs nanosecs'";
    case Code::NotInProfile: return "field is not part of the selected protocol profile";
    case Code::NoTimeNamespace: return "time offsets given without creating a time namespace";
    case Code::TimedOut: return "deadline passed";
    case Code::InitFatal: return "init reported a fatal error";
    case Code::InitDied: return "init exited without reporting an error";
    case Code::BadPidLine: return "pid line is not {\"stage1_pid\":N,\"stage2_pid\":M}";
    case Code::BadHandshake: return "handshake byte is not NUL";
    case Code::NotANamespace: return "not a namespace of that kind";
    case Code::ParentGone: return "the runtime that started the init has exited";
    case Code::NoProcess: return "no process (already reaped or released)";
    case Code::TooManyFds: return "more fds than the spawn can place";
    case Code::TemplateGone: return "the pool's template process is gone";
  }
  return "unknown error";
}

constexpr std::string_view describe(Op op) noexcept {
  switch (op) {
    case Op::None: return "";
    case Op::DecodeBootstrap: return "decode bootstrap";
    case Op::EncodeBootstrap: return "encode bootstrap";
    case Op::ReadBootstrap: return "read bootstrap";
    case Op::ParseJson: return "parse bootstrap JSON";
    case Op::ReadEnv: return "read environment";
    case Op::Handshake: return "send handshake byte";
    case Op::CheckThreads: return "check thread count";
    case Op::OomScoreAdj: return "write /proc/self/oom_score_adj";
    case Op::SetDumpable: return "prctl(PR_SET_DUMPABLE)";
    case Op::Socketpair: return "socketpair";
    case Op::Clone: return "clone";
    case Op::OpenNsPath: return "open namespace path";
    case Op::Setns: return "setns";
    case Op::Unshare: return "unshare";
    case Op::SyncRead: return "sync read";
    case Op::SyncWrite: return "sync write";
    case Op::WriteSetgroups: return "write setgroups";
    case Op::WriteUidMap: return "write uid_map";
    case Op::WriteGidMap: return "write gid_map";
    case Op::RunMapHelper: return "run id map helper";
    case Op::Setresuid: return "setresuid";
    case Op::Setsid: return "setsid";
    case Op::Setuid: return "setuid";
    case Op::Setgid: return "setgid";
    case Op::Setgroups: return "setgroups(0, NULL)";
    case Op::WritePidLine: return "write pid line to init pipe";
    case Op::Exec: return "exec";
    case Op::SelfProtect: return "protect /proc/self/exe (CVE-2019-5736)";
    case Op::WriteTimeOffsets: return "write timens_offsets";
    case Op::PlanBootstrap: return "plan bootstrap";
    case Op::SendMountSources: return "send mount sources";
    case Op::SpawnInit: return "spawn init";
    case Op::PlaceInCgroup: return "place init in cgroup";
    case Op::SendBootstrap: return "send bootstrap";
    case Op::ReadHandshake: return "wait for handshake byte";
    case Op::ReadPidLine: return "wait for pid line";
    case Op::WaitInit: return "wait for stages 0 and 1 to exit";
    case Op::ReadLog: return "read log pipe";
    case Op::InitFailed: return "init failed";
    case Op::ParentDeathSignal: return "parent-death signal";
    case Op::Pipe: return "pipe2";
    case Op::MoveFd: return "move fd";
    case Op::WaitProcess: return "wait for the init";
    case Op::SignalInit: return "signal the init";
    case Op::OpenPty: return "open a pseudo-terminal";
    case Op::ForkCommand: return "fork the command";
    case Op::ControllingTty: return "make fd 0 the controlling terminal";
    case Op::MountProc: return "mount /proc";
    case Op::CloseInheritedFds: return "mark inherited fds close-on-exec";
    case Op::ChangeRoot: return "change the root directory";
    case Op::ChangeDir: return "change the working directory";
  }
  return "?";
}

constexpr std::string_view label(Stage stage) noexcept {
  switch (stage) {
    case Stage::Launcher: return "launcher";
    case Stage::Setup: return "nsexec";
    case Stage::Parent: return "nsexec-0";
    case Stage::Child: return "nsexec-1";
    case Stage::Init: return "nsexec-2";
  }
  return "nsexec";
}

inline constexpr std::uint32_t kNoOffset = UINT32_MAX;

struct Error {
  Stage stage = Stage::Setup;
  Op op = Op::None;
  Code code = Code::SystemError;
  int sys_errno = 0;               // 0 when no system call failed
  std::uint32_t offset = kNoOffset;  // byte offset in the input, if any
  char detail[kErrorDetailBytes] = {};  // the offending value, truncated

  std::string_view detail_view() const noexcept { return {detail, ::strnlen(detail, sizeof detail)}; }
};

namespace detail {

inline std::size_t escaped_size(unsigned char c) noexcept {
  return (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
}

// Copies `value` into `out`, escaping what would make an error line
// ambiguous or unreadable (control bytes, backslashes, non-ASCII) as \xNN,
// and marks a cut with "...". Never allocates.
inline void set_detail(char (&out)[kErrorDetailBytes], std::string_view value) noexcept {
  constexpr std::size_t cap = kErrorDetailBytes - 1;
  constexpr char hex[] = "0123456789abcdef";
  std::size_t total = 0;
  for (char c : value) total += escaped_size(static_cast<unsigned char>(c));
  const std::size_t room = total <= cap ? cap : cap - 3;  // keep 3 for "..."
  std::size_t n = 0;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (n + escaped_size(c) > room) break;
    if (escaped_size(c) == 1) {
      out[n++] = static_cast<char>(c);
    } else {
      out[n++] = '\\';
      out[n++] = 'x';
      out[n++] = hex[c >> 4];
      out[n++] = hex[c & 15];
    }
  }
  if (total > cap)
    for (int k = 0; k < 3; ++k) out[n++] = '.';
  out[n] = '\0';
}

// Error detail text formatted on the stack, so that error paths in child
// stages and in the decoder never allocate. Longer than a detail, so that
// set_detail() still marks a cut with "...".
struct DetailText {
  char data[2 * kErrorDetailBytes];
  std::size_t size = 0;
  operator std::string_view() const noexcept { return {data, size}; }
};

template <class... Args>
DetailText detail_text(fmt::format_string<Args...> f, Args&&... args) noexcept {
  DetailText t;
  const auto r = fmt::format_to_n(t.data, sizeof t.data, f, std::forward<Args>(args)...);
  t.size = std::min(r.size, sizeof t.data);
  return t;
}

}  // namespace detail

constexpr Error make_error(Op op, Code code, std::uint32_t offset = kNoOffset) noexcept {
  Error e;
  e.op = op;
  e.code = code;
  e.offset = offset;
  return e;
}

inline Error make_error(Op op, Code code, std::uint32_t offset, std::string_view detail) noexcept {
  Error e = make_error(op, code, offset);
  detail::set_detail(e.detail, detail);
  return e;
}

// An error from a failed system call; `err` is the errno captured at the
// failing call, never read later.
inline Error make_sys_error(Op op, int err, std::string_view detail = {}) noexcept {
  Error e = make_error(op, Code::SystemError);
  e.sys_errno = err;
  detail::set_detail(e.detail, detail);
  return e;
}

// `e`, attributed to the process that hit it.
constexpr Error in_stage(Error e, Stage stage) noexcept {
  e.stage = stage;
  return e;
}

// Renders `<op>: <cause>: <detail> (at byte N): <strerror>` into `buf`
// (always NUL-terminated) and returns the text. Async-signal-safe: no heap,
// no locale (detail::errno_text is not localized).
inline std::string_view render_error(const Error& e, char* buf, std::size_t size) noexcept {
  if (size == 0) return {};
  std::size_t used = 0;
  auto append = [&](std::string_view s) {
    const std::size_t n = std::min(s.size(), size - 1 - used);
    std::memcpy(buf + used, s.data(), n);
    used += n;
  };
  // Each part after the first is introduced by ": ".
  auto part = [&](std::string_view s) {
    if (s.empty()) return;
    if (used > 0) append(": ");
    append(s);
  };
  part(describe(e.op));
  if (e.code != Code::SystemError) part(describe(e.code));
  part(e.detail_view());
  if (e.offset != kNoOffset) {
    char tmp[32];
    auto r = fmt::format_to_n(tmp, sizeof tmp, " (at byte {})", e.offset);
    append({tmp, std::min(r.size, sizeof tmp)});
  }
  if (e.sys_errno != 0) {
    const char* desc = detail::errno_text(e.sys_errno);
    char tmp[32];
    if (desc == nullptr) {
      auto r = fmt::format_to_n(tmp, sizeof tmp - 1, "errno {}", e.sys_errno);
      *r.out = '\0';
      desc = tmp;
    }
    part(desc);
  }
  buf[used] = '\0';
  return {buf, used};
}

// Convenience for code that may allocate (tools, parent side, tests).
inline std::string to_string(const Error& e) {
  char buf[512];
  return std::string(render_error(e, buf, sizeof buf));
}

NSENTER_END_NAMESPACE
