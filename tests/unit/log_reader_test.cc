// SPDX-License-Identifier: Apache-2.0
// The launcher's reading of what an init says: log lines back into records
// (what RuncLogger writes must parse to what it was given), fatal text back
// into an errno, the pid line's strict shape, and line splitting across
// arbitrary read boundaries.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "nsenter/launcher.hpp"
#include "nsenter/log.hpp"
#include "nsenter/log_reader.hpp"

using namespace nsenter;

namespace {

// What RuncLogger writes for `text`, read back from a pipe.
std::string logged(LogLevel level, Stage stage, std::string_view text) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  RuncLogger(p[1], LogLevel::Trace).log(level, stage, text);
  ::close(p[1]);
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  return out;
}

}  // namespace

TEST_CASE("a record RuncLogger writes parses back to what it was given") {
  const std::string tricky = "quote \" backslash \\ tab \t newline \n end";
  for (Stage stage : {Stage::Setup, Stage::Parent, Stage::Child, Stage::Init})
    for (LogLevel level : {LogLevel::Fatal, LogLevel::Debug, LogLevel::Warning}) {
      std::string line = logged(level, stage, tricky);
      REQUIRE(line.back() == '\n');
      line.pop_back();
      const LogRecord rec = parse_log_line(line);
      CHECK(rec.parsed);
      CHECK(rec.level == level);
      REQUIRE(rec.stage.has_value());
      CHECK(*rec.stage == stage);
      CHECK(rec.pid == ::getpid());
      CHECK(rec.text == tricky);
    }
}

TEST_CASE("lines that are not runc records are kept whole, unparsed") {
  for (std::string_view line : {std::string_view("plain text"), std::string_view(R"({"level":"loud","msg":"x"})"),
                                std::string_view(R"({"level":"info"})"), std::string_view(R"(["level","info"])"),
                                std::string_view(R"({"level":"info","msg":5})")}) {
    const LogRecord rec = parse_log_line(line);
    CHECK_FALSE(rec.parsed);
    CHECK(rec.text == line);
  }
  // A record whose message lacks the "label[pid]: " prefix keeps its text.
  const LogRecord go = parse_log_line(R"({"level":"warning","msg":"from Go"})");
  CHECK(go.parsed);
  CHECK(go.level == LogLevel::Warning);
  CHECK_FALSE(go.stage.has_value());
  CHECK(go.text == "from Go");
  const LogRecord bad_pid = parse_log_line(R"({"level":"info","msg":"nsexec-1[x1]: t"})");
  CHECK_FALSE(bad_pid.stage.has_value());
  CHECK(bad_pid.text == "nsexec-1[x1]: t");
}

TEST_CASE("the errno a fatal message ends with") {
  CHECK(errno_from_message("setns: net /x: Operation not permitted") == EPERM);
  CHECK(errno_from_message("open namespace path: net /x: No such file or directory") == ENOENT);
  CHECK(errno_from_message("No such file or directory") == 0);  // no ": " before it
  CHECK(errno_from_message("id map helper failed: exit 1") == 0);
}

TEST_CASE("the cause a fatal record names is read back from its second part") {
  char text[256];
  const auto said = [&](const Error& e) { return code_from_message(render_error(e, text, sizeof text)); };
  CHECK(said(make_error(Op::SyncRead, Code::PeerClosed, kNoOffset, "got 0 of 4 bytes")) == Code::PeerClosed);
  CHECK(said(make_error(Op::SyncRead, Code::PeerClosed)) == Code::PeerClosed);
  CHECK(said(make_error(Op::SyncRead, Code::UnexpectedSync, kNoOffset, "expected GRANDCHILD")) == Code::UnexpectedSync);
  CHECK(said(make_sys_error(Op::Setsid, EPERM)) == Code::SystemError);
  CHECK(code_from_message("peer closed the connection") == Code::SystemError);  // no operation before it
  LogRecord rec;
  rec.level = LogLevel::Fatal;
  rec.stage = Stage::Child;
  rec.text = "setns: user /proc/1/ns/user: Invalid argument";
  const Error e = error_from_fatal(rec);
  CHECK(e.stage == Stage::Child);
  CHECK(e.code == Code::InitFatal);
  CHECK(e.sys_errno == EINVAL);
  CHECK(e.detail_view() == rec.text);
}

