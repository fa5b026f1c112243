// SPDX-License-Identifier: Apache-2.0
// nsenter: joins the runtime holds as fds (Bootstrap::ns_fds) or as a
// process's pidfd (Bootstrap::ns_of_process), carried to the init. The
// wire names namespaces by path only, runc's included, so the runtime's
// side (a Launcher, an InitPool) checks each fd is a namespace of its
// kind, passes it to the init at a number past its own fds and names that
// number's /proc/self/fd path, which any init, runc's own too, opens and
// checks as it checks any path (nsfs, kind, the order ownership needs).
// The fd is closed at the command's exec, as every fd past the preserved
// ones is.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "nsenter/bootstrap.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/namespaces.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

namespace detail {

// The pid the pidfd refers to, in our pid namespace (its fdinfo's Pid:
// line, Linux 5.4): -1 once it has been reaped, 0 outside our pid
// namespace; nullopt when `pidfd` is no pidfd. Plain reads: no stdio.
inline std::optional<pid_t> pid_of_pidfd(int pidfd) noexcept {
  const auto path = detail_text("/proc/self/fdinfo/{}", pidfd);
  char name[64] = {};
  std::memcpy(name, path.data, std::min(path.size, sizeof name - 1));
  UniqueFd fd(::open(name, O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  char buf[1024];
  std::size_t got = 0;
  for (ssize_t n; got < sizeof buf && (n = ::read(fd.get(), buf + got, sizeof buf - got)) > 0;)
    got += static_cast<std::size_t>(n);
  const std::string_view text(buf, got);
  const auto at = text.find("\nPid:\t");
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(at + 6);
  return parse_decimal<pid_t>(rest.substr(0, rest.find('\n')));
}

}  // namespace detail

// The namespaces of `kinds` of the process `pidfd` refers to, opened
// through /proc/PID/ns and trusted only once the pidfd says the process
// still lives: a pid is not reused before its process is reaped, so the
// files are its own. In NsKind order.
inline Result<std::vector<std::pair<NsKind, UniqueFd>>> open_namespaces_of(const NsOfProcess& process) {
  auto fail = [&](Code code, int err, std::string_view why) {
    Error e = code == Code::SystemError
                  ? make_sys_error(Op::OpenNsPath, err, fmt::format("ns_of_process: pidfd {}: {}", process.pidfd, why))
                  : make_error(Op::OpenNsPath, code, kNoOffset,
                               fmt::format("ns_of_process: pidfd {}: {}", process.pidfd, why));
    return in_stage(e, Stage::Launcher);
  };
  if (process.kinds.empty()) return fail(Code::BadNsPath, 0, "no namespace kinds named");
  const auto pid = detail::pid_of_pidfd(process.pidfd);
  if (!pid) return fail(Code::SystemError, EBADF, "not a pidfd");
  if (*pid < 0) return fail(Code::NoProcess, 0, "its process has exited");
  if (*pid == 0) return fail(Code::NoProcess, 0, "its process is outside our pid namespace");
  std::vector<std::pair<NsKind, UniqueFd>> opened;
  for (const auto& k : kNsKinds) {
    if (!process.kinds.contains(k.kind)) continue;
    const std::string path = fmt::format("/proc/{}/ns/{}", *pid, k.name);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(errno == ENOENT || errno == ESRCH ? Code::NoProcess : Code::SystemError, errno, path);
    opened.emplace_back(k.kind, std::move(fd));
  }
  if (detail::pidfd_send_signal(process.pidfd, 0) != 0)
    return fail(errno == ESRCH ? Code::NoProcess : Code::SystemError, errno,
                "its process exited while its namespaces were opened");
  return opened;
}

// What a runtime sends for a config with held joins: the config the wire
// carries (every held join a /proc/self/fd/N path, in `ns_paths`), and
// the fds to place at N, N+1, ... in the init (`fds`; those opened from a
// pidfd are `opened`'s, closed with it).
struct CarriedJoins {
  Bootstrap wire;
  std::vector<int> fds;
  std::vector<UniqueFd> opened;
};

// `config`'s held joins checked (each fd a namespace of its kind, no kind
// joined twice) and named for the init, whose fd `first` is the first
// free past the runtime's own. nullopt when it holds none.
inline Result<std::optional<CarriedJoins>> carry_held_namespaces(const Bootstrap& config, int first) {
  if (config.ns_fds.empty() && !config.ns_of_process) return std::optional<CarriedJoins>{};
  CarriedJoins c;
  c.wire = config;
  c.wire.ns_fds.clear();
  c.wire.ns_of_process.reset();
  NsSet joined;
  for (const NsPath& p : config.ns_paths) joined.insert(p.kind);
  auto add = [&](NsKind kind, int fd, std::string_view what) -> Result<void> {
    if (joined.contains(kind))
      return in_stage(make_error(Op::OpenNsPath, Code::DuplicateNsKind, kNoOffset,
                                 fmt::format("{} {}: {} is joined twice", name(kind), what, name(kind))),
                      Stage::Launcher);
    if (auto r = detail::check_namespace(fd, kind, what, Stage::Launcher); !r) return r.error();
    joined.insert(kind);
    c.wire.ns_paths.push_back({kind, fmt::format("/proc/self/fd/{}", first + static_cast<int>(c.fds.size()))});
    c.fds.push_back(fd);
    return {};
  };
  for (std::size_t i = 0; i < config.ns_fds.size(); ++i) {
    const NsFd& h = config.ns_fds[i];
    if (auto r = add(h.kind, h.fd, fmt::format("ns_fds[{}] (fd {})", i, h.fd)); !r) return r.error();
  }
  if (config.ns_of_process) {
    auto opened = open_namespaces_of(*config.ns_of_process);
    if (!opened) return opened.error();
    for (auto& [kind, fd] : *opened) {
      const std::string what = fmt::format("of pidfd {}", config.ns_of_process->pidfd);
      if (auto r = add(kind, fd.get(), what); !r) return r.error();
      c.opened.push_back(std::move(fd));
    }
  }
  return std::optional<CarriedJoins>{std::move(c)};
}

NSENTER_END_NAMESPACE
