#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The hook example as root: the container must see the veth end the runtime
# moved in (up, addressed), the pids.max the runtime wrote into its cgroup,
# and reach the runtime over the veth; nothing it made may be left. As
# nobody it must refuse, saying why.
set -uo pipefail
example=$1
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
failures=0
command -v ip >/dev/null || { echo "FAIL: ip is not installed (tools/setup.sh installs iproute2)"; exit 1; }
tmp=$(mktemp -d /tmp/nsenter-hooks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$example" "$tmp/hooks" && chmod 755 "$tmp/hooks"

links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort)
out=$("$tmp/hooks" 2>&1)
status=$?
[ $status -eq 0 ] || fail "as root: exit $status: $out"
grep -qx 'container: eth0 UP 10.231.0.2/30' <<<"$out" || fail "the container's eth0 is not up at 10.231.0.2/30: $out"
grep -qx 'container: pids.max 64' <<<"$out" || fail "the container does not see its cgroup's pids.max 64: $out"
grep -qx 'runtime: heard "hello over the veth"' <<<"$out" || fail "the runtime heard nothing over the veth: $out"
grep -qx 'runtime: the container exited with status 0' <<<"$out" || fail "the container did not exit 0: $out"
[ "$(ip -o link show | awk -F': ' '{print $2}' | sort)" = "$links_before" ] || fail "a network link was left behind"
ls -d /sys/fs/cgroup/nsenter-hooks-* /sys/fs/cgroup/pids/nsenter-hooks-* 2>/dev/null | grep -q . && fail "a cgroup was left behind"

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/hooks" 2>&1)
status=$?
[ $status -eq 2 ] || fail "as nobody: exit $status, expected 2: $out"
grep -qx 'hooks: needs root: a veth pair takes CAP_NET_ADMIN on the host' <<<"$out" || fail "as nobody: not said why: $out"

[ $failures -eq 0 ] && echo "hooks example: passed as root, refused as nobody"
[ $failures -eq 0 ]
