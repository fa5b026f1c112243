// Whole-init benchmark: starts an init binary through runc 1.1's protocol
// (socketpair on fd 3, handshake, bootstrap message, pid line), waits for
// all three stages to exit, and reports the median start-to-reaped time.
// runc's own nsexec (runc_ref_init) and ours (bench_init) run the same
// messages in the same process, interleaved start by start; ours also from
// a sealed memfd made once, and through nsenter's Launcher.
//
//   pipeline_bench STARTS REF_INIT OUR_INIT
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nsenter/launcher.hpp"
#include "nsenter/self_protection.hpp"
#include "nsenter/wire.hpp"

extern char** environ;

namespace {

double now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// One start; returns microseconds, or -1 if the init failed. With
// `exe_fd` >= 0 the init is exec'd from that fd (a sealed memfd).
double start_once(const char* binary, const nsenter::wire::Bytes& msg, int exe_fd = -1) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) std::abort();
  const double t0 = now_us();
  const pid_t stage0 = fork();
  if (stage0 == 0) {
    dup2(sp[1], 3);
    setenv("_LIBCONTAINER_INITPIPE", "3", 1);
    char* argv[] = {const_cast<char*>(binary), nullptr};
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

// The binary in a sealed memfd, made once and reused for every start, as
// a launcher does: the init then finds /proc/self/exe already protected.
int sealed_copy(const char* binary) {
  auto fd = nsenter::sealed_memfd_copy(binary, "bench-sealed-init");
  if (!fd) std::abort();
  // Above fd 3, which the child's dup2 takes.
  const int high = fcntl(fd->get(), F_DUPFD_CLOEXEC, 10);
  return high;
}

// One start through nsenter's Launcher (which keeps its own sealed copy):
// launch, then wait for stage 2, as the driver above waits for all three.
double launch_once(nsenter::Launcher& launcher, const nsenter::Bootstrap& config) {
  const double t0 = now_us();
  nsenter::LaunchOptions opt;
  opt.argv = {"bench_init"};
  opt.stdio = {-1, -1, 2};
  auto init = launcher.launch(config, opt);
  if (!init) {
    std::fprintf(stderr, "launch: %s\n", nsenter::to_string(init.error()).c_str());
    return -1;
  }
  auto status = init->wait();
  const double t = now_us() - t0;
  return status && status->success() ? t : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: pipeline_bench STARTS REF_INIT OUR_INIT\n");
    return 2;
  }
  const int starts = std::atoi(argv[1]);
  struct Case {
    const char* name;
    nsenter::Bootstrap config;
  };
  using nsenter::NsKind;
  std::vector<Case> cases;
  {
    nsenter::Bootstrap b;
    b.clone_flags = nsenter::NsSet{NsKind::pid};
    b.rootless_euid = false;
    cases.push_back({"pid namespace only", b});
  }
  {
    nsenter::Bootstrap b;
    b.clone_flags = nsenter::NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc, NsKind::net};
    b.uid_map = {{0, 100000, 65536}};
    b.gid_map = {{0, 100000, 65536}};
    b.setgroups = true;
    b.rootless_euid = false;
    cases.push_back({"user+pid+mnt+uts+ipc+net, maps", b});
  }
  const int sealed = sealed_copy(argv[3]);
  nsenter::Launcher launcher({.init_binary = argv[3]});
  std::printf(
      "| case | runc nsexec (us) | nsenter (us) | ratio runc/nsenter | nsenter from a sealed memfd made once (us) | "
      "ratio runc/that | nsenter through its Launcher (us) | ratio runc/that |\n|---|---|---|---|---|---|---|---|\n");
  for (const Case& c : cases) {
    auto msg = nsenter::wire::encode(c.config);
    if (!msg) return 1;
    std::vector<double> times[4];
    for (int i = 0; i < starts; ++i) {
      // Interleaved, rotating who goes first.
      for (int k = 0; k < 4; ++k) {
        const int who = (i + k) % 4;
        const double t = who == 0   ? start_once(argv[2], *msg)
                         : who == 1 ? start_once(argv[3], *msg)
                         : who == 2 ? start_once(argv[3], *msg, sealed)
                                    : launch_once(launcher, c.config);
        if (t < 0) {
          std::fprintf(stderr, "init %d failed on '%s'\n", who, c.name);
          return 1;
        }
        times[who].push_back(t);
      }
    }
    const double ref = median(times[0]), ours = median(times[1]), ours_sealed = median(times[2]),
                 launched = median(times[3]);
    std::printf("| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |\n", c.name, ref, ours, ref / ours, ours_sealed,
                ref / ours_sealed, launched, ref / launched);
  }
  return 0;
}
