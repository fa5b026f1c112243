// SPDX-License-Identifier: Apache-2.0
// detail/libc.hpp's fallbacks (musl, glibc < 2.32), built with them forced
// on (NSENTER_LIBC_FALLBACKS), give what glibc's extensions give: an error
// line reads the same on either libc, and nsrun takes the same signal names.
#define NSENTER_LIBC_FALLBACKS 1
#include "nsenter/detail/libc.hpp"

#include <doctest/doctest.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <string>

static_assert(NSENTER_HAVE_GLIBC_232 == 0, "the fallbacks are what this test builds");

TEST_CASE("errno_text: strerror's words, nothing for a number that is no errno") {
  CHECK(std::string(nsenter::detail::errno_text(EPERM)) == "Operation not permitted");
  CHECK(std::string(nsenter::detail::errno_text(ENOENT)) == "No such file or directory");
  CHECK(nsenter::detail::errno_text(0) == nullptr);
  CHECK(nsenter::detail::errno_text(-1) == nullptr);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  for (int e = 1; e < 134; ++e) {
    CAPTURE(e);
    const char* ours = nsenter::detail::errno_text(e);
    const char* glibc = ::strerrordesc_np(e);
    REQUIRE(ours != nullptr);
    if (glibc != nullptr) CHECK(std::string(ours) == glibc);
  }
#endif
}

TEST_CASE("signal_name: the standard signals by their abbreviations, real-time ones unnamed") {
  CHECK(std::string(nsenter::detail::signal_name(SIGTERM)) == "TERM");
  CHECK(std::string(nsenter::detail::signal_name(SIGKILL)) == "KILL");
  CHECK(nsenter::detail::signal_name(0) == nullptr);
  CHECK(nsenter::detail::signal_name(SIGRTMIN + 1) == nullptr);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    CAPTURE(sig);
    const char* ours = nsenter::detail::signal_name(sig);
    const char* glibc = ::sigabbrev_np(sig);
    CHECK((ours == nullptr) == (glibc == nullptr));
    if (ours != nullptr && glibc != nullptr) CHECK(std::string(ours) == glibc);
  }
#endif
}
