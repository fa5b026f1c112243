#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up the machine, builds nsrun and runs it. Without arguments nsrun
# starts $SHELL in new user (you are root in it), pid, mount, uts and ipc
# namespaces with a fresh /proc; that works without privileges.
#
#   tools/nsrun.sh [NSRUN ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
# Setup needs root (apt); an unprivileged user on a prepared machine skips it.
if [ "$(id -u)" = 0 ]; then
  tools/setup.sh >&2
elif ! command -v bazel >/dev/null; then
  echo "nsrun.sh: bazel is missing; run tools/nsrun.sh once as root to install what is needed" >&2
  exit 1
fi
bazel build -c opt //tools/nsrun >&2 2>/dev/null || bazel build -c opt //tools/nsrun >&2
exec bazel-bin/tools/nsrun/nsrun "$@"
