/* The reference init for bench/pipeline_bench: runc 1.1's own nsexec()
 * (compiled from Debian's golang-github-opencontainers-runc-dev), run from
 * a constructor exactly as runc's cgo preamble runs it; main() then exits,
 * as bench_init does after our pipeline. */
extern void nsexec(void);

__attribute__((constructor)) static void run_nsexec(void) { nsexec(); }

int main(void) { return 0; }
