#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the sandbox matrix (tests/integration/sandbox_matrix_test.cc) and
# puts the table it writes into docs/requirements.md, between the
# "sandbox-table" markers: the table there is the test's output, not
# written by hand. Root, as the test itself.
#
#   tools/sandbox_table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(mktemp /tmp/nsenter-sandbox-table.XXXXXX)
trap 'rm -f "$table"' EXIT
bazel build //tests/integration:sandbox_matrix_test
(cd bazel-bin/tests/integration/sandbox_matrix_test.runfiles/nsenter &&
  NSENTER_SANDBOX_TABLE=$table ../../sandbox_matrix_test)
python3 - "$table" docs/requirements.md <<'PY'
import sys
table, doc = sys.argv[1], sys.argv[2]
begin, end = "<!-- sandbox-table: begin (tools/sandbox_table.sh) -->", "<!-- sandbox-table: end -->"
text = open(doc).read()
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + open(table).read() + end + tail)
PY
echo "docs/requirements.md: sandbox table updated"
