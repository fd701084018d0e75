"""How fast the `.lgt` reader is: the shape-cache fast path against plain lark.

Replay must reach 100,000 records/s end to end, so the parser alone should do
several times that.  This script generates a typical trace (four Guests
sending, the Host delivering, Guests handing buffers back, Launchers doing
output, with varying numbers) and measures, in one run on one machine:

    split      a bare `line.split()` loop: the floor of any Python line reader
    fast       `parse_line` over the lines in memory (the shape cache)
    file       `read_trace` over the same lines in a file: I/O, decoding, the
               header and timestamp rules, and the fast path
    lark       `parse_line_lark` (lark alone) over a sample of the lines

and prints lines/s for each and their ratios.  Run:

    .venv/bin/python benchmarks/parse_speed.py [--lines 200000] [--lark-lines 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time

from lgcheck.replay.parser import parse_line, parse_line_lark, read_trace


def typical_lines(n: int, seed: int = 1) -> list[str]:
    """`n` record lines (after a header and setup) in the proportions of a busy trace."""
    rng = random.Random(seed)
    lines = ["lguest-trace 1"]
    for g in range(4):
        lines.append(f"guest {g} pages=16384")
        lines.append(f"device {g}.0 type=net pfn={16385 + g} pages=1 features=NOCSUM")
    while len(lines) < n:
        g = rng.randrange(4)
        d = (g + 1) % 4
        key = 0x4000000 + 4 * rng.randrange(1 << 12)
        src = 0x3F000 + 0x100 * rng.randrange(64)
        dst = 0x3E000 + 0x100 * rng.randrange(64)
        size = rng.randrange(1, 1515)
        irq = rng.randrange(1, 16)
        kind = rng.randrange(4)
        if kind == 0:
            lines.append(f"g{g} send_dma key={key:#x} dma={src:#x}")
        elif kind == 1:
            lines.append(f"host deliver from=g{g}:{src:#x} to=g{d}:{dst:#x} len={size} irq={irq}")
        elif kind == 2:
            lines.append(f"g{d} dma {dst:#x} used_len=0")
        else:
            lines.append(f"l{g} output key={key:#x} dma={src:#x} len={size}")
    return lines[:n]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def time_split(lines: list[str]) -> float:
    t0 = time.perf_counter()
    for line in lines:
        line.split()
    return rate(len(lines), time.perf_counter() - t0)


def time_fast(lines: list[str]) -> float:
    t0 = time.perf_counter()
    for i, line in enumerate(lines, 1):
        parse_line(line, i, "bench.lgt")
    return rate(len(lines), time.perf_counter() - t0)


def time_lark(lines: list[str]) -> float:
    t0 = time.perf_counter()
    for i, line in enumerate(lines, 1):
        parse_line_lark(line, i, "bench.lgt")
    return rate(len(lines), time.perf_counter() - t0)


def time_file(lines: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.lgt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        t0 = time.perf_counter()
        count = sum(1 for _ in read_trace(path))
        seconds = time.perf_counter() - t0
    assert count == len(lines), (count, len(lines))
    return rate(count, seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=200_000, help="lines of the generated trace")
    ap.add_argument("--lark-lines", type=int, default=20_000, help="lines timed with plain lark (it is slow)")
    args = ap.parse_args(argv)

    lines = typical_lines(args.lines)
    split = time_split(lines)
    fast = time_fast(lines)
    file = time_file(lines)
    lark = time_lark(lines[: args.lark_lines])

    print(f"{len(lines)} lines ({args.lark_lines} for lark), Python {sys.version.split()[0]}")
    print(f"  split  {split:>12,.0f} lines/s")
    print(f"  fast   {fast:>12,.0f} lines/s   {fast / lark:6.1f}x lark   {fast / split:6.3f}x split")
    print(f"  file   {file:>12,.0f} lines/s   {file / lark:6.1f}x lark   {file / split:6.3f}x split")
    print(f"  lark   {lark:>12,.0f} lines/s   {lark / split:13.4f}x split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
