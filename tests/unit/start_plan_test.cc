// SPDX-License-Identifier: Apache-2.0
// How an init starts (start_plan.hpp), without root:
//  - why_not_one_clone and why_not_direct, the container's part: one row per
//    leaf, each asked of a Bootstrap (as the Launcher asks) and of the
//    BootstrapView the init decodes from the same bytes (as the init asks),
//    which must agree;
//  - choose_start, the runtime's one choice: one row per leaf of the tree
//    (docs/design.md, "How an init starts");
//  - _NSENTER_START: every plan survives format and parse; every malformed
//    value and every refused combination is refused;
//  - accept_start, the init's one acceptance against the message.
#include "nsenter/start_plan.hpp"

#include <doctest/doctest.h>
#include <sched.h>

#include <string>
#include <vector>

#include "nsenter/bootstrap_view.hpp"
#include "nsenter/wire.hpp"

using namespace nsenter;

namespace {

struct Row {
  const char* what;
  Bootstrap config;
  std::string_view one_clone;  // why_not_one_clone, empty: taken
  std::string_view direct;     // why_not_direct, empty: taken
};

Bootstrap creating(NsSet kinds) {
  Bootstrap b;
  b.clone_flags = kinds;
  if (kinds.contains(NsKind::user)) {
    b.uid_map = {{0, 100000, 65536}};
    b.gid_map = {{0, 100000, 65536}};
  }
  return b;
}

Bootstrap joining(NsSet kinds, std::vector<NsPath> paths) {
  Bootstrap b = creating(kinds);
  b.ns_paths = std::move(paths);
  return b;
}

std::vector<Row> rows() {
  constexpr std::string_view kJoinsAndUser = "it joins namespaces and creates a user namespace";
  constexpr std::string_view kTime = "it creates a time namespace";
  constexpr std::string_view kSources = "it has mount sources";
  constexpr std::string_view kJoins = "it joins namespaces";
  constexpr std::string_view kNothingToCheck =
      "it creates neither a user nor a pid namespace, which the init could check it was born in";
  Bootstrap sources = creating(NsSet{NsKind::user, NsKind::mnt, NsKind::pid});
  sources.mount_sources = std::vector<std::string>{"/var/lib/volume", ""};
  Bootstrap no_flags;  // no CLONE_FLAGS attribute at all
  return {
      {"nothing created or joined", no_flags, "", ""},
      {"an empty CLONE_FLAGS", creating(NsSet{}), "", ""},
      {"a user namespace and the rest (a rootless sandbox)",
       creating(NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc}), "", ""},
      {"a pid namespace alone", creating(NsSet{NsKind::pid}), "", ""},
      {"a user namespace alone", creating(NsSet{NsKind::user}), "", ""},
      {"uts and ipc, neither user nor pid", creating(NsSet{NsKind::uts, NsKind::ipc}), "", kNothingToCheck},
      {"a network namespace alone", creating(NsSet{NsKind::net}), "", kNothingToCheck},
      {"a cgroup namespace alone (made by stage 2 in every plan)", creating(NsSet{NsKind::cgroup}), "",
       kNothingToCheck},
      {"a time namespace", creating(NsSet{NsKind::time, NsKind::pid}), kTime, kTime},
      {"mount sources", sources, kSources, kSources},
      {"a join, creating a pid namespace", joining(NsSet{NsKind::pid}, {{NsKind::net, "/proc/1/ns/net"}}), "",
       kJoins},
      {"a join of a user namespace, creating ipc (an exec into a container)",
       joining(NsSet{NsKind::ipc}, {{NsKind::user, "/proc/1/ns/user"}}), "", kJoins},
      {"a join and a new user namespace",
       joining(NsSet{NsKind::user, NsKind::pid}, {{NsKind::net, "/proc/1/ns/net"}}), kJoinsAndUser, kJoins},
      {"a join and a time namespace: the join is named first",
       joining(NsSet{NsKind::user, NsKind::time}, {{NsKind::net, "/proc/1/ns/net"}}), kJoinsAndUser, kJoins},
  };
}

}  // namespace

