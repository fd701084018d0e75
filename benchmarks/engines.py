"""The explicit-state engine (--engine bfs) against BMC (--engine bmc), in one run.

Measured, each as a separate `lgcheck prove` process (start-up included):

    baseline   a fixed z3 job (the same as benchmarks/prove_speed.py), so every
               figure can be read as a ratio on a noisy machine
    faults     each named fault, --launcher checked, only its invariant: wall
               time to the shortest counterexample and its length, per engine
               (bmc without induction: the time to its counterexample)
    buffers3   --buffers 3 with a fault whose shortest run needs the third
               buffer, per engine (issue 9: found within 10 s)
    default    the default configuration under bfs with a time budget: states,
               states/s, memory, exhausted or not
    speed      the default configuration under bfs to a fixed number of states
               (--states, 60,000): states per CPU second, the figure that does not
               depend on how loaded the machine is
    tiny       1 Guest, 1 slot, 1 buffer, 1 section, no sysfs, --inv status:
               exhausted (a proof with a state count), and the time
    ring       (--ring N,...: only this) host-skips-used-len-check, --launcher checked,
               with --num-skbs N --buffers N: drivers bind as 2.6.23's do, so the
               shortest run goes round the net ring (2N+3 steps); every engine
               (bmc, bmc with bitwuzla, bmc with LGCHECK_POR=1, bfs, bfs --defer-writes,
               auto; RING_ENGINES=bmc,bmc-por picks some): its
               length, wall, CPU, CPU against the baseline, states
    work       (--work N,...: only this) the same BMC runs, each in a fresh process, without
               and with LGCHECK_POR=1: CPU and z3's own counts of work (rlimit, conflicts,
               propagations, clauses), which do not depend on the machine's load

    .venv/bin/python benchmarks/engines.py [--budget 60] [--quick] [--states 60000] [--speed-only]
    .venv/bin/python benchmarks/engines.py --ring 1,2,3 [--budget 300]
    .venv/bin/python benchmarks/engines.py --work 1,2,3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import z3

from lgcheck.checker.faults import FAULTS
from prove_speed import baseline  # the same fixed QF_BV job (run as a script: benchmarks/ is on the path)


# bfs-d: the search with --defer-writes (docs/engines.md).  ENGINES=bfs,bmc (say) runs only those: e.g.
# against an older checkout (PYTHONPATH) that has no --defer-writes.
ENGINES = [
    ("bfs", ["--engine", "bfs"]),
    ("bfs-d", ["--engine", "bfs", "--defer-writes"]),
    ("bmc", ["--engine", "bmc", "--no-induction"]),
]
ENGINES = [e for e in ENGINES if e[0] in os.environ.get("ENGINES", "bfs,bfs-d,bmc").split(",")]
CPU: list[float] = [0.0]  # the CPU seconds of the last run (its processes, children included)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def prove(args: list[str], out: str, budget: float | None = None, env: dict | None = None) -> tuple[float, dict | None]:
    """Wall seconds and the JSON of one `lgcheck prove`; CPU[0] its CPU seconds (the machine is shared)."""
    cmd = [sys.executable, "-m", "lgcheck", "prove", "--json", "--no-progress", "--out", out, *args]
    if budget is not None:
        cmd += ["--timeout", f"{budget:g}"]
    t, c = time.monotonic(), _children_cpu()
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=None if budget is None else budget + 120,
            env=None if env is None else {**os.environ, **env},
        )
    except subprocess.TimeoutExpired:
        CPU[0] = _children_cpu() - c
        return time.monotonic() - t, None
    wall = time.monotonic() - t
    CPU[0] = _children_cpu() - c
    if proc.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads(proc.stdout)


def found(doc: dict | None, name: str) -> str:
    if doc is None:
        return "no answer"
    r = next(r for r in doc["results"] if r["invariant"] == name)
    if r["status"] == "violated":
        return f"violated in {r['depth']} steps"
    return f"{r['status']} (to depth {r['depth']})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per run before it counts as not found")
    ap.add_argument("--quick", action="store_true", help="faults and the tiny proof only")
    ap.add_argument("--states", type=int, default=60_000, help="states of the speed run")
    ap.add_argument("--speed-only", action="store_true", help="the speed run only")
    ap.add_argument("--ring", default="", help="only the net-ring runs, for these --num-skbs (e.g. 1,2,3)")
    ap.add_argument("--work", default="", help="only BMC's solver work on the net ring, z3's counts (e.g. 1,2,3)")
    ap.add_argument("--work-one", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.work_one:
        return work_one(args.work_one)
    if args.work:
        return work([int(n) for n in args.work.split(",")])
    if args.ring:
        return ring([int(n) for n in args.ring.split(",")], args.budget)
    if args.speed_only:
        with tempfile.TemporaryDirectory() as out:
            speed(out, args.states)
        return 0
    base = min(baseline() for _ in range(3))
    print(f"z3 {z3.get_version_string()}; baseline QF_BV job {base:.3f}s (best of 3); load {os.getloadavg()[0]:.1f}\n")
    with tempfile.TemporaryDirectory() as out:
        print(f"{'fault':30} {'engine':6} {'wall':>7} {'cpu':>7} {'cpu/base':>8}  result")
        for f in FAULTS.values():
            common = ["--launcher", "checked", "--fault", f.name, "--inv", f.breaks]
            for engine, extra in ENGINES:
                wall, doc = prove(common + extra, out, args.budget)
                cpu = CPU[0]
                print(f"{f.name:30} {engine:6} {wall:6.1f}s {cpu:6.1f}s {cpu / base:7.0f}x  {found(doc, f.breaks)}")
        tiny = ["--guest-count", "1", "--slots", "1", "--buffers", "1", "--sections", "1", "--no-sysfs"]
        wall, doc = prove([*tiny, "--inv", "status", "--engine", "bfs", "--depth", "40"], out, args.budget)
        if doc is not None:
            print(
                f"\ntiny (1 Guest, 1/1/1, no sysfs, status): {wall:.1f}s wall, {CPU[0]:.1f}s cpu "
                f"({CPU[0] / base:.0f}x), "
                f"exhausted={doc.get('exhausted')}, {doc.get('states', 0):,} states"
            )
        if args.quick:
            return 0
        print("\n--buffers 3 (a bug that needs the third buffer):")
        for fault, inv in (("host-skips-used-len-check", "write-to-used-buffer"),):
            common = ["--launcher", "checked", "--buffers", "3", "--fault", fault, "--inv", inv]
            for engine, extra in ENGINES:
                wall, doc = prove(common + extra, out, args.budget)
                cpu = CPU[0]
                print(f"  {fault} {engine:6} {wall:6.1f}s wall {cpu:6.1f}s cpu ({cpu / base:.0f}x)  {found(doc, inv)}")
        print(f"\ndefault configuration under bfs, {args.budget:.0f} s budget:")
        t = time.monotonic()
        wall, doc = prove(["--engine", "bfs"], out, args.budget)
        if doc is not None:
            states = doc.get("states", 0)
            print(
                f"  {states:,} states in {wall:.1f}s wall, {CPU[0]:.1f}s cpu "
                f"({states / max(CPU[0], 1e-9):,.0f} states per cpu s), {doc.get('memory_mib', 0):.0f} MiB, "
                f"exhausted={doc.get('exhausted')}; "
                + ", ".join(f"{r['invariant']} {r['status']}" for r in doc["results"])
            )
        else:
            print(f"  no answer in {time.monotonic() - t:.0f}s")
        speed(out, args.states)
    return 0


RING_ENGINES = [
    ("bmc", ["--engine", "bmc", "--no-induction"]),
    ("bmc-bz", ["--engine", "bmc", "--no-induction", "--bmc-solver", "bitwuzla"]),
    # BMC with the partial-order reduction of checker/por.py (off by default: measured slower, docs/engines.md)
    ("bmc-por", ["--engine", "bmc", "--no-induction"]),
    ("bfs", ["--engine", "bfs"]),
    ("bfs-d", ["--engine", "bfs", "--defer-writes"]),
    ("auto", ["--engine", "auto"]),
]


def ring(sizes: list[int], budget: float) -> int:
    """The used-buffer fault on the 2.6.23 net ring of each size: every engine, one line each."""
    base = min(baseline() for _ in range(3))
    print(f"z3 {z3.get_version_string()}; baseline QF_BV job {base:.3f}s (best of 3); load {os.getloadavg()[0]:.1f}")
    print(f"host-skips-used-len-check, --launcher checked, --num-skbs N --buffers N, budget {budget:g}s\n")
    print(f"{'N':>2} {'engine':6} {'wall':>7} {'cpu':>7} {'cpu/base':>8} {'states':>10}  result")
    inv = "write-to-used-buffer"
    wanted = os.environ.get("RING_ENGINES", ",".join(e for e, _ in RING_ENGINES)).split(",")
    with tempfile.TemporaryDirectory() as out:
        for n in sizes:
            common = ["--launcher", "checked", "--fault", "host-skips-used-len-check", "--inv", inv]
            common += ["--buffers", str(n), "--num-skbs", str(n)]
            for engine, extra in RING_ENGINES:
                if engine not in wanted:
                    continue
                wall, doc = prove(common + extra, out, budget, {"LGCHECK_POR": "1" if engine == "bmc-por" else "0"})
                states = f"{doc['states']:,}" if doc and doc.get("states") else "-"
                print(
                    f"{n:2} {engine:6} {wall:6.1f}s {CPU[0]:6.1f}s {CPU[0] / base:7.0f}x {states:>10}  "
                    f"{found(doc, inv)}; load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    return 0


def work(sizes: list[int]) -> int:
    """BMC on the net ring, without and with LGCHECK_POR=1: CPU and z3's own counts of work.

    z3's `rlimit-count` (with its conflicts, propagations, clauses) counts what the solver did, whatever
    the machine's load: the figure to compare two encodings by on a shared machine.  Each run is a fresh
    process (z3's counts depend on what the process asked z3 before), and the rlimit printed is BMC's
    alone (z3 keeps one counter per process; the reduction's own proofs are made before it is read).
    """
    print(f"z3 {z3.get_version_string()}; load {os.getloadavg()[0]:.1f}")
    head = f"{'N':>2} {'por':>3} {'steps':>5} {'cpu':>7} {'rlimit':>11} {'conflicts':>9}"
    print(f"{head} {'propagations':>12} {'clauses':>9}", flush=True)
    for n in sizes:
        for por in ("0", "1"):
            env = {**os.environ, "LGCHECK_POR": por}
            subprocess.run([sys.executable, __file__, "--work-one", str(n)], env=env, check=True)
    return 0


def _rlimit() -> int:
    """z3's rlimit count so far in this process (one counter for every solver: a fresh one reports it)."""
    s = z3.SolverFor("QF_BV")
    s.check()
    return int(s.statistics().get_key_value("rlimit count"))


def work_one(n: int) -> int:
    """One line of `work`: BMC in this process on the ring of n (LGCHECK_POR as the environment says)."""
    from lgcheck.checker import bmc
    from lgcheck.checker.config import Config

    cfg = Config(
        launcher="checked",
        sysfs=False,
        invariants=("write-to-used-buffer",),
        faults=("host-skips-used-len-check",),
        buffers=n,
        num_skbs=n,
        induction=False,
        depth=2 * n + 3,
    )
    from lgcheck.checker import por

    if por.enabled():  # its proofs first: z3's rlimit counts all of the process's work, theirs too
        por.reduction(cfg, bmc.status_free(cfg, bmc.rule_names(cfg)))
    before = _rlimit()
    t = time.process_time()
    results, unrolling = bmc.check(cfg)
    cpu = time.process_time() - t
    stats = unrolling.solver.statistics()

    def get(key):
        value = int(stats.get_key_value(key)) if key in stats.keys() else 0
        return value - before if key == "rlimit count" else value

    props = get("sat propagations 2ary") + get("sat propagations nary")
    clauses = get("sat mk clause 2ary") + get("sat mk clause nary")
    steps = results["write-to-used-buffer"].steps
    por = os.environ.get("LGCHECK_POR", "0")
    print(
        f"{n:2} {por:>3} {steps:5} {cpu:6.1f}s {get('rlimit count'):11,} {get('sat conflicts'):9,} "
        f"{props:12,} {clauses:9,}; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return 0


def speed(out: str, states: int) -> None:
    """The default configuration under bfs to `states` states: states per CPU second (start-up included)."""
    wall, doc = prove(["--engine", "bfs", "--max-states", str(states)], out)
    n = doc.get("states", 0) if doc else 0
    print(
        f"\nspeed: default configuration under bfs to {n:,} states: {wall:.1f}s wall, {CPU[0]:.1f}s cpu, "
        f"{n / max(CPU[0], 1e-9):,.0f} states per cpu s, {doc.get('memory_mib', 0) if doc else 0:.0f} MiB; "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    sys.exit(main())
