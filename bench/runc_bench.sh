#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# runc itself, twice: runc 1.1.5 built from Debian's source package as it
# is, and the same source with its C nsexec replaced by ours (runc's cgo
# constructor calls nsexec(); ours calls nsenter_nsexec(), the C entry
# point). Both are built here, from the same tree, with the same Go and the
# same flags, then timed by bench/runc_bench.py: `runc run` (which deletes
# the container when it exits, as `--rm` does in later runc) and `runc
# exec` of /bin/true in a small busybox container, as root and rootless
# (nobody), interleaved and shuffled each round.
#
#   bench/runc_bench.sh [ROUNDS]      (as root; default 60)
#
# Prints a Markdown table (copy it into docs/benchmarks.md with the date).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
tools/setup.sh >/dev/null
[[ $(id -u) == 0 ]] || { echo "runc_bench: run as root" >&2; exit 2; }
runc_src=/usr/share/gocode/src/github.com/opencontainers/runc
[[ -f $runc_src/main.go ]] || { echo "runc_bench: no runc source at $runc_src" >&2; exit 1; }
work=$(mktemp -d /tmp/nsenter-runc-bench.XXXXXX)
chmod 755 "$work"  # nobody runs the rootless half from here
cleanup() {
  # Containers a failed run left behind, then the scratch tree.
  for root in "$work"/state "$work"/state-rootless; do
    [[ -d $root ]] || continue
    for c in $(ls "$root" 2>/dev/null); do "$work/runc-stock" --root "$root" delete -f "$c" >/dev/null 2>&1 || true; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A GOPATH where runc's import path is a copy of Debian's source and
# everything else is Debian's packaged Go code.
gopath() {
  local gp=$1
  mkdir -p "$gp/src/github.com/opencontainers"
  local d
  for d in /usr/share/gocode/src/*; do [[ $(basename "$d") == github.com ]] || ln -s "$d" "$gp/src/"; done
  for d in /usr/share/gocode/src/github.com/*; do [[ $(basename "$d") == opencontainers ]] || ln -s "$d" "$gp/src/github.com/"; done
  for d in /usr/share/gocode/src/github.com/opencontainers/*; do
    [[ $(basename "$d") == runc ]] || ln -s "$d" "$gp/src/github.com/opencontainers/"
  done
  cp -r "$runc_src" "$gp/src/github.com/opencontainers/runc"
}

# The C entry point as an embedder gets it: CMake's install, and its flags
# from pkg-config nsenter_c (docs/embedding.md).
echo "runc_bench: building and installing nsenter_c with CMake" >&2
cmake -S . -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$work/prefix" \
  -DNSENTER_BUILD_NSRUN=OFF >/dev/null
cmake --build "$work/cmake" -j 2 >/dev/null
cmake --install "$work/cmake" >/dev/null
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name nsenter_c.pc)")

# Both with Go's default cgo flags; the nsenter build adds pkg-config's.
build() {
  local gp=$1 out=$2 cflags=${3:-} ldflags=${4:-}
  (cd "$gp/src/github.com/opencontainers/runc" &&
    GO111MODULE=off GOPATH=$gp GOCACHE=$work/gocache CGO_CFLAGS="-g -O2 $cflags" CGO_LDFLAGS="-g -O2 $ldflags" \
      go build -o "$out" .)
}

echo "runc_bench: building runc 1.1.5 with its own nsexec" >&2
gopath "$work/gopath-stock"
build "$work/gopath-stock" "$work/runc-stock"

echo "runc_bench: building runc 1.1.5 with nsenter's" >&2
gopath "$work/gopath-nsenter"
nsenter_pkg=$work/gopath-nsenter/src/github.com/opencontainers/runc/libcontainer/nsenter
rm -f "$nsenter_pkg"/nsexec.c "$nsenter_pkg"/cloned_binary.c "$nsenter_pkg"/escape.c "$nsenter_pkg"/namespace.h
cat >"$nsenter_pkg/nsexec_nsenter.c" <<'C'
/* runc's cgo constructor (nsenter.go) calls nsexec(): ours runs instead.
 * In stage 2 it returns, its pipes left open for runc's Go init. */
#include "nsenter/c_api.h"
void nsexec(void) {
  int init_pipe, log_pipe;
  (void)nsenter_nsexec(&init_pipe, &log_pipe);
}
C
build "$work/gopath-nsenter" "$work/runc-nsenter" "$(pkg-config --cflags nsenter_c)" "$(pkg-config --libs nsenter_c)"
chmod 755 "$work"/runc-*

# Bundles: a busybox rootfs; /bin/true for run, sleep for the container
# exec enters; the rootless ones map nobody to root, as `runc spec
# --rootless` run by nobody would.
bundle() {
  local dir=$1 rootless=$2 args=$3
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
  cp /usr/bin/busybox "$dir/rootfs/bin/"
  local a
  for a in sh true sleep; do ln -s busybox "$dir/rootfs/bin/$a"; done
  (cd "$dir" && "$work/runc-stock" spec ${rootless:+--rootless})
  python3 - "$dir/config.json" "$rootless" "$args" <<'PY'
import json, sys
path, rootless, args = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args.split()
if rootless:
    for k in ("uidMappings", "gidMappings"):
        for m in c["linux"][k]:
            m["hostID"] = 65534
json.dump(c, open(path, "w"), indent=1)
PY
}
bundle "$work/run" "" /bin/true
bundle "$work/sleep" "" "/bin/sleep 1000000"
bundle "$work/run-rootless" 1 /bin/true
bundle "$work/sleep-rootless" 1 "/bin/sleep 1000000"
mkdir -p "$work/state" "$work/state-rootless"
chown 65534:65534 "$work/state-rootless"

echo "# $(date -u +%F) $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), cgroup $(stat -fc %T /sys/fs/cgroup)"
python3 bench/runc_bench.py "$work" "${1:-60}"
