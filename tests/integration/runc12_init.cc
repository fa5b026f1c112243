// SPDX-License-Identifier: Apache-2.0
// An init built with the runc >= 1.2 protocol profile (an embedder's
// choice): runs the pipeline in its constructor, then executes the command
// after "--", as nsrun does for the default profile.
#include "exec_after_dashes.hpp"
#include "nsenter/embed.hpp"

NSENTER_INIT_CONSTRUCTOR(runc12_init, 200, nsenter::Runc12Nsexec, exec_after_dashes)

int main() { return 0; }
