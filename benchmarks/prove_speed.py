"""How fast `lgcheck prove` settles the default model and finds each fault.

Measured, each as a separate `lgcheck prove` process (so start-up is included):

    baseline   a fixed z3 job: a 16-bit QF_BV problem (the same every run),
               so the figures below can be read as ratios on a noisy machine
    default    the default configuration (2.6.23 Launcher, conforming Guests):
               the status and time of each invariant
    checked    --launcher checked --no-sysfs: every invariant must hold
    bmc-60s    BMC alone (--no-induction) on --launcher checked with a 60 s
               budget: the depth each invariant reaches
    faults     each fault with --launcher checked, only its invariant: the
               wall time to its counterexample, and its length
    data       --inv data-corrupted on the default model: 2.6.23's copy_data
               defect (issue 12), the wall time to its counterexample

Targets (issues 3 and 6): the default and the checked model settled within
10 s including start-up; every fault found within 5 s including start-up.

    .venv/bin/python benchmarks/prove_speed.py [--quick] [--budget 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import z3

from lgcheck.checker.faults import FAULTS


def baseline() -> float:
    """Seconds for a fixed QF_BV job: factor 3001 * 3989 with 24-bit bit-vectors."""
    t = time.monotonic()
    x, y = z3.BitVec("x", 24), z3.BitVec("y", 24)
    s = z3.SolverFor("QF_BV")
    s.add(x * y == 3001 * 3989, z3.ULT(x, 4096), z3.ULT(y, 4096), z3.UGT(x, 1), z3.UGT(y, 1))
    assert s.check() == z3.sat
    return time.monotonic() - t


def prove(args: list[str], out: str) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--json", "--no-progress", "--out", out, *args]
    t = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the BMC-only depth run (default 60)")
    ap.add_argument("--quick", action="store_true", help="skip the BMC-only depth run")
    args = ap.parse_args()
    ok = True
    base = min(baseline() for _ in range(3))
    print(f"z3 {z3.get_version_string()}; baseline QF_BV job {base:.3f}s (best of 3)\n")

    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (
            ("default (2.6.23 Launcher)", []),
            ("--launcher checked --no-sysfs", ["--launcher", "checked", "--no-sysfs"]),
        ):
            wall, doc = prove(extra, tmp)
            print(f"{label}: {wall:.1f}s wall ({wall / base:.0f}x baseline)")
            for r in doc["results"]:
                how = "every depth" if r["every_depth"] else f"depth {r['depth']}"
                print(f"  {r['invariant']:22} {r['status']:9} {how:12} at {r['seconds']:.1f}s")
                if r["status"] == "unknown" or (r["status"] == "holds" and not r["every_depth"] and r["depth"] < 20):
                    ok = False
            if extra and any(r["status"] != "holds" for r in doc["results"]):
                ok = False
                print("  FAIL: the checked model must hold")
            print()

        if not args.quick:
            wall, doc = prove(
                [
                    "--launcher",
                    "checked",
                    "--no-sysfs",
                    "--no-induction",
                    "--depth",
                    "1000",
                    "--timeout",
                    str(args.budget),
                ],
                tmp,
            )
            print(f"BMC alone, --launcher checked, {args.budget:.0f}s budget ({wall:.1f}s wall):")
            for r in doc["results"]:
                print(f"  {r['invariant']:22} {r['status']:9} proved to depth {r['depth']}")
            print()

        print("faults (--launcher checked, the fault's invariant only; wall time includes start-up):")
        for fault, inv in ((f.name, f.breaks) for f in FAULTS.values()):
            wall, doc = prove(
                ["--launcher", "checked", "--no-sysfs", "--fault", fault, "--inv", inv, "--depth", "10"],
                os.path.join(tmp, fault),
            )
            (r,) = [r for r in doc["results"] if r["invariant"] == inv]
            verdict = (
                "ok" if r["status"] == "violated" and wall <= 5.0 else "SLOW" if r["status"] == "violated" else "MISSED"
            )
            if verdict != "ok":
                ok = False
            print(
                f"  {fault:28} {inv:22} {r['status']:9} {r['depth']} steps  {wall:5.2f}s "
                f"({wall / base:.0f}x baseline)  {verdict}"
            )
        # Issue 12: 2.6.23's copy_data defect, found by prove with contents (--inv data, default model).
        wall, doc = prove(["--inv", "data-corrupted", "--depth", "6"], os.path.join(tmp, "data"))
        (r,) = doc["results"]
        found = r["status"] == "violated"
        verdict = "ok" if found and wall <= 10.0 else "SLOW" if found else "MISSED"
        ok = ok and verdict == "ok"
        print(
            f"\ndata (--inv data-corrupted, 2.6.23 Host): {r['status']} {r['depth']} steps  {wall:5.2f}s "
            f"({wall / base:.0f}x baseline)  {verdict} (target 10 s)"
        )
    print("\nall targets met" if ok else "\nsome target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
