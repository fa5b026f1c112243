#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a
# bounded time on a scratch copy of the seed corpus. Exits non-zero if any
# input crashes, leaks, trips a sanitizer or breaks a round-trip check.
#
#   tests/fuzz/run.sh [WIRE_SECONDS [JSON_SECONDS [PLAN_SECONDS [STAGES_SECONDS]]]]   (default 45 15 15 30)
#
# NSENTER_FUZZ_RUNS=N runs each target for N inputs instead of a time.
# Crash reproducers are kept in $NSENTER_FUZZ_ARTIFACTS (default
# /tmp/nsenter-fuzz-artifacts). See docs/testing.md for longer runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

wire_seconds=${1:-45}
json_seconds=${2:-15}
plan_seconds=${3:-15}
stages_seconds=${4:-30}
work=$(mktemp -d /tmp/nsenter-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=${NSENTER_FUZZ_ARTIFACTS:-/tmp/nsenter-fuzz-artifacts}
mkdir -p "$artifacts"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -DFMT_HEADER_ONLY -Iinclude)

run_target() {
  local name=$1 seconds=$2 max_len=$3
  shift 3
  echo "fuzz: building $name"
  clang++ "${flags[@]}" "tests/fuzz/$name.cc" -o "$work/$name"
  mkdir -p "$work/corpus-$name"
  cp "$@" "$work/corpus-$name/"
  local limit=(-max_total_time="$seconds")
  if [[ -n ${NSENTER_FUZZ_RUNS:-} ]]; then
    limit=(-runs="$NSENTER_FUZZ_RUNS")
    echo "fuzz: running $name for $NSENTER_FUZZ_RUNS inputs"
  else
    echo "fuzz: running $name for ${seconds}s"
  fi
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$work/$name" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
      "$work/corpus-$name" 2>"$work/$name.log" || {
        tail -n 60 "$work/$name.log"
        echo "fuzz: $name FAILED (reproducer in $artifacts)"
        return 1
      }
  grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$work/$name.log" | sed "s/^/fuzz: $name: /"
}

run_target wire_fuzz "$wire_seconds" 8192 tests/data/runc/*.bin tests/fuzz/seeds/wire/*
run_target json_fuzz "$json_seconds" 4096 tests/data/runc/*.json tests/fuzz/seeds/json/*
# plan_fuzz's seeds: the captured messages behind environment strings.
mkdir -p "$work/plan-seeds"
for f in tests/data/runc/*.bin; do
  { printf '[-1,7,-1]\0009:1234\0005\000'; cat "$f"; } >"$work/plan-seeds/$(basename "$f")"
done
run_target plan_fuzz "$plan_seconds" 8192 "$work"/plan-seeds/*

# stages_fuzz's seeds: each captured message driven through each stage with
# the peer saying what a well-behaved peer says (see the header of
# stages_fuzz.cc for the layout; sync words are little-endian u32).
byte() { printf "\\$(printf %03o "$1")"; }
u16() { byte $(($1 & 255)); byte $(($1 >> 8)); }
words() { local w; for w in "$@"; do u16 "$w"; u16 0; done; }
mkdir -p "$work/stages-seeds"
for f in tests/data/runc/*.bin; do
  name=$(basename "$f" .bin)
  size=$(stat -c %s "$f")
  for death in 0 9; do
    # stage 0: stage 1 asks for maps and hands over stage 2's pid (4242); stage 2 finishes
    { byte 0; byte 0; byte 0; byte 5; byte $death; byte 1; u16 "$size"; cat "$f"
      u16 16; words 0x40 0x42 4242 0x45; words 0x45; } >"$work/stages-seeds/$name-0-$death"
    # stage 1: stage 0 acks the maps and the pid
    { byte 1; byte 0; byte 0; byte 5; byte $death; byte 1; u16 "$size"; cat "$f"
      u16 8; words 0x41 0x43; } >"$work/stages-seeds/$name-1-$death"
    # stage 2: stage 0 says go, and that the runtime is alive
    { byte 2; byte 0; byte 0; byte 5; byte $death; byte 0; u16 "$size"; cat "$f"
      u16 8; words 0x44 0x4a; } >"$work/stages-seeds/$name-2-$death"
    # one clone's stage 0: stage 2 finishes, the runtime alive (messages that
    # need stage 1 are declined and skipped)
    { byte 3; byte 0; byte 0; byte 5; byte $death; byte 0; u16 "$size"; cat "$f"
      u16 4; words 0x45; } >"$work/stages-seeds/$name-3-$death"
    # a direct start's stage 2
    { byte 4; byte 0; byte 0; byte 5; byte $death; byte 0; u16 "$size"; cat "$f"; u16 0; } >"$work/stages-seeds/$name-4-$death"
  done
done
# and regressions (seeds/stages: inputs that once failed).
run_target stages_fuzz "$stages_seconds" 8192 "$work"/stages-seeds/* tests/fuzz/seeds/stages/*
echo "fuzz: all targets passed"
