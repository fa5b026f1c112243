// SPDX-License-Identifier: Apache-2.0
// nsenter: the template process of an InitPool (init_pool.hpp), and the
// requests it serves.
//
// The pool execs the init binary once, from the Launcher's sealed memfd,
// with _NSENTER_POOL_TEMPLATE=<fd of its control socket>. The binary's
// constructor (embed.hpp) then serves instead of running a pipeline: for
// each request it clones a process with CLONE_PARENT, so that the new
// process is the pool owner's child exactly as an init it spawned itself,
// and that process becomes what an exec'd init would be (the request's
// fds on their numbers and no other, default signals, an empty mask, the
// request's argv and environment) and runs the pipeline. The exec of the
// binary, the dearest step of a start, is paid once per pool.
//
// The template is single-threaded and holds no container state: between
// requests it owns its control socket, and its stderr (fd 2) to say why it
// stops; nothing else. A request is one header carrying the fds
// (SCM_RIGHTS), then its argv and environment strings; the reply is one
// record carrying the new process's pidfd.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/env.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/spawn.hpp"
#include "nsenter/sync.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail::pool {

inline constexpr const char* kTemplateEnv = NsenterEnv::pool_template;
// "nsp2": the header gained clone_flags; a template of an older build
// stops at the first request (a malformed one to it) rather than misread it.
inline constexpr std::uint32_t kRequestMagic = 0x6e737032;
// argv and environment together: what execve(2) takes on this machine is
// far less (ARG_MAX's 2 MiB), so a larger request is a broken one.
inline constexpr std::uint32_t kMaxStringBytes = 4u << 20;
// The request's own fds plus the cgroup directory.
inline constexpr std::size_t kMaxRequestFds = kMaxSpawnFds + 1;

struct RequestHeader {
  std::uint32_t magic = kRequestMagic;
  std::uint32_t argc = 0;
  std::uint32_t envc = 0;
  std::uint32_t string_bytes = 0;  // the argv, then the environment, each NUL-terminated
  std::uint32_t nfds = 0;          // entries of fd_slot in use
  std::int32_t report_index = -1;  // SpawnRequest::report_index
  std::int32_t cgroup_slot = -1;   // which received fd is the cgroup directory, or -1
  std::uint32_t clone_flags = 0;   // SpawnRequest::clone_flags: CLONE_NEW* the init is born with
  std::uint32_t new_process_group = 1;  // SpawnRequest::new_process_group
  std::int32_t fd_slot[kMaxSpawnFds];  // fd i of the init is received fd fd_slot[i], or closed (-1)
};

struct Reply {
  std::int32_t err = 0;  // 0, or the errno of the failed clone
  std::int32_t pid = -1;
  std::uint8_t in_cgroup = 0;
};

// The template stops: it says why on its stderr, where the pool's owner
// sees it, and exits; the owner notices by its pidfd and its socket.
[[noreturn]] inline void template_stops(std::string_view why, int code) noexcept {
  LineBuffer line;
  line.put("nsenter pool template: ");
  line.put(why);
  line.put("\n");
  (void)write_all_no_sigpipe(STDERR_FILENO, line.data, line.size);
  ::_exit(code);
}

// One request, received: the strings it names and its fds.
struct Request {
  RequestHeader header;
  std::vector<char> strings;
  std::vector<UniqueFd> fds;
  std::vector<char*> argv, envp;
  std::vector<int> layout;  // SpawnRequest::fds
};

