"""lgcheck against SPIN on the same configuration, side by side (issue 9, item 4).

benchmarks/spin/lguest.pml is the default configuration (2 Guests, 2 slots,
2 buffers, 2 sections, three devices each, all status bits) hand-written in
Promela, with each `lgcheck prove --list-faults` fault as an #ifdef.  One
command measures:

  exhaust   SPIN (depth-first, -DSAFETY) exhausting the state space, with a
            time limit: the 2.6.23 model with its assertions off (-A), the
            `--launcher checked --no-sysfs` model (every invariant holds), a
            smaller one (1 slot, 1 buffer) and a larger one (3 buffers); states
            stored, memory, seconds, and whether it finished
  faults    per fault, with `--launcher checked --no-sysfs` and only the
            fault's invariant, SPIN and lgcheck interleaved, --repeat rounds
            (median and best): SPIN breadth-first (-DBFS) to its shortest
            trail, its own elapsed time (compilation excluded), against
            `lgcheck prove --fault F --inv I` with each engine (bfs, bfs
            --defer-writes, bmc) read three ways (`lgcheck_fault`): the
            engine's search time to the violating run, the time to a written,
            replay-checked counterexample, and the whole process

SPIN is Debian's `spin` package: installed here with apt-get if missing (the
tool never depends on it); a C compiler is needed too.

    .venv/bin/python benchmarks/spin_compare.py [--quick] [--limit 120] [--fault-limit 300] [--repeat 5]
        [--faults a,b] [--no-exhaust] [--memlim 2500] [--out docs/spin-compare.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "spin", "lguest.pml")
ROOT = os.path.dirname(HERE)
LGCHECK = [sys.executable, "-m", "lgcheck"]

GROUP_OFF = {  # the #defines that leave only one invariant group's assertions
    "keys": ["-DNO_ASSERT_BUFFERS", "-DNO_ASSERT_STATUS"],
    "buffers": ["-DNO_ASSERT_KEYS", "-DNO_ASSERT_STATUS"],
    "status": ["-DNO_ASSERT_KEYS", "-DNO_ASSERT_BUFFERS"],
}
GROUP_OF = {
    "key-collision": "keys",
    "key-outside-device": "keys",
    "write-to-used-buffer": "buffers",
    "buffer-overflow": "buffers",
    "status-cleared": "status",
    "status-forbidden-bit": "status",
}
CHECKED = ["-DCHECKED_LAUNCHER", "-DNO_SYSFS"]
MEMLIM = [2500]  # MiB SPIN's verifier may allocate (--memlim)
# lgcheck run as an installed tool runs: with its bytecode cached (a shell that sets
# PYTHONDONTWRITEBYTECODE would make every run compile lgcheck's modules again, ~0.1-0.4 s).
LGCHECK_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def ensure_spin() -> str:
    if shutil.which("spin") is None:
        print("spin is missing: apt-get install -y spin", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "spin"], check=False, stdout=subprocess.DEVNULL)
    if shutil.which("spin") is None:
        sys.exit("cannot install spin (run `apt-get install -y spin` as root)")
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        sys.exit("a C compiler (cc) is needed to build SPIN's verifier")
    out = subprocess.run(["spin", "-V"], capture_output=True, text=True).stdout.strip()
    return out


# pan's own clock is times(): clock ticks (1/100 s here), so a search that ends within one tick says
# "elapsed time 0 seconds".  The same two points of its run (start_timer, just before the search, after
# the hash table is allocated; stop_timer, at pan_exit, after the trail and statistics are written) are
# read here also with clock_gettime(CLOCK_MONOTONIC), in ns, and printed as "pan: monotonic elapsed".
FINE_CLOCK = [
    ("start_time = times(&start_tm);", "start_time = times(&start_tm); clock_gettime(CLOCK_MONOTONIC, &lg_t0);"),
    (
        "stop_time = times(&stop_tm);",
        "stop_time = times(&stop_tm); clock_gettime(CLOCK_MONOTONIC, &lg_t1);"
        ' printf("\\npan: monotonic elapsed %.6f seconds\\n",'
        " (double) (lg_t1.tv_sec - lg_t0.tv_sec) + (lg_t1.tv_nsec - lg_t0.tv_nsec) / 1e9);",
    ),
]


FINE = [True]  # every pan so far printed its monotonic elapsed time (`fine_clock`)


def fine_clock(where) -> bool:
    """Patch pan.c so that it also prints its elapsed time from a monotonic clock (FINE_CLOCK); False if it cannot."""
    path = os.path.join(where, "pan.c")
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        text = fh.read()
    if not all(text.count(old) == 1 for old, _ in FINE_CLOCK):
        return False  # another SPIN's pan.c: its own clock only
    for old, new in FINE_CLOCK:
        text = text.replace(old, new)
    text = "#include <time.h>\nstatic struct timespec lg_t0, lg_t1;\n" + text
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
        fh.write(text)
    return True


def build(defines, bfs, where) -> str:
    shutil.copy(MODEL, os.path.join(where, "lguest.pml"))
    subprocess.run(["spin", "-a", *defines, "lguest.pml"], cwd=where, check=True, capture_output=True)
    FINE[0] = fine_clock(where) and FINE[0]
    cc = shutil.which("cc") or "gcc"
    flags = ["-O2", "-DSAFETY", f"-DMEMLIM={MEMLIM[0]}"] + (["-DBFS"] if bfs else [])
    subprocess.run([cc, *flags, "-o", "pan", "pan.c"], cwd=where, check=True, capture_output=True)
    return os.path.join(where, "pan")


def run_pan(where, args, limit) -> dict:
    t = time.monotonic()
    p = subprocess.Popen(["./pan", *args], cwd=where, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=limit)
        finished = True
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)  # pan prints its statistics when interrupted
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        finished = False
    wall = time.monotonic() - t

    def num(pattern):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else None

    return {
        "finished": finished
        and not any(w in out for w in ("Interrupted", "max search depth too small", "reached -DMEMLIM bound")),
        "why": "memory limit" if "reached -DMEMLIM bound" in out else "depth limit" if "depth too small" in out else "",
        "states": num(r"(\d+) states, stored"),
        "mib": num(r"([\d.]+)\s+total actual memory usage"),
        # pan counts in hundredths and says 0 below one: 0.0 is its answer, the process's wall is not
        "seconds": wall if num(r"elapsed time ([\d.e+]+) seconds") is None else num(r"elapsed time ([\d.e+]+) seconds"),
        "wall": wall,  # the pan process, start to exit
        # the same span as pan's "elapsed time", from a monotonic clock (`fine_clock`), else pan's own
        "fine": num(r"monotonic elapsed ([\d.]+) seconds") or num(r"elapsed time ([\d.e+]+) seconds") or wall,
        "errors": num(r"errors: (\d+)"),
        "violated": re.search(r"assertion violated.*", out).group(0) if "assertion violated" in out else "",
        "out": out,
    }


def trail_actions(where, defines) -> int | None:
    """The shortest trail's length in model steps (one d_step per action)."""
    if not os.path.exists(os.path.join(where, "lguest.pml.trail")):
        return None
    out = subprocess.run(["spin", "-t", "-p", *defines, "lguest.pml"], cwd=where, capture_output=True, text=True).stdout
    return out.count("[sub-sequence]")


