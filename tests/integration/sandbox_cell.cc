// SPDX-License-Identifier: Apache-2.0
// One cell of the sandbox matrix (sandbox_matrix_test.cc) on the library's
// parent side: this program launches itself as an init, through the
// Launcher or an InitPool, usually under refuse_calls' seccomp filter, and
// prints one line saying what happened:
//
//   sandbox_cell launcher|pool [user]
//
//   ok from=<where the init was started from> exe=<what /proc/self/exe of the
//      init was when it became the container's: sealed-memfd, read-only,
//      or writable>
//   error: <the launch's error, as to_string gives it>
//
// With "user" the container has a user namespace of its own (the caller
// mapped to root, as a rootless runtime does); without, it shares ours
// (root only), so that its init must be protected.
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "nsenter/embed.hpp"
#include "nsenter/init_pool.hpp"
#include "nsenter/launcher.hpp"

namespace {

// How the file /proc/self/exe names is kept from being written.
const char* exe_kind() {
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "unknown";
  const int seals = ::fcntl(fd, F_GET_SEALS);
  struct statfs fs {};
  const bool read_only = ::fstatfs(fd, &fs) == 0 && (fs.f_flags & ST_RDONLY) != 0;
  ::close(fd);
  if (seals >= 0 && (seals & nsenter::kExeSeals) == nsenter::kExeSeals) return "sealed-memfd";
  return read_only ? "read-only" : "writable";
}

[[noreturn]] void container_main(nsenter::InitContext& ctx, int, char**) {
  ::dprintf(ctx.init_pipe, "exe=%s", exe_kind());
  ::_exit(0);
}

}  // namespace

NSENTER_INIT_CONSTRUCTOR(sandbox_cell_init, 200, nsenter::RuncCompatNsexec, container_main)

int main(int argc, char** argv) {
  using nsenter::NsKind;
  const std::string_view how = argc > 1 ? argv[1] : "";
  const bool own_user = argc > 2 && std::string_view(argv[2]) == "user";
  if (how != "launcher" && how != "pool") {
    std::fprintf(stderr, "usage: sandbox_cell launcher|pool [user]\n");
    return 2;
  }
  nsenter::Bootstrap config;
  config.clone_flags = nsenter::NsSet{NsKind::pid, NsKind::uts, NsKind::ipc, NsKind::mnt};
  if (own_user) {
    config.clone_flags->insert(NsKind::user);
    config.uid_map = {{0, ::geteuid(), 1}};
    config.gid_map = {{0, ::getegid(), 1}};
    config.rootless_euid = ::geteuid() != 0;
  }
  auto run = [&](auto& launcher) {
    auto init = launcher.launch(config);
    if (!init) {
      std::printf("error: %s\n", nsenter::to_string(init.error()).c_str());
      return 1;
    }
    std::string said;
    char buf[256];
    for (ssize_t n; (n = ::read(init->init_pipe(), buf, sizeof buf)) > 0;) said.append(buf, static_cast<std::size_t>(n));
    auto status = init->wait();
    if (!status || !status->success()) {
      std::printf("error: the init %s\n", status ? nsenter::to_string(*status).c_str() : nsenter::to_string(status.error()).c_str());
      return 1;
    }
    std::printf("ok from=%s %s\n", std::string(nsenter::to_string(init->exec_from())).c_str(), said.c_str());
    return 0;
  };
  if (how == "pool") {
    nsenter::InitPool pool;
    return run(pool);
  }
  nsenter::Launcher launcher;
  return run(launcher);
}
