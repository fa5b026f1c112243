// SPDX-License-Identifier: Apache-2.0
// nsenter: every signal blocked in the calling thread for a scope.
#pragma once

#include <pthread.h>
#include <signal.h>

#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// Blocks every signal in the calling thread for its lifetime: no handler
// runs meanwhile (in a child that shares our memory before it resets
// them; between a data page's copy and its move).
class AllSignalsBlocked {
 public:
  AllSignalsBlocked() noexcept {
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~AllSignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked&) = delete;
  AllSignalsBlocked& operator=(const AllSignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

}  // namespace detail
NSENTER_END_NAMESPACE
