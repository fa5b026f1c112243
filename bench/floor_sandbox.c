// SPDX-License-Identifier: Apache-2.0
// The floor for the nsrun tool's benchmark: only the system calls each job
// needs, in one static C program, so that a table can say how far nsrun
// and util-linux are from what the kernel asks.
//
//   floor_sandbox new PROGRAM     unshare user, mnt, uts, ipc and pid; map
//                                 our ids to root; fork; make / private,
//                                 mount a fresh /proc; exec PROGRAM
//   floor_sandbox join PID PROGRAM  setns into every namespace of PID that
//                                 is not ours (user first); fork; exec
//
// Exit status: the program's, or 125 when a step failed (said on stderr).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "floor_sandbox: %s: %s\n", what, strerror(errno));
  return 125;
}

static int write_text(const char* path, const char* text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int run_child(const char* program, int mount_proc) {
  const pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    if (mount_proc) {
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) _exit(fail("make / private"));
      if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) _exit(fail("mount /proc"));
    }
    execl(program, program, (char*)NULL);
    _exit(fail(program));
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return fail("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int new_sandbox(const char* program) {
  char map[64];
  const unsigned uid = geteuid(), gid = getegid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) != 0) return fail("unshare");
  if (write_text("/proc/self/setgroups", "deny") != 0) return fail("setgroups");
  snprintf(map, sizeof map, "0 %u 1", uid);
  if (write_text("/proc/self/uid_map", map) != 0) return fail("uid_map");
  snprintf(map, sizeof map, "0 %u 1", gid);
  if (write_text("/proc/self/gid_map", map) != 0) return fail("gid_map");
  return run_child(program, 1);
}

static int join(const char* pid, const char* program) {
  // user first: the others are then owned by a namespace we hold
  // capabilities in.
  static const char* const kinds[] = {"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"};
  int fds[8];
  int n = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; ++i) {
    char theirs[64], ours[64];
    struct stat a, b;
    snprintf(theirs, sizeof theirs, "/proc/%s/ns/%s", pid, kinds[i]);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", kinds[i]);
    if (stat(theirs, &a) != 0 || stat(ours, &b) != 0) continue;  // a kind this kernel lacks
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    if ((fds[n] = open(theirs, O_RDONLY | O_CLOEXEC)) < 0) return fail(theirs);
    ++n;
  }
  for (int i = 0; i < n; ++i)
    if (setns(fds[i], 0) != 0) return fail("setns");
  return run_child(program, 0);
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "new") == 0) return new_sandbox(argv[2]);
  if (argc == 4 && strcmp(argv[1], "join") == 0) return join(argv[2], argv[3]);
  fprintf(stderr, "usage: floor_sandbox new PROGRAM | floor_sandbox join PID PROGRAM\n");
  return 2;
}
