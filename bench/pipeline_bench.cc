// SPDX-License-Identifier: Apache-2.0
// Whole-start benchmark of the binaries users run: an init started through
// runc 1.1's protocol (socketpair on fd 3, handshake, bootstrap message,
// pid line), ending in the exec of /bin/true, timed until all three stages
// are reaped. Every system runs every config in the same process, in an
// order shuffled each round:
//   runc          runc 1.1's own nsexec (runc_ref_init) from disk, as shipped:
//                 it protects itself (CVE-2019-5736) by a bind mount or copy
//   runc-sealed   the same, exec'd from a sealed memfd made once
//   nsrun         the shipped nsrun (-c opt) from disk: protects itself
//   nsrun-sealed  nsrun exec'd from a sealed memfd made once
//   launcher      nsrun started by nsenter's Launcher (its own sealed memfd)
//                 (this process is root: the launchers skip the rootless config)
//   launcher-3    the same, with the one-clone plan turned off (runc's
//                 three stages; LaunchOptions::one_clone = false)
//   launcher-path the Launcher exec'ing nsrun by path
//                 (exec_from_sealed_memfd = false): the init protects
//                 itself, copying only where the container could write it
//   launcher-unwritable  the Launcher with skip_protection_when_unwritable:
//                 it checks the binary itself (the sealed memfd otherwise);
//                 an exec'd init then runs the plan launcher-path does
//   pool          nsrun started by an InitPool: forks of one template
//                 exec'd once from the pool's sealed memfd
//   floor         no init at all: this process clones a child into the new
//                 namespaces (or one that setns(2)s into the joined ones
//                 and forks), writes its maps, and the child execs
//                 /bin/true: the least any init started from here costs
// Prints min / median / p90, the ratio of medians to `runc`, and the
// median bytes a start wrote through the file API (wchar of /proc/self/io,
// children included once reaped: a copy of the binary shows in full;
// socket sends do not count); with
// NSENTER_BENCH_SAMPLES=FILE, appends every sample to FILE (for the plot).
//
//   pipeline_bench ROUNDS REF_INIT NSRUN
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "launch_and_wait.hpp"
#include "nsenter/init_pool.hpp"
#include "nsenter/launcher.hpp"
#include "nsenter/self_protection.hpp"
#include "nsenter/wire.hpp"

extern char** environ;

namespace {

// Bytes this process and its reaped children have written (wchar of
// /proc/self/io: write, sendfile and the like, counted for a child once
// it is reaped). Around one start, it is what the start wrote: the
// messages, logs and map writes, a few hundred bytes, plus a copy of the
// binary where the init made one (sendfile into a memfd counts in full).
unsigned long long written_bytes() {
  std::FILE* f = std::fopen("/proc/self/io", "re");
  if (f == nullptr) std::abort();
  char line[128];
  unsigned long long wchar = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::sscanf(line, "wchar: %llu", &wchar) == 1) break;
  std::fclose(f);
  return wchar;
}

double now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// One start as runc's parent makes it; returns microseconds, or -1 if the
// init failed. With `exe_fd` >= 0 the init is exec'd from that fd; with
// `as_nobody` it runs as nobody (a rootless runtime's init).
double start_once(const char* binary, const nsenter::wire::Bytes& msg, int exe_fd, bool as_nobody) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) std::abort();
  const double t0 = now_us();
  const pid_t stage0 = fork();
  if (stage0 == 0) {
    constexpr uid_t kNobody = 65534;
    if (as_nobody && (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
                      setresuid(kNobody, kNobody, kNobody) != 0))
      _exit(126);
    dup2(sp[1], 3);
    setenv("_LIBCONTAINER_INITPIPE", "3", 1);
    char* argv[] = {const_cast<char*>(binary), const_cast<char*>("--"), const_cast<char*>("/bin/true"), nullptr};
    if (exe_fd >= 0)
      fexecve(exe_fd, argv, environ);
    else
      execv(binary, argv);
    _exit(127);
  }
  close(sp[1]);
  char hello;
  bool ok = read(sp[0], &hello, 1) == 1 && write(sp[0], msg.data(), msg.size()) == ssize_t(msg.size());
  std::string line;
  char c;
  while (ok && read(sp[0], &c, 1) == 1 && c != '\n') line += c;
  int s1 = 0, s2 = 0;
  ok = ok && std::sscanf(line.c_str(), "{\"stage1_pid\":%d,\"stage2_pid\":%d}", &s1, &s2) == 2;
  int st0 = 0, st1 = 0, st2 = 0;
  waitpid(stage0, &st0, 0);
  if (ok) {
    waitpid(s1, &st1, 0);
    waitpid(s2, &st2, 0);
  }
  const double t = now_us() - t0;
  close(sp[0]);
  const bool clean = ok && WIFEXITED(st0) && !WEXITSTATUS(st0) && WIFEXITED(st1) && !WEXITSTATUS(st1) &&
                     WIFEXITED(st2) && !WEXITSTATUS(st2);
  return clean ? t : -1;
}

