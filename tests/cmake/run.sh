#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nsenter as a CMake, pkg-config or plain-compiler user consumes it: builds
# and installs it with CMake into a scratch prefix, then builds the launcher
# example (docs/examples/launch.cc) three ways (find_package on the install,
# add_subdirectory of the checkout, pkg-config flags with a plain c++) and
# runs each as root and as nobody (docs/examples/launch_test.sh), links a C
# program with a plain cc through nsenter_c.pc and runs it, builds the Go
# example (docs/examples/go: a cgo constructor calls the C entry point before
# the Go runtime starts) through nsenter_c.pc and runs it as root and as
# nobody, and runs the installed nsrun. Run as root by tools/test.sh; exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
work=$(mktemp -d /tmp/nsenter-cmake.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
log=$work/log

step() {
  echo "cmake: $1"
  shift
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log"
    echo "cmake: FAILED: $*"
    exit 1
  fi
}

step "build and install with CMake" cmake -S . -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$work/prefix"
step "  build" cmake --build "$work/build" -j 2
step "  install" cmake --install "$work/build"
pcdir=$(dirname "$(find "$work/prefix" -name nsenter.pc)")

step "find_package(nsenter)" cmake -S tests/cmake/find_package -B "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DNSENTER_EXAMPLES="$src/docs/examples"
step "  build" cmake --build "$work/fp"
step "  run as root and nobody" docs/examples/launch_test.sh "$work/fp/launch"

step "add_subdirectory(<checkout>)" cmake -S tests/cmake/add_subdirectory -B "$work/as" -DNSENTER_SOURCE="$src"
step "  build" cmake --build "$work/as" -j 2
step "  run as root and nobody" docs/examples/launch_test.sh "$work/as/launch"

# shellcheck disable=SC2046  # pkg-config's output is meant to be split
step "pkg-config nsenter with a plain c++" env PKG_CONFIG_PATH="$pcdir" sh -c \
  "c++ -O2 \$(pkg-config --cflags nsenter) docs/examples/launch.cc \$(pkg-config --libs nsenter) -o '$work/launch_pc'"
step "  run as root and nobody" docs/examples/launch_test.sh "$work/launch_pc"

step "pkg-config nsenter_c with a plain cc" env PKG_CONFIG_PATH="$pcdir" sh -c \
  "cc -O2 \$(pkg-config --cflags nsenter_c) tests/integration/c_embed.c \$(pkg-config --libs nsenter_c) -o '$work/c_embed'"
# The C++ runtime is linked in, not loaded at each exec (CMakeLists.txt:
# NSENTER_C_STATIC_LIBSTDCXX).
no_cxx_runtime_needed() {
  local needed
  needed=$(readelf -d "$1" | grep NEEDED || true)
  if grep -Eq 'libstdc\+\+|libgcc_s' <<<"$needed"; then
    echo "cmake: FAILED: $1 loads the C++ runtime at each exec: $needed"
    exit 1
  fi
}
no_cxx_runtime_needed "$work/c_embed"
# Not an init: main() runs. A bad init pipe: the library refuses it, on stderr.
step "  run as a plain program" "$work/c_embed"
set +e
bad=$(_LIBCONTAINER_INITPIPE=notanumber "$work/c_embed" 2>&1)
status=$?
set -e
if [[ $status -ne 1 || $bad != *"FATAL: "*"_LIBCONTAINER_INITPIPE=notanumber"* ]]; then
  echo "cmake: FAILED: the C program with a bad init pipe exited $status: $bad"
  exit 1
fi

# Go: its own module, no dependencies, so it builds offline; caches in the
# scratch directory.
step "Go through cgo and nsenter_c.pc" env PKG_CONFIG_PATH="$pcdir" GOCACHE="$work/gocache" GOPATH="$work/gopath" \
  GOFLAGS=-mod=mod sh -c "cd docs/examples/go && CGO_CFLAGS=\"\$(pkg-config --cflags nsenter_c)\" \
  CGO_LDFLAGS=\"\$(pkg-config --libs nsenter_c)\" go build -o '$work/goinit' ."
no_cxx_runtime_needed "$work/goinit"
for who in root nobody; do
  set +e
  if [[ $who == root ]]; then said=$("$work/goinit" 2>&1); else
    said=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$work/goinit" 2>&1); fi
  status=$?
  set -e
  if [[ $status -ne 0 ]] || ! grep -Eq '^init [0-9]+ said: hello from pid 1, uid 0, host go-example$' <<<"$said" ||
    ! grep -qx 'and exited with status 0' <<<"$said"; then
    echo "cmake: FAILED: the Go example as $who (exit $status): $said"
    exit 1
  fi
  echo "cmake:   Go example as $who: $(head -1 <<<"$said")"
done

step "installed nsrun runs the default job" "$work/prefix/bin/nsrun" -- /bin/true
# Its man page is installed, and names every option --help lists.
man_page="$work/prefix/share/man/man1/nsrun.1"
step "nsrun's man page is installed" test -s "$man_page"
# (troff writes - as \-; no pipe into grep -q: with pipefail its early exit
# would fail the sed and report a present option as missing)
plain=$(sed 's/\\//g' "$man_page")
missing=$("$work/prefix/bin/nsrun" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u |
  while read -r opt; do grep -qF -- "$opt" <<<"$plain" || echo "$opt"; done)
if [[ -n $missing ]]; then
  echo "cmake: FAILED: nsrun.1 does not name: $missing"
  exit 1
fi
echo "cmake:   nsrun.1 names every option of nsrun --help"
echo "cmake: all consumers passed"
