// SPDX-License-Identifier: Apache-2.0
// Starts per second with 1, 2, 8 and 32 concurrent launchers: runc's
// nsexec and the shipped nsrun, each started by nsenter's Launcher (the
// same driver for both, each from its own sealed memfd made once), and
// nsrun through an InitPool (clones of one template); each start ending
// in the exec of /bin/true and waited for. The systems take turns, in an
// order rotated level by level, in the same run.
//
//   throughput REF_INIT NSRUN [STARTS_PER_THREAD]      (default 40)
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "launch_and_wait.hpp"
#include "nsenter/init_pool.hpp"
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

template <class Starter>
Outcome run_level(Starter& launcher, const char* argv0, const nsenter::Bootstrap& b, int threads,
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
  nsenter::InitPool pool({.init_binary = argv[2]});
  const nsenter::Bootstrap b = bench::userns_config();
  // Warm all three (the sealed memfds and the template are made by the first launch).
  (void)run_level(runc, "runc_ref_init", b, 1, 3);
  (void)run_level(nsrun, "nsrun", b, 1, 3);
  (void)run_level(pool, "nsrun", b, 1, 3);
  std::printf("user+pid+mnt+uts+ipc with maps, %d starts per launcher thread, each waited for.\n\n", per_thread);
  std::printf("| concurrent launchers | runc nsexec (starts/s) | errors | nsrun (starts/s) | errors | nsrun / runc "
              "| pool (starts/s) | errors | pool / runc |\n|---|---|---|---|---|---|---|---|---|\n");
  int failed = 0;
  int level = 0;
  for (int threads : {1, 2, 8, 32}) {
    Outcome r, n, p;
    for (int turn = 0; turn < 3; ++turn) switch ((turn + level) % 3) {
        case 0: r = run_level(runc, "runc_ref_init", b, threads, per_thread); break;
        case 1: n = run_level(nsrun, "nsrun", b, threads, per_thread); break;
        default: p = run_level(pool, "nsrun", b, threads, per_thread); break;
      }
    ++level;
    failed += r.errors + n.errors + p.errors;
    std::printf("| %d | %.0f | %d | %.0f | %d | %.2f | %.0f | %d | %.2f |\n", threads, r.per_second, r.errors,
                n.per_second, n.errors, n.per_second / r.per_second, p.per_second, p.errors, p.per_second / r.per_second);
  }
  return failed == 0 ? 0 : 1;
}