// The binary in a sealed memfd, made once and reused for every start, as a
// launcher does: the init then finds /proc/self/exe already protected.
int sealed_copy(const char* binary) {
  auto fd = nsenter::sealed_memfd_copy(binary, "bench-sealed-init");
  if (!fd) std::abort();
  return fcntl(fd->get(), F_DUPFD_CLOEXEC, 10);  // above fd 3, which the child's dup2 takes
}

template <class Starter>
double launch_once(Starter& launcher, const nsenter::Bootstrap& config, bool one_clone = true) {
  const double t0 = now_us();
  const bool ok = bench::launch_and_wait(launcher, config, "nsrun", one_clone);
  const double t = now_us() - t0;
  return ok ? t : -1;
}

void write_or_die(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text.data(), text.size()) != ssize_t(text.size())) std::abort();
  close(fd);
}

// The floor: the system calls a start of `config` cannot do without, made
// from this process, no init binary and no protocol. One clone(2) into
// the new namespaces, held on a socket until this process has written the
// maps, then the exec of /bin/true; for joins, a child that setns(2)s into
// each namespace, then forks (a joined pid namespace takes in only new
// processes) and waits. Root only (the rootless config skips it).
double floor_once(const nsenter::Bootstrap& config) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) std::abort();
  const double t0 = now_us();
  const unsigned long flags = config.clone_flags ? config.clone_flags->clone_flags() : 0;
  const long pid = syscall(SYS_clone, SIGCHLD | flags, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    close(sp[0]);
    char go;
    if (read(sp[1], &go, 1) != 1) _exit(126);
    for (const auto& ns : config.ns_paths) {
      const int fd = open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, 0) != 0) _exit(125);
      close(fd);
    }
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    if (config.ns_paths.empty()) {
      execv(argv[0], argv);
      _exit(127);
    }
    const pid_t child = fork();
    if (child == 0) {
      execv(argv[0], argv);
      _exit(127);
    }
    int st = 0;
    waitpid(child, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128);
  }
  close(sp[1]);
  if (pid < 0) std::abort();
  const std::string proc = "/proc/" + std::to_string(pid) + "/";
  auto map_text = [](const std::vector<nsenter::IdMapEntry>& map) {
    std::string text;
    for (const auto& e : map) text += std::to_string(e.inside) + " " + std::to_string(e.outside) + " " + std::to_string(e.count) + "\n";
    return text;
  };
  if (!config.uid_map.empty()) write_or_die(proc + "uid_map", map_text(config.uid_map));
  if (!config.gid_map.empty()) write_or_die(proc + "gid_map", map_text(config.gid_map));
  const bool sent = write(sp[0], "g", 1) == 1;
  int st = 0;
  waitpid(static_cast<pid_t>(pid), &st, 0);
  const double t = now_us() - t0;
  close(sp[0]);
  return sent && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : -1;
}

