"""How fast and how lean replay is, end to end, on a valid busy trace.

The target (the replay speed issue): a valid trace of 1,000,000 records (four
Guests on a shared net page with consoles: sends, hand-backs, console output;
benchmarks/gen_trace.py) replays at >= 100,000 records/s on the 2-core
benchmark machine, and replay's peak memory for 1M records is within 30 % of
that for 100k.  These machines are noisy, so every figure is also given as a
ratio to a baseline measured in the same run:

    split     a bare `for line in f: line.split()` over the 1M file (baseline)
    parse     the reader alone: `read_trace` over the 1M file
    lark      lark's LALR parser alone (`parse_line_lark`) over the first
              --lark-lines lines: the issue's second yardstick
    replay    `replay_file` over the 1M file (full trace: every Host and
              Launcher answer recorded and compared), and over the 100k one
    input     `replay_file` over a 1M input-only trace (answers computed)
    engine    `replay_records` over the 100k trace's records already parsed
              into a list: the engine and the spec without the reader

When the issue was written the baseline ran at about 2,500,000 lines/s and
lark at about 8,000 lines/s on the benchmark machine, so the target is about
0.04x split (12.5x lark).  The report gives the absolute verdict the issue
asks for and, besides it, the target scaled by this run's split and lark
rates: on a machine faster (or idler) than the issue's, 100,000 records/s is
an easier bar than the issue meant, and the scaled one is the fair one.

Memory: each size is replayed in a fresh subprocess, which reports its peak
RSS, its RSS after the imports (so the growth caused by the replay itself is
visible too) and, with --tracemalloc, the tracemalloc peak of the replay alone
(slow).  The peak RSS is /proc/self/status VmHWM, which starts afresh at
exec; ru_maxrss does not on Linux (a child keeps the high-water mark of the
parent it was forked from, here up to ~90 MB of benchmark), so it is used
only where VmHWM is missing.

    .venv/bin/python benchmarks/replay_speed.py [--dir D] [--repeat 3] [--tracemalloc]
    .venv/bin/python benchmarks/replay_speed.py --profile     # cProfile of the 100k replay

Exit status: 0 all targets met, 1 a target missed, 2 a trace did not replay
clean (then the first findings are printed: the generator or the model is
wrong, and the figures mean nothing).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_trace  # noqa: E402  (benchmarks/gen_trace.py)

from lgcheck.replay.engine import replay_file, replay_records  # noqa: E402
from lgcheck.replay.parser import parse_line_lark, read_trace  # noqa: E402

TARGET_RATE = 100_000  # records/s, end to end
TARGET_MEM_RATIO = 1.30  # peak(1M) / peak(100k)
ISSUE_SPLIT_RATE = 2_500_000  # the baseline's rate when the target was set
ISSUE_LARK_RATE = 8_000  # lark's LALR parser alone, lines/s, when the target was set

SMALL, LARGE = 100_000, 1_000_000


# ------------------------------------------------------------------ traces


def make_trace(directory: str, n: int, input_only: bool = False, seed: int = 1) -> tuple[str, float]:
    name = f"replay-{n}{'-input' if input_only else ''}-s{seed}.lgt"
    path = os.path.join(directory, name)
    t0 = time.perf_counter()
    written = gen_trace.write_trace(n, path, input_only=input_only, seed=seed)
    assert written == n, (written, n)
    return path, time.perf_counter() - t0


# ------------------------------------------------------------------ timings


def best_of(repeat: int, fn) -> tuple[float, object]:
    """The shortest wall time of `repeat` runs of fn(), and fn's last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_split(path: str) -> int:
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line.split()
            n += 1
    return n


def run_parse(path: str) -> int:
    n = 0
    for _ in read_trace(path):
        n += 1
    return n


def run_lark(path: str, lines: int) -> int:
    n = 0
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if i > lines:
                break
            parse_line_lark(line.rstrip("\n"), i, path)
            n += 1
    return n


def run_replay(path: str):
    return replay_file(path)


def check_clean(label: str, result) -> bool:
    if result.error is not None:
        print(f"!! {label}: input error: {result.error.text}")
        return False
    if result.findings:
        print(f"!! {label}: {len(result.findings)} findings; the first ones:")
        for f in result.findings[:5]:
            print(f"   line {f.line}: {f.rule}: {f.message}\n      {f.record}")
        return False
    return True


# ------------------------------------------------------------------ memory

_MEM_CHILD = r"""
import json, resource, sys, time
def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None
def rss_kib():
    return status_kib("VmRSS") or 0
from lgcheck.replay.engine import replay_file
path, use_tm = sys.argv[1], sys.argv[2] == "1"
before = rss_kib()
if use_tm:
    import tracemalloc
    tracemalloc.start()
t0 = time.perf_counter()
r = replay_file(path)
seconds = time.perf_counter() - t0
tm_peak = tracemalloc.get_traced_memory()[1] if use_tm else None
print(json.dumps({
    "records": r.records, "findings": len(r.findings), "error": r.error is not None,
    "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "hwm_kib": status_kib("VmHWM"),
    "import_rss_kib": before, "tracemalloc_peak": tm_peak, "seconds": seconds,
}))
"""


