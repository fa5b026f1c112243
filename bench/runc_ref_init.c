// SPDX-License-Identifier: Apache-2.0
/* The reference init for bench/pipeline_bench and bench/memory_bench:
 * runc 1.1's own nsexec() (compiled from Debian's
 * golang-github-opencontainers-runc-dev), run from a constructor exactly as
 * runc's cgo preamble runs it. In stage 2, main() then execs the command
 * after "--" (as runc's Go init execs the container's process; nsrun takes
 * the same argv), or with "hold" stays alive until stdin closes (a created,
 * not yet started container), or exits. */
#include <string.h>
#include <unistd.h>

extern void nsexec(void);
extern char **environ;

__attribute__((constructor)) static void run_nsexec(void) { nsexec(); }

int main(int argc, char** argv) {
  char c;
  if (argc > 2 && strcmp(argv[1], "--") == 0) {
    execve(argv[2], argv + 2, environ);
    return 127;
  }
  if (argc > 1 && strcmp(argv[1], "hold") == 0)
    while (read(0, &c, 1) > 0) {
    }
  return 0;
}
