// SPDX-License-Identifier: Apache-2.0
// nsenter: when the binary an init runs from needs no protection at all.
//
// CVE-2019-5736 is a process in the container opening the init's binary
// for writing (through /proc/PID/exe, or by exec'ing /proc/self/exe and
// then opening its own). Self-protection makes that binary a sealed copy or
// a read-only view. A container cannot write the binary on disk either when
// the kernel's permission check on the file can never pass for it:
//   - it runs in a user namespace this start creates, joining nothing (no
//     capability of any outer namespace reaches it);
//   - the file's owner is mapped nowhere in that namespace, so the owner's
//     permission bits are not its, and CAP_DAC_OVERRIDE or CAP_FOWNER in
//     the namespace do not apply to the file (the kernel honours them only
//     for files whose owner and group are mapped there);
//   - the file grants write permission to neither group nor others.
// The rootless default (the caller mapped to root, the binary root's) is
// such a case: no copy is needed. A runtime that finds it so (the Launcher
// with LauncherConfig::skip_protection_when_unwritable) execs the binary
// from disk and says so in its start plan (BinaryGuard::Unwritable,
// start_plan.hpp); RuncSelfProtection then defers, and the pipeline
// checks the claim against the message and
// the binary before any clone, failing the start (Code::NotProtected) if
// the claim is wrong.
//
// Where the binary is writable (root mapped to root, say) but the container
// shares the launcher's filesystem, so it could write the binary by its
// path anyway, a launcher that forks the init from its own process instead
// of exec'ing it (the Launcher with LauncherConfig::in_process_init and
// containers_share_our_filesystem, as root) still leaves the container no
// /proc handle of ours: the fork is made non-dumpable and stays so through
// stage 2 and nsrun's reaper (only joins make a stage dumpable, and this
// case joins nothing), and its memory belongs to the launcher's user
// namespace, over which the container has no capability. It says so in
// its plan (BinaryGuard::Unreachable); the init checks that claim too.
#pragma once

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "nsenter/bootstrap_view.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// Empty when no process of a container made from `config` can reach a
// non-dumpable process of ours whose memory was not made by an exec inside
// the container; else the reason it could. /proc/PID/exe, and every other
// /proc/PID handle to the binary (fd, map_files, mem, root), needs ptrace
// access; to a non-dumpable process that takes CAP_SYS_PTRACE in the user
// namespace its memory belongs to (the one it was exec'd in: ours), which
// no process of a user namespace this start creates, joining nothing, has.
inline std::string_view why_container_could_reach_init(const BootstrapView& config) noexcept {
  if (!config.clone_flags || !config.clone_flags->contains(NsKind::user)) return "no user namespace of its own";
  if (!config.ns_paths.empty()) return "it joins namespaces";
  return {};
}

