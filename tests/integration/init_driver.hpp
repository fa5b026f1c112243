// SPDX-License-Identifier: Apache-2.0
// A test parent that plays runc 1.1's side of the init protocol against a
// real init binary (nsrun): socketpair on fd 3, log pipe on fd 4, the NUL
// handshake, the bootstrap bytes (built with the test-only MessageBuilder,
// not the library's encoder), the strict pid line, and reaping of every
// process the init creates (stages 1 and 2 are our children because of
// CLONE_PARENT). It knows nothing of the library beyond the wire facts.
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace nsenter::test {

inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Not a time limit on anything tested: only how long a hung init may live
// before the driver kills it, so that a failing test still cleans up (stage
// 2 is a session leader, out of reach of Bazel's process-group kill).
inline constexpr int kHangGuardSeconds = 60;

#ifdef NSENTER_TEST_RUNC12_PARENT
inline constexpr bool kRunc12ParentByDefault = true;
#else
inline constexpr bool kRunc12ParentByDefault = false;
#endif

struct InitOptions {
  std::optional<std::pair<uid_t, gid_t>> drop_to;  // run the init as this user
  std::string log_level = "5";
  std::optional<std::size_t> send_only;  // send this many bytes, then shut down
  std::function<void(pid_t stage0)> after_send;  // runs once the message is sent
  std::vector<std::pair<std::string, std::string>> env;  // extra variables
  int exec_fd = -1;  // exec this fd (fexecve) instead of the binary's path
  // Left open in the init without close-on-exec, as a careless runtime
  // (or a shell's `exec 7<file`) leaves them: `leaked_file` on each.
  std::vector<int> leaked_fds;
  std::string leaked_file = "/etc/hostname";
  std::vector<std::string> init_flags;  // between the binary and "--"
  // Play runc >= 1.2's parent: a second socketpair (SOCK_SEQPACKET) named
  // in _LIBCONTAINER_SYNCPIPE (on fd 5), no NUL byte waited for, and the
  // pid line's first byte must open it, as Go's json.Decoder reads it.
  // By default in init_protocol_runc12_test, which runs every case of
  // init_protocol_test that runc 1.2 still has this way.
  bool runc12 = kRunc12ParentByDefault;
};

struct InitResult {
  int stage0_status = -1;
  std::optional<pid_t> stage1_pid, stage2_pid;
  int stage1_status = -1, stage2_status = -1;
  std::string pid_line;
  std::string stdout_text;
  std::string pipe_tail;  // what arrived on the init pipe after the pid line
  std::vector<std::string> log_lines;
  std::vector<int> other_statuses;  // children that were neither stage (helpers, orphans)
  int leftover_children = 0;  // processes still alive after the hang guard (killed)

  bool exited(int status, int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
  // The pid line named stage 2 twice: the one-clone plan, no stage 1 (its
  // status is then stage 2's).
  bool one_clone() const { return stage1_pid && stage2_pid && *stage1_pid == *stage2_pid; }
  bool ok() const {
    return exited(stage0_status, 0) && exited(stage1_status, 0) && exited(stage2_status, 0) && leftover_children == 0;
  }
  std::string fatal() const {
    for (const auto& l : log_lines)
      if (l.find(R"("level":"fatal")") != std::string::npos) return l;
    return {};
  }
  // "key=value" lines printed by the command.
  std::map<std::string, std::string> values() const {
    std::map<std::string, std::string> out;
    std::istringstream in(stdout_text);
    std::string line;
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }
  std::string describe() const {
    std::string s = "stage0 status " + std::to_string(stage0_status) + ", pid line '" + pid_line + "'\nstdout:\n" +
                    stdout_text + "log:\n";
    for (const auto& l : log_lines) s += l + "\n";
    return s;
  }
};

// Runs `init_binary -- argv...` as an init with `message` as its bootstrap.
inline InitResult run_init(const std::string& init_binary, const std::string& message,
                           const std::vector<std::string>& argv, const InitOptions& opt = {}) {
  InitResult res;
  const std::vector<pid_t> before = live_children();  // not the init's
  int sp[2], logp[2], outp[2], sync[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 || ::pipe2(logp, O_CLOEXEC) != 0 ||
      ::pipe2(outp, O_CLOEXEC) != 0 ||
      (opt.runc12 && ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) != 0))
    throw std::runtime_error("socketpair/pipe failed");
  const pid_t stage0 = ::fork();
  if (stage0 == 0) {
    // The runtime's child: fds 3 and 4 as runc sets them, stdout to us.
    ::dup2(sp[1], 3);
    ::dup2(logp[1], 4);
    ::dup2(outp[1], 1);
    if (opt.runc12) {
      ::dup2(sync[1], 5);
      ::setenv("_LIBCONTAINER_SYNCPIPE", "5", 1);
    }
    for (int fd : opt.leaked_fds) {
      const int file = ::open(opt.leaked_file.c_str(), O_RDONLY);
      if (file < 0 || ::dup2(file, fd) < 0) ::_exit(123);
      ::close(file);
    }
    if (opt.drop_to) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(opt.drop_to->second, opt.drop_to->second, opt.drop_to->second) ||
          ::setresuid(opt.drop_to->first, opt.drop_to->first, opt.drop_to->first))
        ::_exit(121);
    }
    ::setenv("_LIBCONTAINER_INITPIPE", "3", 1);
    ::setenv("_LIBCONTAINER_LOGPIPE", "4", 1);
    ::setenv("_LIBCONTAINER_LOGLEVEL", opt.log_level.c_str(), 1);
    for (const auto& [name, value] : opt.env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    args.push_back(const_cast<char*>(init_binary.c_str()));
    for (const auto& f : opt.init_flags) args.push_back(const_cast<char*>(f.c_str()));
    args.push_back(const_cast<char*>("--"));
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (opt.exec_fd >= 0)
      ::fexecve(opt.exec_fd, args.data(), environ);
    else
      ::execv(init_binary.c_str(), args.data());
    ::_exit(122);
  }
  ::close(sp[1]);
  ::close(logp[1]);
  ::close(outp[1]);
  if (opt.runc12) ::close(sync[1]);
  const int pipe = sp[0];
  // Hang guard for the blocking reads below (see kHangGuardSeconds).
  const timeval guard{kHangGuardSeconds, 0};
  ::setsockopt(pipe, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  char hello = 1;
  if (opt.runc12 || (::read(pipe, &hello, 1) == 1 && hello == '\0')) {
    const std::size_t n = opt.send_only.value_or(message.size());
    if (::write(pipe, message.data(), n) != static_cast<ssize_t>(n)) throw std::runtime_error("write message");
    if (opt.send_only) ::shutdown(pipe, SHUT_WR);
    if (opt.after_send) opt.after_send(stage0);
    // The pid line, byte by byte up to '\n', exactly as runc's parent
    // decodes it (strict: no unknown fields).
    char c;
    while (::read(pipe, &c, 1) == 1) {
      res.pid_line += c;
      if (c == '\n') break;
    }
    static const std::regex pid_json(R"(\{"stage1_pid":([0-9]+),"stage2_pid":([0-9]+)\}\n)");
    std::smatch m;
    if (std::regex_match(res.pid_line, m, pid_json)) {
      res.stage1_pid = std::stoi(m[1]);
      res.stage2_pid = std::stoi(m[2]);
    }
  }
  // Reap everything, reading the command's output meanwhile. Stages 1 and
  // 2 are our children (CLONE_PARENT); orphans of the init come to us too
  // (the test main makes this process a child subreaper). A process still
  // alive after the hang guard is killed and counted as left over.
  ::fcntl(outp[0], F_SETFL, O_NONBLOCK);
  ::fcntl(logp[0], F_SETFL, O_NONBLOCK);
  ::fcntl(pipe, F_SETFL, O_NONBLOCK);
  auto drain = [](int fd, std::string& into) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) into.append(buf, static_cast<std::size_t>(n));
  };
  std::string log_text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kHangGuardSeconds);
  auto record = [&](pid_t pid, int status) {
    if (pid == stage0) res.stage0_status = status;
    else if (res.one_clone() && pid == *res.stage2_pid) res.stage1_status = res.stage2_status = status;
    else if (res.stage1_pid && pid == *res.stage1_pid) res.stage1_status = status;
    else if (res.stage2_pid && pid == *res.stage2_pid) res.stage2_status = status;
    else res.other_statuses.push_back(status);
  };
  auto reap_exited = [&] {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) record(pid, status);
  };
  while (true) {
    drain(outp[0], res.stdout_text);
    drain(logp[0], log_text);
    drain(pipe, res.pipe_tail);
    reap_exited();
    // Done when every child but those that existed before is gone; a last
    // pass reaps any that turned zombie since.
    bool init_alive = false;
    for (pid_t child : live_children()) init_alive |= !contains(before, child);
    if (!init_alive) {
      reap_exited();
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      res.leftover_children = kill_and_reap_children(before);
      break;
    }
    ::usleep(2000);
  }
  drain(outp[0], res.stdout_text);
  drain(logp[0], log_text);
  drain(pipe, res.pipe_tail);
  std::istringstream logs(log_text);
  for (std::string line; std::getline(logs, line);) res.log_lines.push_back(line);
  ::close(pipe);
  ::close(logp[0]);
  ::close(outp[0]);
  if (opt.runc12) ::close(sync[0]);
  return res;
}

}  // namespace nsenter::test
