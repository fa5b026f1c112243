// SPDX-License-Identifier: Apache-2.0
// nsenter: where the bootstrap comes from. InitPipeReader speaks runc's
// protocol on the pipe the environment names; InMemoryReader serves an
// embedder (or a test) that already holds the message.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "nsenter/env.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/log.hpp"
#include "nsenter/message_reader.hpp"
#include "nsenter/result.hpp"
#include "nsenter/stage_names.hpp"
#include "nsenter/start_plan.hpp"
#include "nsenter/sync.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

NSENTER_BEGIN_NAMESPACE

// The signal the init's stages and the container's first process get when
// the runtime dies, and the runtime's pid, to see whether it already has
// (prctl(2) PR_SET_PDEATHSIG only covers deaths after it is set).
struct ParentDeath {
  int signal = 0;
  pid_t parent = 0;
};

// "SIGNAL:PID", strictly: a signal in 1..64 and a positive pid.
inline Result<ParentDeath> parse_parent_death(const char* name, const char* value) noexcept {
  ParentDeath out;
  if (value == nullptr || *value == '\0') return out;
  const std::string_view text(value);
  const std::size_t colon = text.find(':');
  auto bad = [&] {
    return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset, detail::detail_text("{}={}: not SIGNAL:PID", name, text));
  };
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return bad();
  std::uint32_t sig = 0, pid = 0;
  if (!wire::detail::parse_u32(text.substr(0, colon), sig) || !wire::detail::parse_u32(text.substr(colon + 1), pid) ||
      sig == 0 || sig > 64 || pid == 0 || pid > 0x7fffffff)
    return bad();
  out.signal = static_cast<int>(sig);
  out.parent = static_cast<pid_t>(pid);
  return out;
}

// What a reader hands the pipeline. Filled in as far as the reader got, so
// that an error after the log pipe is known is still reported on it.
struct BootstrapSource {
  int init_pipe = -1;  // receives the pid line; stays open in stage 2; -1: none
  int log_pipe = -1;   // -1: fatal errors go to stderr
  LogLevel log_level = LogLevel::Debug;
  const char* mount_fds = nullptr;  // fd numbers for MOUNT_SOURCES, as JSON
  ParentDeath parent_death;         // signal = 0: none asked for
  std::uint64_t spawned_ns = 0;     // when the runtime spawned us, if it said (debug timings)
  std::optional<wire::Profile> profile;  // what the runtime speaks; unset: the pipeline's default
  std::string_view profile_reason;        // how that was told, for the debug log
  StartPlan start;                        // how the runtime started us (start_plan.hpp); runc's by default
  StageNameTexts stage_names;             // the runtime's names for our stages, if it gave any
  wire::Bytes message;
};

// The init pipe named by Env (runc's _LIBCONTAINER_* by default).
// is_init() costs one getenv. read() parses the pipe and log variables
// strictly (a bad value is fatal, as in runc), sends the NUL handshake byte
// and reads exactly one message.
template <class Env = RuncEnv>
struct InitPipeReader {
  bool is_init() const noexcept {
    const char* pipe_env = std::getenv(Env::init_pipe);
    return pipe_env != nullptr && *pipe_env != '\0' && detail::environment_is_the_runtimes(Env::init_pipe);
  }

