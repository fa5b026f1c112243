// SPDX-License-Identifier: Apache-2.0
// The policy concepts accept every shipped policy, reject policies that
// could throw or return the wrong type in a child stage, and are never
// narrower than what the pipeline uses: a pipeline of minimal archetypes,
// one per concept with nothing beyond its requirements, compiles and runs.
#include "nsenter/nsexec.hpp"

#include <doctest/doctest.h>

namespace ns = nsenter;

static_assert(ns::BootstrapReader<ns::InitPipeReader<>>);
static_assert(ns::BootstrapReader<ns::InMemoryReader>);
static_assert(ns::LogSink<ns::RuncLogger>);
static_assert(ns::LogSink<ns::SilentLogger>);
static_assert(ns::NamespaceJoiner<ns::SetnsJoiner>);
static_assert(ns::IdMapWriter<ns::ProcIdMapWriter>);
static_assert(ns::IdMapWriter<ns::HelperIdMapWriter>);
static_assert(ns::IdMapWriter<ns::RuncIdMapWriter>);
static_assert(ns::CloneStrategy<ns::CloneParent>);
static_assert(ns::SelfProtection<ns::NoSelfProtection, ns::RuncLogger>);
static_assert(ns::SelfProtection<ns::RequireSealedExe, ns::RuncLogger>);
static_assert(ns::SelfProtection<ns::RuncSelfProtection<>, ns::RuncLogger>);
static_assert(ns::SelfProtection<ns::RuncSelfProtection<>, ns::SilentLogger>);
static_assert(ns::Sys<ns::LinuxSys>);
static_assert(ns::StageNames<ns::RuncStageNames>);

namespace {
struct ThrowingJoiner {  // join() may throw: not allowed in stage 1
  ns::Result<void> join(std::span<const ns::NsTarget>) const { return {}; }
};
struct BoolJoiner {  // errors without errno or stage: not allowed
  bool join(std::span<const ns::NsTarget>) const noexcept { return true; }
};
struct IntClone {
  int spawn(ns::Stage) const noexcept { return 0; }
};
struct ThrowingReader {
  bool is_init() const noexcept { return true; }
  ns::Result<void> read_env(ns::BootstrapSource&) const noexcept { return {}; }
  ns::Result<void> read(ns::BootstrapSource&) const { return {}; }
};
}  // namespace

static_assert(!ns::NamespaceJoiner<ThrowingJoiner>);
static_assert(!ns::NamespaceJoiner<BoolJoiner>);
static_assert(!ns::CloneStrategy<IntClone>);
static_assert(!ns::BootstrapReader<ThrowingReader>);

// Protection has one member, required: a policy that misspells it, or
// still has only the old before-the-handshake ensure(), is refused at
// compile time (Nsexec's static_assert names what is missing) instead of
// silently protecting nothing.
namespace {
struct MisspeltProtection {
  ns::Result<void> ensure_knowning(const ns::RuncLogger&, const ns::StartPlan&, const ns::BootstrapView&,
                                   std::span<const std::uint8_t>) const noexcept {
    return {};
  }
};
struct OldProtection {
  ns::Result<void> ensure(const ns::RuncLogger&) const noexcept { return {}; }
};
struct PlanlessProtection {  // the signature before start plans: no StartPlan
  ns::Result<void> ensure_knowing(const ns::RuncLogger&, const ns::BootstrapView&,
                                  std::span<const std::uint8_t>) const noexcept {
    return {};
  }
};
}  // namespace
static_assert(!ns::SelfProtection<MisspeltProtection, ns::RuncLogger>);

// The optional members: absent is fine, present with the wrong signature
// is refused.
namespace {
struct IntEnabledLogger : ns::RuncLogger {
  int enabled(ns::LogLevel) const noexcept { return 1; }
};
struct ThrowingEnabledLogger : ns::RuncLogger {
  bool enabled(ns::LogLevel) const { return true; }
};
struct ClockByValueLogger : ns::RuncLogger {
  void set_clock(ns::StartClock) noexcept {}
};
struct ThrowingSpawnInto : ns::CloneParent {
  ns::Result<pid_t> spawn_into(ns::Stage, ns::NsSet) const { return pid_t{0}; }
};
struct NoSpawnInto {
  ns::Result<pid_t> spawn(ns::Stage) const noexcept { return pid_t{0}; }
};
}  // namespace
static_assert(ns::OptionalMembersFit<ns::RuncLogger, ns::CloneParent>);
static_assert(ns::OptionalMembersFit<ns::SilentLogger, NoSpawnInto>);
static_assert(!ns::OptionalMembersFit<IntEnabledLogger, ns::CloneParent>);
static_assert(!ns::OptionalMembersFit<ThrowingEnabledLogger, ns::CloneParent>);
static_assert(!ns::OptionalMembersFit<ClockByValueLogger, ns::CloneParent>);
static_assert(!ns::OptionalMembersFit<ns::RuncLogger, ThrowingSpawnInto>);
static_assert(!ns::SelfProtection<OldProtection, ns::RuncLogger>);
static_assert(!ns::SelfProtection<PlanlessProtection, ns::RuncLogger>);