TEST_CASE("why_not_one_clone and why_not_direct: one answer per leaf, the same from a Bootstrap and from the decoded view") {
  for (const Row& row : rows()) {
    CAPTURE(row.what);
    CHECK(why_not_one_clone(row.config) == row.one_clone);
    CHECK(why_not_direct(row.config) == row.direct);
    const wire::Profile profile = row.config.time_offsets.empty() ? wire::Profile::Runc11 : wire::Profile::Runc12;
    wire::EncodeOptions options;
    options.profile = profile;
    auto bytes = wire::encode(row.config, options);
    REQUIRE(bytes);
    auto view = wire::decode_view(*bytes, profile);
    REQUIRE(view);
    CHECK(why_not_one_clone(*view) == row.one_clone);
    CHECK(why_not_direct(*view) == row.direct);
  }
}

TEST_CASE("a direct start is never allowed where one clone is not") {
  // why_not_direct asks why_not_one_clone first: every refusal of the one
  // clone refuses the direct start too, with a reason.
  for (const Row& row : rows()) {
    CAPTURE(row.what);
    if (!row.one_clone.empty()) CHECK(!why_not_direct(row.config).empty());
  }
}

// ---- choose_start: the runtime's side ------------------------------------------

namespace {

struct Leaf {
  const char* what;
  StartFacts facts;
  Topology topology;
  BinaryGuard guard;
  ExecFrom image;
  std::string_view why_topology;  // a part of it; empty: must be empty
};

constexpr std::string_view kMountSources = "it has mount sources";
constexpr std::string_view kJoins = "it joins namespaces";

// The Launcher's defaults for a rootless sandbox: exec'd from the sealed
// memfd, one clone asked for, nothing skipped.
constexpr StartFacts spawn() {
  StartFacts f;
  f.protect_forks_in_place = true;
  return f;
}
constexpr StartFacts pool(Starter kind) {
  StartFacts f = spawn();
  f.starter = kind;
  return f;
}
StartFacts unwritable(bool forks) {
  StartFacts f = spawn();
  f.skip_protection_when_unwritable = true;
  f.container_can_write_exe = false;
  f.forks = forks;
  return f;
}
StartFacts unreachable(bool root) {
  StartFacts f = spawn();
  f.skip_protection_when_unwritable = true;
  f.forks = true;
  f.containers_share_our_filesystem = true;
  f.euid_root = root;
  f.container_can_reach_init = false;
  return f;
}
StartFacts read_only_mount(bool forks, bool may_move) {
  StartFacts f = spawn();
  f.protected_view = ExecFrom::ReadOnlyMount;
  f.forks = forks;
  f.may_move_in_place = may_move;
  return f;
}
template <class F>
StartFacts with(StartFacts f, F change) {
  change(f);
  return f;
}
void no_one_clone(StartFacts& f) { f.why_not_one_clone = kMountSources, f.why_not_direct = kMountSources; }
void joins(StartFacts& f) { f.why_not_direct = kJoins; }
void death_signal(StartFacts& f) { f.parent_death_signal = true; }
void not_asked(StartFacts& f) { f.one_clone_asked = false; }

std::vector<Leaf> leaves() {
  using T = Topology;
  using G = BinaryGuard;
  using E = ExecFrom;
  constexpr std::string_view kExecd = "the init is exec'd";
  constexpr std::string_view kDeath = "a parent-death signal";
  constexpr std::string_view kNotAsked = "one clone not asked for";
  return {
      {"P1 pool on a sealed memfd: direct", pool(Starter::PoolSealed), T::Direct, G::SelfProtect, E::PoolTemplate, ""},
      {"P2 pool on a sealed memfd, a join", with(pool(Starter::PoolSealed), joins), T::OneClone, G::SelfProtect,
       E::PoolTemplate, kJoins},
      {"P2 pool on a sealed memfd, a parent-death signal", with(pool(Starter::PoolSealed), death_signal), T::OneClone,
       G::SelfProtect, E::PoolTemplate, kDeath},
      {"P3 pool on a sealed memfd, mount sources", with(pool(Starter::PoolSealed), no_one_clone), T::ThreeStages,
       G::SelfProtect, E::PoolTemplate, kMountSources},
      {"P4 pool on a view: never direct", pool(Starter::PoolView), T::OneClone, G::SelfProtect, E::PoolTemplate,
       "the pool's template runs from a read-only view or the path"},
      {"P5 pool on a view, mount sources", with(pool(Starter::PoolView), no_one_clone), T::ThreeStages, G::SelfProtect,
       E::PoolTemplate, kMountSources},
      {"L1 unwritable, forked: direct", unwritable(true), T::Direct, G::Unwritable, E::Forked, ""},
      {"L2 unwritable, forked, a parent-death signal", with(unwritable(true), death_signal), T::OneClone, G::Unwritable,
       E::Forked, kDeath},
      {"L2 unwritable, forked, a join", with(unwritable(true), joins), T::OneClone, G::Unwritable, E::Forked, kJoins},
      {"L3 unwritable, forked, mount sources", with(unwritable(true), no_one_clone), T::ThreeStages, G::Unwritable,
       E::Forked, kMountSources},
      // Merged with L9/L10: the init exec'd by path finds the binary
      // unwritable itself; no claim is sent, so three stages is runc's wire.
      {"L4 unwritable, exec'd by path: no claim, the init checks", unwritable(false), T::OneClone, G::SelfProtect,
       E::Path, kExecd},
      {"L5 unwritable, exec'd by path, one clone not asked for: runc's plan", with(unwritable(false), not_asked),
       T::ThreeStages, G::SelfProtect, E::Path, kNotAsked},
      {"L6 unreachable: a non-dumpable fork of root's, direct", unreachable(true), T::Direct, G::Unreachable, E::Forked,
       ""},
      {"L7 unreachable, a parent-death signal", with(unreachable(true), death_signal), T::OneClone, G::Unreachable,
       E::Forked, kDeath},
      {"L8 unreachable, one clone not asked for", with(unreachable(true), not_asked), T::ThreeStages, G::Unreachable,
       E::Forked, kNotAsked},
      {"unreachable needs root: else exec'd from the sealed memfd", unreachable(false), T::OneClone, G::SelfProtect,
       E::SealedMemfd, kExecd},
      {"unreachable needs the shared filesystem",
       with(unreachable(true), [](StartFacts& f) { f.containers_share_our_filesystem = false; }), T::OneClone,
       G::SelfProtect, E::SealedMemfd, kExecd},
      {"L9 exec_from_sealed_memfd off: by path, the init protects itself",
       with(spawn(), [](StartFacts& f) { f.exec_from_sealed_memfd = false; }), T::OneClone, G::SelfProtect, E::Path,
       kExecd},
      {"L10 the same, mount sources",
       with(spawn(), [](StartFacts& f) { f.exec_from_sealed_memfd = false, no_one_clone(f); }), T::ThreeStages,
       G::SelfProtect, E::Path, kMountSources},
      {"L11 a fork moves onto the read-only mount", read_only_mount(true, true), T::OneClone, G::MoveOntoView,
       E::ForkedOntoReadOnlyMount, "the fork must move onto its view first"},
      {"L12 the same, mount sources", with(read_only_mount(true, true), no_one_clone), T::ThreeStages, G::MoveOntoView,
       E::ForkedOntoReadOnlyMount, kMountSources},
      {"L11 refused: the kernel refuses the move, exec'd from the mount", read_only_mount(true, false), T::OneClone,
       G::SelfProtect, E::ReadOnlyMount, kExecd},
      {"L11 refused: protect_forks_in_place off",
       with(read_only_mount(true, true), [](StartFacts& f) { f.protect_forks_in_place = false; }), T::OneClone,
       G::SelfProtect, E::ReadOnlyMount, kExecd},
      {"L13 exec'd from the read-only mount", read_only_mount(false, false), T::OneClone, G::SelfProtect,
       E::ReadOnlyMount, kExecd},
      {"L13 the same where the kernel would allow the move: no fork (a second thread), no move",
       read_only_mount(false, true), T::OneClone, G::SelfProtect, E::ReadOnlyMount, kExecd},
      {"L14 the same, one clone not asked for", with(read_only_mount(false, false), not_asked), T::ThreeStages,
       G::SelfProtect, E::ReadOnlyMount, kNotAsked},
      {"L15 exec'd from the sealed memfd (the default)", spawn(), T::OneClone, G::SelfProtect, E::SealedMemfd, kExecd},
      {"L16 the same, mount sources", with(spawn(), no_one_clone), T::ThreeStages, G::SelfProtect, E::SealedMemfd,
       kMountSources},
      {"the container's reason first: a join, exec'd from the sealed memfd", with(spawn(), joins), T::OneClone,
       G::SelfProtect, E::SealedMemfd, kJoins},
      {"the container's reason first: a join, a fork onto the mount", with(read_only_mount(true, true), joins),
       T::OneClone, G::MoveOntoView, E::ForkedOntoReadOnlyMount, kJoins},
      {"the container's reason first: a join and a parent-death signal, unwritable and forked",
       with(with(unwritable(true), joins), death_signal), T::OneClone, G::Unwritable, E::Forked, kJoins},
      {"a fork that must protect itself is exec'd: the container could write the binary",
       with(spawn(), [](StartFacts& f) { f.forks = true, f.skip_protection_when_unwritable = true; }), T::OneClone,
       G::SelfProtect, E::SealedMemfd, kExecd},
  };
}

}  // namespace

