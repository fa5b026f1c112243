// SPDX-License-Identifier: Apache-2.0
// nsenter: the runtime's side of the log pipe. Turns the init's JSON lines
// ({"level":"debug", "msg": "nsexec-1[1234]: text"}) back into records, and
// a fatal record back into an Error the caller can act on.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "nsenter/detail/json.hpp"
#include "nsenter/error.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/log.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// One record as the init wrote it. A line that is not a record in runc's
// shape is kept whole in `text`, with `parsed` false, so nothing the init
// says is lost.
struct LogRecord {
  LogLevel level = LogLevel::Info;
  std::optional<Stage> stage;  // from the "nsexec-N" label
  pid_t pid = 0;               // the pid in the label, as the writer saw it
  std::string text;            // the message after "label[pid]: "
  bool parsed = false;
};

constexpr std::optional<LogLevel> level_from_name(std::string_view name) noexcept {
  for (int l = 0; l <= static_cast<int>(LogLevel::Trace); ++l)
    if (level_name(static_cast<LogLevel>(l)) == name) return static_cast<LogLevel>(l);
  if (name == "warn") return LogLevel::Warning;  // logrus accepts both spellings
  return std::nullopt;
}

constexpr std::optional<Stage> stage_from_label(std::string_view label) noexcept {
  for (Stage s : {Stage::Setup, Stage::Parent, Stage::Child, Stage::Init})
    if (nsenter::label(s) == label) return s;
  return std::nullopt;
}

// Parses one line (without its '\n').
inline LogRecord parse_log_line(std::string_view line) {
  LogRecord rec;
  rec.text = std::string(line);
  auto doc = detail::json::parse(line);
  if (!doc || doc->type != detail::json::Value::Type::Object) return rec;
  const detail::json::Value* level = nullptr;
  const detail::json::Value* msg = nullptr;
  for (std::size_t i = 0; i < doc->keys.size(); ++i) {
    if (doc->keys[i] == "level") level = &doc->items[i];
    if (doc->keys[i] == "msg") msg = &doc->items[i];
  }
  if (level == nullptr || msg == nullptr || level->type != detail::json::Value::Type::String ||
      msg->type != detail::json::Value::Type::String)
    return rec;
  const auto lvl = level_from_name(level->string);
  if (!lvl) return rec;
  rec.level = *lvl;
  rec.parsed = true;
  rec.text = msg->string;
  // "label[pid]: text"; a message without the prefix is kept as it is.
  const std::string_view m = msg->string;
  const auto open = m.find('[');
  const auto close = m.find("]: ");
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return rec;
  const auto stage = stage_from_label(m.substr(0, open));
  const auto pid = detail::parse_decimal<pid_t>(m.substr(open + 1, close - open - 1));
  if (!stage || !pid || *pid <= 0) return rec;
  rec.stage = stage;
  rec.pid = *pid;
  rec.text = std::string(m.substr(close + 3));
  return rec;
}

// The errno whose description ends `text` (": Operation not permitted"),
// or 0. The init's fatal messages end that way, so the runtime can branch
// on EPERM rather than match strings.
inline int errno_from_message(std::string_view text) noexcept {
  int best = 0;
  std::size_t best_len = 0;
  for (int e = 1; e < 134; ++e) {
    const char* desc = detail::errno_text(e);
    if (desc == nullptr) continue;
    const std::string_view d(desc);
    if (text.size() > d.size() + 2 && text.ends_with(d) && text.substr(text.size() - d.size() - 2, 2) == ": " &&
        d.size() > best_len) {
      best = e;
      best_len = d.size();
    }
  }
  return best;
}

// The cause a fatal record names (its second part, after the operation:
// "sync read: peer closed the connection: ..."), or Code::SystemError when
// it names none (a failed system call: the errno says why).
inline Code code_from_message(std::string_view text) noexcept {
  const std::size_t start = text.find(": ");
  if (start == std::string_view::npos) return Code::SystemError;
  std::string_view cause = text.substr(start + 2);
  cause = cause.substr(0, cause.find(": "));
  for (int c = 1; c <= static_cast<int>(kLastCode); ++c)
    if (describe(static_cast<Code>(c)) == cause) return static_cast<Code>(c);
  return Code::SystemError;
}

// A fatal record as an Error: the stage that failed, the errno its text
// ends with, and the text itself as the detail.
inline Error error_from_fatal(const LogRecord& rec) noexcept {
  Error e = make_error(Op::InitFailed, Code::InitFatal, kNoOffset, rec.text);
  e.stage = rec.stage.value_or(Stage::Setup);
  e.sys_errno = errno_from_message(rec.text);
  return e;
}

// Splits what arrives on a non-blocking log pipe into lines and hands each
// record to `sink`. Lines longer than kLogLineBytes (the init never writes
// one) are cut there rather than buffered without bound.
class LogPipeReader {
 public:
  // Reads what is available now. Returns false at EOF or on a read error
  // other than EAGAIN/EINTR (every writer is gone, or the fd is bad).
  template <class Sink>
  bool pump(int fd, Sink&& sink) {
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        feed({buf, static_cast<std::size_t>(n)}, sink);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      finish(sink);
      return false;
    }
  }

  template <class Sink>
  void feed(std::string_view data, Sink& sink) {
    for (char c : data) {
      if (c == '\n') {
        emit(sink);
        continue;
      }
      partial_ += c;
      if (partial_.size() >= kLogLineBytes) emit(sink);
    }
  }

  // A last line without its '\n' (the writer died mid-line).
  template <class Sink>
  void finish(Sink& sink) {
    if (!partial_.empty()) emit(sink);
  }

 private:
  template <class Sink>
  void emit(Sink& sink) {
    if (!partial_.empty()) sink(parse_log_line(partial_));
    partial_.clear();
  }
  std::string partial_;
};

NSENTER_END_NAMESPACE
