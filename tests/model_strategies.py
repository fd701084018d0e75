"""Hypothesis strategies for replay-level tests: whole valid runs of the lguest I/O protocol.

`valid_runs()` draws a *valid input-only trace*: what conforming 2.6.23 Guests,
their Launchers and the outside world do, as a list of `Record`s (line numbers
set, `text = format_record(rec)`), with no Host records, no Launcher `output`,
no BIND_DMA results and `fill`s without `dma=`/`irq=`: replay computes those.

The layout is the 2.6.23 Launcher's (lguest-io.md 5.2): RAM at pfn 0..pages-1,
the device descriptor page at pfn `pages`, one page per net or block device
above it in creation order, the console last with no page; device I has irq
I+1.  A `share` maps one net page MAP_SHARED into the sharenet Guests
(features = slot | NOCSUM, slot = Guest number); a tun Guest has features
RANDOMNESS | 1 and binds page+4.  Then a random interleaving of what the
drivers do (lguest-io.md 6 and 8):

    console   early output (send on key 0), bus/probe status bits, bind of the
              256-byte cons_input on key 0, input (`l fill key=0 len=N`, only
              when the buffer was handed back: `gN dma ADDR used_len=0`);
              a key press before the bind is discarded (`nobuf`)
    block     probe binds bd->dma on the page key; a read packs the request
              into bd->dma and sends a ping, the Launcher fills len <= the
              sections; a write sends the data, the reply is a 0-byte fill;
              lgb_irq hands bd->dma back
    net       open (8 x 1514-byte receive entries, split at page boundaries,
              then bind page+4*slot), sends to published peer slots (unicast,
              broadcast, bursts that fill a ring: deliver / full+full / drop),
              receive processing (refill every used entry), close (unbind,
              irq=0); tun: sends to page+0 go to the Launcher, input is a fill
              on page+4 (only while an entry is free; `nobuf` when down)
    status    ACKNOWLEDGE, DRIVER, (probe), DRIVER_OK, always `old | bit`,
              one device at a time or a whole boot at once; rarely FAILED
              (add_lguest_device failed) or a probe that fails (stays 3)
    Launcher rarely: `lN irq Q`, `lN status` setting REMOVED (the Guest may
              answer REMOVED_ACK), `lN close` (the Guest is gone for good)

Sometimes every record carries a never-decreasing `@` timestamp.

The generator keeps a small shadow of the Host and Launcher (bindings, used
entries, cursors, published MACs) to stay conforming, and from it predicts the
completed full trace: the drawn value is a `Run` (a list of the input records)
whose `.full` holds the predicted full form (Records without line numbers) and
`.features` the names of what happened (see FEATURES).  `ensure=(...)` makes
the listed features (from DRIVABLE) happen at least once: the setup gets the
devices they need, and the run is driven to them at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from lgcheck.replay.records import Record, format_record

PAGE = 4096
DESC = 100  # sizeof(struct lguest_dma)
RING = 8  # lguest_net.c NUM_SKBS
SKB = 1514  # ETH_HLEN + ETH_DATA_LEN
CONS_BUF = 256  # hvc_lguest.c inbuf

ACK, DRIVER, DRIVER_OK, REMOVED, REMOVED_ACK, FAILED = 1, 2, 4, 8, 16, 128
NOCSUM, RANDOMNESS = 0x4000, 0x8000
TYPES = {"console": 1, "net": 2, "block": 3}

FEATURES = (
    "status", "bind", "console_output", "console_fill", "console_read", "console_nobuf", "console_eof",
    "block_read", "block_write", "block_done", "net_open", "net_close", "net_rcv",
    "deliver", "full", "drop", "tun_send", "tun_fill", "tun_nobuf",
    "l_irq", "l_status", "removed_ack", "l_close", "failed",
)


# What `ensure=` can drive a run to (the others happen only by chance).
DRIVABLE = (
    "status", "bind", "console_output", "console_fill", "console_read", "block_read", "block_write", "block_done",
    "deliver", "full", "drop", "tun_send", "tun_fill", "tun_nobuf",
)


def R(kind: str, actor=None, /, **fields) -> Record:
    """A Record of `kind`; `actor` is N of gN/lN (and of `guest`/`device` records)."""
    return Record(kind, actor, fields)


class Run(list):
    """An input-only trace (its Records), with `.full` (the predicted full form) and `.features`."""

    full: list
    features: set

    def __repr__(self) -> str:
        return "Run(\n" + "".join(f"{r.line:4} | {r.text}\n" for r in self) + ")"

    def text(self) -> str:
        return "".join(r.text + "\n" for r in self)

    def full_text(self) -> str:
        return "".join(format_record(r) + "\n" for r in self.full)


@dataclass
class Dev:
    idx: int
    kind: str  # console, net, block
    pfn: int
    pages: int
    features: int
    mode: str = ""  # net: "share" or "tun"
    slot: int = 0
    status: int = 0
    phase: str = "new"  # new, ack, driver, bound, ok; failed / stuck end the bring-up
    # console: cons_input
    cons: int | None = None
    cons_used: int = 0
    eof: bool = False
    # block: bd->dma
    bd: int | None = None
    busy: bool = False
    # net: info->dma[8]
    ring: int | None = None
    open: bool = False
    used: list = field(default_factory=lambda: [0] * RING)
    cursor: int = 0

    @property
    def irq(self) -> int:
        return self.idx + 1

    @property
    def base(self) -> int:
        return self.pfn * PAGE

    @property
    def bind_key(self) -> int:
        if self.kind == "console":
            return 0
        if self.kind == "block":
            return self.base
        return self.base + 4 * (self.slot if self.mode == "share" else 1)

    @property
    def bound(self) -> bool:
        if self.kind == "net":
            return self.open
        return self.phase in ("bound", "ok")


@dataclass
class Guest:
    gid: int
    pages: int
    devs: list
    arena: int  # next free descriptor address (a bump allocator: descriptors never overlap)
    pool: list = field(default_factory=lambda: [None] * 4)  # stack descriptors for sends
    alive: bool = True
    reserved: bool = False  # needed by an `ensure` feature: never closed

    def dev(self, kind, mode=None):
        for d in self.devs:
            if d.kind == kind and (mode is None or d.mode == mode):
                return d
        return None

    @property
    def console(self) -> Dev:
        return self.devs[-1]


class Builder:
    def __init__(self, draw, ensure, max_steps):
        self.draw = draw
        self.ensure = tuple(ensure)
        self.max_steps = max_steps
        self.inp: list[Record] = []
        self.full: list[Record] = []
        self.features: set[str] = set()
        self.guests: list[Guest] = []
        self.share: list[Guest] = []  # sharenet Guests, in map order
        self.published: set[int] = set()  # MAC slots in use on the shared page (stale ones included)

    # ------------------------------------------------------------ records
    def add(self, rec, *answers, full_rec=None):
        self.inp.append(rec)
        self.full.append(full_rec if full_rec is not None else rec)
        self.full.extend(answers)

    def i(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def chance(self, percent) -> bool:
        # Hypothesis favours 0 and 99: map both to the middle, so that rare stays rare.
        return (self.draw(st.integers(0, 99)) + 37) % 100 < percent

    # ------------------------------------------------------------ setup
    def setup(self):
        d = self.draw
        need_share = any(f in self.ensure for f in ("deliver", "full"))
        need_drop = "drop" in self.ensure
        need_tun = any(f.startswith("tun_") for f in self.ensure)
        need_block = any(f.startswith("block_") for f in self.ensure)
        n = d(st.sampled_from([2, 3, 4] if need_share else [2, 1, 3, 4]))
        gids = d(st.lists(st.integers(0, 15), min_size=n, max_size=n, unique=True))
        use_share = need_share or need_drop or d(st.sampled_from([True, False, True]))
        share_ids = set()
        if use_share:
            k = d(st.integers(2 if (need_share or d(st.integers(0, 4))) else 1, n)) if n > 1 else 1
            share_ids = set(gids[:k])
        tun_ids = set()
        for g in gids:
            if g not in share_ids and (d(st.booleans()) or (need_tun and not tun_ids)):
                tun_ids.add(g)
        if need_tun and not tun_ids:
            # every Guest is on the share: the last one gets a tun device instead
            if len(share_ids) > (2 if need_share else 1):
                share_ids.discard(gids[-1])
                tun_ids.add(gids[-1])
            else:
                gids.append(next(x for x in range(16) if x not in gids))
                tun_ids.add(gids[-1])
        self.add(R("header", version=1))
        block_guest = None
        for gid in gids:
            pages = d(st.sampled_from([256, 1024, 8192, 16384, 65536]))
            kinds = []
            if gid in share_ids:
                kinds.append(("net", "share"))
            elif gid in tun_ids:
                kinds.append(("net", "tun"))
            nblock = d(st.integers(0, 2))
            if need_block and block_guest is None and nblock == 0:
                nblock = 1
            kinds += [("block", "")] * nblock
            kinds = d(st.permutations(kinds)) if len(kinds) > 1 else kinds
            devs, top = [], pages + 1
            for idx, (kind, mode) in enumerate(kinds):
                if kind == "block":
                    feats = RANDOMNESS
                elif mode == "share":
                    feats = NOCSUM | gid
                else:
                    feats = RANDOMNESS | 1
                devs.append(Dev(idx, kind, top, 1, feats, mode=mode, slot=gid if mode == "share" else 1))
                top += 1
            devs.append(Dev(len(devs), "console", 0, 0, 0))
            # descriptors: a bump allocator somewhere in the lower half of RAM
            arena = d(st.integers(1, pages // 2)) * PAGE + 4 * d(st.integers(0, 200))
            g = Guest(gid, pages, devs, arena)
            self.guests.append(g)
            if block_guest is None and g.dev("block"):
                block_guest = g
            self.add(R("guest", gid, guest=gid, pages=pages))
            for dv in devs:
                self.add(
                    R("device", gid, guest=gid, dev=dv.idx, type=TYPES[dv.kind], pfn=dv.pfn, pages=dv.pages,
                      features=dv.features)
                )
        self.share = [g for g in self.guests if g.gid in share_ids]
        if self.share:
            self.add(R("share", name="net", pages=1, map=[(g.gid, g.dev("net").pfn) for g in self.share]))
            # slots of Guests from earlier runs that crashed without closing their interface
            stale = d(st.lists(st.integers(0, 681), max_size=2, unique=True))
            if need_drop and not [s for s in stale if s not in share_ids]:
                stale = [681]
            self.published |= {s for s in stale if s not in share_ids}
        # reserve the Guests the ensured features need
        if self.ensure:
            self.guests[0].reserved = True
            for g in self.share[:2]:
                g.reserved = True
            for g in self.guests:
                if g.gid in tun_ids and not any(h.reserved and h.gid in tun_ids for h in self.guests):
                    g.reserved = True
            if block_guest is not None:
                block_guest.reserved = True

    # ------------------------------------------------------------ memory
    def alloc(self, g: Guest, n=1) -> int:
        a = g.arena
        g.arena += n * DESC + 4 * self.i(0, 3)
        return a

    def pool(self, g: Guest) -> int:
        k = self.i(0, len(g.pool) - 1)
        if g.pool[k] is None:
            g.pool[k] = self.alloc(g)
        return g.pool[k]

    def buf(self, g: Guest, n: int) -> int:
        """A buffer of n bytes in RAM (it may cross pages)."""
        return self.i(PAGE, g.pages * PAGE - n)

    @staticmethod
    def split(addr: int, n: int):
        """n bytes from addr as sections that never cross a page (skb_to_dma, fill_slot)."""
        addrs, lens = [], []
        while n:
            k = min(n, PAGE - addr % PAGE)
            addrs.append(addr)
            lens.append(k)
            addr += k
            n -= k
        return addrs, lens

    def packet(self, g: Guest, n: int):
        """A packet of n bytes: the linear part split at pages, maybe a page fragment (NETIF_F_SG)."""
        if n > 80 and self.chance(30):
            head = self.i(14, 80)
            a1, l1 = self.split(self.buf(g, head), head)
            frag = n - head
            off = self.i(0, PAGE - frag) if frag <= PAGE else 0
            a2, l2 = self.split(self.i(1, g.pages - 1) * PAGE + off, frag)
            return a1 + a2, l1 + l2
        return self.split(self.buf(g, n), n)

    # ------------------------------------------------------------ sends
    def send_private(self, g: Guest, key: int, dma: int, length: int):
        """SEND_DMA on a private key: pending for the Launcher, whose handler writes used_len."""
        self.add(
            R("g.send_dma", g.gid, key=key, dma=dma),
            R("host.pending", guest=g.gid, key=key, dma=dma),
            R("l.output", g.gid, key=key, dma=dma, len=length),
        )

    def send_shared(self, g: Guest, dv: Dev, slot: int, dma: int, total: int):
        """SEND_DMA on peer slot `slot` of the shared page: the Host delivers, finds the ring full, or drops."""
        key = dv.base + 4 * slot
        rec = R("g.send_dma", g.gid, key=key, dma=dma)
        h = next((x for x in self.share if x.gid == slot), None)
        hd = h.dev("net") if h is not None else None
        if h is None or h is g or not h.alive or not hd.open:
            self.features.add("drop")
            self.add(rec, R("host.drop", guest=g.gid, key=key))
            return
        start = hd.cursor % RING
        for i in range(RING):
            j = (start + i) % RING
            if hd.used[j] == 0:
                n = min(total, SKB)
                hd.used[j] = n
                hd.cursor += 1
                self.features.add("deliver")
                self.add(rec, R("host.deliver", src=(g.gid, dma), dst=(h.gid, hd.ring + DESC * j), len=n, irq=hd.irq))
                return
        # no free entry: the irq is raised anyway, and send_dma retries once, just as full
        self.features.add("full")
        self.add(rec, *[R("host.full", src=g.gid, dst=h.gid, key=key, irq=hd.irq) for _ in range(2)])

    # ------------------------------------------------------------ Guest actions
    def status(self, g: Guest, dv: Dev, bits: int):
        dv.status |= bits
        self.features.add("removed_ack" if bits == REMOVED_ACK else "status")
        self.add(R("g.status", g.gid, dev=dv.idx, value=dv.status))

    def bind(self, g: Guest, key: int, dmas: int, num: int, irq: int):
        self.features.add("bind")
        self.add(
            R("g.bind_dma", g.gid, key=key, dmas=dmas, num=num, irq=irq),
            full_rec=R("g.bind_dma", g.gid, key=key, dmas=dmas, num=num, irq=irq, result=1),
        )

    def bring_up(self, g: Guest, dv: Dev, fail=True):
        """One step of the bus scan and the driver's probe (lguest_bus.c, the drivers' probe).

        With `fail`, a Guest not reserved for an ensured feature may rarely fail
        add_lguest_device (FAILED) or its driver's probe (the status stays 3).
        """
        fail = fail and not g.reserved
        if dv.phase == "new":
            self.status(g, dv, ACK)
            dv.phase = "ack"
        elif dv.phase == "ack":
            if fail and self.chance(3):  # add_lguest_device: kmalloc or device_register failed
                self.status(g, dv, FAILED)
                dv.phase = "failed"
                self.features.add("failed")
            else:
                self.status(g, dv, DRIVER)
                dv.phase = "driver"
        elif dv.phase == "driver":
            if fail and self.chance(2):  # the probe failed before binding: the status stays ACK|DRIVER
                dv.phase = "stuck"
            elif dv.kind == "console":
                dv.cons = self.alloc(g)
                self.add(R("g.dma", g.gid, addr=dv.cons, used_len=0, addrs=[self.buf(g, CONS_BUF)], lens=[CONS_BUF]))
                self.bind(g, 0, dv.cons, 1, dv.irq)
                dv.phase = "bound"
            elif dv.kind == "block":
                dv.bd = self.alloc(g)
                self.add(R("g.dma", g.gid, addr=dv.bd, used_len=0, lens=[0]))
                self.bind(g, dv.base, dv.bd, 1, dv.irq)
                dv.phase = "bound"
            else:
                self.status(g, dv, DRIVER_OK)
                dv.phase = "ok"
        elif dv.phase == "bound":
            self.status(g, dv, DRIVER_OK)
            dv.phase = "ok"

    def boot(self, g: Guest):
        """The rest of the Guest's bring-up at once: the bus scan's ACKNOWLEDGEs, then each driver's probe."""
        for phase in ("new", "ack", "driver", "bound"):
            for dv in g.devs:
                if dv.phase == phase:
                    self.bring_up(g, dv)

    def console_output(self, g: Guest):
        n = self.i(1, 16) if self.chance(80) else self.i(1, CONS_BUF)
        dma = self.pool(g)
        self.add(R("g.dma", g.gid, addr=dma, addrs=[self.buf(g, n)], lens=[n]))
        self.send_private(g, 0, dma, n)
        self.features.add("console_output")

    def console_read(self, g: Guest, dv: Dev):
        self.add(R("g.dma", g.gid, addr=dv.cons, used_len=0))
        dv.cons_used = 0
        self.features.add("console_read")

    def block_request(self, g: Guest, dv: Dev, write=None):
        if write is None:
            write = self.draw(st.booleans())
        segs_a, segs_l = [], []
        for _ in range(self.i(1, 4)):
            page = self.i(1, g.pages - 1) * PAGE
            k = self.i(1, 8)
            off = self.i(0, 8 - k) * 512
            segs_a.append(page + off)
            segs_l.append(512 * k)
        if write:
            dma = self.pool(g)
            self.add(R("g.dma", g.gid, addr=dma, addrs=segs_a, lens=segs_l))
            self.send_private(g, dv.base, dma, 0)
            n = 0
            self.features.add("block_write")
        else:
            self.add(R("g.dma", g.gid, addr=dv.bd, addrs=segs_a, lens=segs_l))
            ping = self.pool(g)
            self.add(R("g.dma", g.gid, addr=ping, lens=[0]))
            self.send_private(g, dv.base, ping, 0)
            total = sum(segs_l)
            n = total if self.chance(70) else self.i(1, total)  # a read past the end is short
            self.features.add("block_read")
        self.add(
            R("l.fill", g.gid, key=dv.base, len=n),
            full_rec=R("l.fill", g.gid, key=dv.base, dma=dv.bd, len=n, irq=dv.irq),
        )
        dv.busy = True

    def block_done(self, g: Guest, dv: Dev):
        self.add(R("g.dma", g.gid, addr=dv.bd, used_len=0))
        dv.busy = False
        self.features.add("block_done")

    def fill_entry(self, g: Guest, dv: Dev, j: int):
        a, ln = self.split(self.buf(g, SKB), SKB)
        self.add(R("g.dma", g.gid, addr=dv.ring + DESC * j, used_len=0, addrs=a, lens=ln))
        dv.used[j] = 0

    def net_open(self, g: Guest, dv: Dev):
        if dv.ring is None:
            dv.ring = self.alloc(g, RING)
        for j in range(RING):
            self.fill_entry(g, dv, j)
        self.bind(g, dv.bind_key, dv.ring, RING, dv.irq)
        dv.open = True
        dv.cursor = 0
        if dv.mode == "share":
            self.published.add(dv.slot)
        self.features.add("net_open")

    def net_close(self, g: Guest, dv: Dev):
        if dv.mode == "share":
            self.published.discard(dv.slot)
        self.add(
            R("g.bind_dma", g.gid, key=dv.bind_key, dmas=dv.ring, num=0, irq=0),
            full_rec=R("g.bind_dma", g.gid, key=dv.bind_key, dmas=dv.ring, num=0, irq=0, result=1),
        )
        dv.open = False
        self.features.add("net_close")

    def net_rcv(self, g: Guest, dv: Dev):
        for j in range(RING):
            if dv.used[j]:
                self.fill_entry(g, dv, j)
        self.features.add("net_rcv")

    def net_send(self, g: Guest, dv: Dev, target=None, count=None):
        if dv.mode == "tun":
            n = self.i(42, SKB)
            dma = self.pool(g)
            a, ln = self.packet(g, n)
            self.add(R("g.dma", g.gid, addr=dma, addrs=a, lens=ln))
            self.send_private(g, dv.base, dma, n)
            self.features.add("tun_send")
            return
        peers = sorted(s for s in self.published if s != dv.slot)
        if target is not None:
            targets = [target] * (count or 1)
        else:
            how = self.i(0, 9)
            if how < 5:
                targets = [self.draw(st.sampled_from(peers))]
            elif how < 7:
                targets = peers  # broadcast: one send per used slot but our own
            else:
                targets = [self.draw(st.sampled_from(peers))] * self.i(2, 10)  # a burst
        dma = self.pool(g)
        for t in targets:
            n = self.i(14, SKB)
            a, ln = self.packet(g, n)
            self.add(R("g.dma", g.gid, addr=dma, addrs=a, lens=ln))
            self.send_shared(g, dv, t, dma, n)

    # ------------------------------------------------------------ Launcher actions
    def fill(self, g: Guest, key: int, n: int, dma, irq):
        rec = R("l.fill", g.gid, key=key, len=n)
        if dma is None:
            self.add(rec, full_rec=R("l.nobuf", g.gid, key=key))
        else:
            self.add(rec, full_rec=R("l.fill", g.gid, key=key, dma=dma, len=n, irq=irq))

    def console_input(self, g: Guest, dv: Dev, n=None):
        if not dv.bound:
            self.fill(g, 0, self.i(1, CONS_BUF) if n is None else n, None, None)
            self.features.add("console_nobuf")
            return
        if n is None:
            n = self.i(1, CONS_BUF) if (g.reserved or self.chance(98)) else 0
        self.fill(g, 0, n, dv.cons, dv.irq)
        dv.cons_used = n
        if n == 0:  # readv gave EOF: used_len 0, the irq anyway, stdin no longer watched
            dv.eof = True
            self.features.add("console_eof")
        else:
            self.features.add("console_fill")

    def tun_input(self, g: Guest, dv: Dev):
        n = self.i(42, SKB)
        key = dv.base + 4
        if not dv.open:
            self.fill(g, key, n, None, None)
            self.features.add("tun_nobuf")
            return
        j = dv.used.index(0)  # GETDMA: the first entry with used_len 0, from index 0
        self.fill(g, key, n, dv.ring + DESC * j, dv.irq)
        dv.used[j] = n
        self.features.add("tun_fill")

    def l_irq(self, g: Guest):
        self.add(R("l.irq", g.gid, irq=self.draw(st.sampled_from(g.devs)).irq))
        self.features.add("l_irq")

    def l_status(self, g: Guest, dv: Dev):
        dv.status |= REMOVED
        self.add(R("l.status", g.gid, dev=dv.idx, value=dv.status))
        self.features.add("l_status")

    def l_close(self, g: Guest):
        g.alive = False
        self.add(R("l.close", g.gid))
        self.features.add("l_close")

    # ------------------------------------------------------------ the run
    def actions(self):
        """(weight, function, args) of every action a conforming run may take now."""
        out = []
        for g in self.guests:
            if not g.alive:
                continue
            con = g.console
            out.append((3, self.console_output, (g,)))
            if not con.eof and (not con.bound or con.cons_used == 0):
                out.append((3 if con.bound else 1, self.console_input, (g, con)))
            if con.cons_used:
                out.append((4, self.console_read, (g, con)))
            if any(dv.phase in ("new", "ack", "driver", "bound") for dv in g.devs):
                out.append((4, self.boot, (g,)))
            for dv in g.devs:
                if dv.phase in ("new", "ack", "driver", "bound"):
                    out.append((4, self.bring_up, (g, dv)))
                if not dv.status & REMOVED and dv.status:
                    out.append((0.2, self.l_status, (g, dv)))
                if dv.status & REMOVED and not dv.status & REMOVED_ACK:
                    out.append((1, self.status, (g, dv, REMOVED_ACK)))
                if dv.kind == "block" and dv.bound:
                    out.append((4, self.block_done, (g, dv)) if dv.busy else (4, self.block_request, (g, dv)))
                if dv.kind == "net":
                    if dv.phase == "ok" and not dv.open:
                        out.append((6, self.net_open, (g, dv)))
                    if dv.open:
                        out.append((0.3, self.net_close, (g, dv)))
                        if any(dv.used):
                            out.append((3, self.net_rcv, (g, dv)))
                        if dv.mode == "tun" or any(s != dv.slot for s in self.published):
                            out.append((10, self.net_send, (g, dv)))
                    if dv.mode == "tun" and (not dv.open or 0 in dv.used):
                        out.append((3 if dv.open else 0.5, self.tun_input, (g, dv)))
            out.append((0.3, self.l_irq, (g,)))
            if not g.reserved:
                out.append((0.1, self.l_close, (g,)))
        return out

    def step(self):
        acts = self.actions()
        if not acts:
            return False
        # Hypothesis favours the ends of a range: keep the rare actions in the middle.
        common = [a for a in acts if a[0] >= 1]
        rare = [a for a in acts if a[0] < 1]
        acts = common[: len(common) // 2] + rare + common[len(common) // 2 :]
        scale = [max(1, int(w * 10)) for w, _, _ in acts]
        r = self.i(0, sum(scale) - 1)
        for s, (_, fn, args) in zip(scale, acts):
            if r < s:
                fn(*args)
                return True
            r -= s
        raise AssertionError("unreachable")

    # ------------------------------------------------------------ ensure
    def up(self, g: Guest, dv: Dev, until=("ok",)):
        while dv.phase not in until:
            self.bring_up(g, dv, fail=False)

    def drive(self, feat: str):
        g0 = self.guests[0]
        if feat in ("status", "bind", "console_fill", "console_read"):
            con = g0.console
            if con.phase in ("failed", "stuck"):
                return False
            self.up(g0, con, until=("bound", "ok"))
            if feat in ("console_fill", "console_read"):
                if con.cons_used:
                    self.console_read(g0, con)
                self.console_input(g0, con, n=self.i(1, CONS_BUF))
                if feat == "console_read":
                    self.console_read(g0, con)
            return True
        if feat in ("console_output",):
            self.console_output(g0)
            return True
        if feat.startswith("block_"):
            g = next(g for g in self.guests if g.reserved and g.dev("block"))
            dv = g.dev("block")
            if dv.phase in ("failed", "stuck"):
                return False
            self.up(g, dv, until=("bound", "ok"))
            if dv.busy:
                self.block_done(g, dv)
            self.block_request(g, dv, write=(feat == "block_write"))
            if feat == "block_done":
                self.block_done(g, dv)
            return True
        if feat in ("deliver", "full"):
            a, b = self.share[:2]
            da, db = a.dev("net"), b.dev("net")
            if da.phase in ("failed", "stuck") or db.phase in ("failed", "stuck"):
                return False
            self.up(a, da)
            self.up(b, db)
            for g, dv in ((b, db), (a, da)):
                if not dv.open:
                    self.net_open(g, dv)
            if feat == "deliver" and 0 not in db.used:
                self.net_rcv(b, db)
            free = db.used.count(0)
            self.net_send(a, da, target=db.slot, count=1 if feat == "deliver" else free + 1)
            return True
        if feat == "drop":
            a = self.share[0]
            da = a.dev("net")
            if da.phase in ("failed", "stuck"):
                return False
            self.up(a, da)
            if not da.open:
                self.net_open(a, da)
            dead = [s for s in self.published if s != da.slot]
            dead = [s for s in dead if not any(h.gid == s and h.alive and h.dev("net").open for h in self.share)]
            if not dead:
                return False
            self.net_send(a, da, target=dead[0])
            return True
        if feat.startswith("tun_"):
            g = next(g for g in self.guests if g.reserved and g.dev("net", "tun"))
            dv = g.dev("net", "tun")
            if feat == "tun_nobuf":
                if dv.open:
                    self.net_close(g, dv)
                self.tun_input(g, dv)
                return True
            if dv.phase in ("failed", "stuck"):
                return False
            self.up(g, dv)
            if not dv.open:
                self.net_open(g, dv)
            if feat == "tun_send":
                self.net_send(g, dv)
            else:
                if 0 not in dv.used:
                    self.net_rcv(g, dv)
                self.tun_input(g, dv)
            return True
        raise ValueError(f"cannot ensure {feat!r}")

    def build(self) -> Run:
        self.setup()
        for _ in range(self.i(self.max_steps // 3, self.max_steps)):
            if not self.step():
                break
        for feat in self.ensure:
            if feat not in self.features and not self.drive(feat):
                raise AssertionError(f"could not drive the run to {feat!r}")  # reserved Guests never fail
        return self.finish()

    def finish(self) -> Run:
        ts = self.i(0, 5)  # sometimes timestamps: none, whole seconds or decimals, never decreasing
        for n, rec in enumerate(self.inp):
            if ts == 4:
                rec.ts = str(n // 3)
            elif ts == 5:
                rec.ts = f"{n // 5}.{n % 5}"
            rec.line = n + 1
            rec.text = format_record(rec)
        run = Run(self.inp)
        run.full = self.full
        run.features = self.features
        return run


@st.composite
def valid_runs(draw, ensure=(), max_steps=60) -> Run:
    """A valid input-only trace (a `Run`: a list of Records), see the module docstring.

    `ensure`: names from DRIVABLE that must happen (the Guests they need are
    reserved: their devices never fail to come up and their Launchers never
    close).  `max_steps`: at most this many random actions (at least a third).
    """
    bad = [f for f in ensure if f not in DRIVABLE]
    if bad:
        raise ValueError(f"valid_runs cannot ensure {bad}; it can ensure {DRIVABLE}")
    return Builder(draw, ensure, max_steps).build()
