// nsenter: the system calls the stages make directly, as a policy, so that
// tests can record them and fail any one of them without root
// (FaultySys in tests/support). Each returns 0 or the errno of the failure,
// read at the failing call and nowhere else.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <concepts>
#include <string_view>

#include "nsenter/fd.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

struct LinuxSys {
  static int ret(int r) noexcept { return r < 0 ? errno : 0; }

  int unshare(int flags) const noexcept { return ret(::unshare(flags)); }
  int set_dumpable(bool on) const noexcept { return ret(::prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0)); }
  int set_name(const char* name) const noexcept { return ret(::prctl(PR_SET_NAME, name, 0, 0, 0)); }
  int setresuid_to(uid_t id) const noexcept { return ret(::setresuid(id, id, id)); }
  int setsid() const noexcept { return ret(::setsid()); }
  int setuid_to(uid_t id) const noexcept { return ret(::setuid(id)); }
  int setgid_to(gid_t id) const noexcept { return ret(::setgid(id)); }
  int clear_groups() const noexcept { return ret(::setgroups(0, nullptr)); }
  int socketpair(int fds[2]) const noexcept {
    return ret(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  }
  int kill(pid_t pid) const noexcept { return ret(::kill(pid, SIGKILL)); }
  int set_parent_death_signal(int sig) const noexcept { return ret(::prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)); }
  pid_t parent_pid() const noexcept { return ::getppid(); }

  // One open and one write(2) of all of `text`: /proc files such as
  // uid_map, setgroups, timens_offsets and oom_score_adj take a value
  // only in a single write.
  int write_file(const char* path, std::string_view text) const noexcept {
    UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
    if (!fd) return errno;
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0) return errno;
    return static_cast<std::size_t>(n) == text.size() ? 0 : EIO;
  }
};


NSENTER_END_NAMESPACE
