#!/usr/bin/env bash
# Sets up the machine, builds nsrun and runs it. Without arguments it shows
# what the library does today: decode a bootstrap message that runc 1.1.5
# really sent (a container with a user namespace) into JSON.
#
#   tools/nsrun.sh [NSRUN ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >&2
bazel build -c opt //tools/nsrun >&2 2>/dev/null || bazel build -c opt //tools/nsrun >&2
if [ $# -eq 0 ]; then
  set -- decode tests/data/runc/root_userns.bin
fi
exec bazel-bin/tools/nsrun/nsrun "$@"