def measure_memory(path: str, use_tracemalloc: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _MEM_CHILD, path, "1" if use_tracemalloc else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ profile

_GROUPS = [
    ("replay/parser.py", "parser"),
    ("replay/lgt_", "parser"),
    ("lark", "parser (lark)"),
    ("replay/engine.py", "engine"),
    ("replay/answers.py", "engine (answers)"),
    ("replay/records.py", "engine (records)"),
    ("spec/ops.py", "spec ops (Concrete.*)"),
    ("spec/state.py", "spec state"),
    ("spec/apply.py", "spec apply"),
    ("spec/effects.py", "spec effects"),
    ("spec/", "spec rules (host/launcher/...)"),
]


def _group(filename: str) -> str:
    if filename.startswith("<lgt template"):
        return "parser"
    if filename == "~":
        return "builtins (C calls)"
    path = filename.replace(os.sep, "/")
    for needle, name in _GROUPS:
        if needle in path:
            return name
    return "other"


def profile(path: str, top: int = 25) -> None:
    prof = cProfile.Profile()
    prof.enable()
    result = replay_file(path)
    prof.disable()
    check_clean(os.path.basename(path), result)
    st = pstats.Stats(prof, stream=io.StringIO())
    total = sum(v[2] for v in st.stats.values())
    print(
        f"cProfile of replay_file({os.path.basename(path)}): {result.records} records, "
        f"{total:.2f} s of tottime under the profiler\n"
    )
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    start = text.find("   ncalls")
    print(text[start:].rstrip() if start >= 0 else text)
    # A C function's time (dict.get, isinstance, re's match, ...) goes to the
    # part that called it, in proportion to the calls' own time.
    groups: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for (filename, _, _), (_, nc, tt, _, callers) in st.stats.items():  # noqa: B007
        g = _group(filename)
        if g == "builtins (C calls)" and callers:
            for (cfile, _, _), (_, _, ctt, _) in callers.items():
                groups[_group(cfile)] += ctt
            continue
        groups[g] += tt
        calls[g] += nc
    print("\ntottime by part (C functions counted in the part that calls them; calls/record are Python calls):")
    for g, tt in sorted(groups.items(), key=lambda kv: -kv[1]):
        if tt < 0.005:
            continue
        print(f"  {g:34} {tt:7.2f} s {100 * tt / total:5.1f} %  {calls[g] / result.records:7.1f} calls/record")


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=os.path.join(HERE, "out"), help="where the traces go (default benchmarks/out)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the cheap measurements (split, parse); best taken")
    ap.add_argument("--lark-lines", type=int, default=10_000, help="lines timed with plain lark (it is slow)")
    ap.add_argument("--tracemalloc", action="store_true", help="also measure the tracemalloc peak (slow)")
    ap.add_argument("--profile", action="store_true", help="only profile the 100k replay (top 25 by tottime)")
    ap.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    ap.add_argument("--keep", action="store_true", help="keep the generated traces")
    args = ap.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)

    if args.profile:
        small, _ = make_trace(args.dir, SMALL)
        try:
            profile(small, args.top)
        finally:
            if not args.keep:
                os.remove(small)
        return 0

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; generating traces in {args.dir} ...", flush=True)
    small, gs = make_trace(args.dir, SMALL)
    large, gl = make_trace(args.dir, LARGE)
    large_in, gi = make_trace(args.dir, LARGE, input_only=True)
    print(
        f"  generated {SMALL:,} + {LARGE:,} + {LARGE:,} (input-only) records in {gs + gl + gi:.1f} s "
        f"({(SMALL + 2 * LARGE) / (gs + gl + gi):,.0f} records/s)",
        flush=True,
    )
    try:
        return _measure(args, small, large, large_in)
    finally:
        if not args.keep:
            for p in (small, large, large_in):
                os.remove(p)


