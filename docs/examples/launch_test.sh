#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The launcher example, run as root and as nobody: each must print the
# init's hello from pid 1 as uid 0 with its own hostname, then its exit.
set -uo pipefail
example=$1
tmp=$(mktemp -d /tmp/nsenter-example.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$example" "$tmp/launch" && chmod 755 "$tmp/launch"
failures=0
for who in root nobody; do
  if [ $who = root ]; then out=$("$tmp/launch" 2>&1); else out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/launch" 2>&1); fi
  status=$?
  if [ $status -ne 0 ] || ! grep -Eq '^init [0-9]+ said: hello from pid 1, uid 0, host example$' <<<"$out" ||
    ! grep -qx 'and exited with status 0' <<<"$out"; then
    echo "FAIL as $who (exit $status): $out"
    failures=$((failures + 1))
  fi
done
[ $failures -eq 0 ] && echo "launch example: passed as root and as nobody"
