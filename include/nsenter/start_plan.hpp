// SPDX-License-Identifier: Apache-2.0
// nsenter: how an init starts, named once. A StartPlan says who clones whom
// (Topology) and what keeps the container from writing the binary the init
// runs (BinaryGuard). The runtime chooses it in one pure function
// (choose_start, from facts it gathered beforehand), sends it in one
// variable (_NSENTER_START, format_start), and the init parses it in one
// place (parse_start) and accepts it against the message in another
// (accept_start); both sides log it in one record (describe_start). runc's
// own parent sends no such variable: its inits run the default plan, runc's
// three stages, protecting themselves.
//
//   three-stages  runc's: stage 0 (setup) clones stage 1, which joins and
//                 creates namespaces and clones stage 2, the init.
//   one-clone     stage 0 makes the joins itself and clones stage 2 straight
//                 into every new namespace: no stage 1 (below says when).
//   direct        the runtime clones the init into its namespaces and does
//                 stage 0's work itself: the init is stage 2 from its first
//                 instruction and says it is ready with a second NUL byte on
//                 the init pipe, there being no pid line to send.
//
//   self          the init protects itself if it must (self_protection.hpp);
//                 nothing to do from a sealed memfd or a read-only copy.
//   unwritable    the runtime found that no process of the container could
//                 write the binary (unwritable_exe.hpp); checked by the init.
//   unreachable   the runtime forked the init non-dumpable, as root, for a
//                 container that cannot reach such a process; checked.
//   view=FD       the runtime passes a read-only view of the very binary at
//                 FD for the init to move onto in place (exe_rebase.hpp);
//                 checked, and closed once used.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "nsenter/error.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/result.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

enum class Topology : std::uint8_t { ThreeStages, OneClone, Direct };
enum class BinaryGuard : std::uint8_t { SelfProtect, Unwritable, Unreachable, MoveOntoView };

// The plan both sides agree on: what travels in _NSENTER_START.
struct StartPlan {
  Topology topology = Topology::ThreeStages;
  BinaryGuard guard = BinaryGuard::SelfProtect;
  int view_fd = -1;  // BinaryGuard::MoveOntoView only

  bool operator==(const StartPlan&) const = default;
  // runc's plan, which needs no variable.
  bool is_runcs() const noexcept { return *this == StartPlan{}; }
};

// The names _NSENTER_START uses, and the debug record.
constexpr std::string_view to_string(Topology t) noexcept {
  switch (t) {
    case Topology::ThreeStages: return "three-stages";
    case Topology::OneClone: return "one-clone";
    case Topology::Direct: return "direct";
  }
  return "?";
}

constexpr std::string_view to_string(BinaryGuard g) noexcept {
  switch (g) {
    case BinaryGuard::SelfProtect: return "self";
    case BinaryGuard::Unwritable: return "unwritable";
    case BinaryGuard::Unreachable: return "unreachable";
    case BinaryGuard::MoveOntoView: return "view";
  }
  return "?";
}

// Where the init's code comes from, as the runtime started it; Forked: not
// exec'd at all, a fork of the launching program that called
// LauncherConfig::in_process_init.
enum class ExecFrom : std::uint8_t { Path, SealedMemfd, ReadOnlyMount, Forked, ForkedOntoReadOnlyMount, PoolTemplate };

constexpr std::string_view to_string(ExecFrom from) noexcept {
  switch (from) {
    case ExecFrom::Path: return "the binary's path";
    case ExecFrom::SealedMemfd: return "a sealed memfd copy";
    case ExecFrom::ReadOnlyMount: return "a read-only mount";
    case ExecFrom::Forked: return "a fork of the launcher (no exec)";
    case ExecFrom::ForkedOntoReadOnlyMount: return "a fork of the launcher, moved onto a read-only mount of the binary (no exec)";
    case ExecFrom::PoolTemplate: return "a fork of the pool's template (no exec)";
  }
  return "?";
}

