"""Version 2's cost: full-speed replay of a trace with bytes on every send against the same trace without them.

The target (issue 12, "Speed"): replaying a version 2 trace that carries the
bytes of every send (`gN mem` records before each `send_dma`, `sum=` on each
`host deliver`) takes at most 25 % longer than replaying the same traffic as
version 1 (no bytes), measured in the same run.

Both traces come from benchmarks/gen_trace.py (four Guests on a shared net
page with consoles; full traces, every Host answer recorded).  The version 2
one is the version 1 trace with, before every `send_dma` (net and console
alike), one `mem` record per section of the descriptor sent, holding that
many pseudo-random bytes (60 to 4,096 a section: Ethernet frames, and the
occasional two-page send), and on every `host deliver` the SHA-256 of what
the receiver got (its one 1,536-byte section: the source's first L bytes).
Both replay with no finding (checked: exit 2 otherwise).

The ratio compares the time per *send* (the same sends in both traces, so
whole-trace times), the best of --repeat runs each, alternated so that noise
on the shared machine hits both alike.  The time is the process's CPU time
(time.process_time): on the 2 shared cores the wall time of one run swings
by 2x with the other jobs' load, the CPU time much less.  Wall times are
printed too.

    .venv/bin/python benchmarks/v2_speed.py [--records N] [--repeat 3] [--dir D]

`--instructions` counts instead of timing (needs valgrind): each replay runs
once under callgrind in a fresh process, minus a process that only imports
replay, so the figure is the replay's own instruction count, the same
whatever the load.  Slow (about 50x): use it with --records 20000.  It is a
proxy: it misses cache effects (CPU time's ratio has been the higher one)
and counts SHA-256 in software (valgrind hides the CPU's SHA instructions
from OpenSSL), which makes sum= look costlier than it is.

`--input-only` writes the pair without Host records (replay computes every
answer; version 2 then has `mem` records but no `sum=`): the fused send path's
case.

`--engine-only` times the engine alone: each file is read into a list of
records first (not timed; the list is frozen out of the cyclic GC's way),
then replayed from that list (Replay.run(records)), alternated, best of
--repeat; it prints the reading's time too (the list's), so that the parse
side's gains and the engine's can be added.  The engine then meets records
that are no longer in the cache (a `mem` record's bytes were decoded long
before): a little slower for version 2 than in a streaming run.

`--floor` measures what version 2 cannot avoid, in the same run: the
version 1 replay (a), and a minimal pass in plain Python (no model) over
each file that does only what the bytes add: it reads every line, and for
a `mem` line decodes its hex (bytes.fromhex) and stores the bytes; for a
`send_dma` it keeps the bytes its `mem` records gave; for a `host deliver`
with `sum=` it hashes the first len= of them (hashlib.sha256, fed slice by
slice) and compares the digest with the sum.  The same pass over the
version 1 file (same loop, nothing to decode or hash) is subtracted, so
b_extra is the cost of the extra lines and bytes alone; the floor ratio is
(a + b_extra) / a, printed with the replay's own ratio (alternated, best of
--repeat).  A replay cannot beat that floor with this reader in Python.

`--footprint` measures what the model's page store costs in the caches, not
in instructions: each file is replayed alternated with its folded twin,
where every address in gen_trace's packet buffers (TX_BUF, 256 random
pages a Guest) is moved into the first 4 of those pages (same offset in the
page: the same sections, bytes, copies and sums, the same instruction count
to within 1 %), so that version 2's `mem` writes and the copies that read
them meet pages already in the cache instead of 1,024 pages (8 MB with
their known-marks) touched at random.  The difference v2 - v2 folded is
that footprint's CPU cost (version 1, with no bytes, is the control).
Both folded files must replay clean (exit 2 otherwise).

Exit status: 0 the target is met, 1 it is missed, 2 a trace did not replay clean.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_trace  # noqa: E402  (benchmarks/gen_trace.py)

from lgcheck.replay.engine import replay_file  # noqa: E402

TARGET = 1.25  # v2 time / v1 time

_DMA = re.compile(r"g(\d+) dma (0x[0-9a-f]+) addr=\[([^\]]*)\] len=\[([^\]]*)\]")
_DELIVER = re.compile(r"host deliver from=g(\d+):(0x[0-9a-f]+) .* len=(\d+) ")


def write_pair(directory: str, records: int, seed: int = 1, input_only: bool = False) -> tuple[str, str, int]:
    """The version 1 trace of `records` records and its version 2 twin; returns their paths and the sends."""
    tag = "-in" if input_only else ""
    v1 = os.path.join(directory, f"v1-{records}{tag}.lgt")
    v2 = os.path.join(directory, f"v2-{records}{tag}.lgt")
    rng = random.Random(seed)
    sections: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (guest, descriptor) -> its sections
    sent: dict[tuple[int, int], bytes] = {}  # (guest, descriptor) -> the bytes of its latest send
    sends = 0
    with open(v1, "w") as f1, open(v2, "w") as f2:
        for line in gen_trace.records(records, seed=seed, input_only=input_only):
            f1.write(line + "\n")
            if line == "lguest-trace 1":
                f2.write("lguest-trace 2\n")
                continue
            m = _DMA.fullmatch(line)
            if m:
                addrs = [int(a, 16) for a in m.group(3).split(", ")]
                lens = [int(n) for n in m.group(4).split(", ")]
                sections[(int(m.group(1)), int(m.group(2), 16))] = [(a, n) for a, n in zip(addrs, lens) if n]
            elif " send_dma " in line:
                g = int(line[1 : line.index(" ")])
                desc = int(line.rsplit("dma=", 1)[1], 16)
                parts = []
                for a, n in sections.get((g, desc), ()):
                    data = rng.randbytes(n)
                    parts.append(data)
                    f2.write(f"g{g} mem {a:#x} data={data.hex()}\n")
                sent[(g, desc)] = b"".join(parts)
                sends += 1
            elif line.startswith("host deliver"):
                d = _DELIVER.match(line)
                got = sent[(int(d.group(1)), int(d.group(2), 16))][: int(d.group(3))]
                line += f" sum={hashlib.sha256(got).hexdigest()}"
            f2.write(line + "\n")
    return v1, v2, sends


_TX = re.compile(r"0x3([0-9a-f]{2})([0-9a-f]{3})\b")  # an address in gen_trace.TX_BUF's 256 pages


def fold(path: str) -> str:
    """--footprint: a copy of the trace with every TX_BUF address moved into that region's first 4 pages."""
    assert gen_trace.TX_BUF == 0x300000  # (the pattern above)
    out = path[: -len(".lgt")] + "-folded.lgt"

    def moved(m: re.Match) -> str:
        return f"0x30{int(m.group(1), 16) & 3:x}{m.group(2)}"

    with open(path) as f, open(out, "w") as w:
        for line in f:
            head = line[:8]
            if line[0] == "g" and (" dma " in head or " mem " in head):
                line = _TX.sub(moved, line)
            w.write(line)
    return out


