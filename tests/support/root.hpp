// SPDX-License-Identifier: Apache-2.0
// The root integration tests' guard: without root they fail, loudly, and
// never skip (doctest and Bazel show a skipped test as passed).
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

namespace nsenter::test {

inline void require_root() {
  REQUIRE_MESSAGE(::geteuid() == 0,
                  "this test needs root (CAP_SYS_ADMIN: namespaces, mounts, cgroups, other users' ids); run it as root");
}

}  // namespace nsenter::test