// ---- which topologies a container allows ------------------------------------
//
// runc's stage 1 exists for a container that both joins namespaces and
// creates a user namespace: the joins (a mount namespace among them) would
// take stage 0 out of the host's /proc, through which it writes the new
// namespace's id maps, so a process of its own joins, creates the user
// namespace, and asks stage 0 for the maps. Any other container needs none
// of that: stage 0 makes the joins itself (setns(2) in the joiner's order; a
// joined pid namespace takes in only stage 0's children), then one clone(2)
// with every CLONE_NEW* flag makes stage 2 in all its new namespaces at once
// (the kernel makes the user namespace first and the rest owned by it, as
// stage 1's unshare order does), and stage 0 writes its maps where there is
// a new user namespace and nothing was joined. Stage 0 joined is where
// stage 1 joined would be: non-dumpable (setup makes every joining start
// so), in the runtime's pid namespace, out of the container's sight.
//
// What stage 2 sees is the same as after the three stages: the same
// namespaces, ids, session, cgroup namespace (still made by stage 2 after
// its release, so that its root is the cgroup the runtime placed the init
// in), parent (the runtime: CLONE_PARENT) and pid 1 in a new pid namespace.
// What the runtime sees differs in one place: the pid line names stage 2
// twice. runc's own parent reaps the line's stage-1 pid as a child of its
// own and would reap the container's init instead; so only nsenter's parent
// side asks for it.

// Empty when a container made from `config` (a Bootstrap or a
// BootstrapView) can start by one clone; else why not.
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

// Empty when the runtime may clone the init into its namespaces itself (a
// direct start); else why not. The init checks it was born where the plan
// says (pid 1 of its new pid namespace; not in the initial user namespace),
// so only a container that creates a user or a pid namespace, or none at
// all, qualifies. A parent-death signal, which stage 0 checks was armed in
// time, is the runtime's to leave out (it is no part of the message).
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

// ---- the runtime's side: one choice from facts ------------------------------

// Who starts the init process: a spawn of the runtime's (a fork or an exec),
// or an InitPool's template, exec'd from a sealed memfd (so that its clones
// need no protection of their own and may start directly) or else from a
// read-only view or the path.
enum class Starter : std::uint8_t { Spawn, PoolSealed, PoolView };

// Everything choose_start looks at, gathered by the runtime before it
// chooses. The last two are asked only where needs_protected_view() says
// they matter: making the protected view costs a copy or a mount, once.
struct StartFacts {
  Starter starter = Starter::Spawn;
  // What the launch asked for (LaunchOptions).
  bool one_clone_asked = true;
  bool parent_death_signal = false;
  // What the runtime's configuration allows (LauncherConfig).
  bool forks = false;  // in_process_init may run the init: set, no init_binary, one thread
  bool skip_protection_when_unwritable = false;
  bool containers_share_our_filesystem = false;
  bool exec_from_sealed_memfd = true;
  bool protect_forks_in_place = false;
  // What the container and the binary are.
  std::string_view why_not_one_clone;  // of the container, above
  std::string_view why_not_direct;
  bool container_can_write_exe = true;   // why_container_could_write (unwritable_exe.hpp) said why
  bool container_can_reach_init = true;  // why_container_could_reach_init said why
  bool euid_root = false;
  // The protected view of the binary (LauncherConfig::prefer_read_only_mount
  // and what the kernel allowed): SealedMemfd or ReadOnlyMount.
  ExecFrom protected_view = ExecFrom::SealedMemfd;
  bool may_move_in_place = false;  // exe_rebase_refused() said nothing
};

// The runtime's choice: the plan it sends, where the init's code comes
// from, and why neither the topology nor the guard is the next cheaper one.
struct StartChoice {
  StartPlan plan;
  ExecFrom image = ExecFrom::Path;
  std::string_view why_topology;  // why not a cheaper topology; empty for direct
  std::string_view why_guard;     // why the binary needs this guard

  // The init is a fork of this program (SpawnRequest::entry), not an exec;
  // a pool's clone is not: the template, not this process, makes it.
  bool forked() const noexcept { return image == ExecFrom::Forked || image == ExecFrom::ForkedOntoReadOnlyMount; }
};

// Whether choose_start will read StartFacts::protected_view and
// may_move_in_place: the init is exec'd, or forked onto a view, and must be
// protected.
constexpr bool needs_protected_view(const StartFacts& f) noexcept {
  if (f.starter != Starter::Spawn) return false;
  if (f.skip_protection_when_unwritable && !f.container_can_write_exe) return false;
  if (f.skip_protection_when_unwritable && f.forks && f.containers_share_our_filesystem && f.euid_root &&
      !f.container_can_reach_init)
    return false;
  return f.exec_from_sealed_memfd;
}

