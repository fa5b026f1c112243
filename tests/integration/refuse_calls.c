// SPDX-License-Identifier: Apache-2.0
// Runs a program as a seccomp'd sandbox or an older kernel would (a
// seccomp filter, kept across fork and exec), for the fallbacks a current
// kernel without a filter never takes:
//
//   NSENTER_TEST_EXEC=PROGRAM NSENTER_TEST_REFUSE=RULES refuse_calls ARGV0 ARGS...
//
// RULES, comma-separated, each CALL:ANSWER, where ANSWER is
//   enosys  the call fails with ENOSYS, as on a kernel that predates it or
//           under Docker's default profile (clone3);
//   eperm   the call fails with EPERM, as under profiles whose default
//           action is EPERM (written before the call existed);
//   kill    the process dies of SIGSYS, as under systemd's
//           SystemCallFilter= and hardened profiles;
// and CALL one of clone3, close_range, pidfd_open, pidfd_send_signal,
// open_tree, mount_setattr, memfd_create, execveat, faccessat2, or set_mm
// (prctl with PR_SET_MM only; every other prctl passes). Two words stay
// for the tests that named them first:
//   mount_api  open_tree:enosys,mount_setattr:enosys (Linux older than
//              5.2: runc's read-only bind mount in the state directory is
//              what is left);
//   set_mm     set_mm:eperm (neither CAP_SYS_ADMIN nor
//              CAP_CHECKPOINT_RESTORE held: no protection in place).
// One more word:
//   setns_pidfd  a setns(2) that names more than one namespace kind fails
//              with EINVAL, as on Linux before 5.8, whose setns took only
//              a namespace fd and one kind: a joiner that asks for all of
//              a process's kinds through a pidfd at once falls back (one
//              kind through a pidfd is not refused: join two or more).
//
// PROGRAM is exec'd with this program's own argv, so that what it reads
// back from /proc/self/cmdline is what the caller asked for. As root the
// filter is installed without no_new_privs, so the program runs as it
// would in such a sandbox, set-user-ID helpers included; as anyone else
// the kernel wants no_new_privs first, which is then set (newuidmap and
// newgidmap would not gain their privileges under it).
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

#define SET_MM_CALL (-1L)  // prctl(PR_SET_MM, ...): not a call number of its own

static const struct {
  const char* name;
  long nr;
} kCalls[] = {
    {"clone3", SYS_clone3},
    {"close_range", SYS_close_range},
    {"pidfd_open", SYS_pidfd_open},
    {"pidfd_send_signal", SYS_pidfd_send_signal},
    {"open_tree", SYS_open_tree},
    {"mount_setattr", SYS_mount_setattr},
    {"memfd_create", SYS_memfd_create},
    {"execveat", SYS_execveat},
    {"faccessat2", SYS_faccessat2},
    {"set_mm", SET_MM_CALL},
};
#define CALL_COUNT (sizeof kCalls / sizeof kCalls[0])

static int usage(const char* rules, const char* why) {
  fprintf(stderr, "refuse_calls: NSENTER_TEST_REFUSE=%s: %s\n", rules, why);
  return 126;
}

// The action for each call of kCalls (0: not refused), from `rules`.
static int parse_rules(const char* rules, unsigned action[CALL_COUNT], int* setns_pidfd) {
  char copy[512];
  if (strlen(rules) >= sizeof copy) return usage(rules, "too long");
  strcpy(copy, rules);
  int any = 0;
  for (char* save = NULL, *rule = strtok_r(copy, ",", &save); rule != NULL; rule = strtok_r(NULL, ",", &save)) {
    if (strcmp(rule, "setns_pidfd") == 0) {
      *setns_pidfd = 1;
      any = 1;
      continue;
    }
    if (strcmp(rule, "mount_api") == 0) {
      for (size_t i = 0; i < CALL_COUNT; ++i)
        if (kCalls[i].nr == SYS_open_tree || kCalls[i].nr == SYS_mount_setattr) action[i] = SECCOMP_RET_ERRNO | ENOSYS;
      any = 1;
      continue;
    }
    const char* answer = "eperm";
    char* colon = strchr(rule, ':');
    if (colon != NULL) {
      *colon = '\0';
      answer = colon + 1;
    } else if (strcmp(rule, "set_mm") != 0) {
      return usage(rules, "a rule is CALL:ANSWER");
    }
    unsigned a;
    if (strcmp(answer, "enosys") == 0)
      a = SECCOMP_RET_ERRNO | ENOSYS;
    else if (strcmp(answer, "eperm") == 0)
      a = SECCOMP_RET_ERRNO | EPERM;
    else if (strcmp(answer, "kill") == 0)
      a = SECCOMP_RET_KILL_PROCESS;
    else
      return usage(rules, "ANSWER is enosys, eperm or kill");
    size_t i = 0;
    while (i < CALL_COUNT && strcmp(kCalls[i].name, rule) != 0) ++i;
    if (i == CALL_COUNT) return usage(rules, "a CALL this program does not know");
    action[i] = a;
    any = 1;
  }
  return any ? 0 : usage(rules, "nothing to refuse");
}

int main(int argc, char** argv) {
  (void)argc;
  const char* program = getenv("NSENTER_TEST_EXEC");
  const char* rules = getenv("NSENTER_TEST_REFUSE");
  if (program == NULL || *program == '\0' || rules == NULL) {
    fprintf(stderr, "refuse_calls: NSENTER_TEST_EXEC and NSENTER_TEST_REFUSE must be set\n");
    return 126;
  }
  unsigned action[CALL_COUNT] = {0};
  int setns_pidfd = 0;
  if (parse_rules(rules, action, &setns_pidfd) != 0) return 126;

  struct sock_filter code[4 + 2 * CALL_COUNT + 8 + 5];
  size_t n = 0;
  code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  // Another arch's calls (x32, i386) have other numbers: refuse them all.
  code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REFUSE_CALLS_ARCH, 1, 0);
  code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  unsigned set_mm = 0;
  for (size_t i = 0; i < CALL_COUNT; ++i) {
    if (action[i] == 0) continue;
    if (kCalls[i].nr == SET_MM_CALL) {
      set_mm = action[i];
      continue;
    }
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)kCalls[i].nr, 0, 1);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action[i]);
  }
  if (setns_pidfd) {  // nstype & (nstype - 1) is not 0: two kinds or more
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_setns, 0, 6);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));  // low half
    code[n++] = (struct sock_filter)BPF_STMT(BPF_MISC | BPF_TAX, 0);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 1);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_X, 0);
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  }
  if (set_mm != 0) {  // last: it loads the first argument over the call number
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));  // low half
    code[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_MM, 0, 1);
    code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, set_mm);
  }
  code[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = code};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    // Without CAP_SYS_ADMIN the kernel takes a filter only under
    // no_new_privs.
    if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
      fprintf(stderr, "refuse_calls: seccomp: %s\n", strerror(errno));
      return 126;
    }
  }
  execv(program, argv);
  fprintf(stderr, "refuse_calls: exec %s: %s\n", program, strerror(errno));
  return 127;
}
