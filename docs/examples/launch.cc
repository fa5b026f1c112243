// SPDX-License-Identifier: Apache-2.0
// A container runtime in one file: the program launches itself as the init
// of new namespaces, the init says hello over the init pipe, the runtime
// prints it and reaps the init. Works as root and as any user (the user
// namespace maps the caller to root).
//
//   bazel run //docs/examples:launch
#include <unistd.h>

#include <cstdio>
#include <string>

#include "nsenter/embed.hpp"
#include "nsenter/launcher.hpp"

namespace {

// The container's first process. It runs in the child's constructor, after
// the pipeline has put it in the new namespaces: pid 1, root of its user
// namespace, with a private hostname.
[[noreturn]] void container_main(nsenter::InitContext& ctx, int, char**) {
  ::sethostname("example", 7);
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  ::dprintf(ctx.init_pipe, "hello from pid %d, uid %d, host %s\n", ::getpid(), ::getuid(), host);
  ::_exit(0);
}

}  // namespace

NSENTER_INIT_CONSTRUCTOR(example_init, 200, nsenter::RuncCompatNsexec, container_main)

int main() {
  using nsenter::NsKind;
  nsenter::Bootstrap config;
  config.clone_flags = nsenter::NsSet{NsKind::user, NsKind::pid, NsKind::uts, NsKind::ipc, NsKind::mnt};
  config.uid_map = {{0, ::geteuid(), 1}};
  config.gid_map = {{0, ::getegid(), 1}};
  config.rootless_euid = ::geteuid() != 0;

  nsenter::Launcher launcher;  // the init is this program, exec'd from a sealed memfd
  auto init = launcher.launch(config);
  if (!init) {
    std::fprintf(stderr, "launch failed: %s\n", nsenter::to_string(init.error()).c_str());
    return 1;
  }
  std::string said;
  char buf[256];
  for (ssize_t n; (n = ::read(init->init_pipe(), buf, sizeof buf)) > 0;) said.append(buf, static_cast<std::size_t>(n));
  auto status = init->wait();
  std::printf("init %d said: %sand %s\n", init->pid(), said.c_str(),
              status ? nsenter::to_string(*status).c_str() : nsenter::to_string(status.error()).c_str());
  return status && status->success() ? 0 : 1;
}
