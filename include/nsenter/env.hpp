// SPDX-License-Identifier: Apache-2.0
// nsenter: the environment that tells a process it is an init, with the
// variable names as a traits type (runc's _LIBCONTAINER_* by default) and a
// strict decimal parser.
#pragma once

#include <sys/auxv.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "nsenter/error.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

namespace detail {

// Whether this process may take the protocol's variables as its runtime's
// word. Not after a set-user-ID, set-group-ID or file-capability exec
// (AT_SECURE): its environment is whoever ran it, and an init (or a pool's
// template) named there would do that caller's bidding with the binary's
// privileges. Such a process is never an init; a variable that says it is
// one is reported on stderr, and the program runs as if it were absent.
inline bool environment_is_the_runtimes(const char* variable) noexcept {
  if (::getauxval(AT_SECURE) == 0) return true;
  char said[192];
  const auto r = fmt::format_to_n(said, sizeof said,
                                  "nsenter: {} ignored: a set-user-ID or file-capability program is never an init\n",
                                  variable);
  (void)write_all_no_sigpipe(STDERR_FILENO, said, std::min(r.size, sizeof said));
  return false;
}

}  // namespace detail

// The variables nsenter adds to runc's protocol, which runc's own parent
// never sets: an init started by runc runs exactly runc's protocol.
struct NsenterEnv {
  // "SIGNAL:PID", the signal the init gets when the runtime, process PID,
  // dies (LaunchOptions::parent_death_signal).
  static constexpr const char* parent_death = "_NSENTER_PARENT_DEATH";
  // At log level debug only (see start_clock.hpp): CLOCK_MONOTONIC
  // nanoseconds when the runtime spawned the init, and when the pipeline
  // began before self-protection re-executed it.
  static constexpr const char* spawned_ns = "_NSENTER_SPAWNED_NS";
  static constexpr const char* began_ns = "_NSENTER_BEGAN_NS";
  // Which runc generation's protocol the runtime speaks, "runc-1.1" (the
  // NUL handshake, mount sources in attribute 27290) or "runc-1.2" (no
  // handshake byte, time-namespace offsets in 27290), overriding what
  // sync_pipe says. Set by hand only: the Launcher's profile runc-1.2 sets
  // sync_pipe, as runc's parent does (bootstrap_reader.hpp).
  static constexpr const char* profile = "_NSENTER_PROFILE";
  // The start plan (start_plan.hpp): "TOPOLOGY[:GUARD]", set by the
  // Launcher and an InitPool where the plan is not runc's; checked by the
  // init.
  static constexpr const char* start = "_NSENTER_START";
  // What ps shows for the stages, "PARENT,CHILD,INIT" (stage_names.hpp;
  // LaunchOptions::stage_names); unset: the pipeline's Names policy.
  static constexpr const char* stage_names = "_NSENTER_STAGE_NAMES";
  // The fd of the message our own self-protection re-exec carries
  // (self_protection.hpp); never set by a runtime.
  static constexpr const char* carried_message = "_NSENTER_CARRIED_MESSAGE";
  // The fd of an InitPool's request socket, in its template
  // (pool_template.hpp); never set for an init.
  static constexpr const char* pool_template = "_NSENTER_POOL_TEMPLATE";
};

// Variable names of runc's init protocol, and ours beside them (NsenterEnv).
// An embedder with its own names supplies a type with the same static
// members.
struct RuncEnv : NsenterEnv {
  static constexpr const char* init_pipe = "_LIBCONTAINER_INITPIPE";
  static constexpr const char* log_pipe = "_LIBCONTAINER_LOGPIPE";
  static constexpr const char* log_level = "_LIBCONTAINER_LOGLEVEL";
  static constexpr const char* state_dir = "_LIBCONTAINER_STATEDIR";
  static constexpr const char* cloned_binary = "_LIBCONTAINER_CLONED_BINARY";
  static constexpr const char* mount_fds = "_LIBCONTAINER_MOUNT_FDS";
  // Set by every runc from 1.2 on (its Go init's second socketpair), never
  // by 1.1: the one sign on the wire of which generation the parent is.
  // The pipeline only looks at whether it is set.
  static constexpr const char* sync_pipe = "_LIBCONTAINER_SYNCPIPE";
  // Every name, runc's and ours, for code that must scrub them before an
  // exec.
  static constexpr const char* all[] = {init_pipe,  log_pipe, log_level, state_dir, cloned_binary,   mount_fds,    sync_pipe,
                                        parent_death, spawned_ns, began_ns, profile,  start, stage_names,
                                        carried_message, pool_template};
};

// Whether the runtime speaks runc >= 1.2's protocol: what the project's
// profile variable says where it is set, else whether the sync pipe is
// (InitPipeReader::read_env, which also refuses a malformed profile).
template <class Env = RuncEnv>
bool runtime_speaks_runc12() noexcept {
  if (const char* p = std::getenv(Env::profile); p != nullptr && *p != '\0') return std::string_view(p) == "runc-1.2";
  const char* sync = std::getenv(Env::sync_pipe);
  return sync != nullptr && *sync != '\0';
}

// Parses `value` of variable `name` as a non-negative decimal int, as runc
// requires: no sign, no spaces, no trailing text, no overflow. Empty or
// unset (nullptr) means "not given" (nullopt), as in runc.
inline Result<std::optional<int>> parse_env_int(const char* name, const char* value) noexcept {
  if (value == nullptr || *value == '\0') return std::optional<int>{};
  const auto v = detail::parse_decimal<int>(value);
  if (!v || *v < 0)
    return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                      detail::detail_text("{}={}: not a non-negative decimal integer", name, value));
  return std::optional<int>{*v};
}

// A CLOCK_MONOTONIC time in nanoseconds from the environment; 0 when unset
// or not a number (these only feed the debug log's timings).
inline std::uint64_t env_ns(const char* name) noexcept {
  const char* value = std::getenv(name);
  if (value == nullptr) return 0;
  return detail::parse_decimal<std::uint64_t>(value).value_or(0);
}

inline Result<std::optional<int>> env_int(const char* name) noexcept {
  return parse_env_int(name, std::getenv(name));
}

NSENTER_END_NAMESPACE