// Receives the next request; false at EOF (the pool is closing). A request
// that breaks the format stops the template: the stream cannot be trusted
// past it.
inline bool receive_request(int control, Request& r) {
  FdsMessage<kMaxRequestFds> m(&r.header, sizeof r.header);
  ssize_t n;
  do n = ::recvmsg(control, &m.msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n == 0) return false;
  if (n < 0) template_stops("reading a request failed", 1);
  const bool fds_ok = m.take(r.fds);
  if (static_cast<std::size_t>(n) < sizeof r.header &&
      !read_exact_or_eof(control, reinterpret_cast<char*>(&r.header) + n, sizeof r.header - static_cast<std::size_t>(n),
                         Stage::Setup, Op::SyncRead))
    template_stops("a request was cut short", 1);
  const RequestHeader& h = r.header;
  constexpr std::uint32_t kNewNamespaces = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                           CLONE_NEWNET | CLONE_NEWCGROUP;
  if (!fds_ok || h.magic != kRequestMagic || h.nfds > kMaxSpawnFds || h.string_bytes > kMaxStringBytes ||
      h.argc == 0 || h.argc + h.envc > h.string_bytes || (h.clone_flags & ~kNewNamespaces) != 0)
    template_stops("a malformed request", 2);
  r.strings.resize(h.string_bytes);
  if (!read_exact_or_eof(control, r.strings.data(), r.strings.size(), Stage::Setup, Op::SyncRead))
    template_stops("a request was cut short", 1);
  if (h.string_bytes == 0 || r.strings.back() != '\0') template_stops("a malformed request", 2);
  // Exactly argc + envc strings, each NUL-terminated.
  std::size_t count = 0;
  for (std::size_t at = 0; at < r.strings.size();) {
    char* s = r.strings.data() + at;
    (count < h.argc ? r.argv : r.envp).push_back(s);
    ++count;
    at += std::strlen(s) + 1;
  }
  if (count != h.argc + h.envc) template_stops("a malformed request", 2);
  r.argv.push_back(nullptr);
  r.envp.push_back(nullptr);
  for (std::uint32_t i = 0; i < h.nfds; ++i) {
    const std::int32_t slot = h.fd_slot[i];
    if (slot >= static_cast<std::int32_t>(r.fds.size())) template_stops("a malformed request", 2);
    r.layout.push_back(slot < 0 ? -1 : r.fds[static_cast<std::size_t>(slot)].get());
  }
  if (h.cgroup_slot >= static_cast<std::int32_t>(r.fds.size()) || h.report_index >= static_cast<std::int32_t>(h.nfds))
    template_stops("a malformed request", 2);
  return true;
}

// Clones the init for `r`: the pool owner's child (CLONE_PARENT), with a
// pidfd, born in the request's cgroup where clone3 can place it. Returns
// like fork(2): 0 in the child. Where clone3 is refused (a kernel before
// 5.3, or a seccomp profile answering ENOSYS or EPERM: Docker's) clone(2)
// does the same but for the cgroup, which the owner then writes.
inline pid_t clone_init(const Request& r, int& pidfd, bool& in_cgroup) noexcept {
  clone_args args{};
  args.flags = CLONE_PARENT | CLONE_PIDFD | r.header.clone_flags;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  const int cgroup = r.header.cgroup_slot >= 0 ? r.fds[static_cast<std::size_t>(r.header.cgroup_slot)].get() : -1;
  in_cgroup = false;
  if (cgroup >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(cgroup);
    const long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
      in_cgroup = pid > 0;
      return static_cast<pid_t>(pid);
    }
    if (!clone3_unsupported(errno)) return -1;
    args.flags &= ~static_cast<std::uint64_t>(CLONE_INTO_CGROUP);  // the owner writes cgroup.procs instead
    args.cgroup = 0;
  }
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0 || !clone3_unsupported(errno)) return static_cast<pid_t>(pid);
  // clone(2)'s raw form: the pidfd lands where its parent_tid argument
  // points, the third on every architecture; no stack (a fork's copy).
  return static_cast<pid_t>(::syscall(SYS_clone, static_cast<unsigned long>(args.flags) | SIGCHLD, nullptr, &pidfd,
                                      nullptr, nullptr));
}

