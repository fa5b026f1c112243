#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every public header compiles on its own (docs/api.md promises it), and
# without exceptions or RTTI (-fno-exceptions -fno-rtti, as nsjail and sandbox2 build): each
# header alone in a translation unit, with GCC and libstdc++ and with clang
# and libc++, syntax only. Run by tools/test.sh; exits non-zero naming
# every header that fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/nsenter-headers.XXXXXX)
trap 'rm -rf "$work"' EXIT

compilers=(
  "g++ -std=c++20"
  "clang++ -std=c++20 -stdlib=libc++"
)
mapfile -t headers < <(cd include && find nsenter \( -name '*.hpp' -o -name '*.h' \) | sort)
((${#headers[@]} > 0)) || { echo "headers: FAILED: no header found under include/"; exit 1; }
failed=0 checked=0
for header in "${headers[@]}"; do
  printf '#include "%s"\n' "$header" >"$work/tu.cc"
  for cc in "${compilers[@]}"; do
    # shellcheck disable=SC2086  # the compiler and its flags are words
    if ! $cc -fsyntax-only -fno-exceptions -fno-rtti -Wall -Wextra -Werror -Iinclude -DFMT_HEADER_ONLY "$work/tu.cc" \
      >"$work/err" 2>&1; then
      echo "headers: FAILED: $header alone, -fno-exceptions -fno-rtti, with $cc:"
      head -n 20 "$work/err"
      failed=$((failed + 1))
    fi
    checked=$((checked + 1))
  done
done
if ((failed > 0)); then
  echo "headers: $failed of $checked compilations failed"
  exit 1
fi
echo "headers: $checked compilations passed (each public header alone, -fno-exceptions -fno-rtti, GCC and clang/libc++)"