  // The variables, strictly, before anything else happens (as runc does):
  // errors from then on are reported where runc's parent looks.
  Result<void> read_env(BootstrapSource& out) const noexcept {
    auto log_fd = env_int(Env::log_pipe);
    if (!log_fd) return log_fd.error();
    if (*log_fd) {
      out.log_pipe = usable_log_pipe(**log_fd);
      auto level = env_int(Env::log_level);
      if (!level) return level.error();
      if (*level) {
        if (**level > static_cast<int>(LogLevel::Trace))
          return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                            detail::detail_text("{}={}: not a log level (0 panic .. 6 trace)", Env::log_level, **level));
        out.log_level = static_cast<LogLevel>(**level);
      }
    }
    auto pipe_fd = parse_env_int(Env::init_pipe, std::getenv(Env::init_pipe));
    if (!pipe_fd) return pipe_fd.error();
    if (!*pipe_fd) return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset, detail::detail_text("{}: not set", Env::init_pipe));
    if (auto r = check_init_pipe(**pipe_fd); !r) return r.error();
    out.init_pipe = **pipe_fd;
    out.mount_fds = std::getenv(Env::mount_fds);
    auto death = parse_parent_death(Env::parent_death, std::getenv(Env::parent_death));
    if (!death) return death.error();
    out.parent_death = *death;
    out.spawned_ns = env_ns(Env::spawned_ns);
    auto start = parse_start(Env::start, std::getenv(Env::start));
    if (!start) return start.error();
    out.start = *start;
    auto names = parse_stage_names(Env::stage_names, std::getenv(Env::stage_names));
    if (!names) return names.error();
    out.stage_names = *names;
    // Which runc generation the parent is: it never says, but every runc
    // from 1.2 on sets the sync pipe and 1.1 never does; ours may say.
    if (const char* p = std::getenv(Env::profile); p != nullptr && *p != '\0') {
      out.profile = wire::parse_profile(p);
      if (!out.profile)
        return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                          detail::detail_text("{}={}: not a profile (runc-1.1 or runc-1.2)", Env::profile, p));
      out.profile_reason = "the runtime said so";
    } else if (const char* sync = std::getenv(Env::sync_pipe); sync != nullptr && *sync != '\0') {
      out.profile = wire::Profile::Runc12;
      out.profile_reason = "the runtime set _LIBCONTAINER_SYNCPIPE, as runc does from 1.2 on";
    }
    return {};
  }

  Result<void> read(BootstrapSource& out) const noexcept {
    // "Past initial setup": one NUL byte, which runc 1.1's parent waits for
    // and runc 1.2's would take for the start of the pid line.
    if (out.profile != wire::Profile::Runc12)
      if (auto r = detail::write_exact(out.init_pipe, "", 1, Stage::Setup, Op::Handshake); !r) return r.error();
    auto bytes = read_message(out.init_pipe);
    if (!bytes) return bytes.error();
    out.message = std::move(*bytes);
    return {};
  }

 private:
  // The handshake is written to the init pipe before anything is read
  // from it: on a regular file (a careless runtime's mistake) that write
  // would overwrite the file's first byte. runc's parent hands over one end
  // of a socketpair, and nothing else can carry both directions.
  static Result<void> check_init_pipe(int fd) noexcept {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return make_sys_error(Op::ReadEnv, errno, detail::detail_text("{}={}", Env::init_pipe, fd));
    if (!S_ISSOCK(st.st_mode))
      return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset,
                        detail::detail_text("{}={}: not a socket ({})", Env::init_pipe, fd, detail::file_type_name(st.st_mode)));
    return {};
  }

  // A log pipe that cannot be written is not fatal (runc ignores it too),
  // but it would swallow every record, the fatal one included: say so on
  // stderr, once (not again after our own CVE-2019-5736 re-exec), and log
  // to stderr instead.
  static int usable_log_pipe(int fd) noexcept {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_ACCMODE) != O_RDONLY) return fd;
    const int err = flags < 0 ? errno : EBADF;
    const char* cloned = std::getenv(Env::cloned_binary);
    if (cloned == nullptr || std::string_view(cloned) != "1") {
      const auto line = detail::detail_text("nsenter: {}={}: {}; fatal errors go to stderr\n", Env::log_pipe, fd,
                                            flags < 0 ? detail::errno_text(err) : "open read-only");
      (void)detail::write_all_no_sigpipe(STDERR_FILENO, line.data, line.size);
    }
    return -1;
  }
};

// A message the embedder already has. `pid_fd` (optional) receives the
// pid line; `log_fd` the log records.
struct InMemoryReader {
  wire::Bytes message;
  int pid_fd = -1;
  int log_fd = -1;
  LogLevel log_level = LogLevel::Debug;
  const char* mount_fds = nullptr;
  ParentDeath parent_death;
  StartPlan start;  // a direct start's process was cloned into its namespaces by the embedder
  StageNameTexts stage_names;  // given: these instead of the pipeline's Names policy

  bool is_init() const noexcept { return true; }
  Result<void> read_env(BootstrapSource& out) const noexcept {
    out.init_pipe = pid_fd;
    out.log_pipe = log_fd;
    out.log_level = log_level;
    out.mount_fds = mount_fds;
    out.parent_death = parent_death;
    out.start = start;
    out.stage_names = stage_names;
    return {};
  }
  Result<void> read(BootstrapSource& out) const noexcept {
    out.message = message;  // before any clone: allocating is fine here
    return {};
  }
};


NSENTER_END_NAMESPACE
