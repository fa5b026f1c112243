#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Idempotent host setup for building/testing this project offline.
# Only Debian apt is reachable, so everything comes from apt packages.
set -euo pipefail

PKGS=(
  bazel-bootstrap      # Bazel 4.2.3 (the only Bazel that works offline)
  libfmt-dev           # fmt 9.1.0, used header-only
  doctest-dev          # doctest 2.4.9
  clang                # second compiler, libFuzzer
  libclang-rt-14-dev   # clang sanitizer/fuzzer runtimes
  libc++-dev           # libc++ and libc++abi: the suite also runs with clang + libc++
  libc++abi-dev
  uidmap               # newuidmap/newgidmap for user-namespace tests
  iproute2             # ip: the hook example moves a veth end into a container (docs/examples/hooks.cc)
  runc                 # reference container runtime for comparisons
  strace
  busybox-static       # static rootfs binary for namespace tests
  valgrind
  python3
  cmake                # the CMake build embedders use (tests/cmake/run.sh)
  pkg-config           # the pkg-config files it installs
  golang-go            # the Go (cgo) example, built and run by the tests
  golang-github-opencontainers-runc-dev  # runc 1.1's C nsexec: the bench reference
)

# Re-exec as root: apt-get needs it.
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -- "$0" "$@"
  fi
  echo "setup.sh: must run as root (and sudo is not available)" >&2
  exit 1
fi

# dpkg-query is fast; only touch apt when something is actually missing.
missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
  echo "setup.sh: installed ${missing[*]}"
else
  echo "setup.sh: all ${#PKGS[@]} packages already installed"
fi
