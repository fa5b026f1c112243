// The policy concepts accept every shipped policy and reject policies that
// could throw or return the wrong type in a child stage.
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
static_assert(ns::SelfProtection<ns::NoSelfProtection>);
static_assert(ns::SelfProtection<ns::RequireSealedExe>);
static_assert(ns::SelfProtection<ns::RuncSelfProtection<>>);

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
}  // namespace

TEST_CASE("a pipeline composed of custom policies asks its reader once and returns") {
  static_assert(ns::BootstrapReader<NotAnInitReader>);
  int calls = 0;
  ns::Nsexec<NotAnInitReader, ns::NoSelfProtection, ns::SilentLogger, ns::SetnsJoiner, ns::ProcIdMapWriter> pipeline(
      NotAnInitReader{&calls});
  CHECK_FALSE(pipeline.run().has_value());
  CHECK(calls == 1);
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
