"""Hostile traces, by wall time: each cost of issue 8 at n and 10n records, against a baseline of the same run.

tests/replay/test_hostile.py checks the same costs by counted operations and
traced memory, in CI; this is the longer version, by the clock.  These
machines are noisy, so every figure is a ratio:

    baseline   a clean input-only trace of the same number of lines (a console:
               dma, send, output), replayed in the same run
    growth     time(10n) / time(n) of the hostile trace: linear is about 10
    vs base    time(hostile, 10n) / time(baseline, 10n): the price of the hostility

    .venv/bin/python benchmarks/hostile.py [--n 2000]

Exit status 1 when some growth is above 15 (cost growing faster than the input).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "replay"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import test_hostile as H  # noqa: E402  (the generators)

from lgcheck.replay.engine import replay_file  # noqa: E402


def baseline(n):
    yield "guest 0 pages=64"
    yield "device 0.0 type=console pfn=0 pages=0"
    for _ in range(n // 2):
        yield "g0 dma 0x1000 used_len=0 addr=[0x2000] len=[8]"
        yield "g0 send_dma key=0 dma=0x1000"


def descending(n):
    yield "guest 0 pages=65536"
    for i in reversed(range(n)):
        yield f"g0 dma {0x10000 + 100 * i:#x} used_len=0"


def ascending(n):
    yield "guest 0 pages=65536"
    for i in range(n):
        yield f"g0 dma {0x10000 + 100 * i:#x} used_len=0"


def crowded_sends(n):
    """48 Guests bound on one shared key, then n sends: each picks the newest of 47 bindings."""
    k = 48
    yield f"share net pages=1 map=[{', '.join(f'{g}:20' for g in range(k))}]"
    for g in range(k):
        yield f"guest {g} pages=16"
        yield f"g{g} dma 0x1000 used_len=0 addr=[0x2000] len=[8]"
    for g in range(1, k):
        yield f"g{g} bind_dma key=0x14000 dmas=0x1000 num=1 irq=3"
    for _ in range(n):
        yield "g0 send_dma key=0x14000 dma=0x1000"
        yield "g0 dma 0x1000 used_len=0"


CASES = {
    "many shares, sends translate keys": H.many_shares,
    "used entries, fills search": H.used_entries,
    "48 bindings on a shared key, sends": crowded_sends,
    "clean rebinds of new keys": H.clean_rebinds,
    "a finding every other record": H.many_findings,
    "spacing variants (long lines)": H.spacing_variants,
    "descriptors, ascending": ascending,
    "descriptors, descending": descending,
}


def timed(d, name, gen, n):
    path = os.path.join(d, name)
    with open(path, "w") as fh:
        fh.write("lguest-trace 1\n")
        lines = 0
        for line in gen(n):
            fh.write(line + "\n")
            lines += 1
    t = time.perf_counter()
    replay_file(path)
    return time.perf_counter() - t, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        base = {}
        for size in (args.n, 10 * args.n):
            base[size] = timed(d, "base.lgt", baseline, size)
        print(
            f"baseline: {base[args.n][1]} lines {base[args.n][0]:.3f}s, {base[10 * args.n][1]} lines "
            f"{base[10 * args.n][0]:.3f}s (growth {base[10 * args.n][0] / base[args.n][0]:.1f})"
        )
        print(f"{'case':40} {'lines n':>8} {'lines 10n':>9} {'growth':>7} {'vs base (per line)':>19}")
        for name, gen in CASES.items():
            (t1, l1), (t10, l10) = timed(d, "a.lgt", gen, args.n), timed(d, "b.lgt", gen, 10 * args.n)
            growth = t10 / t1
            per_line = (t10 / l10) / (base[10 * args.n][0] / base[10 * args.n][1])
            flag = "" if growth <= 15 else "  <- grows faster than the input"
            bad += growth > 15
            print(f"{name:40} {l1:8} {l10:9} {growth:7.1f} {per_line:18.1f}x{flag}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
