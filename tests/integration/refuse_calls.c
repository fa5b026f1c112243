// Runs a program as a kernel that refuses some system calls would (a
// seccomp filter, kept across fork and exec), for the self-protection
// fallbacks a current kernel never takes:
//
//   NSENTER_TEST_EXEC=PROGRAM NSENTER_TEST_REFUSE=WHAT refuse_calls ARGV0 ARGS...
//
// WHAT, comma-separated:
//   mount_api  open_tree and mount_setattr fail with ENOSYS, as on Linux
//              older than 5.2: runc's read-only bind mount in the state
//              directory is what is left;
//   set_mm     prctl(PR_SET_MM, ...) fails with EPERM, as where neither
//              CAP_SYS_ADMIN nor CAP_CHECKPOINT_RESTORE is held or a
//              seccomp profile refuses it: no protection in place, the
//              init re-executes from its protected view.
//
// PROGRAM is exec'd with this program's own argv, so that what it reads
// back from /proc/self/cmdline is what the caller asked for. Root only:
// the filter is installed without no_new_privs, so the program runs as it
// would on such a kernel, set-user-ID helpers included.
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
#define REFUSE_CALLS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define REFUSE_CALLS_ARCH AUDIT_ARCH_AARCH64
#else
#error "refuse_calls: no audit arch for this target; add it (a test must not pass unchecked)"
#endif

static int wants(const char* list, const char* what) {
  const size_t n = strlen(what);
  for (const char* p = list; (p = strstr(p, what)) != NULL; p += n)
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return 1;
  return 0;
}

int main(int argc, char** argv) {
  (void)argc;
  const char* program = getenv("NSENTER_TEST_EXEC");
  const char* refuse = getenv("NSENTER_TEST_REFUSE");
  if (program == NULL || *program == '\0' || refuse == NULL) {
    fprintf(stderr, "refuse_calls: NSENTER_TEST_EXEC and NSENTER_TEST_REFUSE must be set\n");
    return 126;
  }
  const int mount_api = wants(refuse, "mount_api"), set_mm = wants(refuse, "set_mm");
  if (!mount_api && !set_mm) {
    fprintf(stderr, "refuse_calls: NSENTER_TEST_REFUSE=%s: nothing known to refuse\n", refuse);
    return 126;
  }
  // A never-matching number stands in for a call that is not refused.
  const unsigned never = 0xffffffffu;
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      // Another arch's calls (x32, i386) have other numbers: refuse them all.
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REFUSE_CALLS_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mount_api ? SYS_open_tree : never, 7, 0),        // -> ENOSYS
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mount_api ? SYS_mount_setattr : never, 6, 0),    // -> ENOSYS
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, set_mm ? SYS_prctl : never, 1, 0),               // -> its option
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),  // the low half
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_MM, 1, 0),                               // -> EPERM
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    fprintf(stderr, "refuse_calls: seccomp: %s\n", strerror(errno));
    return 126;
  }
  execv(program, argv);
  fprintf(stderr, "refuse_calls: exec %s: %s\n", program, strerror(errno));
  return 127;
}
