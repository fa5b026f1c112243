// SPDX-License-Identifier: Apache-2.0
// nsenter: namespace kinds as a typed enum and a typed set, with the mapping
// to CLONE_NEW* flags and to the names used by /proc/PID/ns and runc.
#pragma once

#include <sched.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "nsenter/version.hpp"

// glibc 2.36 defines CLONE_NEWTIME; older headers may not (Linux 5.6 value).
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

NSENTER_BEGIN_NAMESPACE

enum class NsKind : std::uint8_t { mnt, uts, ipc, net, pid, user, cgroup, time };

inline constexpr std::size_t kNsKindCount = 8;

struct NsKindInfo {
  NsKind kind;
  std::string_view name;  // as in /proc/PID/ns/<name> and runc's NS_PATHS
  std::uint32_t clone_flag;
};

inline constexpr std::array<NsKindInfo, kNsKindCount> kNsKinds{{
    {NsKind::mnt, "mnt", CLONE_NEWNS},
    {NsKind::uts, "uts", CLONE_NEWUTS},
    {NsKind::ipc, "ipc", CLONE_NEWIPC},
    {NsKind::net, "net", CLONE_NEWNET},
    {NsKind::pid, "pid", CLONE_NEWPID},
    {NsKind::user, "user", CLONE_NEWUSER},
    {NsKind::cgroup, "cgroup", CLONE_NEWCGROUP},
    {NsKind::time, "time", static_cast<std::uint32_t>(CLONE_NEWTIME)},
}};

constexpr const NsKindInfo& info(NsKind kind) noexcept {
  return kNsKinds[static_cast<std::size_t>(kind)];
}
constexpr std::string_view name(NsKind kind) noexcept { return info(kind).name; }
constexpr std::uint32_t clone_flag(NsKind kind) noexcept { return info(kind).clone_flag; }

constexpr std::optional<NsKind> ns_kind_from_name(std::string_view text) noexcept {
  for (const auto& k : kNsKinds)
    if (k.name == text) return k.kind;
  return std::nullopt;
}

constexpr std::optional<NsKind> ns_kind_from_clone_flag(std::uint32_t flag) noexcept {
  for (const auto& k : kNsKinds)
    if (k.clone_flag == flag) return k.kind;
  return std::nullopt;
}

// Every CLONE_NEW* bit this library knows; any other bit in CLONE_FLAGS is
// rejected rather than passed to clone/unshare, where it could mean CLONE_VM.
inline constexpr std::uint32_t kAllNsFlags = [] {
  std::uint32_t all = 0;
  for (const auto& k : kNsKinds) all |= k.clone_flag;
  return all;
}();

// A set of namespace kinds. Stored as the CLONE_NEW* mask, so converting to
// the flags that clone/unshare/setns take is free.
class NsSet {
 public:
  constexpr NsSet() noexcept = default;
  constexpr NsSet(std::initializer_list<NsKind> kinds) noexcept {
    for (NsKind k : kinds) insert(k);
  }

  // nullopt when `flags` holds a bit that is not a namespace flag.
  static constexpr std::optional<NsSet> from_clone_flags(std::uint32_t flags) noexcept {
    if ((flags & ~kAllNsFlags) != 0) return std::nullopt;
    NsSet set;
    set.flags_ = flags;
    return set;
  }

  constexpr std::uint32_t clone_flags() const noexcept { return flags_; }
  constexpr bool contains(NsKind k) const noexcept { return (flags_ & clone_flag(k)) != 0; }
  constexpr void insert(NsKind k) noexcept { flags_ |= clone_flag(k); }
  constexpr void erase(NsKind k) noexcept { flags_ &= ~clone_flag(k); }
  constexpr bool empty() const noexcept { return flags_ == 0; }
  constexpr std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const auto& k : kNsKinds) n += contains(k.kind) ? 1 : 0;
    return n;
  }
  constexpr bool operator==(const NsSet&) const noexcept = default;

 private:
  std::uint32_t flags_ = 0;
};

NSENTER_END_NAMESPACE
