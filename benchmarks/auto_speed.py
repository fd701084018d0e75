"""The default `lgcheck prove` (`--engine auto`) against `--engine bmc`, interleaved, in one run.

Each round runs both on the default model, each as its own `lgcheck prove`
process from an empty folder (start-up, the compare window, witness, shrink,
replay-check and writing included), one after the other, so both see the
same load.  Per engine: wall time to exit (best and median), CPU (user + sys
of the process and its children), when the last invariant had its first
answer, and (auto) how long the engines went on to be compared.  The verdicts
of the two must be the same in every round.  Target (issue 9): the default
settled within 10 s on the 2-core machine.

    .venv/bin/python benchmarks/auto_speed.py [--rounds 3] [--args "--launcher checked"]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def prove(extra: list[str], out: str) -> tuple[float, float, dict]:
    """(wall s, CPU s, the --json document) of one `lgcheck prove` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--json", "--no-progress", "--out", out, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return wall, cpu, json.loads(proc.stdout)


def verdicts(doc: dict) -> dict:
    return {r["invariant"]: (r["status"], r["every_depth"], r["depth"]) for r in doc["results"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--args", default="", help="more prove flags, for both engines")
    a = ap.parse_args()
    extra = shlex.split(a.args)
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    rows: dict = {"bmc": [], "auto": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.rounds):
            seen = {}
            for engine, flags in (("bmc", ["--engine", "bmc"]), ("auto", [])):
                wall, cpu, doc = prove([*flags, *extra], os.path.join(tmp, f"{engine}-{i}"))
                settled = max(r["seconds"] for r in doc["results"])
                rows[engine].append((wall, cpu, settled, doc.get("compare_seconds")))
                seen[engine] = verdicts(doc)
                cmp = "" if doc.get("compare_seconds") is None else f", compared {doc['compare_seconds']:.1f}s"
                print(f"round {i + 1} {engine:4}: {wall:5.2f}s wall, {cpu:5.2f}s CPU, settled {settled:.1f}s{cmp}")
            if seen["bmc"] != seen["auto"]:
                raise SystemExit(f"the verdicts differ: {seen}")
    for engine, r in rows.items():
        walls = [x[0] for x in r]
        print(
            f"{engine:4}: wall best {min(walls):.2f}s median {statistics.median(walls):.2f}s; "
            f"CPU median {statistics.median(x[1] for x in r):.2f}s"
        )
    ratio = min(x[0] for x in rows["auto"]) / min(x[0] for x in rows["bmc"])
    print(f"auto / bmc, best wall against best wall: {ratio:.2f}x")
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
