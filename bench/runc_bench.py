# SPDX-License-Identifier: Apache-2.0
"""Times runc 1.1.5 with its own nsexec ("stock") against the same runc with
nsenter's ("nsenter"), as bench/runc_bench.sh builds them into WORK:

  run     runc run BUNDLE ID           /bin/true, the container deleted after
  exec    runc exec ID /bin/true       into a running sleep (each runc its own)

as root and as nobody (rootless). Each round runs every (config, runc) pair
once, in an order shuffled each round; the first 3 rounds are dropped.
Prints min / median / p90, the ratio of medians (nsenter / stock) and in
how many rounds nsenter was the faster of the two.

  python3 bench/runc_bench.py WORK ROUNDS     (as root)
"""
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

NOBODY = 65534
RUNCS = ("stock", "nsenter")


def as_nobody():
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def runc(work, which, rootless, *args):
    root = f"{work}/state-rootless" if rootless else f"{work}/state"
    return [f"{work}/runc-{which}", "--root", root, *args]


def call(argv, rootless):
    env = {"PATH": "/usr/bin:/bin"}
    if rootless:
        env["XDG_RUNTIME_DIR"] = argv[2]  # the --root state directory, nobody's
    # stderr to a file, not a pipe: a detached container keeps what it
    # inherits open, and a pipe would then never reach EOF.
    with tempfile.TemporaryFile() as err:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env,
                           preexec_fn=as_nobody if rootless else None)
        err.seek(0)
        r.stderr = err.read()
    return r


def timed(argv, rootless):
    t0 = time.perf_counter()
    r = call(argv, rootless)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"runc_bench: {' '.join(argv)} failed ({r.returncode}): {r.stderr.decode().strip()}")
    return t * 1e3


def main():
    work, rounds = sys.argv[1], int(sys.argv[2])
    # The containers exec enters: one per runc and user, started by it.
    running = []
    for rootless in (False, True):
        suffix = "-rootless" if rootless else ""
        for which in RUNCS:
            cid = f"sleep-{which}{suffix}"
            r = call(runc(work, which, rootless, "run", "-d", "-b", f"{work}/sleep{suffix}", cid), rootless)
            if r.returncode != 0:
                sys.exit(f"runc_bench: starting {cid} failed: {r.stderr.decode().strip()}")
            running.append((which, rootless, cid))
    try:
        configs = {}
        for rootless in (False, True):
            suffix = "-rootless" if rootless else ""
            who = "rootless (nobody)" if rootless else "root"
            for which in RUNCS:
                configs[(f"runc run, {who}", which)] = (
                    runc(work, which, rootless, "run", "-b", f"{work}/run{suffix}", f"run-{which}{suffix}"), rootless)
                configs[(f"runc exec, {who}", which)] = (
                    runc(work, which, rootless, "exec", f"sleep-{which}{suffix}", "/bin/true"), rootless)
        order = list(configs)
        times = {k: [] for k in configs}
        rng = random.Random(20261204)
        for round_no in range(rounds + 3):
            rng.shuffle(order)
            for key in order:
                argv, rootless = configs[key]
                t = timed(argv, rootless)
                if round_no >= 3:
                    times[key].append(t)
    finally:
        for which, rootless, cid in running:
            call(runc(work, which, rootless, "delete", "-f", cid), rootless)

    def q(v, p):
        s = sorted(v)
        return s[int(p * (len(s) - 1))]

    print(f"{rounds} rounds, each (config, runc) once per round in shuffled order.\n")
    print("| config | runc's nsexec | min (ms) | median (ms) | p90 (ms) | median / stock's | rounds nsenter faster |")
    print("|---|---|---|---|---|---|---|")
    for config in dict.fromkeys(c for c, _ in configs):
        stock = times[(config, "stock")]
        ours = times[(config, "nsenter")]
        base = statistics.median(stock)
        faster = sum(1 for a, b in zip(ours, stock) if a < b)
        for which, v in (("stock", stock), ("nsenter", ours)):
            tail = f"{faster}/{len(v)}" if which == "nsenter" else ""
            print(f"| {config} | {which} | {q(v, 0):.2f} | {statistics.median(v):.2f} | {q(v, 0.9):.2f} | "
                  f"{statistics.median(v) / base:.3f} | {tail} |")


if __name__ == "__main__":
    main()
