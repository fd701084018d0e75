"""Generate a valid `.lgt` trace of N records: 4 Guests on a shared net page, with consoles.

The trace is what the replay benchmark (benchmarks/replay_speed.py) reads.  It
is *valid*: replayed on the model it gives no finding, in full mode (every
Host and Launcher answer recorded, and each one exactly what the model
computes) and with `--input-only` (no `host`/`lN` records: replay computes
them).  Layout, for Guest g (slot g on the shared page):

    guest g pages=16384                RAM at pfn 0..16383, descriptor page 16384
    share net pages=1 map=[0:16385, ...]   one page, at pfn 16385 in every Guest
    device g.0 type=net pfn=16385 pages=1 features=NOCSUM|g
    device g.1 type=console pfn=0 pages=0
    RX_ARRAY   8 receive descriptors, each one 1536-byte section, bound on
               key NET_PAGE + 4*g with irq 4+g
    CONS_IN    1 console input descriptor, bound on key 0 with irq 2
    TX_RING    4 send descriptors, used in turn
    CONS_OUT   the console output descriptor

then a steady loop: Guest A sends a packet to a peer B (`gA dma` of a send
descriptor, `gA send_dma key=NET_PAGE+4*B`, `host deliver`), B hands back a
filled receive entry (`gB dma ENTRY used_len=0`, often not the one just
filled), and now and then a Guest writes to its console (`gA dma`, `gA
send_dma key=0`, `host pending`, `lA output`).  Some sends are empty pings
(len 0: the entry stays free), some are larger than a receive buffer (the
Host copies min(source total, destination total)).

The generator keeps the little of the Host's state it needs to write the
Host's answers: per receiving Guest the binding's cursor `next_dma` (advanced
by one per delivery, u16) and which entries have used_len 0.  The entry of a
delivery is the first entry with used_len 0 from the cursor; a Guest never
has all 8 entries filled, so no send finds the receiver full.

Output is streamed (a few thousand lines buffered at a time), so memory does
not grow with N.  N counts the records written, the header included; the
trace may end in the middle of a loop iteration, which is still valid (an
unanswered hypercall is answered by replay; a pending console send that the
trace ends on is only a note).

    python benchmarks/gen_trace.py N OUT [--input-only] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Iterator

PAGE = 4096
GUESTS = 4
RAM_PAGES = 16384  # 64 MiB
NET_PFN = RAM_PAGES + 1  # just above the descriptor page
NET_PAGE = NET_PFN * PAGE
NUM_RX = 8
RX_LEN = 1536
DMA_SIZE = 100

RX_ARRAY = 0x100000  # 8 descriptors, 100 bytes apart
TX_RING = 0x101000  # 4 send descriptors
NUM_TX = 4
CONS_IN = 0x102000
CONS_OUT = 0x102100
RX_BUF = 0x200000  # a page per receive entry
TX_BUF = 0x300000  # 256 pages of packet buffers
CONS_IN_BUF = 0x500000
CONS_OUT_BUF = 0x501000
CONSOLE_IRQ = 2


def net_irq(g: int) -> int:
    return 4 + g


def net_key(g: int) -> int:
    return NET_PAGE + 4 * g


def _setup() -> Iterator[str]:
    yield "lguest-trace 1"
    for g in range(GUESTS):
        yield f"guest {g} pages={RAM_PAGES}"
    yield "share net pages=1 map=[" + ", ".join(f"{g}:{NET_PFN}" for g in range(GUESTS)) + "]"
    for g in range(GUESTS):
        feats = "NOCSUM" if g == 0 else f"NOCSUM|{g}"
        yield f"device {g}.0 type=net pfn={NET_PFN} pages=1 features={feats}"
        yield f"device {g}.1 type=console pfn=0 pages=0"


def _bind(g: int, full: bool) -> Iterator[str]:
    """Guest g's drivers: the console's input buffer on key 0, the net receive array on its slot's key."""
    r = " -> 1" if full else ""
    yield f"g{g} status dev=1 value=ACKNOWLEDGE"
    yield f"g{g} status dev=1 value=ACKNOWLEDGE|DRIVER"
    yield f"g{g} dma {CONS_IN:#x} used_len=0 addr=[{CONS_IN_BUF:#x}] len=[256]"
    yield f"g{g} bind_dma key=0 dmas={CONS_IN:#x} num=1 irq={CONSOLE_IRQ}{r}"
    yield f"g{g} status dev=1 value=ACKNOWLEDGE|DRIVER|DRIVER_OK"
    yield f"g{g} status dev=0 value=ACKNOWLEDGE"
    yield f"g{g} status dev=0 value=ACKNOWLEDGE|DRIVER"
    for i in range(NUM_RX):
        yield f"g{g} dma {RX_ARRAY + i * DMA_SIZE:#x} used_len=0 addr=[{RX_BUF + i * PAGE:#x}] len=[{RX_LEN}]"
    yield f"g{g} bind_dma key={net_key(g):#x} dmas={RX_ARRAY:#x} num={NUM_RX} irq={net_irq(g)}{r}"
    yield f"g{g} status dev=0 value=ACKNOWLEDGE|DRIVER|DRIVER_OK"


