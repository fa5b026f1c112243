// SPDX-License-Identifier: Apache-2.0
// nsenter: log records in runc's format. One JSON line per record on the
// log pipe ({"level":"debug", "msg": "nsexec-1[1234]: text"}), or
// "FATAL: text" on stderr when there is no pipe. Formatting happens in a
// stack buffer and each record is one write(2): usable in child stages.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <string_view>

#include "nsenter/detail/json.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/start_clock.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// logrus levels, as runc numbers them in _LIBCONTAINER_LOGLEVEL.
enum class LogLevel : std::uint8_t { Panic = 0, Fatal, Error, Warning, Info, Debug, Trace };

constexpr std::string_view level_name(LogLevel l) noexcept {
  constexpr std::string_view names[] = {"panic", "fatal", "error", "warning", "info", "debug", "trace"};
  return names[static_cast<std::size_t>(l)];
}

inline constexpr std::size_t kLogLineBytes = 4096;

namespace detail {

// A bounded append-only text buffer on the stack.
struct LineBuffer {
  char data[kLogLineBytes];
  std::size_t size = 0;
  void put(std::string_view s) noexcept {
    const std::size_t n = std::min(s.size(), sizeof data - size);
    for (std::size_t i = 0; i < n; ++i) data[size + i] = s[i];
    size += n;
  }
  template <class... Args>
  void putf(fmt::format_string<Args...> f, Args&&... args) noexcept {
    const auto r = fmt::format_to_n(data + size, sizeof data - size, f, std::forward<Args>(args)...);
    size += std::min(r.size, sizeof data - size);
  }
};

}  // namespace detail

// The runc-compatible logger: JSON lines on the log pipe when there is one
// (records above `level` dropped), else only fatal records, on stderr.
class RuncLogger {
 public:
  RuncLogger() noexcept = default;
  RuncLogger(int pipe_fd, LogLevel level) noexcept : fd_(pipe_fd), level_(level) {}

  void configure(int pipe_fd, LogLevel level) noexcept {
    fd_ = pipe_fd;
    level_ = level;
    pipe_gone_ = false;
  }
  int pipe_fd() const noexcept { return fd_; }
  // Whether a record of `level` would be written anywhere but stderr.
  bool enabled(LogLevel level) const noexcept { return fd_ >= 0 && !pipe_gone_ && level <= level_; }
  // From now on each debug record says how long the init has been
  // starting ("+612us ..."); the pipeline sets it at log level debug.
  void set_clock(const StartClock* clock) noexcept { clock_ = clock; }

  void log(LogLevel level, Stage stage, std::string_view text) const noexcept {
    if (fd_ < 0 || pipe_gone_ || level > level_) return;
    detail::LineBuffer line;
    line.putf(R"({{"level":"{}", "msg": "{}[{}]: )", level_name(level), label(stage), ::getpid());
    if (clock_ != nullptr && level >= LogLevel::Debug) line.putf("+{}us ", clock_->elapsed_us());
    detail::json::escape_to([&](std::string_view piece) { line.put(piece); }, text);
    constexpr std::string_view tail = "\"}\n";
    // Keep the line valid JSON even when the text was cut.
    if (line.size > sizeof line.data - tail.size()) line.size = sizeof line.data - tail.size();
    line.put(tail);
    // Best effort, as in runc: a failed write loses the record, never the
    // process. A reader that is gone stays gone: stop writing, and let a
    // fatal record go to stderr instead.
    if (detail::write_all_no_sigpipe(fd_, line.data, line.size) == EPIPE) pipe_gone_ = true;
  }

  template <class... Args>
  void debug(Stage stage, fmt::format_string<Args...> f, Args&&... args) const noexcept {
    if (fd_ < 0 || pipe_gone_ || level_ < LogLevel::Debug) return;
    char text[1024];
    const auto r = fmt::format_to_n(text, sizeof text, f, std::forward<Args>(args)...);
    log(LogLevel::Debug, stage, {text, std::min(r.size, sizeof text)});
  }

  void fatal(const Error& e) const noexcept {
    char text[512];
    const std::string_view rendered = render_error(e, text, sizeof text);
    if (fd_ >= 0 && !pipe_gone_) {
      log(LogLevel::Fatal, e.stage, rendered);
      if (!pipe_gone_) return;
    }
    detail::LineBuffer line;
    line.put("FATAL: ");
    line.put(label(e.stage));
    line.put(": ");
    line.put(rendered);
    line.put("\n");
    (void)detail::write_all_no_sigpipe(STDERR_FILENO, line.data, line.size);
  }

 private:
  int fd_ = -1;
  LogLevel level_ = LogLevel::Debug;  // runc's default when no level is given
  mutable bool pipe_gone_ = false;    // EPIPE once: the runtime stopped reading
  const StartClock* clock_ = nullptr;
};

// Drops everything; for embedders that report errors their own way.
class SilentLogger {
 public:
  void configure(int, LogLevel) noexcept {}
  int pipe_fd() const noexcept { return -1; }
  void log(LogLevel, Stage, std::string_view) const noexcept {}
  template <class... Args>
  void debug(Stage, fmt::format_string<Args...>, Args&&...) const noexcept {}
  void fatal(const Error&) const noexcept {}
};

NSENTER_END_NAMESPACE
