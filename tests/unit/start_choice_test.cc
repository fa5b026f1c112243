// SPDX-License-Identifier: Apache-2.0
// The two pure functions that decide how far a start may shorten runc's
// three stages: why_not_one_clone (no stage 1) and why_not_direct (no stage
// 0 either: the runtime clones the init into its namespaces). One row per
// leaf, unprivileged; each row asked of a Bootstrap (as the Launcher asks)
// and of the BootstrapView the init decodes from the same bytes (as the init
// asks), which must agree.
#include "nsenter/one_clone.hpp"

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
