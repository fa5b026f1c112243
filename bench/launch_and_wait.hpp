// SPDX-License-Identifier: Apache-2.0
// What the whole-start benchmarks share: the container they start most
// (user+pid+mnt+uts+ipc, 65536 ids mapped from 100000, as root runtimes
// map them) and one start through a Launcher, ending in the exec of
// /bin/true and waited for (through a Launcher or an InitPool).
#pragma once

#include <cstdio>

#include "nsenter/launcher.hpp"

namespace bench {

inline nsenter::Bootstrap userns_config() {
  using nsenter::NsKind;
  nsenter::Bootstrap b;
  b.clone_flags = nsenter::NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc};
  b.uid_map = {{0, 100000, 65536}};
  b.gid_map = {{0, 100000, 65536}};
  b.setgroups = true;
  return b;
}

// `argv0 -- /bin/true` started by `launcher` (a Launcher or an InitPool)
// and waited for; false (with the reason on stderr) if the launch or the
// command failed. `one_clone`: LaunchOptions::one_clone.
template <class Starter>
bool launch_and_wait(Starter& launcher, const nsenter::Bootstrap& b, const char* argv0, bool one_clone = true) {
  nsenter::LaunchOptions opt;
  opt.one_clone = one_clone;
  opt.argv = {argv0, "--", "/bin/true"};
  opt.stdio = {-1, -1, 2};
  auto init = launcher.launch(b, opt);
  if (!init) {
    std::fprintf(stderr, "launch: %s\n", nsenter::to_string(init.error()).c_str());
    return false;
  }
  auto status = init->wait();
  if (!status || !status->success()) {
    std::fprintf(stderr, "the command %s\n", status ? nsenter::to_string(*status).c_str() : "could not be waited for");
    return false;
  }
  return true;
}

}  // namespace bench
