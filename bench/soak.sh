#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak run of the Launcher with the shipped nsrun (-c opt), as root:
# 10,000 sequential launches, then two passes of 32 threads x 200 launches,
# each ending in the exec of /bin/true. Fails unless every launch succeeded
# and the fd and child counts are back to their baseline. Figures go in
# docs/testing.md.
#
#   bench/soak.sh [--pool] [SEQUENTIAL [THREADS [PER_THREAD]]]      (default 10000 32 200)
#
# --pool: the same launches through an InitPool (its template's RSS is
# reported before and after).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null
bazel build -c opt //bench:soak //tools/nsrun >/dev/null 2>&1 || bazel build -c opt //bench:soak //tools/nsrun
echo "# $(date -u +%F) $(uname -r), $(nproc) cores"
pool=()
if [ "${1:-}" = --pool ]; then
  pool=(--pool)
  shift
fi
exec bazel-bin/bench/soak "${pool[@]}" bazel-bin/tools/nsrun/nsrun "$@"
