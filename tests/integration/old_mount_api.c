// Runs a program as a kernel older than 5.2 would: open_tree and
// mount_setattr fail with ENOSYS (a seccomp filter, kept across fork and
// exec). It lets a test reach the self-protection fallback that a current
// kernel never takes: runc's read-only bind mount in the state directory.
//
//   NSENTER_TEST_EXEC=PROGRAM old_mount_api ARGV0 ARGS...
//
// PROGRAM is exec'd with this program's own argv, so that what it reads
// back from /proc/self/cmdline is what the caller asked for. Root only:
// the filter is installed without no_new_privs, so the program runs as it
// would on the old kernel, set-user-ID helpers included.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define OLD_MOUNT_API_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OLD_MOUNT_API_ARCH AUDIT_ARCH_AARCH64
#else
#error "old_mount_api: no audit arch for this target; add it (a test must not pass unchecked)"
#endif

int main(int argc, char** argv) {
  (void)argc;
  const char* program = getenv("NSENTER_TEST_EXEC");
  if (program == NULL || *program == '\0') {
    fprintf(stderr, "old_mount_api: NSENTER_TEST_EXEC is not set\n");
    return 126;
  }
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      // Another arch's calls (x32, i386) have other numbers: refuse them all.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OLD_MOUNT_API_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open_tree, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount_setattr, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    fprintf(stderr, "old_mount_api: seccomp: %s\n", strerror(errno));
    return 126;
  }
  execv(program, argv);
  fprintf(stderr, "old_mount_api: exec %s: %s\n", program, strerror(errno));
  return 127;
}