TEST_CASE("choose_start: one plan per leaf of the runtime's tree") {
  for (const Leaf& leaf : leaves()) {
    CAPTURE(leaf.what);
    const StartChoice c = choose_start(leaf.facts);
    CHECK(c.plan.topology == leaf.topology);
    CHECK(c.plan.guard == leaf.guard);
    CHECK(c.image == leaf.image);
    CHECK(c.plan.view_fd == -1);  // the Launcher numbers the view once it lays out the fds
    if (leaf.why_topology.empty())
      CHECK(c.why_topology.empty());
    else
      CHECK(c.why_topology.find(leaf.why_topology) != std::string_view::npos);
    CHECK(!c.why_guard.empty());
    // The record names the plan, the image and both reasons.
    const std::string record(describe_start(c).view());
    CHECK(record.starts_with(std::string("start: ") + std::string(format_start(c.plan).view()) + ", from " +
                             std::string(to_string(c.image))));
    CHECK(record.find(c.why_guard) != std::string::npos);
    if (!c.why_topology.empty()) CHECK(record.find(c.why_topology) != std::string::npos);
  }
}

TEST_CASE("choose_start reads the protected view only where needs_protected_view says it does") {
  for (const Leaf& leaf : leaves()) {
    CAPTURE(leaf.what);
    const StartChoice c = choose_start(leaf.facts);
    const bool needs = needs_protected_view(leaf.facts);
    CHECK(needs == (c.image == ExecFrom::SealedMemfd || c.image == ExecFrom::ReadOnlyMount ||
                    c.image == ExecFrom::ForkedOntoReadOnlyMount));
    if (needs) continue;
    for (const ExecFrom view : {ExecFrom::SealedMemfd, ExecFrom::ReadOnlyMount})
      for (const bool move : {false, true}) {
        StartFacts other = leaf.facts;
        other.protected_view = view;
        other.may_move_in_place = move;
        const StartChoice d = choose_start(other);
        CHECK(d.plan == c.plan);
        CHECK(d.image == c.image);
      }
  }
}

