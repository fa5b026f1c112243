// SPDX-License-Identifier: Apache-2.0
// spawn() without privileges: fds moved onto targets that collide with
// their sources, every other fd closed, signal state reset, a process
// group of its own, the exec errno reported, and all of it from a process
// with several threads.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "nsenter/launcher.hpp"
#include "nsenter/spawn.hpp"
#include "support/test_util.hpp"

using namespace nsenter;

namespace {

struct Child {
  Spawned spawned;
  std::string out;
  ExitStatus status;
};

// Runs `sh -c script` with `fds` (stdout always a pipe we read).
Child run_sh(const std::string& script, std::vector<int> fds) {
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  if (fds.size() < 2) fds.resize(2, -1);
  fds[1] = out[1];
  std::vector<std::string> args{"sh", "-c", script};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
  SpawnRequest req;
  req.path = "/bin/sh";
  req.argv = argv.data();
  req.envp = envp;
  req.fds = fds;
  auto spawned = spawn(req);
  ::close(out[1]);
  if (!spawned) {
    ::close(out[0]);
    FAIL(to_string(spawned.error()));
  }
  Child c{std::move(*spawned), test::read_to_end_and_close(out[0]), {}};
  auto st = detail::reap_pidfd(c.spawned.pidfd.get());
  REQUIRE(st.has_value());
  c.status = *st;
  return c;
}

}  // namespace

TEST_CASE("fds land on their targets even when sources and targets collide") {
  // a and b end up on each other's numbers: a on 4, b on 3.
  int a[2], b[2];
  REQUIRE(::pipe2(a, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(b, O_CLOEXEC) == 0);
  // Put the write ends exactly on 3 and 4 (whatever held them is moved).
  const int a3 = ::fcntl(a[1], F_DUPFD_CLOEXEC, 100), b4 = ::fcntl(b[1], F_DUPFD_CLOEXEC, 100);
  ::close(a[1]);
  ::close(b[1]);
  std::vector<int> saved;
  for (int fd : {3, 4}) saved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 200));  // -1 if it was not open
  REQUIRE(::dup3(a3, 3, O_CLOEXEC) == 3);
  REQUIRE(::dup3(b4, 4, O_CLOEXEC) == 4);
  ::close(a3);
  ::close(b4);
  const Child c = run_sh("echo to-3 >&3; echo to-4 >&4; ls /proc/self/fd | sort -n | tr '\\n' ' '", {-1, -1, -1, 4, 3});
  ::close(3);
  ::close(4);
  for (int i = 0; i < 2; ++i)
    if (saved[i] >= 0) {
      ::dup3(saved[i], 3 + i, O_CLOEXEC);
      ::close(saved[i]);
    }
  CHECK(c.status.success());
  // fd 3 of the child was our fd 4 (pipe b), fd 4 was our fd 3 (pipe a).
  CHECK(test::read_to_end_and_close(b[0]) == "to-3\n");
  CHECK(test::read_to_end_and_close(a[0]) == "to-4\n");
  // 0 and 2 closed (ls takes 0 for its directory), nothing else leaked.
  CHECK(c.out == "0 1 3 4 ");
}

TEST_CASE("the child starts with default signal dispositions, an empty mask and its own process group") {
  struct sigaction ign {}, old_pipe {}, old_int {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old_pipe);
  ::sigaction(SIGINT, &ign, &old_int);
  sigset_t block, old_mask;
  ::sigemptyset(&block);
  ::sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  const Child c = run_sh("grep -E '^Sig(Ign|Blk)' /proc/self/status | tr -s '\\t' ' '; ps -o pid=,pgid= -p $$", {});
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  CHECK(c.status.success());
  CHECK(c.out.find("SigBlk: 0000000000000000\n") != std::string::npos);
  // sh itself may ignore nothing here: no -i, no traps.
  CHECK_MESSAGE(c.out.find("SigIgn: 0000000000000000\n") != std::string::npos, c.out);
  const auto last = c.out.substr(c.out.rfind("\n", c.out.size() - 2) + 1);
  int pid = 0, pgid = 0;
  REQUIRE(std::sscanf(last.c_str(), "%d %d", &pid, &pgid) == 2);
  CHECK(pid == c.spawned.pid);
  CHECK(pgid == pid);
}

TEST_CASE("an exec failure is the errno, not a status") {
  char* argv[] = {const_cast<char*>("nope"), nullptr};
  char* envp[] = {nullptr};
  for (const char* path : {"/nonexistent/program", "/"}) {
    SpawnRequest req;
    req.path = path;
    req.argv = argv;
    req.envp = envp;
    auto r = spawn(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().op == Op::SpawnInit);
    CHECK(r.error().sys_errno == (std::string_view(path) == "/" ? EACCES : ENOENT));
    CHECK(r.error().detail_view() == path);
  }
  // And no child is left (it was reaped).
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("spawning from many threads at once") {
  std::atomic<int> ok{0};
  std::atomic<bool> stop{false};
  // A thread that keeps opening fds without O_CLOEXEC, as careless code might.
  std::thread opener([&] {
    while (!stop) {
      const int fd = ::open("/dev/null", O_RDONLY);
      if (fd >= 0) ::close(fd);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        // Only fd 1 is given; ls's directory takes 0. A leaked fd would show.
        const Child c = run_sh("ls /proc/self/fd | sort -n | tr '\\n' ' '", {});
        if (c.status.success() && c.out == "0 1 ") ++ok;
      }
    });
  for (auto& t : threads) t.join();
  stop = true;
  opener.join();
  CHECK(ok == 40);
}
