// SPDX-License-Identifier: Apache-2.0
// Nsexec before any clone: the not-an-init fast path, strict environment
// parsing, and fatal errors that reach the log pipe or stderr with exit 1.
// Cases that end in _exit run in a forked child; the parent asserts.
#include "nsenter/nsexec.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <functional>
#include <string>
#include <thread>

#include "support/message_builder.hpp"
#include "support/test_util.hpp"

using namespace nsenter::test;

namespace {

// The default pipeline without self-protection (the test binary is not an
// init worth protecting), reading the init pipe or an in-memory message.
struct Unprotected : nsenter::RuncPolicies {
  using Protection = nsenter::NoSelfProtection;
};
struct InMemory : Unprotected {
  using Reader = nsenter::InMemoryReader;
};

struct ChildOutcome {
  int status = -1;
  std::string err;  // the child's stderr
  std::string log;  // what it wrote on the log pipe (fd passed to body)
};

// Runs body(log_fd) in a forked child whose stderr and a log pipe we read.
ChildOutcome in_child(const std::function<void(int log_fd)>& body) {
  int err[2], log[2];
  REQUIRE(::pipe(err) == 0);
  REQUIRE(::pipe(log) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(err[1], STDERR_FILENO);
    ::close(err[0]);
    ::close(log[0]);
    body(log[1]);
    ::_exit(0);  // body returned: the pipeline did not exit
  }
  ::close(err[1]);
  ::close(log[1]);
  ChildOutcome out;
  out.err = read_to_end_and_close(err[0]);
  out.log = read_to_end_and_close(log[0]);
  ::waitpid(pid, &out.status, 0);
  return out;
}

bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

}  // namespace

TEST_CASE("not an init: run() returns nothing and does nothing") {
  ::unsetenv("_LIBCONTAINER_INITPIPE");
  CHECK_FALSE(nsenter::RuncCompatNsexec{}.run().has_value());
  ::setenv("_LIBCONTAINER_INITPIPE", "", 1);  // empty counts as unset, as in runc
  CHECK_FALSE(nsenter::RuncCompatNsexec{}.run().has_value());
  ::unsetenv("_LIBCONTAINER_INITPIPE");
}

TEST_CASE("a malformed init pipe variable is fatal, on stderr without a log pipe") {
  for (const char* bad : {"abc", "-1", "3x", " 3", "99999999999"}) {
    CAPTURE(bad);
    const auto out = in_child([&](int) {
      ::setenv("_LIBCONTAINER_INITPIPE", bad, 1);
      (void)nsenter::RuncCompatNsexec{}.run();
    });
    CHECK(exited_with(out.status, 1));
    CHECK(out.err == fmt::format("FATAL: nsexec: read environment: bad environment variable: "
                                 "_LIBCONTAINER_INITPIPE={}: not a non-negative decimal integer\n",
                                 bad));
  }
}

