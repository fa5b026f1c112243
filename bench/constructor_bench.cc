// SPDX-License-Identifier: Apache-2.0
// What a program with the pipeline wired into its constructor
// (NSENTER_INIT_CONSTRUCTOR) pays when it is started as anything but an
// init or a pool's template: the constructor's whole body, run here a
// million times in this process (its environment is the caller's), against
// the same loop without it, alternating in rounds. Prints nanoseconds per
// start, median of the rounds.
//
//   constructor_bench [ROUNDS]      (default 15)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "nsenter/embed.hpp"

namespace {

void on_init(nsenter::InitContext&, int, char**) {}

[[noreturn]] void from_pool(int, char**) { _exit(1); }

// The body NSENTER_INIT_CONSTRUCTOR gives the constructor.
__attribute__((noinline)) void constructor_body(int argc, char** argv) {
  nsenter::detail::pool::serve_if_template(from_pool);
  nsenter::detail::enter_if_init<nsenter::RuncCompatNsexec>(argc, argv, nsenter::nothing_before_pipeline, on_init);
}

__attribute__((noinline)) void nothing(int, char**) { asm volatile(""); }

double ns_per_call(void (*body)(int, char**), int argc, char** argv) {
  constexpr int kCalls = 1000000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) body(argc, argv);
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / kCalls;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  std::vector<double> with, without;
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) {
      with.push_back(ns_per_call(constructor_body, argc, argv));
      without.push_back(ns_per_call(nothing, argc, argv));
    } else {
      without.push_back(ns_per_call(nothing, argc, argv));
      with.push_back(ns_per_call(constructor_body, argc, argv));
    }
  }
  std::size_t vars = 0;
  for (char** e = environ; *e != nullptr; ++e) ++vars;
  std::printf("| program | ns per start (median of %d rounds of 10^6) |\n|---|---|\n", rounds);
  std::printf("| without the pipeline | %.1f |\n| with NSENTER_INIT_CONSTRUCTOR, not an init (%zu environment variables) | %.1f |\n",
              median(without), vars, median(with));
  return 0;
}
