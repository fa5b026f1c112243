// SPDX-License-Identifier: Apache-2.0
// An init that joins namespaces with PidfdJoiner (one setns(pidfd, flags)).
#include "exec_after_dashes.hpp"
#include "nsenter/embed.hpp"

struct PidfdPolicies : nsenter::RuncPolicies {
  using Joiner = nsenter::PidfdJoiner;
};
using PidfdNsexec = nsenter::Nsexec<PidfdPolicies>;

NSENTER_INIT_CONSTRUCTOR(pidfd_init, 200, PidfdNsexec, exec_after_dashes)

int main() { return 0; }
