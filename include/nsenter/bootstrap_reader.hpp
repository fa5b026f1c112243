// nsenter: where the bootstrap comes from. InitPipeReader speaks runc's
// protocol on the pipe the environment names; InMemoryReader serves an
// embedder (or a test) that already holds the message.
#pragma once

#include <cstdlib>
#include <optional>

#include "nsenter/env.hpp"
#include "nsenter/error.hpp"
#include "nsenter/log.hpp"
#include "nsenter/message_reader.hpp"
#include "nsenter/result.hpp"
#include "nsenter/sync.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

NSENTER_BEGIN_NAMESPACE

// What a reader hands the pipeline. Filled in as far as the reader got, so
// that an error after the log pipe is known is still reported on it.
struct BootstrapSource {
  int init_pipe = -1;  // receives the pid line; stays open in stage 2; -1: none
  int log_pipe = -1;   // -1: fatal errors go to stderr
  LogLevel log_level = LogLevel::Debug;
  const char* mount_fds = nullptr;  // fd numbers for MOUNT_SOURCES, as JSON
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
    return pipe_env != nullptr && *pipe_env != '\0';
  }

  // The variables, strictly, before anything else happens (as runc does):
  // errors from then on are reported where runc's parent looks.
  Result<void> read_env(BootstrapSource& out) const noexcept {
    auto log_fd = env_int(Env::log_pipe);
    if (!log_fd) return log_fd.error();
    if (*log_fd) {
      out.log_pipe = **log_fd;
      auto level = env_int(Env::log_level);
      if (!level) return level.error();
      if (*level) {
        if (**level > static_cast<int>(LogLevel::Trace))
          return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset, Env::log_level);
        out.log_level = static_cast<LogLevel>(**level);
      }
    }
    auto pipe_fd = parse_env_int(Env::init_pipe, std::getenv(Env::init_pipe));
    if (!pipe_fd) return pipe_fd.error();
    if (!*pipe_fd) return make_error(Op::ReadEnv, Code::BadEnv, kNoOffset, Env::init_pipe);
    out.init_pipe = **pipe_fd;
    out.mount_fds = std::getenv(Env::mount_fds);
    return {};
  }

  Result<void> read(BootstrapSource& out) const noexcept {
    // "Past initial setup": one NUL byte, which runc's parent waits for.
    if (auto r = detail::write_exact(out.init_pipe, "", 1, Stage::Setup, Op::Handshake); !r) return r.error();
    auto bytes = read_message(out.init_pipe);
    if (!bytes) return bytes.error();
    out.message = std::move(*bytes);
    return {};
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

  bool is_init() const noexcept { return true; }
  Result<void> read_env(BootstrapSource& out) const noexcept {
    out.init_pipe = pid_fd;
    out.log_pipe = log_fd;
    out.log_level = log_level;
    out.mount_fds = mount_fds;
    return {};
  }
  Result<void> read(BootstrapSource& out) const noexcept {
    out.message = message;  // before any clone: allocating is fine here
    return {};
  }
};

// is_init() decides, cheaply, whether this process is an init at all;
// read_env() finds the pipes (so errors go where the runtime looks); read()
// delivers the message, after the pipeline's self-protection step, which
// may re-execute the program.
template <class T>
concept BootstrapReader = requires(const T& r, BootstrapSource& out) {
  { r.is_init() } noexcept -> std::same_as<bool>;
  { r.read_env(out) } noexcept -> std::same_as<Result<void>>;
  { r.read(out) } noexcept -> std::same_as<Result<void>>;
};

NSENTER_END_NAMESPACE
