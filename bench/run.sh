#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reproducible benchmark run, nsenter side by side with runc 1.1's C
# nsexec (from Debian's runc source package) in the same run:
#  1. //bench:wire_bench: reading+decoding bootstrap messages against runc's
#     nl_parse(), on the captured runc messages plus a large synthetic one;
#  2. //bench:pipeline_bench: whole starts of the shipped nsrun (-c opt)
#     and of runc's nsexec, from disk, from a sealed memfd and through the
#     Launcher and an InitPool, each ending in the exec of /bin/true
#     (needs root: one message maps host ids 100000..);
#  3. //bench:memory_bench: shared memory held per live init, by how the
#     init protects its binary (CVE-2019-5736);
#  4. //bench:throughput: starts per second with 1, 2, 8 and 32 concurrent
#     launchers, runc's nsexec and nsrun started the same way;
#  5. //bench:tool_bench: the nsrun tool against util-linux's unshare and
#     nsenter and a static floor program, whole commands, as root and as
#     nobody;
#  6. //bench:constructor_bench: what the constructor costs a program that
#     is not an init.
# Prints Markdown tables (copy them into docs/benchmarks.md with the date),
# and draws the latency distributions of 2 and 5 into docs/latency.svg
# (bench/plot_latency.py).
#
#   bench/run.sh [ROUNDS [OPS_PER_ROUND [STARTS]]]      (default 15 20000 100)
# memory_bench runs 7 rounds of 20 live inits.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null
bazel build -c opt //bench:all //tools/nsrun >/dev/null 2>&1 || bazel build -c opt //bench:all //tools/nsrun
work=$(mktemp -d /tmp/nsenter-bench.XXXXXX)
chmod 755 "$work"  # nobody runs the copies in it (tool_bench)
trap 'rm -rf "$work"' EXIT

# A large message: every namespace joined, 64 mounts, multi-range maps.
python3 - "$work/large.json" <<'PY'
import json, sys
cfg = {
    "clone_flags": 0,
    "namespaces": [{"type": t, "path": f"/proc/12345/ns/{t}"}
                   for t in ["user", "mnt", "uts", "ipc", "net", "pid", "cgroup", "time"]],
    "uid_map": [{"inside": i * 1000, "outside": 100000 + i * 1000, "count": 1000} for i in range(20)],
    "gid_map": [{"inside": i * 1000, "outside": 100000 + i * 1000, "count": 1000} for i in range(20)],
    "setgroups": True,
    "oom_score_adj": 500,
    "rootless_euid": False,
    "mount_sources": [f"/var/lib/containers/volumes/vol{i:03d}/_data" if i % 2 else "" for i in range(64)],
}
json.dump(cfg, open(sys.argv[1], "w"))
PY
bazel-bin/tools/nsrun/nsrun encode "$work/large.json" > "$work/large_synthetic.bin"

echo "# $(date -u +%F) $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
bazel-bin/bench/wire_bench "${1:-15}" "${2:-20000}" \
  tests/data/runc/root_default.bin tests/data/runc/root_userns.bin \
  tests/data/runc/rootless_multi.bin tests/data/runc/bind_mounts.bin "$work/large_synthetic.bin"

echo
NSENTER_BENCH_SAMPLES="$work/samples.tsv" \
  bazel-bin/bench/pipeline_bench "${3:-100}" bazel-bin/bench/runc_ref_init bazel-bin/tools/nsrun/nsrun

echo
bazel-bin/bench/memory_bench 7 20 bazel-bin/bench/runc_ref_init bazel-bin/bench/bench_init

echo
bazel-bin/bench/throughput bazel-bin/bench/runc_ref_init bazel-bin/tools/nsrun/nsrun 40

echo
cp bazel-bin/tools/nsrun/nsrun bazel-bin/bench/floor_sandbox "$work/"
chmod 755 "$work/nsrun" "$work/floor_sandbox"
NSENTER_BENCH_SAMPLES="$work/samples.tsv" \
  bazel-bin/bench/tool_bench "${3:-100}" "$work/nsrun" "$work/floor_sandbox"

echo
bazel-bin/bench/constructor_bench 15

python3 bench/plot_latency.py "$work/samples.tsv" docs/latency.svg
echo
echo "latency distributions: docs/latency.svg"