constexpr StartChoice choose_start(const StartFacts& f) noexcept {
  StartChoice c;
  // What protects the binary, and so where the init's code comes from.
  if (f.starter != Starter::Spawn) {
    c.image = ExecFrom::PoolTemplate;
    c.why_guard = f.starter == Starter::PoolSealed ? "the pool's template runs from a sealed memfd"
                                                   : "the pool's template runs from a read-only view or the path";
  } else if (f.skip_protection_when_unwritable && !f.container_can_write_exe) {
    // Only a fork needs the claim: it lets it start direct. An init exec'd
    // by path makes the same check itself and copies nothing (the guard
    // self), and a start sent no guard is runc's wire where it is three
    // stages; the claim would cost the same (measured: docs/benchmarks.md).
    c.image = f.forks ? ExecFrom::Forked : ExecFrom::Path;
    if (f.forks) c.plan.guard = BinaryGuard::Unwritable;
    c.why_guard = f.forks ? "no process of the container could write the binary"
                          : "no process of the container could write the binary: exec'd by path, the init finds "
                            "so itself";
  } else if (f.skip_protection_when_unwritable && f.forks && f.containers_share_our_filesystem && f.euid_root &&
             !f.container_can_reach_init) {
    c.plan.guard = BinaryGuard::Unreachable;
    c.image = ExecFrom::Forked;
    c.why_guard = "a non-dumpable fork of root's is out of the container's reach";
  } else if (!f.exec_from_sealed_memfd) {
    c.image = ExecFrom::Path;
    c.why_guard = "the init protects itself (exec_from_sealed_memfd is off)";
  } else if (f.protected_view == ExecFrom::ReadOnlyMount && f.protect_forks_in_place && f.forks && f.may_move_in_place) {
    c.plan.guard = BinaryGuard::MoveOntoView;
    c.image = ExecFrom::ForkedOntoReadOnlyMount;
    c.why_guard = "the container could write the binary: the fork moves onto a read-only mount of it";
  } else {
    c.image = f.protected_view;
    c.why_guard = f.protected_view == ExecFrom::ReadOnlyMount
                      ? "the container could write the binary: exec'd from a read-only mount of it"
                      : "the container could write the binary: exec'd from a sealed memfd copy";
  }
  // Who clones whom. Only an init that needs no protecting of its own may
  // be cloned straight into its namespaces: it could not protect itself
  // from inside them (check_direct_start, nsexec.hpp).
  const bool cloned_ready = c.image == ExecFrom::Forked || f.starter == Starter::PoolSealed;
  if (!f.one_clone_asked) {
    c.why_topology = "one clone not asked for";
  } else if (!f.why_not_one_clone.empty()) {
    c.why_topology = f.why_not_one_clone;
  } else {
    c.plan.topology = Topology::OneClone;
    // The container's reason first: it holds however the init is started.
    if (!f.why_not_direct.empty())
      c.why_topology = f.why_not_direct;
    else if (!cloned_ready)
      c.why_topology = f.starter == Starter::PoolView ? "the pool's template runs from a read-only view or the path"
                       : c.image == ExecFrom::ForkedOntoReadOnlyMount
                           ? "the fork must move onto its view first"
                           : "the init is exec'd, and only a clone of ours is born in its namespaces";
    else if (f.parent_death_signal)
      c.why_topology = "a parent-death signal needs stage 0 to check it was armed in time";
    else
      c.plan.topology = Topology::Direct;
  }
  return c;
}

// The runtime's record of its choice: "start: one-clone, exec'd from a
// sealed memfd copy (the container could write the binary: ...); not
// direct: the init is exec'd, ...".
struct StartRecord {
  char data[320];
  std::size_t size = 0;
  std::string_view view() const noexcept { return {data, size}; }
};

inline StartRecord describe_start(const StartChoice& c) noexcept;

// ---- the variable ------------------------------------------------------------

// "TOPOLOGY[:GUARD]", GUARD "view=FD" for a view; ":self" left out.
struct StartText {
  char data[40];
  std::size_t size = 0;
  std::string_view view() const noexcept { return {data, size}; }
};

