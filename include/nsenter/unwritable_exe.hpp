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
// from disk and says so in RuncEnv::exe_unwritable; RuncSelfProtection
// then defers, and the pipeline checks the claim against the message and
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
// RuncEnv::exe_unreachable; the init checks that claim too.
#pragma once

#include <sys/stat.h>

#include <string_view>

#include "nsenter/bootstrap_view.hpp"
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

// Empty when no process of a container made from `config` can open a file
// with `exe`'s owner and mode for writing; else the reason it could.
inline std::string_view why_container_could_write(const BootstrapView& config, const struct stat& exe) noexcept {
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
