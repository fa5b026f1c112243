// nsenter's side of bench/pipeline_bench: the default (runc-compatible)
// pipeline in a constructor; in stage 2 main() exits, as runc_ref_init's
// does after runc's nsexec().
#include "nsenter/embed.hpp"

namespace {
void on_init(nsenter::InitContext&, int, char**) {}
}  // namespace

NSENTER_INIT_CONSTRUCTOR(bench_nsexec, 200, nsenter::RuncCompatNsexec, on_init)

int main() { return 0; }