// Serves requests on `control` until the pool closes it. `entry` is what
// the binary runs as an init (embed.hpp); each clone calls it with the
// request's argv and environ, as the exec of an init would have begun.
[[noreturn]] inline void serve_as_template(int control, void (*entry)(int argc, char** argv)) {
  for (;;) {
    Request r;
    if (!receive_request(control, r)) ::_exit(0);
    int pidfd = -1;
    bool in_cgroup = false;
    pid_t pid;
    int clone_errno = 0;
    {
      // No handler may run in the clone before it resets them all.
      AllSignalsBlocked blocked;
      pid = clone_init(r, pidfd, in_cgroup);
      if (pid < 0) clone_errno = errno;
      if (pid == 0) {
        SpawnRequest req;
        req.path = "the pool's init";
        req.argv = r.argv.data();
        req.envp = r.envp.data();
        req.fds = r.layout;
        req.report_index = r.header.report_index;
        req.new_process_group = r.header.new_process_group != 0;
        req.entry = entry;
        run_entry_child(req);  // never returns
      }
    }
    Reply reply;
    reply.err = clone_errno;
    reply.pid = pid;
    reply.in_cgroup = in_cgroup ? 1 : 0;
    UniqueFd owned_pidfd(pid > 0 ? pidfd : -1);
    FdsMessage<1> m(&reply, sizeof reply);
    const int fd = owned_pidfd.get();
    m.attach(&fd, pid > 0 ? 1 : 0);
    ssize_t n;
    do n = ::sendmsg(control, &m.msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    // The owner gone mid-request: its clone dies with it (its pidfd and
    // its init pipe close), and so does the template.
    if (n != static_cast<ssize_t>(sizeof reply)) template_stops("the pool's owner is gone", 1);
  }
}

// Why `control` is not the end of a pool owner's control socket, or empty:
// it must be a connected AF_UNIX stream (not a listening socket, as socket
// activation hands out) made by our parent (SO_PEERCRED of a socketpair
// names its creator), so that nobody but the process that exec'd us can
// ask for clones.
inline std::string_view not_the_owners_socket(int control) noexcept {
  int domain = 0, type = 0, listening = 0;
  socklen_t len = sizeof domain;
  if (::getsockopt(control, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return "not a socket";
  len = sizeof type;
  if (::getsockopt(control, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || domain != AF_UNIX || type != SOCK_STREAM)
    return "not a unix stream socket";
  len = sizeof listening;
  if (::getsockopt(control, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening != 0)
    return "a listening socket";
  ucred peer{};
  len = sizeof peer;
  if (::getsockopt(control, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.pid <= 0 || peer.pid != ::getppid())
    return "its peer is not our parent (a pool's socketpair is made by its owner)";
  return {};
}

// In a binary's constructor (embed.hpp): serve as a template if this
// process was started as one, else return (one getenv). The variable is
// removed once read; empty is unset, as for every protocol variable.
inline void serve_if_template(void (*entry)(int argc, char** argv)) {
  const char* value = ::getenv(kTemplateEnv);
  if (value == nullptr) return;
  if (*value == '\0' || !environment_is_the_runtimes(kTemplateEnv)) {
    (void)::unsetenv(kTemplateEnv);
    return;
  }
  const auto control = parse_decimal<int>(value);
  (void)::unsetenv(kTemplateEnv);  // `value` is gone with it
  if (!control || *control < 0 || ::fcntl(*control, F_GETFD) < 0)
    template_stops("_NSENTER_POOL_TEMPLATE is not an open fd", 2);
  if (const std::string_view why = not_the_owners_socket(*control); !why.empty()) {
    LineBuffer line;
    line.put("_NSENTER_POOL_TEMPLATE names no pool's control socket: ");
    line.put(why);
    template_stops({line.data, line.size}, 2);
  }
  serve_as_template(*control, entry);  // each init gets its request's environment, not ours
}

}  // namespace detail::pool
NSENTER_END_NAMESPACE