namespace detail {

inline bool same_inode(const struct stat& a, const struct stat& b) noexcept {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Whether `uid` falls in one of the ranges of /proc/PID/uid_map text (the
// kernel pads its three numbers with spaces).
inline bool uid_map_text_maps(std::string_view text, uid_t uid) noexcept {
  while (!text.empty()) {
    const std::size_t nl = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(std::min(nl + 1, text.size()));
    std::uint64_t field[3] = {};
    int n = 0;
    while (n < 3) {
      const std::size_t start = line.find_first_not_of(' ');
      if (start == std::string_view::npos) break;
      line.remove_prefix(start);
      const std::size_t end = std::min(line.find(' '), line.size());
      const auto v = parse_decimal<std::uint32_t>(line.substr(0, end));
      if (!v) return true;  // unreadable: assume the worst
      field[n++] = *v;
      line.remove_prefix(end);
    }
    if (n == 0) continue;
    if (n != 3) return true;
    if (uid >= field[1] && uid - field[1] < field[2]) return true;
  }
  return false;
}

}  // namespace detail

// For a container that joins namespaces: empty when no process of it can
// open a file with `exe`'s owner and mode for writing. That takes joining
// a user namespace (and creating none), named /proc/PID/ns/user so that
// its uid map can be read from /proc/PID/uid_map (checked to be that very
// namespace, before and after), which maps the owner nowhere; every other
// namespace joined owned by it (NS_GET_USERNS), so that no process of a
// more privileged user namespace shares them; no group or other write bit.
// Reads /proc and opens the namespace paths (O_NONBLOCK: a FIFO named as a
// namespace cannot hang it).
inline std::string_view why_joined_container_could_write(const BootstrapView& config, const struct stat& exe) noexcept {
  if (config.clone_flags && config.clone_flags->contains(NsKind::user))
    return "it joins namespaces and creates a user namespace";
  if ((exe.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "the binary is writable by group or others";
  const NsPathView* user = nullptr;
  for (const NsPathView& p : config.ns_paths)
    if (p.kind == NsKind::user) user = &p;
  if (user == nullptr) return "it joins namespaces, but no user namespace";
  constexpr std::string_view kPrefix = "/proc/", kSuffix = "/ns/user";
  const std::string_view path = user->path;
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix) || path.size() > 64 ||
      !detail::parse_decimal<std::uint32_t>(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size())))
    return "it joins a user namespace not named /proc/PID/ns/user";
  auto open_ns = [](std::string_view p) {
    char buf[4096 + 1];
    if (p.size() >= sizeof buf) return UniqueFd();
    p.copy(buf, p.size());
    buf[p.size()] = '\0';
    return UniqueFd(::open(buf, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  };
  UniqueFd userns = open_ns(path);
  struct stat user_st {}, again {};
  if (!userns || ::fstat(userns.get(), &user_st) != 0) return "its user namespace cannot be opened";
  char map_path[80];
  const std::string_view pid_dir = path.substr(0, path.size() - kSuffix.size());  // "/proc/PID"
  pid_dir.copy(map_path, pid_dir.size());
  std::memcpy(map_path + pid_dir.size(), "/uid_map", sizeof "/uid_map");
  char map[16384];
  ssize_t got = -1;
  if (UniqueFd f(::open(map_path, O_RDONLY | O_CLOEXEC)); f) got = ::read(f.get(), map, sizeof map);
  if (got < 0 || static_cast<std::size_t>(got) == sizeof map) return "its user namespace's uid map cannot be read";
  UniqueFd userns_again = open_ns(path);
  if (!userns_again || ::fstat(userns_again.get(), &again) != 0 || !detail::same_inode(user_st, again))
    return "its user namespace changed while it was looked at";
  if (detail::uid_map_text_maps({map, static_cast<std::size_t>(got)}, exe.st_uid))
    return "the binary's owner is mapped into the user namespace it joins";
  for (const NsPathView& p : config.ns_paths) {
    if (&p == user) continue;
    UniqueFd ns = open_ns(p.path);
    UniqueFd owner(ns ? ::ioctl(ns.get(), NS_GET_USERNS) : -1);
    struct stat owner_st {};
    if (!owner || ::fstat(owner.get(), &owner_st) != 0 || !detail::same_inode(owner_st, user_st))
      return "it joins a namespace its user namespace does not own";
  }
  return {};
}

// Empty when no process of a container made from `config` can open a file
// with `exe`'s owner and mode for writing; else the reason it could.
inline std::string_view why_container_could_write(const BootstrapView& config, const struct stat& exe) noexcept {
  if (!config.ns_paths.empty()) return why_joined_container_could_write(config, exe);
  if (const std::string_view why = why_container_could_reach_init(config); !why.empty()) return why;
  if ((exe.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "the binary is writable by group or others";
  bool owner_mapped = false;
  config.uid_map.for_each([&](const IdMapEntry& e) {
    if (exe.st_uid >= e.outside && exe.st_uid - e.outside < e.count) owner_mapped = true;
  });
  if (owner_mapped) return "the binary's owner is mapped into its user namespace";
  return {};
}

NSENTER_END_NAMESPACE
