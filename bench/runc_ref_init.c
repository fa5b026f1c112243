/* The reference init for bench/pipeline_bench and bench/memory_bench:
 * runc 1.1's own nsexec() (compiled from Debian's
 * golang-github-opencontainers-runc-dev), run from a constructor exactly as
 * runc's cgo preamble runs it; main() then exits, as bench_init does after
 * our pipeline, or with "hold" stays alive until stdin closes (a created,
 * not yet started container). */
#include <string.h>
#include <unistd.h>

extern void nsexec(void);

__attribute__((constructor)) static void run_nsexec(void) { nsexec(); }

int main(int argc, char** argv) {
  char c;
  if (argc > 1 && strcmp(argv[1], "hold") == 0)
    while (read(0, &c, 1) > 0) {
    }
  return 0;
}