TEST_CASE("choose_start: an init exec'd by path claims nothing, so three stages by path is runc's wire") {
  // The init finds an unwritable binary itself; only a fork is sent the
  // claim, which lets it start direct.
  CHECK(choose_start(with(unwritable(false), not_asked)).plan.is_runcs());
  CHECK(choose_start(with(unwritable(false), no_one_clone)).plan.is_runcs());
  CHECK(choose_start(with(unwritable(true), not_asked)).plan.guard == BinaryGuard::Unwritable);
}

TEST_CASE("choose_start is a constant expression: the tree has no hidden input") {
  constexpr StartChoice c = choose_start(pool(Starter::PoolSealed));
  static_assert(c.plan.topology == Topology::Direct && c.image == ExecFrom::PoolTemplate);
  CHECK(c.why_topology.empty());
}

// ---- _NSENTER_START ------------------------------------------------------------

TEST_CASE("_NSENTER_START: every plan the runtime may send survives format and parse") {
  for (const Topology t : {Topology::ThreeStages, Topology::OneClone, Topology::Direct})
    for (const BinaryGuard g : {BinaryGuard::SelfProtect, BinaryGuard::Unwritable, BinaryGuard::Unreachable,
                                BinaryGuard::MoveOntoView})
      for (const int fd : {0, 7, 2147483647}) {
        if (t == Topology::Direct && g == BinaryGuard::MoveOntoView) continue;  // refused, below
        if (g != BinaryGuard::MoveOntoView && fd != 0) continue;
        const StartPlan plan{.topology = t, .guard = g, .view_fd = g == BinaryGuard::MoveOntoView ? fd : -1};
        const std::string text(format_start(plan).view());
        CAPTURE(text);
        const auto parsed = parse_start("_NSENTER_START", text.c_str());
        REQUIRE(parsed);
        CHECK(*parsed == plan);
      }
  CHECK(format_start(StartPlan{}).view() == "three-stages");
  CHECK(format_start(StartPlan{.topology = Topology::Direct, .guard = BinaryGuard::Unreachable}).view() ==
        "direct:unreachable");
  CHECK(format_start(StartPlan{.topology = Topology::OneClone, .guard = BinaryGuard::MoveOntoView, .view_fd = 9})
            .view() == "one-clone:view=9");
}

