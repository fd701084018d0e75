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
            fault's invariant checked: SPIN breadth-first (-DBFS) to its
            shortest trail (compile excluded, run timed) next to
            `lgcheck prove --fault F --inv I` (wall time of the whole process,
            start-up included, and its time to the counterexample as reported)

SPIN is Debian's `spin` package: installed here with apt-get if missing (the
tool never depends on it); a C compiler is needed too.

    .venv/bin/python benchmarks/spin_compare.py [--quick] [--limit 120] [--out docs/spin-compare.md]
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


def build(defines, bfs, where) -> str:
    shutil.copy(MODEL, os.path.join(where, "lguest.pml"))
    subprocess.run(["spin", "-a", *defines, "lguest.pml"], cwd=where, check=True, capture_output=True)
    cc = shutil.which("cc") or "gcc"
    flags = ["-O2", "-DSAFETY", "-DMEMLIM=2500"] + (["-DBFS"] if bfs else [])
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
        "finished": finished and "Interrupted" not in out and "error: max search depth too small" not in out,
        "states": num(r"(\d+) states, stored"),
        "mib": num(r"([\d.]+)\s+total actual memory usage"),
        "seconds": num(r"elapsed time ([\d.e+]+) seconds") or wall,
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


def spin_fault(fault, inv, limit) -> dict:
    defines = CHECKED + GROUP_OFF[GROUP_OF[inv]] + [f"-DFAULT_{fault.replace('-', '_')}"]
    with tempfile.TemporaryDirectory(prefix="lgspin") as d:
        build(defines, True, d)
        r = run_pan(d, ["-m10000000"], limit)
        r["steps"] = trail_actions(d, defines)
    return r


def lgcheck_fault(fault, inv, limit) -> dict:
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
            "--json",
            "--no-progress",
            "--timeout",
            str(limit),
            "--out",
            out,
        ]
        t = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - t
    try:
        doc = json.loads(p.stdout)
        r = next(x for x in doc["results"] if x["invariant"] == inv)
        return {"wall": wall, "seconds": r["seconds"], "status": r["status"], "steps": r["depth"]}
    except (ValueError, StopIteration, KeyError):
        return {"wall": wall, "seconds": None, "status": f"exit {p.returncode}", "steps": None}


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
    args = ap.parse_args()
    sys.path.insert(0, ROOT)
    from lgcheck.checker.faults import FAULTS

    version = ensure_spin()
    limit = 20.0 if args.quick else args.limit
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    base = baseline()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with {version}; load: {load}; "
        f"baseline job {base:.2f} s.  Command: `.venv/bin/python benchmarks/spin_compare.py "
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
    for name, defines, extra in runs:
        r = exhaust(name, defines, limit, extra)
        lines.append(
            f"| {name} | {'yes' if r['finished'] else f'no ({limit:.0f} s limit)'} | {r['states'] or 0:.0f} "
            f"| {r['mib'] or 0:.0f} | {r['seconds']:.1f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    lines += [
        "",
        "| fault (checked, no sysfs) | invariant | SPIN BFS (s) | SPIN trail (steps) | SPIN states | "
        "lgcheck to counterexample (s) | lgcheck process (s) | lgcheck steps | lgcheck / SPIN |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    faults = list(FAULTS.values())
    if args.quick:
        faults = faults[2:4]
    for f in faults:
        s = spin_fault(f.name, f.breaks, limit)
        g = lgcheck_fault(f.name, f.breaks, limit)
        found = s["violated"] != ""
        ratio = f"{g['seconds'] / max(s['seconds'], 0.01):.1f}" if found and g["seconds"] is not None else "-"
        lines.append(
            f"| {f.name} | {f.breaks} | {s['seconds']:.2f}{'' if found else ' (not found)'} | {s['steps']} "
            f"| {s['states'] or 0:.0f} | {g['seconds'] if g['seconds'] is not None else '-'} ({g['status']}) "
            f"| {g['wall']:.1f} | {g['steps']} | {ratio} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
