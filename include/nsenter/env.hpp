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

// Variable names of runc 1.1's init protocol. An embedder with its own
// names supplies a type with the same static members.
struct RuncEnv {
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
  // Ours, not runc's: "SIGNAL:PID", the signal the init gets when the
  // runtime, process PID, dies (LaunchOptions::parent_death_signal).
  static constexpr const char* parent_death = "_NSENTER_PARENT_DEATH";
  // Ours too, at log level debug only (see start_clock.hpp): CLOCK_MONOTONIC
  // nanoseconds when the runtime spawned the init, and when the pipeline
  // began before self-protection re-executed it.
  static constexpr const char* spawned_ns = "_NSENTER_SPAWNED_NS";
  static constexpr const char* began_ns = "_NSENTER_BEGAN_NS";
  // Ours: which runc generation's protocol the runtime speaks, "runc-1.1"
  // (the NUL handshake, mount sources in attribute 27290) or "runc-1.2"
  // (no handshake byte, time-namespace offsets in 27290), overriding what
  // sync_pipe says. Set by hand only: the Launcher's profile runc-1.2 sets
  // sync_pipe, as runc's parent does (bootstrap_reader.hpp).
  static constexpr const char* profile = "_NSENTER_PROFILE";
  // Ours: "1" when the runtime found that the container cannot write the
  // binary the init runs from (see unwritable_exe.hpp); checked by the init.
  static constexpr const char* exe_unwritable = "_NSENTER_EXE_UNWRITABLE";
  // Ours: "1" when the runtime forked the init from its own process (no
  // exec), non-dumpable, for a container that cannot reach a non-dumpable
  // process of ours (see unwritable_exe.hpp); checked by the init.
  static constexpr const char* exe_unreachable = "_NSENTER_EXE_UNREACHABLE";
  // Ours: the fd of a read-only view of the binary (an O_PATH handle to the
  // very file, on a read-only mount) for the init to move onto in place
  // (exe_rebase.hpp). Set by the Launcher for the inits it forks where
  // they need protecting; checked by the init.
  static constexpr const char* exe_view = "_NSENTER_EXE_VIEW";
  // Ours: the fd of the message our own self-protection re-exec carries
  // (self_protection.hpp); never set by a runtime.
  static constexpr const char* carried_message = "_NSENTER_CARRIED_MESSAGE";
  // Ours: "1" when the runtime reads a pid line naming stage 2 twice, so
  // that a container that needs no stage 1 may start with one clone
  // (one_clone.hpp). Set by the Launcher; never by runc, whose parent needs
  // a stage 1.
  static constexpr const char* one_clone = "_NSENTER_ONE_CLONE";
  // Ours: "1" when the runtime cloned the init straight into its new
  // namespaces and wrote its maps: the init is stage 2 at once (the direct
  // start, one_clone.hpp; checked). Set by the Launcher for the inits it
  // forks and an InitPool's.
  static constexpr const char* direct = "_NSENTER_DIRECT";
  // Every name above, for code that must scrub them before an exec.
  static constexpr const char* all[] = {init_pipe,    log_pipe,   log_level, state_dir, cloned_binary,  mount_fds,
                                        sync_pipe,    parent_death, spawned_ns, began_ns,  profile,   exe_unwritable,
                                        exe_unreachable, exe_view, carried_message, one_clone, direct};
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
