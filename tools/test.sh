#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as a newcomer and CI run it: installs what is
# missing, then runs every Bazel test plainly, under ASan+UBSan and with
# clang and libc++, then the
# libFuzzer targets for a bounded time, then the CMake, pkg-config and plain
# C consumers of an installed copy, then each public header alone without
# exceptions, then the license lines. Fails if anything fails.
#
#   tools/test.sh            (NSENTER_FUZZ_SECONDS="45 15 15 30" to change fuzz time)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

log=$(mktemp /tmp/nsenter-test.XXXXXX)
trap 'rm -f "$log"; bazel shutdown >/dev/null 2>&1 || true' EXIT

echo "== bazel test //... (gcc, -O0)"
bazel test //... 2>&1 | tee -a "$log"
echo "== bazel test --config=asan //... (gcc, ASan + UBSan)"
bazel test --config=asan //... 2>&1 | tee -a "$log"
echo "== bazel test --config=libcxx //... (clang 14, libc++)"
bazel test --config=libcxx //... 2>&1 | tee -a "$log"
echo "== fuzz (clang, libFuzzer + ASan + UBSan)"
# shellcheck disable=SC2086
tests/fuzz/run.sh ${NSENTER_FUZZ_SECONDS:-45 15 15 30} 2>&1 | tee -a "$log"
echo "== CMake install, find_package, add_subdirectory, pkg-config, plain cc"
tests/cmake/run.sh 2>&1 | tee -a "$log"
echo "== every public header alone, -fno-exceptions (GCC, clang/libc++)"
tests/headers/run.sh 2>&1 | tee -a "$log"
echo "== license: every source file says Apache-2.0 in an SPDX line"
tools/check_spdx.sh 2>&1 | tee -a "$log"

passed=$(grep -cE '^//.* PASSED' "$log" || true)
fuzzed=$(grep -c '^fuzz: all targets passed' "$log" || true)
consumed=$(grep -c '^cmake: all consumers passed' "$log" || true)
licensed=$(grep -c '^license: every source file' "$log" || true)
headers=$(grep -c '^headers: .* compilations passed' "$log" || true)
# Every step above exits non-zero on failure (set -e, pipefail), so reaching
# this line means nothing failed.
echo "tests: $((passed + fuzzed + consumed + licensed + headers)) passed, 0 failed"
