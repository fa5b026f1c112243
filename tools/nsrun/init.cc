// nsrun as an init: started with _LIBCONTAINER_INITPIPE set (by runc's
// parent side, by the Launcher in this same binary, or by a test driver),
// its constructor runs the pipeline before main(). Stage 2 then finishes
// the few things only the container's first process can do and executes
// the command after "--" (or $SHELL, or /bin/sh).
//
// Between argv[0] and "--", the parent may pass init flags of its own:
//   --private-mounts  make / private (recursively), so that mounts made in
//                  the new mount namespace do not propagate back to the
//                  host's: what `unshare -m` does by default
//   --mount-proc   and mount a fresh /proc for the new pid namespace, as
//                  `unshare --mount-proc`
//   --tty          fd 0 is a pseudo-terminal made for this init: make it
//                  the controlling terminal (stage 2 leads a new session)
//
// The protocol profile is runc 1.1's unless _NSRUN_PROFILE=runc-1.2 (the
// launcher in nsrun sets it to send time-namespace offsets).
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "nsenter/embed.hpp"
#include "nsenter/env.hpp"
#include "nsenter/log.hpp"
#include "nsenter/nsexec.hpp"

namespace {

constexpr const char* kProfileEnv = "_NSRUN_PROFILE";

[[noreturn]] void die(nsenter::InitContext& ctx, nsenter::Op op, int err, const char* what, int status) {
  const nsenter::Error e = nsenter::in_stage(nsenter::make_sys_error(op, err, what), nsenter::Stage::Init);
  nsenter::RuncLogger(ctx.log_pipe, nsenter::LogLevel::Fatal).fatal(e);
  ::_exit(status);
}

// Stage 2: hand the process over to the command. The init and log pipes
// become close-on-exec rather than closed, so that an exec failure can
// still be reported on the log pipe; the protocol's variables are removed
// so the command (another nsrun, say) is not an init again.
[[noreturn]] void exec_command(nsenter::InitContext& ctx, int argc, char** argv) {
  char** command = nullptr;
  bool private_mounts = false, mount_proc = false, tty = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      command = argv + i + 1;
      break;
    }
    if (arg == "--private-mounts") private_mounts = true;
    if (arg == "--mount-proc") mount_proc = private_mounts = true;
    if (arg == "--tty") tty = true;
  }
  const char* shell = std::getenv("SHELL");
  char* fallback[] = {const_cast<char*>(shell != nullptr && *shell != '\0' ? shell : "/bin/sh"), nullptr};
  if (command == nullptr || *command == nullptr) command = fallback;
  for (const char* name : nsenter::RuncEnv::all) ::unsetenv(name);
  ::unsetenv(kProfileEnv);
  ::fcntl(ctx.init_pipe, F_SETFD, FD_CLOEXEC);
  if (ctx.log_pipe >= 0) ::fcntl(ctx.log_pipe, F_SETFD, FD_CLOEXEC);
  if (tty && ::ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0)
    die(ctx, nsenter::Op::Exec, errno, "make fd 0 the controlling terminal (TIOCSCTTY)", 1);
  // Private first, so the new /proc does not propagate to the host's mount
  // namespace through a shared /.
  if (private_mounts && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    die(ctx, nsenter::Op::Exec, errno, "make / private (mount --make-rprivate /)", 1);
  if (mount_proc) {
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      die(ctx, nsenter::Op::Exec, errno, "mount proc on /proc", 1);
  }
  ::execvp(command[0], command);
  const int err = errno;
  die(ctx, nsenter::Op::Exec, err, command[0], err == ENOENT ? 127 : 126);
}

}  // namespace

// Not NSENTER_INIT_CONSTRUCTOR: the profile is chosen at run time, so two
// pipelines share one constructor. Both cost one getenv when not an init.
__attribute__((constructor(200))) static void nsrun_init(int argc, char** argv, char**) {
  const char* profile = std::getenv(kProfileEnv);
  if (profile != nullptr && std::strcmp(profile, "runc-1.2") == 0) {
    if (auto ctx = nsenter::Runc12Nsexec{}.run()) exec_command(*ctx, argc, argv);
  } else if (auto ctx = nsenter::RuncCompatNsexec{}.run()) {
    exec_command(*ctx, argc, argv);
  }
}
