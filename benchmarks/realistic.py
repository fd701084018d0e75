"""Replay speed on realistic traffic, end to end through the CLI (issue 10).

benchmarks/gen_trace.py's trace is kind to the model: no line has a
timestamp, every Host answer is recorded, and no receiver ever fills up.  This
benchmark generates what a capture of a busy system looks like instead:

  * input-only (no `host` / `lN output` records: replay computes them), and a
    `@SECONDS` timestamp on every line;
  * "4": four Guests on a shared net page whose receivers hand buffers back
    slowly, so about 40 % of the sends find the receiver full (the Host then
    retries, walking every entry twice); consoles (output, and input filled by
    the Launcher) and a block device per Guest (request, Launcher reply);
  * "1": one Guest: console and block only, with the net device on a tun
    (private key: each send goes to the Launcher; input comes back as fills).

It reports, for each trace, `lgcheck replay FILE` run as a subprocess (start-up
included; best of --repeat) in records/s and sends/s, and, measured in the same
run on the same file, a bare `line.split()` loop and plain lark (the grammar's
LALR parser, per line, on the first --lark-lines lines), with the ratios.

    .venv/bin/python benchmarks/realistic.py [--records 300000] [--repeat 2] [--dir D] [--baseline DIR] [--breakdown]

Exit status: 0, or 2 when a trace does not replay clean (then the figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from replay_speed import run_lark  # plain lark over the first lines (run as a script: benchmarks/ is on the path)

PAGE = 4096
DMA_SIZE = 100
RAM_PAGES = 16384
NET_PFN = RAM_PAGES + 1
BLK_PFN = RAM_PAGES + 2
NET_PAGE = NET_PFN * PAGE
BLK_PAGE = BLK_PFN * PAGE
NUM_RX = 8
RX_LEN = 1536
RX_ARRAY = 0x100000
TX_RING = 0x101000
NUM_TX = 4
CONS_IN = 0x102000
CONS_OUT = 0x102100
BLK_DMA = 0x102200  # the block reply buffer (bound on the block page)
BLK_REQ = 0x102300  # the request descriptor
RX_BUF = 0x200000
TX_BUF = 0x300000
CONS_IN_BUF = 0x500000
CONS_OUT_BUF = 0x501000
BLK_BUF = 0x600000
CONSOLE_IRQ, BLOCK_IRQ = 2, 1


def net_key(g: int, shared: bool) -> int:
    return NET_PAGE + 4 * g if shared else NET_PAGE


class Gen:
    """Writes the trace's lines, each with a timestamp."""

    def __init__(self, guests: int, seed: int):
        self.guests = guests
        self.shared = guests > 1
        self.rng = random.Random(seed)
        self.t = 0.0
        self.sends = 0

    def ts(self, line: str) -> str:
        self.t += self.rng.random() * 2e-5
        return f"@{self.t:.6f} {line}"

    def setup(self):
        yield "lguest-trace 1"
        for g in range(self.guests):
            yield f"guest {g} pages={RAM_PAGES}"
        if self.shared:
            yield "share net pages=1 map=[" + ", ".join(f"{g}:{NET_PFN}" for g in range(self.guests)) + "]"
        for g in range(self.guests):
            yield f"device {g}.0 type=net pfn={NET_PFN} pages=1 features=NOCSUM|{g}"
            yield f"device {g}.1 type=console pfn=0 pages=0"
            yield f"device {g}.2 type=block pfn={BLK_PFN} pages=1"
        for g in range(self.guests):
            for dev in range(3):
                yield f"g{g} status dev={dev} value=ACKNOWLEDGE|DRIVER"
            yield f"g{g} dma {CONS_IN:#x} used_len=0 addr=[{CONS_IN_BUF:#x}] len=[256]"
            yield f"g{g} bind_dma key=0 dmas={CONS_IN:#x} num=1 irq={CONSOLE_IRQ}"
            yield f"g{g} dma {BLK_DMA:#x} used_len=0 len=[0]"
            yield f"g{g} bind_dma key={BLK_PAGE:#x} dmas={BLK_DMA:#x} num=1 irq={BLOCK_IRQ}"
            for i in range(NUM_RX):
                yield f"g{g} dma {RX_ARRAY + i * DMA_SIZE:#x} used_len=0 addr=[{RX_BUF + i * PAGE:#x}] len=[{RX_LEN}]"
            yield f"g{g} bind_dma key={net_key(g, self.shared):#x} dmas={RX_ARRAY:#x} num={NUM_RX} irq={4 + g}"
            for dev in range(3):
                yield f"g{g} status dev={dev} value=ACKNOWLEDGE|DRIVER|DRIVER_OK"

    def packet(self, a: int, tx: int):
        rng = self.rng
        kind = rng.random()
        if kind < 0.01:
            return 0, f"g{a} dma {tx:#x} len=[0]"
        if kind < 0.05:
            l0, l1 = rng.randrange(1024, 4097), rng.randrange(64, 2049)
            p = TX_BUF + rng.randrange(0, 255) * PAGE
            return l0 + l1, f"g{a} dma {tx:#x} addr=[{p:#x}, {p + PAGE:#x}] len=[{l0}, {l1}]"
        size = rng.randrange(60, 1515)
        p = TX_BUF + rng.randrange(256) * PAGE + 2 * rng.randrange((PAGE - size) // 2 + 1)
        return size, f"g{a} dma {tx:#x} addr=[{p:#x}] len=[{size}]"

    def loop(self):
        rng, n = self.rng, self.guests
        used = [[0] * NUM_RX for _ in range(n)]  # which receive entries are filled (not handed back)
        cursor = [0] * n
        tx_next = [0] * n
        while True:
            a = rng.randrange(n)
            tx = TX_RING + tx_next[a] * DMA_SIZE
            tx_next[a] = (tx_next[a] + 1) % NUM_TX
            r = rng.random()
            if r < 0.70:  # a packet
                total, line = self.packet(a, tx)
                yield line
                self.sends += 1
                if self.shared:
                    b = rng.randrange(n - 1)
                    b += b >= a
                    yield f"g{a} send_dma key={net_key(b, True):#x} dma={tx:#x}"
                    u = used[b]
                    start = cursor[b] % NUM_RX
                    for i in range(NUM_RX):
                        idx = (start + i) % NUM_RX
                        if not u[idx]:
                            cursor[b] = (cursor[b] + 1) & 0xFFFF
                            u[idx] = 1 if total else 0
                            break
                    # B hands entries back slowly: about 40 % of the sends find it full.
                    if rng.random() < 0.55:
                        filled = [i for i in range(NUM_RX) if u[i]]
                        if filled:
                            idx = filled[rng.randrange(len(filled))]
                            u[idx] = 0
                            yield f"g{b} dma {RX_ARRAY + idx * DMA_SIZE:#x} used_len=0"
                else:  # tun: the send goes to the Launcher; input comes back as a fill
                    yield f"g{a} send_dma key={NET_PAGE:#x} dma={tx:#x}"
                    if rng.random() < 0.6:
                        yield f"l{a} fill key={NET_PAGE:#x} len={rng.randrange(60, 1515)}"
                        yield f"g{a} dma {RX_ARRAY:#x} used_len=0"
            elif r < 0.85:  # console output, and now and then input
                k = rng.randrange(1, 201)
                yield f"g{a} dma {CONS_OUT:#x} addr=[{CONS_OUT_BUF + rng.randrange(PAGE - k + 1):#x}] len=[{k}]"
                yield f"g{a} send_dma key=0 dma={CONS_OUT:#x}"
                self.sends += 1
                if rng.random() < 0.3:
                    yield f"l{a} fill key=0 len={rng.randrange(1, 257)}"
                    yield f"g{a} dma {CONS_IN:#x} used_len=0"
            else:  # a block request: the reply buffer set, a ping sent, the Launcher's reply filled
                k = rng.choice((512, 1024, 4096))
                yield f"g{a} dma {BLK_DMA:#x} addr=[{BLK_BUF + rng.randrange(64) * PAGE:#x}] len=[{k}]"
                yield f"g{a} dma {BLK_REQ:#x} len=[0]"
                yield f"g{a} send_dma key={BLK_PAGE:#x} dma={BLK_REQ:#x}"
                self.sends += 1
                yield f"l{a} fill key={BLK_PAGE:#x} len={k}"
                yield f"g{a} dma {BLK_DMA:#x} used_len=0"


def write_trace(path: str, n: int, guests: int, seed: int = 1) -> tuple[int, int]:
    """Write n records; returns (records, sends)."""
    gen = Gen(guests, seed)
    count = 0
    with open(path, "w", encoding="ascii", newline="\n") as f:
        buf = []
        for src in (gen.setup(), gen.loop()):
            for line in src:
                if count >= n:
                    break
                buf.append(gen.ts(line))
                count += 1
                if len(buf) >= 8192:
                    f.write("\n".join(buf) + "\n")
                    buf.clear()
        f.write("\n".join(buf) + "\n")
    sends = sum(1 for line in open(path) if " send_dma " in line)
    return count, sends


def best(repeat, fn):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def run_split(path):
    n = 0
    with open(path) as f:
        for line in f:
            line.split()
            n += 1
    return n


# For --baseline: an editable install's import hook would find the checkout's
# lgcheck before PYTHONPATH's, so the baseline run drops that hook first.
_WITHOUT_EDITABLE = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "sys.argv[0] = 'lgcheck'; runpy.run_module('lgcheck', run_name='__main__', alter_sys=True)"
)


