// SPDX-License-Identifier: Apache-2.0
// nsenter: the one-clone plan, runc's start with stage 1 left out.
//
// runc's stage 1 exists for a container that both joins namespaces and
// creates a user namespace: the joins (a mount namespace among them) would
// take stage 0 out of the host's /proc, through which it writes the new
// namespace's id maps, so a process of its own joins, creates the user
// namespace, and asks stage 0 for the maps. Any other container needs none
// of that. Stage 0 makes the joins itself (setns(2) in the joiner's order;
// a joined pid namespace takes in only stage 0's children), then one
// clone(2) with every CLONE_NEW* flag makes stage 2 in all its new
// namespaces at once (the kernel makes the user namespace first and the
// rest owned by it, as stage 1's unshare order does), and stage 0 writes
// its id maps where there is a new user namespace and nothing was joined.
// One process, one clone and two sync round trips fewer per start. Stage 0
// joined is where stage 1 joined would be: non-dumpable (setup makes every
// joining start so), in the runtime's pid namespace, out of the
// container's sight.
//
// What stage 2 sees is the same as after runc's three stages: the same
// namespaces, ids, session, cgroup namespace (still created by stage 2
// after its release, so that its root is the cgroup the runtime placed the
// init in), parent (the runtime: CLONE_PARENT) and pid 1 in a new pid
// namespace. What the runtime sees differs in one place: the pid line
// names stage 2 twice, there being no stage 1. runc's own parent reaps the
// line's stage1_pid as a child of its own and would reap the container's
// init instead; so the plan is only ever asked for by nsenter's parent side
// (RuncEnv::one_clone, set by the Launcher and the InitPool), and an init
// not asked runs the three stages.
#pragma once

#include <string_view>

#include "nsenter/namespace_kind.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// The direct start goes one step further, for a runtime that forks or
// clones the init itself rather than exec'ing it (the Launcher's
// in_process_init, an InitPool's template): the runtime clones the init
// straight into its new namespaces and does stage 0's work, writing the
// maps (and oom_score_adj) from outside before it sends the message; the
// init is stage 2 from its first instruction, reads the message, becomes
// root of its namespaces and says it is ready with a second NUL byte on
// the init pipe, there being no pid line to send. No stage 0, no stage 1:
// one process, one clone. Asked for with RuncEnv::direct; the init checks
// that it was born where the claim says (pid 1 of its new pid namespace;
// not in the initial user namespace), so the plan is taken only for a
// container that creates a user or a pid namespace, or none at all.

// Empty when a container made from `config` (a Bootstrap or a
// BootstrapView) can be started by the one-clone plan; else why not.
template <class Config>
constexpr std::string_view why_not_one_clone(const Config& config) noexcept {
  if (!config.ns_paths.empty() && config.clone_flags && config.clone_flags->contains(NsKind::user))
    return "it joins namespaces and creates a user namespace";
  // clone(2) reads CLONE_NEWTIME's bit as part of the exit signal, and the
  // offsets must be written before any process is in the namespace.
  if (config.clone_flags && config.clone_flags->contains(NsKind::time)) return "it creates a time namespace";
  // Stage 1 receives them inside the new mount namespace.
  if (config.mount_sources) return "it has mount sources";
  return {};
}

// Empty when it can be started directly (above); else why not. A
// parent-death signal, which stage 0 checks was armed in time, is the
// runtime's to leave out (it is no part of the message).
template <class Config>
constexpr std::string_view why_not_direct(const Config& config) noexcept {
  // A clone made from outside cannot be in namespaces only setns(2) reaches.
  if (!config.ns_paths.empty()) return "it joins namespaces";
  if (const std::string_view why = why_not_one_clone(config); !why.empty()) return why;
  if (config.clone_flags && !config.clone_flags->empty() && !config.clone_flags->contains(NsKind::user) &&
      !config.clone_flags->contains(NsKind::pid))
    return "it creates neither a user nor a pid namespace, which the init could check it was born in";
  return {};
}

NSENTER_END_NAMESPACE