def exhaust(name, defines, limit, extra=()) -> dict:
    with tempfile.TemporaryDirectory(prefix="lgspin") as d:
        build(defines, False, d)
        r = run_pan(d, ["-m10000000", "-w26", *extra], limit)
    r["name"] = name
    return r


def spin_build_fault(fault, inv, where) -> list:
    defines = CHECKED + GROUP_OFF[GROUP_OF[inv]] + [f"-DFAULT_{fault.replace('-', '_')}"]
    build(defines, True, where)
    return defines


def spin_fault(where, limit) -> dict:
    """One run of the compiled breadth-first verifier: its own elapsed time (compilation excluded)."""
    trail = os.path.join(where, "lguest.pml.trail")
    if os.path.exists(trail):
        os.unlink(trail)
    r = run_pan(where, ["-m10000000"], limit)
    if r["violated"]:
        r["status"] = "violated"
    elif r["why"] or not r["finished"]:
        r["status"] = f"not found ({r['why'] or 'time limit'})"
    else:
        r["status"] = "not found"
    return r


# lgcheck's engines, each timed the way SPIN is (start-up excluded, see `lgcheck_fault`).
ENGINES = {
    "bfs": ["--engine", "bfs"],
    "bfs --defer-writes": ["--engine", "bfs", "--defer-writes"],
    "bmc": ["--engine", "bmc"],
    "auto": ["--engine", "auto"],
}
DEFAULT_ENGINES = "bfs,bfs --defer-writes,bmc"