def footprint(v1: str, v2: str, repeat: int, sends: int) -> int:
    """--footprint: each file and its folded twin, alternated, best of repeat (CPU)."""
    paths = [v1, fold(v1), v2, fold(v2)]
    best = dict.fromkeys(paths, float("inf"))
    for i in range(repeat):
        for p in paths if i % 2 == 0 else paths[::-1]:
            best[p] = min(best[p], timed(p)[0])
    a, af, b, bf = (best[p] for p in paths)
    print(f"sends: {sends:,}")
    print(f"version 1: {a:.3f} s CPU, folded {af:.3f} s ({(a - af) / sends * 1e6:+.1f} us a send)")
    print(f"version 2: {b:.3f} s CPU, folded {bf:.3f} s ({(b - bf) / sends * 1e6:+.1f} us a send)")
    print(f"ratio v2/v1: {b / a:.3f}; folded pages: {bf / af:.3f}  (target <= {TARGET})")
    return 0 if b / a <= TARGET else 1


def timed(path: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one full-speed replay of the file."""
    c0, t0 = time.process_time(), time.perf_counter()
    result = replay_file(path)
    dt = (time.process_time() - c0, time.perf_counter() - t0)
    if result.verdict != "ok" or result.error is not None:
        shown = "; ".join(f"{f.line}: {f.rule}: {f.message}" for f in result.findings[:3])
        print(f"{path}: not clean ({result.verdict}): {result.error or shown}", file=sys.stderr)
        sys.exit(2)
    return dt


_REPLAY = (
    "import sys\n"
    "from lgcheck.replay.engine import replay_file\n"
    "if sys.argv[1:]:\n"
    "    r = replay_file(sys.argv[1])\n"
    "    sys.exit(0 if r.verdict == 'ok' and r.error is None else 2)\n"
)


_FLOOR_MEM = re.compile(r"g(\d+) mem 0x([0-9a-f]+) data=")
_FLOOR_SEND = re.compile(r"g(\d+) send_dma .*dma=(0x[0-9a-f]+)")
_FLOOR_DELIVER = re.compile(r"host deliver from=g(\d+):(0x[0-9a-f]+) .*len=(\d+) .*sum=([0-9a-f]{64})")


def floor_pass(path: str) -> int:
    """The minimal pass of --floor over one file: decode and store `mem` bytes, hash and compare each sum=.

    Returns how many sums it checked (all must agree: the pass is real work,
    not skipped).  Lines are read as the replay's reader reads them (64 KiB
    binary chunks, decoded and split at once), so the pass's reading of the
    version 1 file costs what the replay's does.
    """
    mem_match, send_match, deliver_match = _FLOOR_MEM.match, _FLOOR_SEND.match, _FLOOR_DELIVER.match
    fromhex, sha256 = bytes.fromhex, hashlib.sha256
    stored: dict[tuple[int, int], bytes] = {}  # (guest, address) -> the bytes a `mem` gave
    given: dict[int, list[bytes]] = {}  # guest -> the bytes of its `mem` records since its last send
    sent: dict[tuple[int, int], list[bytes]] = {}  # (guest, descriptor) -> the bytes of its latest send
    sums = 0
    with open(path, "rb") as f:
        pending = b""
        while True:
            chunk = f.read1(1 << 16)
            if not chunk:
                break
            chunk = pending + chunk
            end = chunk.rfind(b"\n")
            pending = chunk[end + 1 :]
            for line in chunk[:end].decode().split("\n"):
                c = line[0]
                if c == "g":
                    if line[3:6] == "mem" or line[4:7] == "mem":
                        m = mem_match(line)
                        data = fromhex(line[m.end() :])
                        g = int(m.group(1))
                        stored[(g, int(m.group(2), 16))] = data
                        given.setdefault(g, []).append(data)
                    elif "send_dma" in line:
                        m = send_match(line)
                        g = int(m.group(1))
                        parts = given.pop(g, None)
                        if parts is not None:
                            sent[(g, int(m.group(2), 16))] = parts
                elif c == "h" and "sum=" in line:
                    m = deliver_match(line)
                    h, left = sha256(), int(m.group(3))
                    for part in sent[(int(m.group(1)), int(m.group(2), 16))]:
                        if left <= 0:
                            break
                        h.update(memoryview(part)[:left])
                        left -= len(part)
                    if h.hexdigest() != m.group(4):
                        raise SystemExit(f"{path}: the floor pass's sum disagrees: {line[:80]}")
                    sums += 1
    return sums


def floor(v1: str, v2: str, repeat: int, sends: int) -> int:
    """--floor: the v1 replay, the minimal pass over both files, and the v2 replay, alternated; best of repeat."""
    best = dict.fromkeys(("a", "p1", "p2", "r2"), float("inf"))
    with open(v2) as f:
        delivered = sum(1 for line in f if line.startswith("host deliver") and " sum=" in line)
    for _ in range(repeat):
        best["a"] = min(best["a"], timed(v1)[0])
        for key, path in (("p1", v1), ("p2", v2)):
            c0 = time.process_time()
            n = floor_pass(path)
            best[key] = min(best[key], time.process_time() - c0)
            if key == "p2" and n != delivered:
                print(f"{v2}: the floor pass checked {n} sums, not {delivered}", file=sys.stderr)
                return 2
        best["r2"] = min(best["r2"], timed(v2)[0])
    a, extra = best["a"], best["p2"] - best["p1"]
    print(f"sends: {sends:,} (bytes on every one in version 2), deliveries with sum=: {delivered:,}")
    print(f"(a) version 1 replay: {a:.3f} s CPU")
    print(
        f"(b) minimal pass: version 1 file {best['p1']:.3f} s, version 2 file {best['p2']:.3f} s: "
        f"b_extra {extra:.3f} s ({extra / sends * 1e6:.1f} us a send)"
    )
    print(f"version 2 replay: {best['r2']:.3f} s CPU ({(best['r2'] - a) / sends * 1e6:.1f} us a send over version 1)")
    fl, now = (a + extra) / a, best["r2"] / a
    print(f"floor ratio (a + b_extra) / a: {fl:.3f}; replay's ratio v2/v1: {now:.3f}  (target <= {TARGET})")
    return 0 if now <= TARGET else 1


def engine_only(paths, repeat: int) -> dict:
    """{path: (read s, engine s)}: CPU time of reading into a list, and of replaying that list, best of repeat."""
    import gc

    from lgcheck.replay.engine import Replay
    from lgcheck.replay.parser import read_trace

    best = {p: [float("inf"), float("inf")] for p in paths}
    for _ in range(repeat):
        for p in paths:
            gc.collect()
            c0 = time.process_time()
            recs = list(read_trace(p))
            t_read = time.process_time() - c0
            gc.collect()
            gc.freeze()  # the list's records: not the engine's garbage to walk
            try:
                c0 = time.process_time()
                result = Replay(p).run(iter(recs))
                t_engine = time.process_time() - c0
            finally:
                gc.unfreeze()
            if result.verdict != "ok" or result.error is not None:
                print(f"{p}: not clean ({result.verdict})", file=sys.stderr)
                sys.exit(2)
            del recs
            best[p][0], best[p][1] = min(best[p][0], t_read), min(best[p][1], t_engine)
    return best


def instructions(path: str | None) -> int:
    """Instructions (callgrind's Ir) of a process that imports replay and replays `path` (None: imports only)."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", _REPLAY]
    # From a neutral folder: the repository root would put its own lgcheck/ first on sys.path.
    p = subprocess.run(cmd + ([path] if path else []), capture_output=True, text=True, cwd=tempfile.gettempdir())
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or m is None:
        print(f"{path or 'import'}: valgrind run failed (exit {p.returncode})", file=sys.stderr)
        sys.exit(2)
    return int(m.group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000, help="records of the version 1 trace (default 200,000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where to write the traces (default: a temporary folder)")
    ap.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead of timing")
    ap.add_argument("--engine-only", action="store_true", help="time the engine alone, on records read beforehand")
    ap.add_argument("--floor", action="store_true", help="also time a minimal pass over both files: the floor ratio")
    ap.add_argument(
        "--input-only", action="store_true", help="input-only traces (no Host records, no sum=): replay computes them"
    )
    ap.add_argument(
        "--footprint", action="store_true", help="also time each file with its send buffers folded into 4 pages"
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or tmp
        v1, v2, sends = write_pair(directory, args.records, input_only=args.input_only)
        if args.instructions:
            if shutil.which("valgrind") is None:
                print("--instructions needs valgrind on PATH", file=sys.stderr)
                return 2
            instructions(None)  # the first run may write spec/compiled.py's cache: not counted
            base = instructions(None)
            n1, n2 = instructions(v1) - base, instructions(v2) - base
            print(f"sends: {sends:,}; imports alone: {base / 1e6:,.0f} M instructions")
            print(f"version 1: {n1 / 1e6:,.0f} M instructions ({n1 / sends:,.0f} a send)")
            print(f"version 2: {n2 / 1e6:,.0f} M instructions ({n2 / sends:,.0f} a send)")
            ok = n2 / n1 <= TARGET
            print(f"ratio v2/v1 (instructions): {n2 / n1:.3f}  (target <= {TARGET}): {'met' if ok else 'MISSED'}")
            return 0 if ok else 1
        if args.floor:
            return floor(v1, v2, args.repeat, sends)
        if args.footprint:
            return footprint(v1, v2, args.repeat, sends)
        if args.engine_only:
            best = engine_only((v1, v2), args.repeat)
            (r1, e1), (r2, e2) = best[v1], best[v2]
            print(f"sends: {sends:,}")
            print(f"version 1: read {r1:.3f} s, engine {e1:.3f} s CPU")
            print(f"version 2: read {r2:.3f} s, engine {e2:.3f} s CPU")
            print(
                f"engine ratio v2/v1: {e2 / e1:.3f}; version 2 adds {(e2 - e1) / sends * 1e6:.1f} us a send in the "
                f"engine and {(r2 - r1) / sends * 1e6:.1f} us in the reader (read into a list)"
            )
            return 0 if e2 / e1 <= TARGET else 1
        sizes = {p: os.path.getsize(p) for p in (v1, v2)}
        best = {v1: float("inf"), v2: float("inf")}
        wall = {v1: float("inf"), v2: float("inf")}
        for _ in range(args.repeat):
            for p in (v1, v2):
                cpu, w = timed(p)
                best[p], wall[p] = min(best[p], cpu), min(wall[p], w)
        ratio = best[v2] / best[v1]
        print(f"sends: {sends:,} (bytes on every one in version 2)")
        for p, label in ((v1, "version 1"), (v2, "version 2")):
            print(
                f"{label}: {best[p]:.2f} s CPU, {wall[p]:.2f} s wall  ({sends / best[p]:,.0f} sends/s, "
                f"{sizes[p] / 1e6:.1f} MB, {sum(1 for _ in open(p)):,} records)"
            )
        ok = ratio <= TARGET
        print(
            f"ratio v2/v1 (CPU): {ratio:.3f}, wall: {wall[v2] / wall[v1]:.3f}  (target <= {TARGET}): "
            f"{'met' if ok else 'MISSED'}"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
