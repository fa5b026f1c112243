// SPDX-License-Identifier: Apache-2.0
/* A C program embedding nsenter through its C API, the way runc's Go side
 * embeds nsexec(): the constructor runs the pipeline; main() runs as the
 * container init, reports what it sees, and uses the still-open init pipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "nsenter/c_api.h"

static int g_init_pipe = -1;

__attribute__((constructor(200))) static void run_nsexec(void) {
  int log_pipe = -1;
  if (nsenter_nsexec(&g_init_pipe, &log_pipe) == 1 && log_pipe >= 0) close(log_pipe);
}

int main(int argc, char **argv) {
  char link[64] = {0}, exe[4096] = {0};
  if (readlink("/proc/self/ns/pid", link, sizeof link - 1) < 0) strcpy(link, "?");
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) strcpy(exe, "?");
  /* What stage 2 holds on the numbers a runtime hands out (mount sources,
   * preserved fds). */
  for (int fd = 3; fd <= 9; ++fd) {
    char path[32], target[4096] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (readlink(path, target, sizeof target - 1) < 0) strcpy(target, "none");
    printf("fd%d=%s\n", fd, target);
  }
  struct statvfs fs;
  const int exe_ro = statvfs("/proc/self/exe", &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0;
  const char *cloned = getenv("_LIBCONTAINER_CLONED_BINARY"), *carried = getenv("_NSENTER_CARRIED_MESSAGE");
  printf("pid=%d\nuid=%d\nns_pid=%s\ninit_pipe=%d\nexe=%s\nexe_ro=%d\ncloned=%s\ncarried=%s\n", (int)getpid(),
         (int)getuid(), link, g_init_pipe, exe, exe_ro, cloned ? cloned : "", carried ? carried : "");
  fflush(stdout);
  if (g_init_pipe >= 0) {
    static const char hello[] = "hello from stage 2\n";
    if (write(g_init_pipe, hello, sizeof hello - 1) != (ssize_t)(sizeof hello - 1)) return 3;
  }
  /* "hold": stay alive, running from the init binary, until stdin closes
   * (a created container not yet started; the exploit tests attack it). */
  if (argc > 1 && strcmp(argv[argc - 1], "hold") == 0) {
    char c;
    while (read(0, &c, 1) > 0) {
    }
  }
  return 0;
}
