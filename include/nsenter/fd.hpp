// SPDX-License-Identifier: Apache-2.0
// nsenter: UniqueFd, an owning file descriptor. Move-only; closing keeps
// errno and never retries close(2) (a retry could close a reused number).
#pragma once

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

#include <utility>
#include <vector>

#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  int release() noexcept { return std::exchange(fd_, -1); }

  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) {
      const int saved = errno;
      ::close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

namespace detail {

// A pidfd for `pid` (Linux 5.3), close-on-exec; -1 with errno on failure.
inline int pidfd_open(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Sends `sig` (0: only asks whether the process lives) to the process
// behind `pidfd` (Linux 5.1); -1 with errno (ESRCH once it is reaped).
inline int pidfd_send_signal(int pidfd, int sig) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// What st_mode says a file is, for errors about an fd or path of the
// wrong kind.
constexpr const char* file_type_name(mode_t mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
  }
  return "an unknown kind of file";
}

// Writes all of `data`, retrying short writes and EINTR, and never raises
// SIGPIPE: a reader that is gone (a runtime that died, a stage that was
// killed) is the returned EPIPE, not the death of the writer with no word
// said. Sockets get MSG_NOSIGNAL; anything else (runc's log pipe is a
// pipe) is written with SIGPIPE blocked for the call, and a SIGPIPE the
// write raised is taken back before the old mask returns. Returns 0 or the
// errno of the failed write (EIO for a write of 0 bytes).
inline int write_all_no_sigpipe(int fd, const void* data, std::size_t size) noexcept {
  const auto* p = static_cast<const char*>(data);
  bool socket = true;
  bool masked = false;
  sigset_t pipe_only, saved;
  int err = 0;
  while (size > 0) {
    ssize_t n;
    if (socket) {
      n = ::send(fd, p, size, MSG_NOSIGNAL);
      if (n < 0 && errno == ENOTSOCK) {
        socket = false;
        continue;
      }
    } else {
      if (!masked) {
        ::sigemptyset(&pipe_only);
        ::sigaddset(&pipe_only, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_only, &saved);
        masked = true;
      }
      n = ::write(fd, p, size);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  if (masked) {
    if (err == EPIPE) {
      const timespec now{};
      while (::sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  }
  return err;
}

// A message of `size` bytes at `data` with room for `N` SCM_RIGHTS fds.
// Not copyable: msg points into itself.
template <std::size_t N>
struct FdsMessage {
  iovec iov{};
  struct {
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int) * N)];
  } control{};
  msghdr msg{};

  FdsMessage(void* data, std::size_t size) noexcept {
    iov = {data, size};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
  }
  FdsMessage(const FdsMessage&) = delete;
  FdsMessage& operator=(const FdsMessage&) = delete;

  // Attaches `fds` (at most N) to the message.
  void attach(const int* fds, std::size_t n) noexcept {
    if (n == 0) {
      msg.msg_control = nullptr;
      msg.msg_controllen = 0;
      return;
    }
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  }

  // The fds that came with a received message, owned by `out`; false if
  // the ancillary data was cut (MSG_CTRUNC) or is not SCM_RIGHTS.
  bool take(std::vector<UniqueFd>& out) const noexcept {
    if ((msg.msg_flags & MSG_CTRUNC) != 0) return false;
    for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return false;
      const std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < n; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        out.emplace_back(fd);
      }
    }
    return true;
  }
};

}  // namespace detail

NSENTER_END_NAMESPACE
