// SPDX-License-Identifier: Apache-2.0
// Soak: many launches through one Launcher (or, with --pool, one
// InitPool), sequential and from many threads at once, each ending in the
// exec of /bin/true. Clean when every
// launch succeeded and the launcher's open fds and live children are back
// to their baseline; RSS is reported per phase (it must stay flat from one
// concurrent pass to the next). A benchmark-style run with its figures in
// docs/testing.md, not a timed test.
//
//   soak [--pool] NSRUN [SEQUENTIAL [THREADS [PER_THREAD]]]     (default 10000 32 200; bench/soak.sh)
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "launch_and_wait.hpp"
#include "nsenter/init_pool.hpp"
#include "nsenter/launcher.hpp"

namespace {

int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n - 1;  // the directory itself
}

// Children of this process still alive (the launcher is a child subreaper,
// so a stage that escaped reaping would be counted here).
int live_children() {
  int n = 0;
  const std::string self = std::to_string(::getpid());
  if (DIR* d = ::opendir("/proc")) {
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      char state = 0;
      int ppid = 0;
      if (std::sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 && std::to_string(ppid) == self &&
          state != 'Z')
        ++n;
    }
    ::closedir(d);
  }
  return n;
}

long rss_kb(pid_t pid = 0) {
  std::ifstream status(pid > 0 ? "/proc/" + std::to_string(pid) + "/status" : std::string("/proc/self/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

struct Baseline {
  int fds, children;
  long rss;
};

void report(const char* phase, int launches, int failed, double seconds, const Baseline& before) {
  const int fds = open_fds(), children = live_children();
  const long rss = rss_kb();
  std::printf("| %s | %d | %d | %.0f | %d -> %d | %d -> %d | %ld -> %ld |\n", phase, launches, failed,
              double(launches) / seconds, before.fds, fds, before.children, children, before.rss, rss);
}

// The template's pid and RSS, for a pool; nothing for a Launcher.
std::string held_by_template(const nsenter::Launcher&) { return {}; }
std::string held_by_template(const nsenter::InitPool& pool) {
  const pid_t pid = pool.template_pid();
  return " template " + std::to_string(pid) + ", RSS " + std::to_string(rss_kb(pid)) + " KB;";
}

template <class Starter>
int soak(Starter& launcher, int sequential, int threads, int per_thread) {
  const nsenter::Bootstrap b = bench::userns_config();
  // The sealed memfd (and a pool's template), made once, are part of the baseline.
  if (!bench::launch_and_wait(launcher, b, "nsrun")) return 1;
  const Baseline base{open_fds(), live_children(), rss_kb()};
  const std::string template_before = held_by_template(launcher);

  std::printf("| phase | launches | failed | launches/s | fds | live children | RSS (KB) |\n|---|---|---|---|---|---|---|\n");
  int failed = 0;
  double t0 = now_s();
  for (int i = 0; i < sequential; ++i) failed += bench::launch_and_wait(launcher, b, "nsrun") ? 0 : 1;
  report("sequential", sequential, failed, now_s() - t0, base);

  // Twice: the first pass grows glibc's per-thread malloc arenas, which
  // outlive their threads; a leak would grow the second pass too.
  std::atomic<int> concurrent_failed{0};
  for (int pass = 1; pass <= 2; ++pass) {
    t0 = now_s();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i)
          if (!bench::launch_and_wait(launcher, b, "nsrun")) concurrent_failed.fetch_add(1);
      });
    for (auto& t : pool) t.join();
    char label[64];
    std::snprintf(label, sizeof label, "concurrent, %d threads, pass %d", threads, pass);
    report(label, threads * per_thread, concurrent_failed.load(), now_s() - t0, base);
  }

  const bool clean = failed == 0 && concurrent_failed.load() == 0 && open_fds() == base.fds &&
                     live_children() == base.children;
  std::printf("\nsoak: %s (RSS within %ld KB of its baseline)\n", clean ? "clean" : "NOT CLEAN", rss_kb() - base.rss);
  if (!template_before.empty())
    std::printf("before:%s after:%s\n", template_before.c_str(), held_by_template(launcher).c_str());
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool through_pool = argc > 1 && std::strcmp(argv[1], "--pool") == 0;
  if (through_pool) {
    --argc;
    ++argv;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: soak [--pool] NSRUN [SEQUENTIAL [THREADS [PER_THREAD]]]\n");
    return 2;
  }
  const int sequential = argc > 2 ? std::atoi(argv[2]) : 10000;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 32;
  const int per_thread = argc > 4 ? std::atoi(argv[4]) : 200;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (through_pool) {
    nsenter::InitPool pool({.init_binary = argv[1]});
    return soak(pool, sequential, threads, per_thread);
  }
  nsenter::Launcher launcher({.init_binary = argv[1]});
  return soak(launcher, sequential, threads, per_thread);
}