def lgcheck_fault(fault, inv, limit, engine_args) -> dict:
    """One `lgcheck prove --fault F --inv I`, three times read.

    search   the result's `seconds`: the engine's own time to the violating run.
             bfs: from the search's start (the initial state, its cones and
             menus) to the step that breaks the invariant; bmc: from the run's
             start (induction forked beside it) to z3's sat, every step's
             encoding included.  Neither includes what follows the search.
    written  the document's `written_seconds`: from `prove` being called to
             the last counterexample file written, so also decoding the run
             (bfs: from its concrete steps; bmc: from z3's model, shrunk),
             replaying it on the concrete model (replay-check) and writing
             the .lgt and ITF.
    exit     the document's `seconds`: to the JSON rendered, so also (bfs,
             auto) the run checked on BMC's encoding after it was written,
             and (auto) the compare window.
    wall     the whole process, Python's start-up and imports included.
    """
    with tempfile.TemporaryDirectory(prefix="lgprove") as out:
        cmd = [
            *LGCHECK,
            "prove",
            "--launcher",
            "checked",
            "--no-sysfs",
            "--fault",
            fault,
            "--inv",
            inv,
            *engine_args,
            "--json",
            "--no-progress",
            "--timeout",
            str(limit),
            "--out",
            out,
        ]
        t = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=LGCHECK_ENV)
        wall = time.monotonic() - t
    try:
        doc = json.loads(p.stdout)
        r = next(x for x in doc["results"] if x["invariant"] == inv)
        return {
            "wall": wall,
            "search": r["seconds"],
            "written": doc.get("written_seconds"),
            "exit": doc["seconds"],
            "status": r["status"],
            "steps": r["depth"] if r["status"] == "violated" else None,
            "states": r.get("states"),
        }
    except (ValueError, StopIteration, KeyError):
        return {"wall": wall, "search": None, "written": None, "status": f"exit {p.returncode}", "steps": None}


def best_median(xs) -> tuple:
    xs = sorted(xs)
    return xs[0], xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def cell(runs, key, found) -> str:
    """`median (best)` over the runs that found the violation, else why none did."""
    ok = [r[key] for r in runs if found(r) and r.get(key) is not None]
    if len(ok) < len(runs):
        why = sorted({r["status"] for r in runs if not found(r)})
        if not ok:  # how long the runs went on without finding it
            spent = [r[key] for r in runs if r.get(key) is not None]
            return f"none: {', '.join(why)}" + (f" after {fmt(best_median(spent)[1])}" if spent else "")
        best, med = best_median(ok)
        return f"{fmt(med)} ({fmt(best)}; {len(runs) - len(ok)} {', '.join(why)})"
    best, med = best_median(ok)
    return f"{fmt(med)} ({fmt(best)})" if len(ok) > 1 else fmt(med)


def fmt(x: float) -> str:
    if x == 0:
        return "0"
    if x < 0.01:  # SPIN's monotonic figures for a 1-step trail are fractions of a millisecond
        return f"{x:.4f}"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def ratio(lg_runs, key, spin_med) -> str:
    """The best lgcheck engine's median over SPIN's (only engines that found the violation every round)."""
    meds = [(median_of(rs, key, lambda r: r["status"] == "violated"), e) for e, rs in lg_runs.items()]
    meds = [m for m in meds if m[0] is not None]
    if not meds:
        return "-"
    m, e = min(meds)
    if spin_med is None:
        return f"SPIN found none; {e}: {fmt(m)} s"
    if spin_med < 0.01 and not FINE[0]:  # below pan's resolution: the ratio is at least this
        return f">= {m / 0.01:.2f} ({e}; SPIN < 0.01 s)"
    r = m / spin_med
    return f"{r:.3f} ({e})" if r < 0.1 else f"{r:.2f} ({e})"


def median_of(runs, key, found):
    ok = [r[key] for r in runs if found(r) and r.get(key) is not None]
    return best_median(ok)[1] if len(ok) == len(runs) and ok else None


