// Starts per second with 1, 2, 8 and 32 concurrent launchers: runc's
// nsexec and the shipped nsrun, each started by nsenter's Launcher (the
// same driver for both, each from its own sealed memfd made once), each
// start ending in the exec of /bin/true and waited for. The systems
// alternate, level by level, in the same run.
//
//   throughput REF_INIT NSRUN [STARTS_PER_THREAD]      (default 40)
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "launch_and_wait.hpp"
#include "nsenter/launcher.hpp"

namespace {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

struct Outcome {
  double per_second = 0;
  int errors = 0;
};

Outcome run_level(nsenter::Launcher& launcher, const char* argv0, const nsenter::Bootstrap& b, int threads,
                  int per_thread) {
  std::atomic<int> errors{0};
  const double t0 = now_s();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i)
        if (!bench::launch_and_wait(launcher, b, argv0)) errors.fetch_add(1);
    });
  for (auto& t : pool) t.join();
  return {double(threads) * per_thread / (now_s() - t0), errors.load()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: throughput REF_INIT NSRUN [STARTS_PER_THREAD]\n");
    return 2;
  }
  const int per_thread = argc > 3 ? std::atoi(argv[3]) : 40;
  nsenter::Launcher runc({.init_binary = argv[1]});
  nsenter::Launcher nsrun({.init_binary = argv[2]});
  const nsenter::Bootstrap b = bench::userns_config();
  // Warm both (the sealed memfds are made by the first launch).
  (void)run_level(runc, "runc_ref_init", b, 1, 3);
  (void)run_level(nsrun, "nsrun", b, 1, 3);
  std::printf("user+pid+mnt+uts+ipc with maps, %d starts per launcher thread, each waited for.\n\n", per_thread);
  std::printf("| concurrent launchers | runc nsexec (starts/s) | errors | nsrun (starts/s) | errors | nsrun / runc |\n"
              "|---|---|---|---|---|---|\n");
  int failed = 0;
  for (int threads : {1, 2, 8, 32}) {
    // Alternate who goes first, level by level.
    Outcome r, n;
    if (threads % 2 == 0) {
      r = run_level(runc, "runc_ref_init", b, threads, per_thread);
      n = run_level(nsrun, "nsrun", b, threads, per_thread);
    } else {
      n = run_level(nsrun, "nsrun", b, threads, per_thread);
      r = run_level(runc, "runc_ref_init", b, threads, per_thread);
    }
    failed += r.errors + n.errors;
    std::printf("| %d | %.0f | %d | %.0f | %d | %.2f |\n", threads, r.per_second, r.errors, n.per_second, n.errors,
                n.per_second / r.per_second);
  }
  return failed == 0 ? 0 : 1;
}