inline StartText format_start(const StartPlan& plan) noexcept {
  StartText t;
  fmt::format_to_n_result<char*> r;
  if (plan.guard == BinaryGuard::SelfProtect)
    r = fmt::format_to_n(t.data, sizeof t.data - 1, "{}", to_string(plan.topology));
  else if (plan.guard == BinaryGuard::MoveOntoView)
    r = fmt::format_to_n(t.data, sizeof t.data - 1, "{}:view={}", to_string(plan.topology), plan.view_fd);
  else
    r = fmt::format_to_n(t.data, sizeof t.data - 1, "{}:{}", to_string(plan.topology), to_string(plan.guard));
  t.size = std::min(r.size, sizeof t.data - 1);
  t.data[t.size] = '\0';
  return t;
}

inline StartRecord describe_start(const StartChoice& c) noexcept {
  StartRecord r;
  auto out = fmt::format_to_n(r.data, sizeof r.data, "start: {}, from {} ({})", format_start(c.plan).view(),
                              to_string(c.image), c.why_guard);
  std::size_t n = std::min(out.size, sizeof r.data);
  if (!c.why_topology.empty() && n < sizeof r.data) {
    const std::string_view cheaper = c.plan.topology == Topology::ThreeStages ? "one clone" : "direct";
    n += std::min(fmt::format_to_n(r.data + n, sizeof r.data - n, "; not {}: {}", cheaper, c.why_topology).size,
                  sizeof r.data - n);
  }
  r.size = n;
  return r;
}

// The init's parse of `value`, strictly; unset or empty: runc's plan. A
// direct start given a view is refused here: it is born in the container's
// namespaces, where a move onto a view proves nothing (check_direct_start).
inline Result<StartPlan> parse_start(const char* name, const char* value) noexcept {
  StartPlan plan;
  if (value == nullptr || *value == '\0') return plan;
  const std::string_view text(value);
  auto bad = [&](std::string_view why) {
    return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset, detail::detail_text("{}={}: {}", name, text, why));
  };
  const std::size_t colon = text.find(':');
  const std::string_view topology = text.substr(0, colon);
  if (topology == "three-stages") plan.topology = Topology::ThreeStages;
  else if (topology == "one-clone") plan.topology = Topology::OneClone;
  else if (topology == "direct") plan.topology = Topology::Direct;
  else return bad("not a topology (three-stages, one-clone or direct)");
  if (colon == std::string_view::npos) return plan;
  const std::string_view guard = text.substr(colon + 1);
  if (guard == "self") plan.guard = BinaryGuard::SelfProtect;
  else if (guard == "unwritable") plan.guard = BinaryGuard::Unwritable;
  else if (guard == "unreachable") plan.guard = BinaryGuard::Unreachable;
  else if (guard.starts_with("view=")) {
    const auto fd = detail::parse_decimal<int>(guard.substr(5));
    if (!fd || *fd < 0) return bad("view=FD: not a non-negative decimal fd");
    plan.guard = BinaryGuard::MoveOntoView;
    plan.view_fd = *fd;
  } else {
    return bad("not a guard (self, unwritable, unreachable or view=FD)");
  }
  if (plan.topology == Topology::Direct && plan.guard == BinaryGuard::MoveOntoView)
    return bad("a direct start cannot move onto a view: it is born in the container's namespaces");
  return plan;
}

// What the init starts by, once the message is known: `plan`, or three
// stages where one clone was asked for and the container (why_not_one_clone)
// or the pipeline's clone policy does not allow it (`why` says which).
// A direct start the container does not allow is refused: the runtime has
// already cloned the init into namespaces it cannot have meant.
template <class Config>
Result<StartPlan> accept_start(StartPlan plan, const Config& config, bool clone_policy_can, const char* name,
                               std::string_view& why) noexcept {
  why = {};
  if (plan.topology == Topology::Direct) {
    if (const std::string_view no = why_not_direct(config); !no.empty())
      return make_error(Op::PlanBootstrap, Code::BadEnv, kNoOffset,
                        detail::detail_text("{}={}, but {}", name, format_start(plan).view(), no));
  } else if (plan.topology == Topology::OneClone) {
    why = why_not_one_clone(config);
    if (why.empty() && !clone_policy_can) why = "the clone policy cannot (no spawn_into)";
    if (!why.empty()) plan.topology = Topology::ThreeStages;
  }
  return plan;
}

NSENTER_END_NAMESPACE
