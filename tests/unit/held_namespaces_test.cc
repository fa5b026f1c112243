// SPDX-License-Identifier: Apache-2.0
// Joins the runtime holds as fds or through a pidfd (held_namespaces.hpp),
// without privileges: this process's own namespaces are open to it, and so
// are those of a child it forks. What the init then does with the paths is
// launcher_test's (root and nobody, the Launcher and the pool).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "nsenter/held_namespaces.hpp"
#include "nsenter/wire.hpp"

using namespace nsenter;

namespace {

UniqueFd open_ns(const std::string& proc, const char* kind) {
  return UniqueFd(::open((proc + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC));
}

// A child paused until killed, and its pidfd.
struct Child {
  pid_t pid = ::fork();
  UniqueFd pidfd;
  Child() {
    if (pid == 0) {
      ::pause();
      ::_exit(0);
    }
    pidfd.reset(detail::pidfd_open(pid));
  }
  void end() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~Child() { end(); }
};

}  // namespace

TEST_CASE("held joins: each named by the number the init gets it at, after the paths already given") {
  UniqueFd uts = open_ns("/proc/self", "uts"), net = open_ns("/proc/self", "net");
  REQUIRE((uts && net));
  Bootstrap b;
  b.ns_paths = {{NsKind::ipc, "/proc/self/ns/ipc"}};
  b.ns_fds = {{NsKind::uts, uts.get()}, {NsKind::net, net.get()}};
  auto carried = carry_held_namespaces(b, 9);
  REQUIRE(carried);
  REQUIRE(carried->has_value());
  const CarriedJoins& c = **carried;
  CHECK(c.wire.ns_paths == std::vector<NsPath>{{NsKind::ipc, "/proc/self/ns/ipc"},
                                               {NsKind::uts, "/proc/self/fd/9"},
                                               {NsKind::net, "/proc/self/fd/10"}});
  CHECK(c.wire.ns_fds.empty());
  CHECK(c.fds == std::vector<int>{uts.get(), net.get()});
  CHECK(c.opened.empty());  // the caller's fds stay the caller's
  CHECK(wire::encode(c.wire));  // what goes on the wire is wire
}

TEST_CASE("held joins: none held is nothing to carry") {
  Bootstrap b;
  b.ns_paths = {{NsKind::ipc, "/proc/self/ns/ipc"}};
  auto carried = carry_held_namespaces(b, 9);
  REQUIRE(carried);
  CHECK(!carried->has_value());
}

TEST_CASE("held joins: a pidfd's namespaces are opened in kind order, and are the process's own") {
  Child child;
  REQUIRE(child.pidfd);
  Bootstrap b;
  b.ns_of_process = NsOfProcess{.pidfd = child.pidfd.get(), .kinds = NsSet{NsKind::net, NsKind::uts, NsKind::ipc}};
  auto carried = carry_held_namespaces(b, 5);
  REQUIRE(carried);
  REQUIRE(carried->has_value());
  const CarriedJoins& c = **carried;
  CHECK(c.wire.ns_paths == std::vector<NsPath>{{NsKind::uts, "/proc/self/fd/5"},
                                               {NsKind::ipc, "/proc/self/fd/6"},
                                               {NsKind::net, "/proc/self/fd/7"}});
  REQUIRE(c.opened.size() == 3);
  struct stat mine {}, theirs {};
  REQUIRE(::fstat(c.opened[0].get(), &mine) == 0);
  REQUIRE(::stat(("/proc/" + std::to_string(child.pid) + "/ns/uts").c_str(), &theirs) == 0);
  CHECK(mine.st_ino == theirs.st_ino);
  CHECK(c.fds[0] == c.opened[0].get());
}

TEST_CASE("held joins: refused, naming the field, the fd and why") {
  UniqueFd uts = open_ns("/proc/self", "uts");
  UniqueFd file(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  REQUIRE((uts && file));
  auto refused = [](const Bootstrap& b) {
    auto r = carry_held_namespaces(b, 9);
    REQUIRE(!r);
    CHECK(r.error().stage == Stage::Launcher);
    CHECK(r.error().op == Op::OpenNsPath);
    return r.error();
  };
  Bootstrap b;
  b.ns_fds = {{NsKind::net, file.get()}};
  Error e = refused(b);
  CHECK(e.code == Code::NotANamespace);
  CHECK(e.detail_view() == "net ns_fds[0] (fd " + std::to_string(file.get()) + "): a regular file");
  b.ns_fds = {{NsKind::pid, uts.get()}};
  e = refused(b);
  CHECK(e.code == Code::NotANamespace);
  CHECK(e.detail_view() == "pid ns_fds[0] (fd " + std::to_string(uts.get()) + "): a namespace of kind uts");
  b.ns_fds = {{NsKind::uts, uts.get()}, {NsKind::uts, uts.get()}};
  e = refused(b);
  CHECK(e.code == Code::DuplicateNsKind);
  b.ns_fds = {};
  b.ns_paths = {{NsKind::uts, "/proc/self/ns/uts"}};
  Child child;
  b.ns_of_process = NsOfProcess{.pidfd = child.pidfd.get(), .kinds = NsSet{NsKind::uts}};
  e = refused(b);
  CHECK(e.code == Code::DuplicateNsKind);
  b.ns_paths = {};
  child.end();  // exited and reaped
  e = refused(b);
  CHECK(e.code == Code::NoProcess);
  CHECK(e.detail_view() == "ns_of_process: pidfd " + std::to_string(child.pidfd.get()) + ": its process has exited");
  b.ns_of_process->pidfd = file.get();
  e = refused(b);
  CHECK(e.code == Code::SystemError);
  CHECK(e.sys_errno == EBADF);
}
