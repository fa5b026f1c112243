// SPDX-License-Identifier: Apache-2.0
// nsenter: every requirement Nsexec places on its policies, in one place.
// Each concept lists exactly what the pipeline calls, no more and no less
// (tests/unit/concepts_test.cc instantiates the pipeline with a minimal
// archetype of each). Everything a stage calls is noexcept and returns a
// Result or an errno, so a throwing or mistyped policy fails at
// instantiation, not in a half-made process.
#pragma once

#include <sys/types.h>

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

#include "nsenter/bootstrap_reader.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/idmap.hpp"
#include "nsenter/log.hpp"
#include "nsenter/namespace_kind.hpp"
#include "nsenter/namespaces.hpp"
#include "nsenter/result.hpp"
#include "nsenter/start_clock.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// Reader: is_init() decides, cheaply, whether this process is an init at
// all; read_env() finds the pipes (so errors go where the runtime looks);
// read() delivers the message, after the pipeline's self-protection step,
// which may re-execute the program.
template <class T>
concept BootstrapReader = requires(const T& r, BootstrapSource& out) {
  { r.is_init() } noexcept -> std::same_as<bool>;
  { r.read_env(out) } noexcept -> std::same_as<Result<void>>;
  { r.read(out) } noexcept -> std::same_as<Result<void>>;
};

// Protection: makes sure that what runs the stages is not the binary on
// disk (CVE-2019-5736): `ensure_knowing`, called once the message is read
// and planned, before anything else changes the process; may re-execute
// the program, carrying the message (detail::carry_message). Given the
// pipeline's own logger, to say which method ran, and the start plan (its
// guard, and the runtime's view, whose fd Nsexec closes afterwards).
template <class T, class Log>
concept SelfProtection = requires(const T& p, const Log& log, const StartPlan& start, const BootstrapView& config,
                                  std::span<const std::uint8_t> message) {
  { p.ensure_knowing(log, start, config, message) } noexcept -> std::same_as<Result<void>>;
};

// Logger. Optional, used when present: `bool enabled(LogLevel) const
// noexcept` (the per-step timings run only at debug) and `void
// set_clock(const StartClock*) noexcept` (records then carry their time);
// a member of either name with another signature is refused
// (OptionalMembersFit below), not skipped.
template <class T>
concept LogSink = requires(T& l, const T& cl, int fd, LogLevel level, Stage s, std::string_view text, const Error& e) {
  { l.configure(fd, level) } noexcept;
  { cl.log(level, s, text) } noexcept;
  { cl.fatal(e) } noexcept;
};

// Joiner: setns() into every target, in an order that works, or none.
template <class T>
concept NamespaceJoiner = requires(const T& j, std::span<const NsTarget> targets) {
  { j.join(targets) } noexcept -> std::same_as<Result<void>>;
};

// MapWriter: writes one of stage 1's id maps from stage 0.
template <class T>
concept IdMapWriter = requires(const T& w, const IdMapRequest& req) {
  { w.write(req) } noexcept -> std::same_as<Result<void>>;
};

// Clone: fork-like, 0 in the child (see clone.hpp for the contract).
template <class T>
concept CloneStrategy = requires(const T& c, Stage s) {
  { c.spawn(s) } noexcept -> std::same_as<Result<pid_t>>;
};

// A Clone that can also make its child in new namespaces, for the
// one-clone plan (start_plan.hpp); the pipeline runs three stages without.
template <class T>
concept CloneIntoNamespaces = CloneStrategy<T> && requires(const T& c, Stage s, NsSet create) {
  { c.spawn_into(s, create) } noexcept -> std::same_as<Result<pid_t>>;
};

// The optional members, checked by full signature wherever the name is
// present: a Logger whose enabled() returns int, or a Clone whose
// spawn_into may throw, would otherwise be skipped in silence (the start
// untimed, or three stages where one clone was meant). A name that is
// overloaded or a template cannot be looked at this way and is taken as it
// is used.
template <class Logger, class Clone>
concept OptionalMembersFit =
    (!requires { &Logger::enabled; } ||
     requires(const Logger& l) { { l.enabled(LogLevel::Debug) } noexcept -> std::same_as<bool>; }) &&
    (!requires { &Logger::set_clock; } || requires(Logger& l, const StartClock* c) { { l.set_clock(c) } noexcept; }) &&
    (!requires { &Clone::spawn_into; } || CloneIntoNamespaces<Clone>);

// Sys: the stages' privileged and process calls, and their reads and
// writes of the sync sockets, the pid line and the mount sources (see
// LinuxSys for what each does). Each returns 0 or the errno of the failure
// (parent_pid() returns getppid()). A Sys that changes a few calls derives
// from LinuxSys.
template <class T>
concept Sys = requires(const T& s, int flags, bool on, const char* text, int fds[2], pid_t pid, std::string_view sv,
                       void* buf, const void* data, std::size_t size, std::size_t& got, UniqueFd& out) {
  { s.unshare(flags) } noexcept -> std::same_as<int>;
  { s.set_dumpable(on) } noexcept -> std::same_as<int>;
  { s.set_name(text) } noexcept -> std::same_as<int>;
  { s.setresuid_to(uid_t{}) } noexcept -> std::same_as<int>;
  { s.setsid() } noexcept -> std::same_as<int>;
  { s.setuid_to(uid_t{}) } noexcept -> std::same_as<int>;
  { s.setgid_to(gid_t{}) } noexcept -> std::same_as<int>;
  { s.clear_groups() } noexcept -> std::same_as<int>;
  { s.socketpair(fds) } noexcept -> std::same_as<int>;
  { s.kill(pid) } noexcept -> std::same_as<int>;
  { s.set_parent_death_signal(flags) } noexcept -> std::same_as<int>;
  { s.parent_pid() } noexcept -> std::same_as<pid_t>;
  { s.write_file(text, sv) } noexcept -> std::same_as<int>;
  { s.read(flags, buf, size, got) } noexcept -> std::same_as<int>;
  { s.write_all(flags, data, size) } noexcept -> std::same_as<int>;
  { s.open(text, flags, out) } noexcept -> std::same_as<int>;
  { s.setns(flags, flags) } noexcept -> std::same_as<int>;
  { s.send_fd(flags, flags) } noexcept -> std::same_as<int>;
  { s.receive_fd(flags, out) } noexcept -> std::same_as<int>;
  { s.dup_onto(flags, flags) } noexcept -> std::same_as<int>;
};

// Names: what ps shows for each stage (prctl PR_SET_NAME, 15 bytes kept).
template <class T>
concept StageNames = requires {
  { T::parent } -> std::convertible_to<const char*>;
  { T::child } -> std::convertible_to<const char*>;
  { T::init } -> std::convertible_to<const char*>;
};

NSENTER_END_NAMESPACE