// A container to join: a process that is pid 1 of its own pid namespace
// and has its own mnt, uts, ipc and net namespaces, paused until killed.
// Returns its pid and its parent's (which reaps it), both ours to kill.
struct JoinTarget {
  pid_t parent = -1, target = -1;
  JoinTarget() {
    int report[2];
    if (pipe(report) != 0) std::abort();
    parent = fork();
    if (parent == 0) {
      if (unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) != 0) _exit(1);
      const pid_t child = fork();
      if (child == 0) {
        for (;;) pause();
      }
      if (write(report[1], &child, sizeof child) != sizeof child) _exit(1);
      waitpid(child, nullptr, 0);
      _exit(0);
    }
    close(report[1]);
    if (read(report[0], &target, sizeof target) != sizeof target) std::abort();
    close(report[0]);
  }
  ~JoinTarget() {
    kill(target, SIGKILL);  // pid 1 of its namespace: the parent's waitpid returns
    waitpid(parent, nullptr, 0);
  }
  std::string ns(std::string_view kind) const { return "/proc/" + std::to_string(target) + "/ns/" + std::string(kind); }
};

// World-readable copies of the binaries, in a 0755 directory of their
// own, so that nobody can exec them (Bazel's outputs live under /root).
struct ReadableCopies {
  std::string dir;
  std::string ref, nsrun;
  ReadableCopies(const char* ref_path, const char* nsrun_path) {
    char tmpl[] = "/tmp/pipeline-bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr || chmod(tmpl, 0755) != 0) std::abort();
    dir = tmpl;
    ref = copy(ref_path, "runc_ref_init");
    nsrun = copy(nsrun_path, "nsrun");
  }
  ~ReadableCopies() {
    unlink(ref.c_str());
    unlink(nsrun.c_str());
    rmdir(dir.c_str());
  }
  std::string copy(const char* from, const char* name) const {
    const std::string to = dir + "/" + name;
    const int in = open(from, O_RDONLY | O_CLOEXEC);
    const int out = open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (in < 0 || out < 0) std::abort();
    char buf[65536];
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;)
      if (write(out, buf, static_cast<std::size_t>(n)) != n) std::abort();
    close(in);
    close(out);
    return to;
  }
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pipeline_bench ROUNDS REF_INIT NSRUN\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]);
  const ReadableCopies copies(argv[2], argv[3]);
  const char* ref = copies.ref.c_str();
  const char* nsrun = copies.nsrun.c_str();
  using nsenter::NsKind;
  struct Config {
    const char* name;
    nsenter::Bootstrap bootstrap;
    bool rootless = false;  // the init runs as nobody; only the runc-like parent starts it
  };
  std::vector<Config> configs;
  configs.push_back({"no namespaces", nsenter::Bootstrap{}});
  {
    nsenter::Bootstrap b;
    b.clone_flags = nsenter::NsSet{NsKind::pid};
    configs.push_back({"pid", b});
  }
  const JoinTarget target;
  {
    nsenter::Bootstrap b;
    for (NsKind k : {NsKind::mnt, NsKind::uts, NsKind::ipc, NsKind::net, NsKind::pid})
      b.ns_paths.push_back({k, target.ns(nsenter::name(k))});
    configs.push_back({"join mnt+uts+ipc+net+pid", b});
  }
  {
    nsenter::Bootstrap b;
    b.clone_flags = nsenter::NsSet{NsKind::mnt, NsKind::uts, NsKind::ipc, NsKind::pid, NsKind::net};
    configs.push_back({"mnt+uts+ipc+pid+net", b});
  }
  configs.push_back({"user+pid+mnt+uts+ipc, maps", bench::userns_config()});
  {
    // A rootless runtime's: nobody mapped to root of a new user namespace.
    nsenter::Bootstrap b;
    b.clone_flags = nsenter::NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc};
    b.uid_map = {{0, 65534, 1}};
    b.gid_map = {{0, 65534, 1}};
    b.rootless_euid = true;
    configs.push_back({"rootless: user+pid+mnt+uts+ipc, nobody as root", b, true});
  }
  const char* systems[] = {"runc",       "runc-sealed",   "nsrun",
                           "nsrun-sealed", "launcher",   "launcher-3",
                           "launcher-path", "launcher-unwritable", "pool", "floor"};
  constexpr int kSystems = 10;
  constexpr int kRunsAsNobody = 4;  // the first four; the rest start from this process, as root
  const int ref_sealed = sealed_copy(ref), nsrun_sealed = sealed_copy(nsrun);
  nsenter::Launcher launcher({.init_binary = nsrun});
  nsenter::Launcher by_path({.init_binary = nsrun, .exec_from_sealed_memfd = false});
  nsenter::Launcher unwritable({.init_binary = nsrun, .skip_protection_when_unwritable = true});
  nsenter::InitPool pool({.init_binary = nsrun});
  std::vector<nsenter::wire::Bytes> messages;
  for (const Config& c : configs) messages.push_back(*nsenter::wire::encode(c.bootstrap));

  // times[config][system], and the bytes each start wrote
  std::vector<std::vector<std::vector<double>>> times(configs.size(), std::vector<std::vector<double>>(kSystems));
  std::vector<std::vector<std::vector<double>>> written(configs.size(), std::vector<std::vector<double>>(kSystems));
  std::mt19937 rng(20261201);
  std::vector<std::pair<std::size_t, int>> order;
  for (std::size_t c = 0; c < configs.size(); ++c)
    for (int s = 0; s < (configs[c].rootless ? kRunsAsNobody : kSystems); ++s) order.emplace_back(c, s);
  for (int round = 0; round < rounds + 3; ++round) {  // 3 warm-up rounds, not recorded
    std::shuffle(order.begin(), order.end(), rng);
    for (const auto& [c, s] : order) {
      const auto& msg = messages[c];
      const bool nobody = configs[c].rootless;
      const unsigned long long written_before = written_bytes();
      const double t = s == 0   ? start_once(ref, msg, -1, nobody)
                       : s == 1 ? start_once(ref, msg, ref_sealed, nobody)
                       : s == 2 ? start_once(nsrun, msg, -1, nobody)
                       : s == 3 ? start_once(nsrun, msg, nsrun_sealed, nobody)
                       : s == 4 ? launch_once(launcher, configs[c].bootstrap)
                       : s == 5 ? launch_once(launcher, configs[c].bootstrap, false)
                       : s == 6 ? launch_once(by_path, configs[c].bootstrap)
                       : s == 7 ? launch_once(unwritable, configs[c].bootstrap)
                       : s == 8 ? launch_once(pool, configs[c].bootstrap)
                                : floor_once(configs[c].bootstrap);
      if (t < 0) {
        std::fprintf(stderr, "%s failed on '%s'\n", systems[s], configs[c].name);
        return 1;
      }
      if (round >= 3) {
        times[c][static_cast<std::size_t>(s)].push_back(t);
        written[c][static_cast<std::size_t>(s)].push_back(static_cast<double>(written_bytes() - written_before));
      }
    }
  }
  struct stat st_ref {}, st_nsrun {};
  stat(ref, &st_ref);
  stat(nsrun, &st_nsrun);
  std::printf("Binaries: runc nsexec %lld bytes, nsrun %lld bytes; %d rounds, each system and config once per round in "
              "shuffled order.\n\n",
              static_cast<long long>(st_ref.st_size), static_cast<long long>(st_nsrun.st_size), rounds);
  // Every sample, for bench/plot_latency.py, if asked.
  if (const char* path = std::getenv("NSENTER_BENCH_SAMPLES")) {
    if (std::FILE* f = std::fopen(path, "a")) {
      for (std::size_t c = 0; c < configs.size(); ++c)
        for (int s = 0; s < kSystems; ++s)
          for (double t : times[c][static_cast<std::size_t>(s)])
            std::fprintf(f, "init\t%s\t%s\t%.0f\n", configs[c].name, systems[s], t);
      std::fclose(f);
    }
  }
  std::printf("| config | system | min (us) | median (us) | p90 (us) | median / runc's | bytes written per start (wchar) |\n"
              "|---|---|---|---|---|---|---|\n");
  for (std::size_t c = 0; c < configs.size(); ++c) {
    const double base = quantile(times[c][0], 0.5);
    for (int s = 0; s < kSystems; ++s) {
      const auto& v = times[c][static_cast<std::size_t>(s)];
      if (v.empty()) continue;  // not run in this config (the launchers in the rootless one)
      std::printf("| %s | %s | %.0f | %.0f | %.0f | %.2f | %.0f |\n", configs[c].name, systems[s], quantile(v, 0),
                  quantile(v, 0.5), quantile(v, 0.9), quantile(v, 0.5) / base,
                  quantile(written[c][static_cast<std::size_t>(s)], 0.5));
    }
  }
  return 0;
}