def run_cli(path, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    baseline = "PYTHONPATH" in (env_extra or {})
    head = [sys.executable, "-c", _WITHOUT_EDITABLE] if baseline else [sys.executable, "-m", "lgcheck"]
    p = subprocess.run(
        head + ["replay", "--format", "json", path],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.abspath(path)),  # not a checkout: the lgcheck imported is the installed one
    )
    return p


def full_fraction(path, limit=20000):
    """(sends found full, sends delivered) among the shared-net sends of the first `limit` lines (from `--emit`)."""
    head, emitted = path + ".head", path + ".emit"
    with open(path) as f, open(head, "w") as out:
        for i, line in enumerate(f):
            if i >= limit:
                break
            out.write(line)
    subprocess.run([sys.executable, "-m", "lgcheck", "replay", "-q", "--emit", emitted, head], capture_output=True)
    with open(emitted) as f:
        lines = f.read().splitlines()
    os.unlink(head)
    os.unlink(emitted)
    attempts = sum(1 for x in lines if x.startswith("host full"))
    deliver = sum(1 for x in lines if x.startswith("host deliver"))
    return attempts // 2, deliver  # a full send is two `full` attempts (the retry finds it full too)


def breakdown(path: str, rounds: int = 3) -> str:
    """In-process, best of `rounds` (CPU time): a bare line split, the reader alone, the whole replay.

    The reader is everything from bytes to the records the engine consumes
    (cross-line checks included); its ratio to the split, timed in the same
    round, is the figure that carries from one machine (and load) to another.
    """
    from lgcheck.replay.engine import Replay
    from lgcheck.replay.parser import read_trace

    split, parse, whole = [], [], []
    for _ in range(rounds):
        t0 = time.process_time()
        n = run_split(path)
        t1 = time.process_time()
        sum(1 for _ in read_trace(path))
        t2 = time.process_time()
        Replay(path).run()
        t3 = time.process_time()
        split.append(t1 - t0)
        parse.append(t2 - t1)
        whole.append(t3 - t2)
    us = [min(x) / n * 1e6 for x in (split, parse, whole)]
    # The ratio and the engine's share per round (the median of the rounds), never from the minimums of
    # different rounds (nor the round whose split was slowest, which the best ratio would pick).
    ratio = statistics.median(p / s for p, s in zip(parse, split))
    engine = statistics.median(w - p for w, p in zip(whole, parse)) / n * 1e6
    return (
        f"in-process, us a record (CPU, best of {rounds}): split {us[0]:.2f}, reader {us[1]:.2f} "
        f"({ratio:.1f}x split, median of rounds), engine {engine:.2f} (median), replay {us[2]:.2f}"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--lark-lines", type=int, default=5000)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--guests", default="4,1", help="variants, comma-separated")
    ap.add_argument("--interpreted", action="store_true", help="also time LGCHECK_INTERPRETED=1")
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the reader and the engine in-process (best of --repeat rounds, at least 3)",
    )
    ap.add_argument(
        "--baseline",
        metavar="DIR",
        help="also time an older lgcheck: DIR on PYTHONPATH holds its `lgcheck` package (spec/, replay/, ... inside)",
    )
    args = ap.parse_args(argv)
    d = args.dir or tempfile.mkdtemp(prefix="lgcheck-realistic-")
    os.makedirs(d, exist_ok=True)
    rows = []
    status = 0
    for guests in [int(x) for x in args.guests.split(",")]:
        path = os.path.join(d, f"realistic-{guests}g-{args.records}.lgt")
        n, sends = write_trace(path, args.records, guests)
        t_split, _ = best(3, lambda path=path: run_split(path))
        t_lark, nl = best(1, lambda path=path: run_lark(path, args.lark_lines))
        variants = [("default", {})] + ([("interpreted", {"LGCHECK_INTERPRETED": "1"})] if args.interpreted else [])
        if args.baseline:
            variants.append(("baseline", {"PYTHONPATH": os.path.abspath(args.baseline)}))
        # Variants interleaved, round by round, so that a burst of load on this
        # shared machine hits them alike; best of --repeat, by wall and by CPU
        # time (the child's user+sys, which another process's load changes less).
        times = {label: [] for label, _ in variants}
        for _ in range(args.repeat):
            for label, env in variants:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                p = run_cli(path, env)
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                times[label].append((wall, cpu))
                try:
                    clean = p.returncode == 0 and json.loads(p.stdout) is not None
                except ValueError:
                    clean = False
                if not clean:
                    print(f"{path} ({label}): not clean (exit {p.returncode})", file=sys.stderr)
                    print((p.stdout or "")[:2000], (p.stderr or "")[-2000:], file=sys.stderr)
                    status = 2
        for label, _ in variants:
            wall = min(w for w, _ in times[label])
            cpu = min(c for _, c in times[label])
            rows.append((guests, label, n, sends, wall, cpu, n / t_split, nl / t_lark))
        if args.breakdown:
            print(f"{guests} Guests: {breakdown(path, max(3, args.repeat))}")
        if guests > 1:
            full, deliver = full_fraction(path)
            print(
                f"{guests} Guests, first 20k lines: {full} shared-net sends found the receiver full (twice), "
                f"{deliver} delivered: {full / max(1, full + deliver):.0%} full"
            )
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, traces in {d}")
    hdr = f"{'guests':>6} {'reading':11} {'records':>9} {'wall s':>7} {'records/s':>10} {'cpu s':>6} {'rec/cpu-s':>10}"
    print(hdr + f" {'sends/s':>8} {'split/s':>10} {'x split':>8} {'lark/s':>8} {'x lark':>7} {'us/rec':>7}")
    for guests, label, n, sends, t, cpu, split_rate, lark_rate in rows:
        rate = n / t
        print(
            f"{guests:>6} {label:11} {n:>9,} {t:>7.2f} {rate:>10,.0f} {cpu:>6.2f} {n / cpu:>10,.0f} "
            f"{sends / t:>8,.0f} {split_rate:>10,.0f} {rate / split_rate:>8.4f} {lark_rate:>8,.0f} "
            f"{rate / lark_rate:>7.2f} {1e6 / rate:>7.2f}"
        )
    print("records/s and sends/s: wall clock, start-up included; rec/cpu-s: per CPU second of the replay process")
    return status


if __name__ == "__main__":
    sys.exit(main())
