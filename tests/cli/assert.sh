# SPDX-License-Identifier: Apache-2.0
# Assertions for the shell tests, sourced. Each counts into $passes or
# $failures and prints one FAIL line naming what broke; finish() reports
# the counts and sets the exit status.
passes=0
failures=0

pass() { passes=$((passes + 1)); }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}
eq() {  # eq DESCRIPTION EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then pass; else fail "$1: expected [$2], got [$3]"; fi
}
contains() {  # contains DESCRIPTION NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then pass; else fail "$1: [$2] not in [$3]"; fi
}
finish() {  # finish NAME
  echo "$1: $passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