TEST_CASE("errors after the log pipe is known become a fatal JSON record on it") {
  const auto out = in_child([](int log_fd) {
    ::setenv("_LIBCONTAINER_INITPIPE", "notanumber", 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGLEVEL", "5", 1);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.err.empty());
  CHECK(out.log.find(R"({"level":"fatal", "msg": "nsexec[)") == 0);
  CHECK(out.log.find("_LIBCONTAINER_INITPIPE=notanumber: not a non-negative decimal integer\"}\n") != std::string::npos);
}

TEST_CASE("a log level beyond trace is refused") {
  const auto out = in_child([](int log_fd) {
    ::setenv("_LIBCONTAINER_INITPIPE", "0", 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGLEVEL", "7", 1);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find("read environment: bad environment variable: _LIBCONTAINER_LOGLEVEL=7: not a log level "
                     "(0 panic .. 6 trace)") != std::string::npos);
}

TEST_CASE("a profile the init does not know is refused, the value quoted") {
  const auto out = in_child([](int log_fd) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) ::_exit(5);
    ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(sp[0]).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    ::setenv("_NSENTER_PROFILE", "runc-1.3", 1);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find("bad environment variable: _NSENTER_PROFILE=runc-1.3: not a profile (runc-1.1 or runc-1.2)") !=
        std::string::npos);
}

namespace {

// A value of `var` the init must refuse before anything else: exit 1, the
// fatal record quoting the value and `why`, no handshake byte written.
struct BadValue {
  const char* value;
  const char* why;
};
void check_refused_before_handshake(const char* var, const BadValue& c) {
  CAPTURE(c.value);
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
  // Were the value taken, the message read would meet EOF, not hang: the
  // runtime's end sends nothing, and can still read a handshake byte.
  REQUIRE(::shutdown(sp[1], SHUT_WR) == 0);
  const auto out = in_child([&](int log_fd) {
    ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(sp[0]).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    ::setenv(var, c.value, 1);
    ::close(sp[1]);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find(fmt::format("bad environment variable: {}={}: {}", var, c.value, c.why)) != std::string::npos);
  // Refused before the handshake: the runtime's end reads nothing.
  ::close(sp[0]);
  char byte;
  CHECK(::read(sp[1], &byte, 1) == 0);
  ::close(sp[1]);
}

}  // namespace

TEST_CASE("a start plan the init does not know is refused before the handshake, the value quoted") {
  for (const BadValue& c :
       {BadValue{"three", "not a topology (three-stages, one-clone or direct)"},
        BadValue{"one-clone:", "not a guard (self, unwritable, unreachable or view=FD)"},
        BadValue{"one-clone:unwritable:unreachable", "not a guard (self, unwritable, unreachable or view=FD)"},
        BadValue{"three-stages:view=", "view=FD: not a non-negative decimal fd"},
        BadValue{"three-stages:view=-1", "view=FD: not a non-negative decimal fd"},
        BadValue{"three-stages:view=7x", "view=FD: not a non-negative decimal fd"},
        BadValue{"direct:view=7", "a direct start cannot move onto a view: it is born in the container's namespaces"},
        BadValue{"DIRECT", "not a topology (three-stages, one-clone or direct)"}})
    check_refused_before_handshake("_NSENTER_START", c);
}

TEST_CASE("bad _NSENTER_STAGE_NAMES values are refused before the handshake, the value quoted") {
  for (const BadValue& c : {BadValue{"a,b", "not three names PARENT,CHILD,INIT"},
                            BadValue{"a,b,c,d", "not three names PARENT,CHILD,INIT"},
                            BadValue{"a,,c", "name 2 is empty"},
                            BadValue{"a,b,", "name 3 is empty"},
                            BadValue{"a,b,0123456789abcdef", "name 3 is longer than 15 bytes"},
                            BadValue{"a b,c,d", "name 1 is not printable ASCII without spaces or commas"}})
    check_refused_before_handshake("_NSENTER_STAGE_NAMES", c);
}

TEST_CASE("the profile the runtime names decides how the message is read") {
  // Attribute 27290 is runc 1.2's time offsets and runc 1.1's mount sources;
  // without a time namespace both readings fail before any clone, each for
  // its own reason.
  const std::string message = MessageBuilder().u32(kCloneFlags, CLONE_NEWUTS).str(27290, "monotonic 5 0\n").build();
  for (const char* profile : {"runc-1.1", "runc-1.2"}) {
    CAPTURE(profile);
    const auto out = in_child([&](int log_fd) {
      int sp[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) ::_exit(5);
      if (::write(sp[1], message.data(), message.size()) != static_cast<ssize_t>(message.size())) ::_exit(6);
      ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(sp[0]).c_str(), 1);
      ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
      ::setenv("_NSENTER_PROFILE", profile, 1);
      (void)nsenter::Nsexec<Unprotected>{}.run();
    });
    CHECK(exited_with(out.status, 1));
    if (std::string_view(profile) == "runc-1.1")
      CHECK(out.log.find("mount sources are not a NUL-terminated list") != std::string::npos);
    else
      CHECK(out.log.find("time offsets given without creating a time namespace") != std::string::npos);
  }
}

TEST_CASE("an init pipe that is a regular file is refused before the handshake touches it") {
  char path[] = "/tmp/nsenter-initpipe.XXXXXX";
  const int file = ::mkostemp(path, O_CLOEXEC);
  REQUIRE(file >= 0);
  ::unlink(path);
  REQUIRE(::write(file, "XYZ", 3) == 3);
  REQUIRE(::lseek(file, 0, SEEK_SET) == 0);
  const auto out = in_child([&](int log_fd) {
    ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(file).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find(fmt::format("read environment: bad environment variable: _LIBCONTAINER_INITPIPE={}: not a "
                                 "socket (a regular file)",
                                 file)) != std::string::npos);
  char buf[8] = {};
  CHECK(::pread(file, buf, sizeof buf, 0) == 3);
  CHECK(std::string(buf) == "XYZ");
  ::close(file);
}

TEST_CASE("an init pipe fd that is not open is named with its errno") {
  const auto out = in_child([](int) {
    ::setenv("_LIBCONTAINER_INITPIPE", "987", 1);
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.err == "FATAL: nsexec: read environment: _LIBCONTAINER_INITPIPE=987: Bad file descriptor\n");
}

TEST_CASE("a peer that is gone is EPIPE on the init pipe, never a death by SIGPIPE") {
  const auto out = in_child([](int log_fd) {
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) ::_exit(20);
    ::close(sp[1]);  // the runtime died before the handshake
    ::signal(SIGPIPE, SIG_DFL);
    ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(sp[0]).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(log_fd).c_str(), 1);
    (void)nsenter::Nsexec<Unprotected>{}.run();
  });
  CHECK_MESSAGE(exited_with(out.status, 1), "status " << out.status);
  CHECK(out.log.find("send handshake byte: peer closed the connection: Broken pipe") != std::string::npos);
}

TEST_CASE("a log pipe whose reader is gone loses the records, not the init: the fatal one goes to stderr") {
  const auto out = in_child([](int) {
    int lp[2], sp[2];
    if (::pipe(lp) != 0 || ::socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) ::_exit(20);
    ::close(lp[0]);  // nobody reads the log any more
    ::close(sp[1]);
    ::signal(SIGPIPE, SIG_DFL);
    ::setenv("_LIBCONTAINER_INITPIPE", std::to_string(sp[0]).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", std::to_string(lp[1]).c_str(), 1);
    ::setenv("_LIBCONTAINER_LOGLEVEL", "5", 1);
    (void)nsenter::Nsexec<Unprotected>{}.run();
  });
  CHECK_MESSAGE(exited_with(out.status, 1), "status " << out.status);
  CHECK(out.err == "FATAL: nsexec: send handshake byte: peer closed the connection: Broken pipe\n");
}

TEST_CASE("a log pipe fd that is not open is said once on stderr, and errors go there") {
  const auto out = in_child([](int) {
    ::setenv("_LIBCONTAINER_INITPIPE", "notanumber", 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", "99", 1);
    ::unsetenv("_LIBCONTAINER_CLONED_BINARY");
    (void)nsenter::RuncCompatNsexec{}.run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.err ==
        "nsenter: _LIBCONTAINER_LOGPIPE=99: Bad file descriptor; fatal errors go to stderr\n"
        "FATAL: nsexec: read environment: bad environment variable: _LIBCONTAINER_INITPIPE=notanumber: not a "
        "non-negative decimal integer\n");
}

TEST_CASE("in-memory reader: a malformed message is fatal before any clone") {
  const auto out = in_child([](int log_fd) {
    nsenter::InMemoryReader reader;
    const std::string bad = MessageBuilder().u32(kCloneFlags, 0x100).build();
    reader.message.assign(bad.begin(), bad.end());
    reader.log_fd = log_fd;
    (void)nsenter::Nsexec<InMemory>(reader).run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find("clone flags hold bits that are not namespace flags: 0x100 (unknown bits 0x100) (at byte 20)") !=
        std::string::npos);
}

TEST_CASE("a multithreaded process is refused with a clear error") {
  const auto out = in_child([](int log_fd) {
    nsenter::InMemoryReader reader;
    const std::string msg = MessageBuilder().u32(kCloneFlags, CLONE_NEWUSER).build();
    reader.message.assign(msg.begin(), msg.end());
    reader.log_fd = log_fd;
    std::thread t([] { ::pause(); });
    t.detach();
    (void)nsenter::Nsexec<InMemory>(reader).run();
  });
  CHECK(exited_with(out.status, 1));
  CHECK(out.log.find("check thread count: process has more than one thread: 2") != std::string::npos);
}
