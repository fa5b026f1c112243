#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Mutation check: does the suite fail when one security or correctness
check is broken?

    tools/mutants.py                 every mutant in tools/mutants.txt
    tools/mutants.py setsid maps-    only mutants whose id contains one of these
    tools/mutants.py --list          the list, and which entries are stale

Each mutant in tools/mutants.txt names a file, an exact text that must occur
there once, its replacement, what it breaks and the test targets expected to
kill it. The working tree is copied to a scratch tree (NSENTER_MUTANTS_DIR,
default /tmp/nsenter-mutants); each mutant is applied there alone, its
expected targets run first, and the whole suite only if they pass. The
working tree is never written. Run on demand, as root (the integration
tests need it), not in CI: a mutant costs a rebuild of what includes its
file.

Exit status 0 when every live mutant is killed or its survival is explained
in the list (an `equivalent:` line); 1 otherwise, or when an entry is stale
(its text is gone or ambiguous) or does not build.
"""
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tools", "mutants.txt")
SCRATCH = os.environ.get("NSENTER_MUTANTS_DIR", "/tmp/nsenter-mutants")


@dataclass
class Mutant:
    id: str
    breaks: str
    file: str = ""
    targets: list = field(default_factory=list)
    find: str = ""
    replace: str = ""
    equivalent: str = ""
    line: int = 0


def parse(path):
    """Blocks of the form:

    === ID: what the mutant breaks
    file: path/in/the/repository
    targets: //pkg:test //pkg:other
    equivalent: why it cannot be killed (optional)
    --- find
    exact lines
    --- replace
    lines (none: the text is deleted)
    --- end
    """
    mutants, cur, section, buf = [], None, None, []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if section in ("find", "replace") and not line.startswith("--- "):
                buf.append(line)
                continue
            if line.startswith("=== "):
                ident, _, breaks = line[4:].partition(": ")
                cur = Mutant(ident.strip(), breaks.strip(), line=n)
                mutants.append(cur)
            elif line.startswith("--- "):
                if cur is None:
                    sys.exit(f"{path}:{n}: '{line}' outside a mutant")
                if section is not None:
                    setattr(cur, section, "\n".join(buf))  # no final newline: a find may be part of a line
                section = {"--- find": "find", "--- replace": "replace", "--- end": None}.get(line, "bad")
                if section == "bad":
                    sys.exit(f"{path}:{n}: unknown section '{line}'")
                buf = []
            elif line.startswith("#") or not line.strip():
                continue
            elif cur is not None and ":" in line and section is None:
                key, _, value = line.partition(":")
                value = value.strip()
                if key == "file":
                    cur.file = value
                elif key == "targets":
                    cur.targets = value.split()
                elif key == "equivalent":
                    cur.equivalent = value
                else:
                    sys.exit(f"{path}:{n}: unknown key '{key}'")
            else:
                sys.exit(f"{path}:{n}: cannot read '{line}'")
    for m in mutants:
        if not (m.file and m.targets and m.find):
            sys.exit(f"{path}:{m.line}: mutant {m.id} needs file, targets and a find text")
    ids = [m.id for m in mutants]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit(f"{path}: ids used twice: {', '.join(sorted(dup))}")
    return mutants


def staleness(m, root=ROOT):
    """None when the mutant applies to the tree at `root`; else why not."""
    try:
        text = open(os.path.join(root, m.file)).read()
    except OSError as e:
        return f"file: {e.strerror}"
    n = text.count(m.find)
    if n == 0:
        return "text not found"
    if n > 1:
        return f"text found {n} times"
    return None


def copy_tree():
    dest = os.path.join(SCRATCH, "tree")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    shutil.copytree(ROOT, dest, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n == ".git" or n.startswith("bazel-")])
    return dest


def bazel_test(tree, targets, log):
    """0: passed; 3: a test failed; 1 (or other): the build failed."""
    with open(log, "w") as out:
        r = subprocess.run(["bazel", "test", "--test_output=errors", "--noshow_progress", *targets],
                           cwd=tree, stdout=out, stderr=subprocess.STDOUT)
    return r.returncode


def failed_targets(log):
    # A test's output may hold any bytes (a binary's, a sanitizer's).
    with open(log, errors="replace") as f:
        return [l.split()[0] for l in f if l.startswith("//") and ("FAILED" in l or "TIMEOUT" in l)]


def main(argv):
    mutants = parse(LIST)
    if "--list" in argv:
        for m in mutants:
            why = staleness(m)
            print(f"{m.id:32} {'STALE (' + why + ')' if why else 'ok':24} {m.breaks}")
        return 0
    wanted = [a for a in argv if not a.startswith("-")]
    chosen = [m for m in mutants if not wanted or any(w in m.id for w in wanted)]
    # The snapshot taken here is what every mutant applies to: edits to the
    # working tree during the run change nothing.
    os.makedirs(SCRATCH, exist_ok=True)
    tree = copy_tree()
    stale = [(m, why) for m in chosen if (why := staleness(m, tree))]
    live = [m for m in chosen if not staleness(m, tree)]
    logs = os.path.join(SCRATCH, "logs")
    os.makedirs(logs, exist_ok=True)
    print(f"mutants: {len(live)} to run, {len(stale)} stale; scratch tree {tree}", flush=True)
    base = os.path.join(logs, "baseline.log")
    if bazel_test(tree, ["//..."], base) != 0:
        print(f"mutants: the unmutated suite fails in the scratch tree (see {base}); nothing to measure")
        return 1

    results = []  # (mutant, verdict, detail)
    for i, m in enumerate(live, 1):
        path = os.path.join(tree, m.file)
        original = open(path).read()
        started = time.monotonic()
        try:
            with open(path, "w") as f:
                f.write(original.replace(m.find, m.replace, 1))
            log = os.path.join(logs, f"{m.id}.log")
            rc = bazel_test(tree, m.targets, log)
            if rc == 3:
                verdict, detail = "killed", " ".join(failed_targets(log))
            elif rc == 0:
                rc = bazel_test(tree, ["//..."], log)
                if rc == 3:
                    verdict, detail = "killed", "only by the whole suite: " + " ".join(failed_targets(log))
                elif rc == 0:
                    verdict = "explained" if m.equivalent else "SURVIVED"
                    detail = m.equivalent
                else:
                    verdict, detail = "BROKEN", f"bazel exit {rc}, see {log}"
            else:
                verdict, detail = "BROKEN", f"does not build (bazel exit {rc}), see {log}"
        finally:
            with open(path, "w") as f:
                f.write(original)
        results.append((m, verdict, detail))
        print(f"[{i}/{len(live)}] {verdict:9} {m.id}: {m.breaks} ({time.monotonic() - started:.0f} s)"
              f"{' -- ' + detail if detail else ''}", flush=True)

    killed = sum(v == "killed" for _, v, _ in results)
    explained = sum(v == "explained" for _, v, _ in results)
    print()
    print(f"mutants: {killed} killed, {explained} explained, "
          f"{sum(v == 'SURVIVED' for _, v, _ in results)} survived, "
          f"{sum(v == 'BROKEN' for _, v, _ in results)} broken, {len(stale)} stale; "
          f"kill rate {100.0 * killed / max(1, len(results) - explained):.1f}% of {len(results) - explained} "
          f"not explained as equivalent")
    for m, v, d in results:
        if v in ("SURVIVED", "BROKEN"):
            print(f"  {v} {m.id} ({m.file}): {m.breaks}{' -- ' + d if d else ''}")
    for m, why in stale:
        print(f"  STALE {m.id} ({m.file}, tools/mutants.txt:{m.line}): {why}")
    bad = stale or any(v in ("SURVIVED", "BROKEN") for _, v, _ in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
