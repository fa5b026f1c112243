// SPDX-License-Identifier: Apache-2.0
// nsenter: the system calls the stages make directly, as a policy, so that
// tests can record them and fail any one of them without root
// (FaultySys in tests/support), or kill the stage at any one of them
// (tests/integration/fault_init.cc). Each returns 0 or the errno of the
// failure, read at the failing call and nowhere else. The joins and the map
// writes are policies of their own (Joiner, MapWriter).
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
#include <cstddef>
#include <cstring>
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

  // ---- the sync sockets, the init pipe and the mount sources ----------------
  // One read(2) of up to `size` bytes (EINTR retried): `got` = 0 is end of
  // file.
  int read(int fd, void* buf, std::size_t size, std::size_t& got) const noexcept {
    ssize_t n;
    do n = ::read(fd, buf, size);
    while (n < 0 && errno == EINTR);
    got = n > 0 ? static_cast<std::size_t>(n) : 0;
    return n < 0 ? errno : 0;
  }
  // All of `data`, never raising SIGPIPE (a peer that is gone is EPIPE).
  int write_all(int fd, const void* data, std::size_t size) const noexcept {
    return detail::write_all_no_sigpipe(fd, data, size);
  }
  // open(2), close-on-exec always; the fd in `out`.
  int open(const char* path, int flags, UniqueFd& out) const noexcept {
    out.reset(::open(path, flags | O_CLOEXEC));
    return out ? 0 : errno;
  }
  int setns(int fd, int nstype) const noexcept { return ret(::setns(fd, nstype)); }
  // `fd` over the unix socket `sock`: one data byte carrying SCM_RIGHTS.
  int send_fd(int sock, int fd) const noexcept {
    char byte = 0;
    detail::FdsMessage<1> m(&byte, 1);
    m.attach(&fd, 1);
    ssize_t n;
    do n = ::sendmsg(sock, &m.msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    return n == 1 ? 0 : EIO;
  }
  // What send_fd sent, close-on-exec, in `out`; 0 with `out` empty at end
  // of file (the peer is gone); EBADMSG for anything but one byte carrying
  // exactly one fd (an fd that came with a malformed message is closed).
  int receive_fd(int sock, UniqueFd& out) const noexcept {
    char byte = 0;
    detail::FdsMessage<1> m(&byte, 1);
    ssize_t n;
    do n = ::recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    if (n == 0) {
      out.reset();
      return 0;
    }
    const cmsghdr* cmsg = CMSG_FIRSTHDR(&m.msg);
    const bool one_fd = cmsg != nullptr && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
                        cmsg->cmsg_len == CMSG_LEN(sizeof(int));
    int fd = -1;
    if (one_fd) std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    UniqueFd received(fd);
    if (n != 1 || (m.msg.msg_flags & MSG_CTRUNC) != 0 || !one_fd) return EBADMSG;
    out = std::move(received);
    return 0;
  }
  // dup3(fd, target, O_CLOEXEC).
  int dup_onto(int fd, int target) const noexcept { return ret(::dup3(fd, target, O_CLOEXEC)); }
};

// The one LinuxSys that helpers outside the pipeline use by default.
inline constexpr LinuxSys kLinuxSys{};


NSENTER_END_NAMESPACE