def baseline() -> float:
    """Seconds of a fixed compute job (sum of squares), to read the figures as ratios on a loaded machine."""
    t = time.monotonic()
    sum(i * i for i in range(3_000_000))
    return time.monotonic() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two faults, exhaustion of the small model only, 20 s limits")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per SPIN exhaustion and per fault")
    ap.add_argument("--out", default=None, help="write the tables (markdown) here")
    ap.add_argument("--fault-limit", type=float, default=None, help="seconds per fault run (default: --limit)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds per fault (SPIN and lgcheck interleaved)")
    ap.add_argument("--long", type=float, default=60.0, help="a fault whose first round takes longer ...")
    ap.add_argument("--long-repeat", type=int, default=2, help="... gets this many rounds")
    ap.add_argument("--faults", default="", help="only these faults (comma-separated)")
    ap.add_argument("--no-exhaust", action="store_true", help="skip the exhaustion table")
    ap.add_argument("--raw", default=None, help="write every run's figures (JSON) here, fault by fault")
    ap.add_argument("--memlim", type=int, default=2500, help="MiB SPIN's verifier may allocate (default 2500)")
    ap.add_argument(
        "--engines", default=DEFAULT_ENGINES, help=f"lgcheck engines, comma-separated, of: {', '.join(ENGINES)}"
    )
    args = ap.parse_args()
    engines_run = {e: ENGINES[e] for e in args.engines.split(",")}
    MEMLIM[0] = args.memlim
    sys.path.insert(0, ROOT)
    from lgcheck.checker.faults import FAULTS

    version = ensure_spin()
    limit = 20.0 if args.quick else args.limit
    flimit = limit if args.fault_limit is None or args.quick else args.fault_limit
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    base = baseline()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with {version}; load: {load}; "
        f"baseline job {base:.2f} s; SPIN's memory limit (-DMEMLIM) {MEMLIM[0]} MiB.  "
        "Command: `.venv/bin/python benchmarks/spin_compare.py "
        f"{' '.join(sys.argv[1:])}`",
        "",
        "| model (SPIN, depth-first, exhaustive) | finished | states stored | memory (MiB) | seconds |",
        "|---|---|---:|---:|---:|",
    ]
    small = ["-DMAXLEN=1", "-DNO_STATUS"]
    runs = [
        (
            "1 Guest, 1 slot, 1 buffer, sections 0..1, no status; checked",
            CHECKED + small + ["-DG=1", "-DS=1", "-DB=1"],
            (),
        )
    ]
    if not args.quick:
        runs += [
            ("1 Guest, default sizes; checked, no sysfs", CHECKED + ["-DG=1"], ()),
            ("default (2.6.23, sysfs), assertions off (-A)", [], ("-A",)),
            ("default, --launcher checked --no-sysfs", CHECKED, ()),
            ("default sizes, sections 0..1 units, no status; checked", CHECKED + small, ()),
            ("3 buffers (larger), --launcher checked --no-sysfs", CHECKED + ["-DB=3"], ()),
        ]
    if args.no_exhaust:
        runs, lines = [], lines[:-3]
    for name, defines, extra in runs:
        r = exhaust(name, defines, limit, extra)
        done = "yes" if r["finished"] else f"no ({r['why'] or f'{limit:.0f} s limit'})"
        lines.append(f"| {name} | {done} | {r['states'] or 0:.0f} | {r['mib'] or 0:.0f} | {r['seconds']:.1f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    spin_found = lambda r: r["violated"] != ""  # noqa: E731
    lg_found = lambda r: r["status"] == "violated"  # noqa: E731
    search_rows, written_rows, raw = [], [], []
    faults = list(FAULTS.values())
    if args.faults:
        faults = [f for f in faults if f.name in args.faults.split(",")]
    elif args.quick:
        faults = faults[2:4]
    for f in faults:
        spin_runs, lg_runs = [], {e: [] for e in engines_run}
        with tempfile.TemporaryDirectory(prefix="lgspin") as d:
            defines = spin_build_fault(f.name, f.breaks, d)
            n = args.repeat
            for i in range(n):  # interleaved, so that both tools see the same load
                t = time.monotonic()
                spin_runs.append(spin_fault(d, flimit))
                if i == 0:
                    spin_steps = trail_actions(d, defines)
                for e, eargs in engines_run.items():
                    lg_runs[e].append(lgcheck_fault(f.name, f.breaks, flimit, eargs))
                if i == 0 and time.monotonic() - t > args.long:
                    n = min(n, args.long_repeat)  # a deep fault: fewer rounds
                print(f"  {f.name} round {i + 1}: {time.monotonic() - t:.1f} s", file=sys.stderr, flush=True)
                if i + 1 >= n:
                    break
        spin_med = median_of(spin_runs, "fine", spin_found)
        steps = sorted({r["steps"] for rs in lg_runs.values() for r in rs if r["steps"] is not None})
        states = sorted({r["states"] for r in lg_runs.get("bfs", []) if r.get("states") and lg_found(r)})

        search_rows.append(
            f"| {f.name} | {f.breaks} | {len(spin_runs)} | {cell(spin_runs, 'seconds', spin_found)} "
            f"| {cell(spin_runs, 'fine', spin_found)} | {spin_steps if spin_med is not None else '-'} "
            f"| {best_median([r['states'] or 0 for r in spin_runs])[1]:.0f} "
            + "".join(f"| {cell(rs, 'search', lg_found)} " for rs in lg_runs.values())
            + f"| {', '.join(map(str, steps)) or '-'} | {', '.join(map(str, states)) or '-'} "
            + f"| {ratio(lg_runs, 'search', spin_med)} |"
        )
        written_rows.append(
            f"| {f.name} | {cell(spin_runs, 'fine', spin_found)} "
            + "".join(f"| {cell(rs, 'written', lg_found)} " for rs in lg_runs.values())
            + f"| {ratio(lg_runs, 'written', spin_med)} "
            + "".join(f"| {cell(rs, 'exit', lg_found)} " for rs in lg_runs.values())
            + f"| {ratio(lg_runs, 'exit', spin_med)} | {cell(spin_runs, 'wall', spin_found)} "
            + "".join(f"| {cell(rs, 'wall', lg_found)} " for rs in lg_runs.values())
            + "|"
        )
        if args.raw:
            raw.append({"fault": f.name, "spin": [{k: v for k, v in r.items() if k != "out"} for r in spin_runs]})
            raw[-1].update(lg_runs)
            with open(args.raw, "w", encoding="utf-8") as fh:
                json.dump(raw, fh, indent=1)
        print(search_rows[-1], file=sys.stderr, flush=True)
        print(written_rows[-1], file=sys.stderr, flush=True)
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    engines = " | ".join(f"lgcheck {e}" for e in engines_run)
    clock = "pan's monotonic clock (`fine_clock`)" if FINE[0] else "pan's own clock (1/100 s)"
    lines += [
        "",
        f"Faults (`--launcher checked --no-sysfs`, only the fault's invariant), each run {args.repeat} times "
        f"({args.long_repeat} when a round takes over {args.long:.0f} s), SPIN and the lgcheck runs "
        f"interleaved, {flimit:.0f} s limit a run; each cell is the median (best) in seconds.  "
        f"Load after: {load_after}.",
        "",
        "Time to the shortest run, start-up excluded: SPIN's elapsed time (breadth-first `-DBFS`, "
        "compilation excluded, from just before its search to its exit, trail written), by its own clock "
        "(1/100 s) and by a monotonic clock read at the same two points (`fine_clock`), against each "
        "lgcheck engine's own search time (the result's `seconds`); ratios against the latter.",
        "",
        f"| fault | invariant | rounds | SPIN BFS (pan's clock) | SPIN BFS (monotonic) | SPIN trail (steps) "
        f"| SPIN states | {engines} | lgcheck steps | bfs states | best lgcheck / SPIN (medians) |",
        "|---|---|" + "---:|" * (9 + len(engines_run)),
        *search_rows,
        "",
        "Time to a written, replay-checked counterexample (`written_seconds`: `prove` called to its last "
        "file written: search, decode (bfs: its concrete run; bmc: z3's model, shrunk), replay-check, "
        ".lgt + ITF written; Python's start-up excluded), to exit (JSON `seconds`: also, bfs and auto, "
        "the run checked on BMC's encoding, and auto's compare window), and the whole process "
        f"(start-up included).  SPIN: {clock}.",
        "",
        f"| fault | SPIN BFS | {' | '.join(f'{e} written' for e in engines_run)} | best written / SPIN "
        f"| {' | '.join(f'{e} exit' for e in engines_run)} | best exit / SPIN "
        f"| SPIN pan process | {' | '.join(f'{e} process' for e in engines_run)} |",
        "|---|" + "---:|" * (4 + 3 * len(engines_run)),
        *written_rows,
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