def _measure(args, small: str, large: str, large_in: str) -> int:
    rows = []  # (name, what, records, seconds)

    # validity first: a trace with findings makes every figure meaningless
    t_small, r_small = best_of(1, lambda: run_replay(small))
    if not check_clean("100k full trace", r_small):
        return 2
    small_in = small.replace(".lgt", "-input.lgt")
    gen_trace.write_trace(SMALL, small_in, input_only=True)
    try:
        r = run_replay(small_in)
    finally:
        os.remove(small_in)
    if not check_clean("100k input-only trace", r):
        return 2

    t, n = best_of(args.repeat, lambda: run_split(large))
    rows.append(("split", "line.split() loop, 1M file (baseline)", n, t))
    base = n / t
    t, n = best_of(args.repeat, lambda: run_parse(large))
    rows.append(("parse", "read_trace, 1M file", n, t))
    parse_rate = n / t
    t, n = best_of(1, lambda: run_lark(large, args.lark_lines))
    rows.append(("lark", f"parse_line_lark, first {n:,} lines", n, t))
    lark_rate = n / t
    print("  timing replay of 1M records ...", flush=True)
    t, r = best_of(1, lambda: run_replay(large))
    if not check_clean("1M full trace", r):
        return 2
    rows.append(("replay", "replay_file, 1M full trace", r.records, t))
    end_to_end = r.records / t
    rows.append(("replay", "replay_file, 100k full trace", r_small.records, t_small))
    t, r = best_of(1, lambda: run_replay(large_in))
    if not check_clean("1M input-only trace", r):
        return 2
    rows.append(("input", "replay_file, 1M input-only trace", r.records, t))
    parsed = list(read_trace(small))
    t, r = best_of(1, lambda: replay_records(iter(parsed), small))

    rows.append(("engine", "replay_records, 100k pre-parsed", r.records, t))
    # the baseline again, to see how much the machine drifted during the run
    t, n = best_of(args.repeat, lambda: run_split(large))
    rows.append(("split", "line.split() loop again (drift check)", n, t))

    print()
    print(f"{'':7} {'what':40} {'records':>10} {'seconds':>8} {'records/s':>12} {'x split':>8}")
    for name, what, n, t in rows:
        rate = n / t
        print(f"{name:7} {what:40} {n:>10,} {t:>8.2f} {rate:>12,.0f} {rate / base:>8.4f}")
    scaled = TARGET_RATE * base / ISSUE_SPLIT_RATE
    scaled_lark = TARGET_RATE * lark_rate / ISSUE_LARK_RATE
    per_rec_us = 1e6 / end_to_end
    parse_us = 1e6 / parse_rate
    print(
        f"\nper record: replay {per_rec_us:.2f} us = parse {parse_us:.2f} us + engine/spec "
        f"{per_rec_us - parse_us:.2f} us (split {1e6 / base:.3f} us)"
    )
    print(
        f"target {TARGET_RATE:,} records/s = {TARGET_RATE / ISSUE_SPLIT_RATE:.3f}x split "
        f"({ISSUE_SPLIT_RATE:,}/s in the issue) = {TARGET_RATE / ISSUE_LARK_RATE:.1f}x lark ({ISSUE_LARK_RATE:,}/s); "
        f"scaled to this run: {scaled:,.0f} records/s by split, {scaled_lark:,.0f} by lark"
    )

    print("\nmemory (fresh subprocess per size; KiB)", flush=True)
    mem = {}
    for label, path in (("100k", small), ("1M", large)):
        mem[label] = m = measure_memory(path, args.tracemalloc)
        if m["hwm_kib"] is not None:
            m["maxrss_kib"] = m["hwm_kib"]
        if m["findings"] or m["error"]:
            print(f"!! {label}: the subprocess replay was not clean: {m}")
            return 2
        tm = f"  tracemalloc peak {m['tracemalloc_peak'] / 1024:,.0f}" if m["tracemalloc_peak"] is not None else ""
        print(
            f"  {label:5} peak RSS {m['maxrss_kib']:>9,}  after imports {m['import_rss_kib']:>9,}  "
            f"growth {m['maxrss_kib'] - m['import_rss_kib']:>8,}{tm}  "
            f"(replay there{', under tracemalloc' if args.tracemalloc else ''}: "
            f"{m['records'] / m['seconds']:,.0f} records/s)"
        )
    mem_ratio = mem["1M"]["maxrss_kib"] / mem["100k"]["maxrss_kib"]
    g_small = max(1, mem["100k"]["maxrss_kib"] - mem["100k"]["import_rss_kib"])
    g_large = mem["1M"]["maxrss_kib"] - mem["1M"]["import_rss_kib"]
    print(f"  ratio 1M/100k: peak RSS {mem_ratio:.3f}, growth over imports {g_large / g_small:.3f}", end="")
    if args.tracemalloc:
        print(f", tracemalloc peak {mem['1M']['tracemalloc_peak'] / mem['100k']['tracemalloc_peak']:.3f}", end="")
    print()

    ok_rate = end_to_end >= TARGET_RATE
    ok_mem = mem_ratio <= TARGET_MEM_RATIO
    print("\ntargets:")
    print(f"  {'PASS' if ok_rate else 'FAIL'}  end to end {end_to_end:,.0f} records/s >= {TARGET_RATE:,}")
    fair = min(scaled, scaled_lark)
    print(
        f"  {'pass' if end_to_end >= fair else 'fail'}  (scaled) {end_to_end / base:.4f}x split "
        f"(target {TARGET_RATE / ISSUE_SPLIT_RATE:.3f}x), {end_to_end / lark_rate:.2f}x lark "
        f"(target {TARGET_RATE / ISSUE_LARK_RATE:.1f}x): {end_to_end / fair:.2f} of the lower scaled target "
        f"{fair:,.0f} records/s (informational)"
    )
    print(f"  {'PASS' if ok_mem else 'FAIL'}  peak memory 1M/100k = {mem_ratio:.3f} <= {TARGET_MEM_RATIO}")
    return 0 if ok_rate and ok_mem else 1


if __name__ == "__main__":
    sys.exit(main())
