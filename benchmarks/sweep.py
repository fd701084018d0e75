"""Prove the invariants over a grid of sizes, toward the kernel's limits (issue 9, item 3).

From the base configuration (2 Guests, 2 slots, 2 buffers, 2 sections,
`--launcher checked --no-sysfs`, where every invariant holds), one size at a
time grows toward the 2.6.23 limits: Guests to 16 (MAX_LGUEST_GUESTS),
binding slots to 32 (LGUEST_MAX_DMA), buffers per bound array to 8 (the
model's limit), sections to 16 (LGUEST_MAX_DMA_SECTIONS).  (Devices are fixed
by the Launcher's layout at three per Guest: net, block, console; the model
has no knob for more.)  Each point runs each engine in a fresh process, with
a time limit per point:

    induction  checker/induction.py: Houdini, 1-induction, then k-induction;
               Houdini starts from the lemma families that held at the
               previous (smaller) size of the same axis (lemma reuse)
    bmc        checker/bmc.py to --bmc-depth steps (a bounded check only)

and records wall time, peak memory (the process's max RSS) and the outcome.
An engine that misses the limit at one size is not asked at larger sizes of
that axis: the table says where it stopped and why.  The points cutoff+1 and
cutoff+2 of docs/cutoff.md are marked.  Writes a markdown table and a PNG
plot (matplotlib: `pip install -e '.[bench]'`).

    .venv/bin/python benchmarks/sweep.py [--quick] [--limit 120] [--out docs/sweep]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import time

AXES = {
    "guests": [2, 3, 4, 6, 8, 12, 16],
    "slots": [2, 3, 4, 8, 16, 32],
    "buffers": [2, 3, 4, 6, 8],
    "sections": [2, 3, 4, 8, 16],
}
QUICK = {"guests": [2, 3], "slots": [2, 3], "buffers": [2, 3], "sections": [2, 3]}
CUTOFF = {"guests": 2, "slots": 2, "buffers": 2, "sections": 2}  # docs/cutoff.md
BASE = dict(launcher="checked", sysfs=False)


def _point(engine, kw, limit, depth, seed, conn, base=None):
    from lgcheck.checker import bmc, induction
    from lgcheck.checker.config import Config

    started = time.monotonic()
    out = {"status": "", "note": "", "families": None}
    try:
        if engine == "induction":
            cfg = Config(**{**BASE, **(base or {}), **kw})
            verdicts, kept = induction.prove(cfg, bmc.rule_names(cfg), started + limit, seed=seed)
            proved = [n for n, v in verdicts.items() if v.proved]
            unknown = [n for n, v in verdicts.items() if v.unknown and not v.proved]
            ks = sorted({v.k for v in verdicts.values() if v.proved})
            out["status"] = f"{len(proved)}/{len(verdicts)} proved"
            out["note"] = (f"timeout on {', '.join(unknown)}" if unknown else "") + (
                f" k={','.join(map(str, ks))}" if ks and ks != [1] else ""
            )
            out["families"] = sorted({induction.family(n) for n in kept})
            out["done"] = not unknown and len(proved) == len(verdicts)
        else:
            cfg = Config(**{**BASE, **(base or {}), **kw}, depth=depth, timeout=limit, induction=False)
            results, _ = bmc.check(cfg)
            bad = [n for n, r in results.items() if r.status != "holds"]
            reached = min(r.depth for r in results.values())
            out["status"] = f"depth {reached}/{depth}"
            out["note"] = "; ".join(f"{n} {results[n].status} ({results[n].reason})" for n in bad)
            out["done"] = not bad
    except MemoryError:
        out["status"], out["note"], out["done"] = "out of memory", "", False
    out["seconds"] = time.monotonic() - started
    out["mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send(out)
    conn.close()


def run_point(engine, kw, limit, depth, seed, base=None):
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_point, args=(engine, kw, limit, depth, seed, child, base))
    t = time.monotonic()
    p.start()
    child.close()
    got = parent.poll(limit + 30)  # the engines watch the limit; this catches an encoding that does not
    out = parent.recv() if got else None
    p.kill()
    p.join()
    if out is None:
        out = {"status": "killed", "note": "over the limit while encoding", "done": False, "families": None}
        out["seconds"], out["mib"] = time.monotonic() - t, float("nan")
    return out


def sweep(axes, engines, limit, depth, log, base=None):
    rows = []
    for axis, values in axes.items():
        seed = None
        stopped: dict = {}
        for v in values:
            for engine in engines:
                if engine in stopped:
                    continue
                kw = {axis: v}
                out = run_point(engine, kw, limit, depth, seed if engine == "induction" else None, base)
                if engine == "induction" and out.get("families"):
                    seed = set(out["families"])
                mark = " (cutoff+%d)" % (v - CUTOFF[axis]) if 1 <= v - CUTOFF[axis] <= 2 else ""
                row = (axis, v, mark, engine, out)
                rows.append(row)
                line = f"{axis}={v}{mark} {engine}: {out['status']} {out['seconds']:.1f}s {out['mib']:.0f}MiB"
                log(f"{line} {out['note']}"[:200])
                if not out["done"]:
                    stopped[engine] = v
    return rows


def table(rows, limit, depth) -> str:
    out = [
        "| size | engine | outcome | seconds | peak MiB | what limits it |",
        "|---|---|---|---:|---:|---|",
    ]
    for axis, v, mark, engine, o in rows:
        note = o["note"] or ("" if o["done"] else "")
        if not o["done"] and not note:
            note = f"over the {limit:.0f} s limit"
        out.append(f"| {axis}={v}{mark} | {engine} | {o['status']} | {o['seconds']:.1f} | {o['mib']:.0f} | {note} |")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_names = list(dict.fromkeys(r[0] for r in rows))
    fig, grid = plt.subplots(2, len(axes_names), figsize=(4 * len(axes_names), 7), squeeze=False)
    for i, axis in enumerate(axes_names):
        for engine in dict.fromkeys(r[3] for r in rows):
            pts = [(v, o) for a, v, _, e, o in rows if a == axis and e == engine]
            xs = [v for v, _ in pts]
            grid[0][i].plot(xs, [o["seconds"] for _, o in pts], marker="o", label=engine)
            grid[1][i].plot(xs, [o["mib"] for _, o in pts], marker="o", label=engine)
            for v, o in pts:
                if not o["done"]:
                    grid[0][i].annotate("stops", (v, o["seconds"]), fontsize=8)
        grid[0][i].set_title(f"{axis} (others at 2)")
        grid[0][i].set_ylabel("seconds")
        grid[1][i].set_ylabel("peak MiB")
        grid[1][i].set_xlabel(axis)
        grid[0][i].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 2 and 3 of each axis, 30 s per point")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per point and engine")
    ap.add_argument("--bmc-depth", type=int, default=4, help="BMC's bound at each point")
    ap.add_argument("--engines", default="induction,bmc")
    ap.add_argument("--axes", default=",".join(AXES))
    ap.add_argument("--out", default="docs/sweep", help="writes OUT.md and OUT.png")
    ap.add_argument(
        "--cutoff",
        action="store_true",
        help="only the cutoff check of docs/cutoff.md: each axis at cutoff, +1, +2, the other sizes at 1",
    )
    args = ap.parse_args()
    axes = {a: (QUICK if args.quick else AXES)[a] for a in args.axes.split(",")}
    base = None
    if args.cutoff:
        axes = {a: [CUTOFF[a], CUTOFF[a] + 1, CUTOFF[a] + 2] for a in args.axes.split(",")}
        base = {"guests": 2, "slots": 1, "buffers": 1, "sections": 1}
    limit = 30.0 if args.quick else args.limit
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    rows = sweep(axes, args.engines.split(","), limit, args.bmc_depth, log, base)
    cmd = "benchmarks/sweep.py " + " ".join(sys.argv[1:])
    text = (
        f"# Proof sweep toward the kernel's sizes\n\nMade by `.venv/bin/python {cmd}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load: {load}); base configuration "
        f"`--launcher checked --no-sysfs`, {'2 Guests and 1 of everything else' if base else '2 of everything'} "
        f"but the size named; {limit:.0f} s per point and engine; "
        f"BMC to depth {args.bmc_depth}.  An engine that misses a point is not asked at larger sizes of its axis.\n\n"
        f"{table(rows, limit, args.bmc_depth)}\n\n![time and memory against size]({os.path.basename(args.out)}.png)\n"
    )
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".md", "w", encoding="utf-8") as fh:
        fh.write(text)
    try:
        plot(rows, args.out + ".png")
    except ImportError:
        print("matplotlib is missing: pip install -e '.[bench]' for the plot", file=sys.stderr)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