class _Receiver:
    """The Host-side state of one Guest's net binding that the answers depend on."""

    __slots__ = ("next_dma", "used", "filled")

    def __init__(self):
        self.next_dma = 0  # the binding's cursor (u16)
        self.used = [0] * NUM_RX  # used_len of each entry
        self.filled: list[int] = []  # entries the Guest has not handed back

    def deliver(self, length: int) -> int:
        """dma_transfer: the first entry with used_len 0 from the cursor; the cursor moves by one."""
        start = self.next_dma % NUM_RX
        for i in range(NUM_RX):
            idx = (start + i) % NUM_RX
            if self.used[idx] == 0:
                break
        else:  # the loop keeps at least one entry free
            raise AssertionError("receiver full")
        self.used[idx] = length
        self.next_dma = (self.next_dma + 1) & 0xFFFF
        if length:
            self.filled.append(idx)
        return idx


def _loop(rng: random.Random, full: bool) -> Iterator[str]:
    rx = [_Receiver() for _ in range(GUESTS)]
    tx_next = [0] * GUESTS
    while True:
        a = rng.randrange(GUESTS)
        b = rng.randrange(GUESTS - 1)
        b += b >= a  # a peer, never the sender itself
        # -- the packet: one section, or two (larger than a receive buffer), or a ping
        tx = TX_RING + tx_next[a] * DMA_SIZE
        tx_next[a] = (tx_next[a] + 1) % NUM_TX
        kind = rng.random()
        if kind < 0.01:  # an empty send: a ping
            total = 0
            yield f"g{a} dma {tx:#x} len=[0]"
        elif kind < 0.05:  # two sections, more than RX_LEN in all
            l0, l1 = rng.randrange(1024, 4097), rng.randrange(64, 2049)
            p = TX_BUF + rng.randrange(0, 255) * PAGE
            total = l0 + l1
            yield f"g{a} dma {tx:#x} addr=[{p:#x}, {p + PAGE:#x}] len=[{l0}, {l1}]"
        else:
            size = rng.randrange(60, 1515)
            p = TX_BUF + rng.randrange(256) * PAGE + 2 * rng.randrange((PAGE - size) // 2 + 1)
            total = size
            yield f"g{a} dma {tx:#x} addr=[{p:#x}] len=[{size}]"
        yield f"g{a} send_dma key={net_key(b):#x} dma={tx:#x}"
        length = min(total, RX_LEN)
        r = rx[b]
        entry = r.deliver(length)
        if full:
            yield (
                f"host deliver from=g{a}:{tx:#x} to=g{b}:{RX_ARRAY + entry * DMA_SIZE:#x} len={length} irq={net_irq(b)}"
            )
        # -- B hands a filled entry back (any of them), keeping at most 6 filled
        if r.filled and len(r.filled) >= rng.randrange(1, NUM_RX):
            idx = r.filled.pop(rng.randrange(len(r.filled)))
            r.used[idx] = 0
            yield f"g{b} dma {RX_ARRAY + idx * DMA_SIZE:#x} used_len=0"
        # -- now and then, console output
        if rng.random() < 0.25:
            n = rng.randrange(1, 201)
            yield f"g{a} dma {CONS_OUT:#x} addr=[{CONS_OUT_BUF + rng.randrange(PAGE - n + 1):#x}] len=[{n}]"
            yield f"g{a} send_dma key=0 dma={CONS_OUT:#x}"
            if full:
                yield f"host pending g{a} key=0 dma={CONS_OUT:#x}"
                yield f"l{a} output key=0 dma={CONS_OUT:#x} len={n}"


def records(n: int, *, input_only: bool = False, seed: int = 1) -> Iterator[str]:
    """The first `n` record lines (no line endings) of the trace."""
    full = not input_only
    rng = random.Random(seed)
    count = 0

    def all_lines():
        yield from _setup()
        for g in range(GUESTS):
            yield from _bind(g, full)
        yield from _loop(rng, full)

    for line in all_lines():
        if count >= n:
            return
        count += 1
        yield line


def write_trace(n: int, out, *, input_only: bool = False, seed: int = 1, chunk: int = 8192) -> int:
    """Write the trace of `n` records to the path `out`; returns the records written."""
    count = 0
    buf: list[str] = []
    with open(out, "w", encoding="ascii", newline="\n") as f:
        for line in records(n, input_only=input_only, seed=seed):
            buf.append(line)
            if len(buf) >= chunk:
                f.write("\n".join(buf) + "\n")
                count += len(buf)
                buf.clear()
        if buf:
            f.write("\n".join(buf) + "\n")
            count += len(buf)
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="records to write (the header included)")
    ap.add_argument("out", help="the .lgt file to write")
    ap.add_argument("--input-only", action="store_true", help="no host/lN records: replay computes the answers")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1 (the header)")
    written = write_trace(args.n, args.out, input_only=args.input_only, seed=args.seed)
    print(f"{args.out}: {written} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