TEST_CASE("a fatal record in runc 1.4's style, without an errno suffix, is still a typed error") {
  // runc 1.4's bailx(): no ": <strerror>" where no errno applies; short
  // reads say how much came.
  for (const char* line : {R"({"level":"fatal","msg":"nsexec-1[42]: failed to sync with parent: read(SYNC_USERMAP_ACK): got 0 of 4 bytes"})",
                           R"({"level":"fatal","msg":"nsexec-0[41]: unknown namespace type: blah"})"}) {
    CAPTURE(line);
    const LogRecord rec = parse_log_line(line);
    REQUIRE(rec.level == LogLevel::Fatal);
    const Error e = error_from_fatal(rec);
    CHECK(e.code == Code::InitFatal);
    CHECK(e.sys_errno == 0);
    CHECK(e.stage == (std::string_view(line).find("nsexec-1") != std::string_view::npos ? Stage::Child : Stage::Parent));
    CHECK(e.detail_view() == rec.text);
  }
}

TEST_CASE("LogPipeReader splits lines across any read boundary") {
  const std::string stream = logged(LogLevel::Info, Stage::Parent, "one") + logged(LogLevel::Debug, Stage::Child, "two") +
                             "unterminated";
  for (std::size_t chunk = 1; chunk <= stream.size(); chunk += 7) {
    LogPipeReader reader;
    std::vector<LogRecord> got;
    auto sink = [&](const LogRecord& r) { got.push_back(r); };
    for (std::size_t i = 0; i < stream.size(); i += chunk) reader.feed(std::string_view(stream).substr(i, chunk), sink);
    CHECK(got.size() == 2);
    reader.finish(sink);
    REQUIRE(got.size() == 3);
    CHECK(got[0].text == "one");
    CHECK(got[1].text == "two");
    CHECK(got[2].text == "unterminated");
    CHECK_FALSE(got[2].parsed);
  }
}

TEST_CASE("LogPipeReader::pump stops at EOF and cuts overlong lines") {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK) == 0);
  const std::string huge(kLogLineBytes + 10, 'x');
  REQUIRE(::write(p[1], huge.data(), huge.size()) == static_cast<ssize_t>(huge.size()));
  LogPipeReader reader;
  std::vector<LogRecord> got;
  auto sink = [&](const LogRecord& r) { got.push_back(r); };
  CHECK(reader.pump(p[0], sink));  // EAGAIN: writer still there
  CHECK(got.size() == 1);
  ::close(p[1]);
  CHECK_FALSE(reader.pump(p[0], sink));  // EOF
  REQUIRE(got.size() == 2);
  CHECK(got[0].text.size() == kLogLineBytes);
  CHECK(got[1].text.size() == 10);
  ::close(p[0]);
}

TEST_CASE("the pid line is exactly runc's shape") {
  const auto ok = parse_pid_line("{\"stage1_pid\":12,\"stage2_pid\":345}\n");
  REQUIRE(ok.has_value());
  CHECK(ok->first == 12);
  CHECK(ok->second == 345);
  // What stage 0 writes is what the Launcher reads.
  const PidLine written = format_pid_line(4194304, 7);
  CHECK(written.view() == "{\"stage1_pid\":4194304,\"stage2_pid\":7}\n");
  CHECK(parse_pid_line(written.view()) == std::pair<pid_t, pid_t>{4194304, 7});
  for (std::string_view bad : {
           "{\"stage1_pid\":12,\"stage2_pid\":345}",          // no newline
           "{\"stage1_pid\":0,\"stage2_pid\":345}\n",         // pid 0
           "{\"stage1_pid\":-1,\"stage2_pid\":345}\n",        // negative
           "{\"stage1_pid\":012,\"stage2_pid\":345}\n",       // leading zero
           "{\"stage1_pid\":12,\"stage2_pid\":345,\"x\":1}\n",  // extra field
           "{\"stage2_pid\":345,\"stage1_pid\":12}\n",        // reordered
           "{\"stage1_pid\":99999999999,\"stage2_pid\":1}\n",  // overflows pid_t
           "{\"stage1_pid\": 12,\"stage2_pid\":345}\n",       // space
       })
    CHECK_MESSAGE(!parse_pid_line(bad).has_value(), bad);
}

TEST_CASE("ExitStatus speaks the shell's language") {
  CHECK(ExitStatus{false, 0}.success());
  CHECK(ExitStatus{false, 3}.shell_code() == 3);
  CHECK(ExitStatus{true, 9}.shell_code() == 137);
  CHECK(to_string(ExitStatus{true, 15}) == "killed by signal 15 (TERM)");
  CHECK(to_string(ExitStatus{false, 2}) == "exited with status 2");
}
