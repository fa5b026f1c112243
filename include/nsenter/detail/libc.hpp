// SPDX-License-Identifier: Apache-2.0
// nsenter: the few libc extensions the library uses, with a fallback for
// a libc without them (musl; glibc before 2.32).
//
//   errno_text(e)      strerrordesc_np: the description, never localized,
//                      async-signal-safe; else strerror (musl's is a
//                      static table, also without locale state).
//   signal_name(sig)   sigabbrev_np: "TERM" for SIGTERM; else a table of
//                      the standard signals with glibc's names (SIGIO is
//                      "POLL"); real-time ones have none.
//
// NSENTER_LIBC_FALLBACKS=1 forces the fallbacks (their unit test).
#pragma once

#include <signal.h>
#include <string.h>

#include "nsenter/version.hpp"

#if !defined(NSENTER_LIBC_FALLBACKS) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define NSENTER_HAVE_GLIBC_232 1
#else
#define NSENTER_HAVE_GLIBC_232 0
#endif

NSENTER_BEGIN_NAMESPACE
namespace detail {

// nullptr for a number that is no errno.
inline const char* errno_text(int e) noexcept {
#if NSENTER_HAVE_GLIBC_232
  return ::strerrordesc_np(e);
#else
  if (e <= 0 || e > 4095) return nullptr;
  return ::strerror(e);
#endif
}

// nullptr for a signal without a name (0, real-time, out of range).
inline const char* signal_name(int sig) noexcept {
#if NSENTER_HAVE_GLIBC_232
  return ::sigabbrev_np(sig);
#else
  struct Named {
    int number;
    const char* name;
  };
  static constexpr Named kNames[] = {
      {SIGHUP, "HUP"},   {SIGINT, "INT"},       {SIGQUIT, "QUIT"},     {SIGILL, "ILL"},     {SIGTRAP, "TRAP"},
      {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},       {SIGFPE, "FPE"},       {SIGKILL, "KILL"},   {SIGUSR1, "USR1"},
      {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},     {SIGPIPE, "PIPE"},     {SIGALRM, "ALRM"},   {SIGTERM, "TERM"},
      {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"},     {SIGTSTP, "TSTP"},   {SIGTTIN, "TTIN"},
      {SIGTTOU, "TTOU"}, {SIGURG, "URG"},       {SIGXCPU, "XCPU"},     {SIGXFSZ, "XFSZ"},   {SIGVTALRM, "VTALRM"},
      {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},   {SIGIO, "POLL"},        {SIGPWR, "PWR"},     {SIGSYS, "SYS"},
#ifdef SIGSTKFLT
      {SIGSTKFLT, "STKFLT"},
#endif
  };
  for (const Named& n : kNames)
    if (n.number == sig) return n.name;
  return nullptr;
#endif
}

}  // namespace detail
NSENTER_END_NAMESPACE
