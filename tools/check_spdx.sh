#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source file of the project carries the license's SPDX line
# (LICENSE: Apache License 2.0), so that a copy vendored file by file still
# says what it is. Fails naming each file without one.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
total=0
while IFS= read -r f; do
  case "$f" in
    tests/data/* | tests/fuzz/seeds/*) continue ;;
    *.hpp | *.h | *.cc | *.c | *.go | *.sh | *.py | *.bzl | *.cmake | *.cmake.in | */BUILD.bazel | BUILD.bazel | */BUILD | WORKSPACE | */WORKSPACE | CMakeLists.txt | */CMakeLists.txt | .ci/run) ;;
    *) continue ;;
  esac
  total=$((total + 1))
  if ! head -3 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0'; then
    echo "license: $f has no SPDX-License-Identifier: Apache-2.0 line in its first three"
    missing=$((missing + 1))
  fi
done < <(git ls-files)
[ -f LICENSE ] && grep -q 'Apache License' LICENSE || { echo "license: LICENSE is missing or not the Apache License"; missing=$((missing + 1)); }
if [ "$missing" -ne 0 ]; then
  echo "license: $missing problem(s)"
  exit 1
fi
echo "license: every source file ($total) carries the SPDX line"