TEST_CASE("_NSENTER_START: unset, empty and an explicit self are runc's plan") {
  for (const char* value : {static_cast<const char*>(nullptr), "", "three-stages", "three-stages:self"}) {
    CAPTURE((value ? value : "(unset)"));
    const auto parsed = parse_start("_NSENTER_START", value);
    REQUIRE(parsed);
    CHECK(parsed->is_runcs());
  }
}

TEST_CASE("_NSENTER_START: a malformed value or a refused combination is an error naming the value") {
  struct Bad {
    const char* value;
    const char* why;
  };
  for (const Bad& b : {Bad{"three", "not a topology"}, Bad{"Three-stages", "not a topology"},
                       Bad{"three-stages ", "not a topology"}, Bad{":unwritable", "not a topology"},
                       Bad{"one-clone:", "not a guard"}, Bad{"one-clone:view", "not a guard"},
                       Bad{"one-clone:unwritable,unreachable", "not a guard"},
                       Bad{"direct:unwritable:unreachable", "not a guard"}, Bad{"one-clone:view=", "view=FD"},
                       Bad{"one-clone:view=+3", "view=FD"}, Bad{"one-clone:view=-3", "view=FD"},
                       Bad{"one-clone:view=99999999999", "view=FD"}, Bad{"one-clone:view=3 ", "view=FD"},
                       Bad{"direct:view=3", "a direct start cannot move onto a view"}}) {
    CAPTURE(b.value);
    const auto parsed = parse_start("_NSENTER_START", b.value);
    REQUIRE(!parsed);
    CHECK(parsed.error().op == Op::ReadEnv);
    CHECK(parsed.error().code == Code::BadEnv);
    const std::string detail(parsed.error().detail_view());
    CHECK(detail.starts_with(std::string("_NSENTER_START=") + b.value + ": "));
    CHECK(detail.find(b.why) != std::string::npos);
  }
}

// ---- accept_start: the init's side ---------------------------------------------

TEST_CASE("accept_start: the container's rows, as the init decides them") {
  for (const Row& row : rows()) {
    CAPTURE(row.what);
    for (const BinaryGuard g : {BinaryGuard::SelfProtect, BinaryGuard::Unwritable}) {
      std::string_view why = "stale";
      // Direct: taken where allowed, else refused naming the plan and why.
      auto direct = accept_start(StartPlan{.topology = Topology::Direct, .guard = g}, row.config, true,
                                 "_NSENTER_START", why);
      if (row.direct.empty()) {
        REQUIRE(direct);
        CHECK(direct->topology == Topology::Direct);
        CHECK(why.empty());
      } else {
        REQUIRE(!direct);
        CHECK(direct.error().op == Op::PlanBootstrap);
        const std::string detail(direct.error().detail_view());
        CHECK(detail == "_NSENTER_START=" + std::string(format_start({Topology::Direct, g}).view()) + ", but " +
                            std::string(row.direct));
      }
      // One clone: taken where allowed, else three stages with the reason,
      // the guard kept.
      auto one = accept_start(StartPlan{.topology = Topology::OneClone, .guard = g}, row.config, true,
                              "_NSENTER_START", why);
      REQUIRE(one);
      CHECK(one->guard == g);
      CHECK(one->topology == (row.one_clone.empty() ? Topology::OneClone : Topology::ThreeStages));
      CHECK(why == row.one_clone);
      // A clone policy without spawn_into runs three stages, and says so.
      auto policy = accept_start(StartPlan{.topology = Topology::OneClone, .guard = g}, row.config, false,
                                 "_NSENTER_START", why);
      REQUIRE(policy);
      CHECK(policy->topology == Topology::ThreeStages);
      CHECK(why == (row.one_clone.empty() ? std::string_view("the clone policy cannot (no spawn_into)") : row.one_clone));
      // Three stages: always taken.
      auto three = accept_start(StartPlan{.guard = g}, row.config, true, "_NSENTER_START", why);
      REQUIRE(three);
      CHECK(three->topology == Topology::ThreeStages);
      CHECK(why.empty());
    }
  }
}