namespace {
// A reader written by an embedder: decides by itself that this process is
// no init, and counts how often it was asked.
struct NotAnInitReader {
  int* calls;
  bool is_init() const noexcept {
    ++*calls;
    return false;
  }
  ns::Result<void> read_env(ns::BootstrapSource&) const noexcept { return {}; }
  ns::Result<void> read(ns::BootstrapSource&) const noexcept { return {}; }
};

// One swap, named: the rest stays runc's.
struct QuietPolicies : ns::RuncPolicies {
  using Reader = NotAnInitReader;
  using Protection = ns::NoSelfProtection;
  using Logger = ns::SilentLogger;
};

// ---- archetypes: exactly what each concept requires, nothing more ------------
struct ArchReader {
  bool is_init() const noexcept { return false; }
  ns::Result<void> read_env(ns::BootstrapSource&) const noexcept { return {}; }
  ns::Result<void> read(ns::BootstrapSource&) const noexcept { return {}; }
};
struct ArchLogger {  // no enabled(), no set_clock(), no debug()
  void configure(int, ns::LogLevel) noexcept {}
  void log(ns::LogLevel, ns::Stage, std::string_view) const noexcept {}
  void fatal(const ns::Error&) const noexcept {}
};
struct ArchProtection {
  ns::Result<void> ensure_knowing(const ArchLogger&, const ns::StartPlan&, const ns::BootstrapView&,
                                  std::span<const std::uint8_t>) const noexcept {
    return {};
  }
};
struct ArchJoiner {
  ns::Result<void> join(std::span<const ns::NsTarget>) const noexcept { return {}; }
};
struct ArchMapWriter {
  ns::Result<void> write(const ns::IdMapRequest&) const noexcept { return {}; }
};
struct ArchClone {
  ns::Result<pid_t> spawn(ns::Stage) const noexcept { return pid_t{-1}; }
};
struct ArchSys {
  int unshare(int) const noexcept { return 0; }
  int set_dumpable(bool) const noexcept { return 0; }
  int set_name(const char*) const noexcept { return 0; }
  int setresuid_to(uid_t) const noexcept { return 0; }
  int setsid() const noexcept { return 0; }
  int setuid_to(uid_t) const noexcept { return 0; }
  int setgid_to(gid_t) const noexcept { return 0; }
  int clear_groups() const noexcept { return 0; }
  int socketpair(int[2]) const noexcept { return 0; }
  int kill(pid_t) const noexcept { return 0; }
  int set_parent_death_signal(int) const noexcept { return 0; }
  pid_t parent_pid() const noexcept { return 0; }
  int write_file(const char*, std::string_view) const noexcept { return 0; }
  int read(int, void*, std::size_t, std::size_t&) const noexcept { return 0; }
  int write_all(int, const void*, std::size_t) const noexcept { return 0; }
  int open(const char*, int, ns::UniqueFd&) const noexcept { return 0; }
  int setns(int, int) const noexcept { return 0; }
  int send_fd(int, int) const noexcept { return 0; }
  int receive_fd(int, ns::UniqueFd&) const noexcept { return 0; }
  int dup_onto(int, int) const noexcept { return 0; }
};
struct ArchNames {
  static constexpr const char* parent = "p";
  static constexpr const char* child = "c";
  static constexpr const char* init = "i";
};
struct ArchetypePolicies {
  using Env = ns::RuncEnv;
  using Reader = ArchReader;
  using Protection = ArchProtection;
  using Logger = ArchLogger;
  using Joiner = ArchJoiner;
  using MapWriter = ArchMapWriter;
  using Clone = ArchClone;
  using Sys = ArchSys;
  using Names = ArchNames;
  static constexpr ns::wire::Profile profile = ns::wire::Profile::Runc11;
};
// The shipped protection logs through nothing but the concept's log().
struct ArchetypesProtectedPolicies : ArchetypePolicies {
  using Protection = ns::RuncSelfProtection<>;
};
}  // namespace

TEST_CASE("a pipeline with one policy swapped by name asks its reader once and returns") {
  static_assert(ns::BootstrapReader<NotAnInitReader>);
  int calls = 0;
  ns::Nsexec<QuietPolicies> pipeline(NotAnInitReader{&calls});
  CHECK_FALSE(pipeline.run().has_value());
  CHECK(calls == 1);
}

TEST_CASE("a pipeline of minimal archetypes compiles, every stage instantiated, and runs") {
  // run() instantiates every stage's code: a use beyond a concept fails here.
  ns::Nsexec<ArchetypePolicies> pipeline;
  CHECK_FALSE(pipeline.run().has_value());  // ArchReader: not an init
  ns::Nsexec<ArchetypesProtectedPolicies> protected_pipeline;
  CHECK_FALSE(protected_pipeline.run().has_value());
}

TEST_CASE("PidfdJoiner uses one pidfd only when every path is /proc/PID/ns/<kind> of one PID") {
  using ns::NsKind;
  using ns::NsTarget;
  auto pid_of = [](std::initializer_list<NsTarget> t) {
    return ns::PidfdJoiner::common_pid(std::span<const NsTarget>(t.begin(), t.size()));
  };
  CHECK(pid_of({{NsKind::net, "/proc/42/ns/net"}, {NsKind::user, "/proc/42/ns/user"}}) == 42);
  CHECK_FALSE(pid_of({{NsKind::net, "/proc/42/ns/net"}, {NsKind::user, "/proc/43/ns/user"}}));
  CHECK_FALSE(pid_of({{NsKind::net, "/proc/42/ns/uts"}}));  // kind and file disagree
  CHECK_FALSE(pid_of({{NsKind::net, "/run/netns/a"}}));
  CHECK_FALSE(pid_of({{NsKind::time, "/proc/42/ns/time_for_children"}}));
  CHECK_FALSE(pid_of({{NsKind::net, "/proc/self/ns/net"}}));
  CHECK_FALSE(pid_of({{NsKind::net, "/proc/0/ns/net"}}));
  static_assert(ns::NamespaceJoiner<ns::PidfdJoiner>);
}
