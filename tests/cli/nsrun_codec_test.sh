#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end through the real nsrun binary: decode prints the expected JSON
# for every captured runc message, encode reproduces the exact bytes, and bad
# input exits 1 with one line naming the cause (2 for usage errors).
set -uo pipefail
nsrun=$1
shift
source "$(dirname "$0")/assert.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for bin in "$@"; do
  json=${bin%.bin}.json
  check "decode $bin" diff <("$nsrun" decode "$bin") "$json"
  check "decode $bin from stdin" diff <("$nsrun" decode - <"$bin") "$json"
  check "encode $json" cmp <("$nsrun" encode "$json") "$bin"
done

# Malformed input: exit 1 and a single line on stderr that names the cause.
printf '\x10\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >"$tmp/nlmsg_error.bin"
"$nsrun" decode "$tmp/nlmsg_error.bin" >"$tmp/out" 2>"$tmp/err"
check "NLMSG_ERROR exits 1" test $? -eq 1
check "NLMSG_ERROR message" grep -qx 'nsrun: decode bootstrap: netlink message type is not INIT_MSG (62000): type 2 (NLMSG_ERROR) (at byte 4)' "$tmp/err"
check "nothing on stdout on error" test ! -s "$tmp/out"

head -c 20 "$1" >"$tmp/short.bin"
"$nsrun" decode "$tmp/short.bin" 2>"$tmp/err"
check "truncated exits 1" test $? -eq 1
check "truncated message" grep -q 'message ends early: got 20 of' "$tmp/err"

"$nsrun" decode /nonexistent/file 2>"$tmp/err"
check "missing file exits 1" test $? -eq 1
check "missing file message" grep -qx 'nsrun: cannot open /nonexistent/file: No such file or directory' "$tmp/err"

echo '{"namespaces": [{"type": "net", "path": "relative"}]}' | "$nsrun" encode >"$tmp/out" 2>"$tmp/err"
check "encode refuses a relative path" test $? -eq 1
check "encode error names the field" grep -q 'ns_paths\[0\]: relative' "$tmp/err"

echo '{"clone_flags": 1, "x": 2}' | "$nsrun" encode >/dev/null 2>"$tmp/err"
check "encode refuses bad JSON" test $? -eq 1

"$nsrun" --frobnicate 2>"$tmp/err"
check "unknown option exits 2" test $? -eq 2
check "unknown option named, help pointed to" grep -qx "nsrun: unknown option '--frobnicate'" "$tmp/err"
"$nsrun" decode --profile=runc-9 2>"$tmp/err"
check "unknown profile exits 2" test $? -eq 2
check "decode --help" bash -c "'$nsrun' decode --help | grep -q '^usage: nsrun decode'"
check "--version" bash -c "'$nsrun' --version | grep -q '^nsrun [0-9]'"

finish nsrun_codec_test
