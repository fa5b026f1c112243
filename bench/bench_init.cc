// SPDX-License-Identifier: Apache-2.0
// nsenter's side of bench/pipeline_bench: the default (runc-compatible)
// pipeline in a constructor; in stage 2 main() exits, as runc_ref_init's
// does after runc's nsexec().
#include <unistd.h>

#include <string_view>

#include "nsenter/embed.hpp"

namespace {
void on_init(nsenter::InitContext&, int, char**) {}
}  // namespace

NSENTER_INIT_CONSTRUCTOR(bench_nsexec, 200, nsenter::RuncCompatNsexec, on_init)

// With "hold", stays alive until stdin closes, as runc_ref_init does.
int main(int argc, char** argv) {
  char c;
  if (argc > 1 && std::string_view(argv[1]) == "hold")
    while (::read(0, &c, 1) > 0) {
    }
  return 0;
}
