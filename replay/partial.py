"""Partial mode: what replay no longer knows exactly, and which findings are therefore only possible.

A partial trace (trace-format.md, "Incomplete captures") is judged over its
completions.  Replay runs one state, the concrete model's, and keeps beside it
what may differ between completions:

- the *uncertain* Guests (this module's Uncertainty): a Guest becomes
  uncertain when replay had to guess or skip for it (a `?` the step needed, a
  setup field left out, a Host answer with a `?`), and every Guest after a
  `lost`.  A step that involves an uncertain Guest makes every Guest it
  involves uncertain (a delivery carries the doubt to its destination);
- unknown descriptor fields (UNKNOWN in the state: the used_len of bound
  descriptors after a `lost`, an output not computed), until a `g dma`
  record rewrites them;
- unknown device statuses (replay/engine.py `status_unknown`): after a
  status `?` or a `lost`, until a status record with a known value pins it.

A finding at a record that involves only certain Guests holds in every
completion: it is *certain*; a status rule's finding is certain while the
device's status is known.  Other findings are *possible*.  A step that needs
an unknown is run on a few candidate values (replay/candidates.py), whose
protocol findings are possible.  A recorded answer that replay's guessed
state does not explain, at a record involving an uncertain Guest, is
explained by some completion: it is followed as written (it pins what it
reports) and is no finding (Uncertainty.prune counts these).  This is coarse
(a Guest stays uncertain once it is), but sound: a certain finding is never
reported where some completion lacks it.

A complete trace (no `?`, no `lost`) makes nothing uncertain, so in partial
mode it gets exactly its findings, all certain.
"""

from __future__ import annotations

from ..spec import constants as C
from .records import UNKNOWN, Record


def has_unknown(value) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, (list, tuple)):
        return any(has_unknown(x) for x in value)
    return False


class Uncertainty:
    """The Guests whose state may differ between the completions of the trace so far."""

    __slots__ = (
        "guests", "status", "everything", "unbounded_said", "pruned", "first_pruned", "fork", "lost",
        "tables_pinned", "pending_pinned", "sure_binds",
    )  # fmt: skip

    def __init__(self):
        self.pruned = 0  # records that disagreed with replay's guess but agree with some completion
        self.first_pruned: tuple | None = None
        self.guests: set[int] = set()
        self.status: set[int] = set()  # Guests whose device statuses may differ (only status records write them)
        self.everything = False  # after a `lost`: every Guest, also those not seen yet
        self.unbounded_said = False
        self.fork = None  # replay/alternatives.py: the whole candidate states of one `?`, while they live
        # After a `lost` (see `lost_doubt`): what it may have changed that the state itself cannot mark unknown.
        self.lost = False  # a `lost` has been read
        self.tables_pinned: set[int] = set()  # Guests whose binding table a record pinned since the last `lost`
        self.pending_pinned: set[int] = set()  # Guests whose waiting send a record pinned since the last `lost`
        # line -> Guest of the binds recorded as made since the last `lost`, while no record may have undone them:
        # those bindings are live in every completion (whatever else the tables hold).
        self.sure_binds: dict[int, int] = {}

    def __bool__(self) -> bool:
        return self.everything or self.lost or bool(self.guests)

    # ------------------------------------------------------------ after a `lost`
    def table_open(self, g) -> bool:
        """May Guest g's binding table (its bindings, their cursors) differ from replay's, after a `lost`?"""
        return self.lost and g not in self.tables_pinned

    def lost_doubt(self, st, rec: Record, guests) -> bool:
        """Does a `lost` leave open what this record's step reads, beyond what the state marks unknown?

        A `lost` makes every descriptor field, every byte and every status unknown in the state itself
        (a read of one is an unknown, as for a `?`), and later records pin them again.  What the state
        cannot mark: the binding tables (a lost bind may hold a key the trace never shows again; only a
        recorded `close` empties a table for sure) and whether a send waits for its Launcher (a lost send
        may; a record of the Guest itself, or a recorded `host pending`, pins it).  A step reads a table
        when it binds, fills, looks for a buffer, sends on a shared key, or is a Host record."""
        if not self.lost:
            return False
        kind = rec.kind
        if kind in TABLE_READERS or kind[0] == "h" or (kind == "g.send_dma" and reads_shares(st, rec.guest)):
            return any(self.table_open(g) for g in guests)
        if kind == "l.output":
            return rec.guest not in self.pending_pinned
        return False

    def prune(self, rec, message: str, st) -> None:
        """A record that replay's guessed state does not explain, but some completion does (the state it
        reads is unknown): the completions that do not explain it are dropped, and replay follows the
        record as written, which pins what it reports.  Not a finding; counted, and said once at the end."""
        self.pruned += 1
        if self.first_pruned is None:
            self.first_pruned = (rec.line, message)

    def say_pruned(self, st) -> None:
        line, message = self.first_pruned
        st.note(
            f"{self.pruned} record(s) disagreed with the state replay guessed for what `?` and `lost` left unknown, "
            f"first at line {line} ({message}); a completion explains each, so each was followed as written "
            "(what it reports is pinned) and none is a finding"
        )

    def taint(self, guests, spread: bool = False) -> None:
        """Make these Guests doubtful.  While a fork lives (replay/alternatives.py) its states cover the doubt
        of its Guests: a step that spreads only that doubt adds Guests to the fork; any other doubt about a
        fork's Guest ends what the fork can prove (it is broken)."""
        fork = self.fork
        if fork is not None and not fork.broken:
            gs = set(guests)
            if gs & fork.guests:
                if not spread or any(g in self.guests and g not in fork.guests for g in gs):
                    fork.broken = True
                else:
                    fork.guests |= gs
        self.guests.update(guests)

    def uncertain(self, guests) -> bool:
        return self.everything or any(g in self.guests for g in guests)

    def uncertain_finding(self, rule: str, guests) -> bool:
        """Is a finding of `rule` at a record involving `guests` only possible?

        The status rules read only the device's status before and after the
        write, which only status records (and `lost`) change: they stay certain
        while the Guest's statuses are known, whatever else is doubtful.
        """
        if self.everything:
            return True
        if rule in STATUS_RULES:
            return any(g in self.status for g in guests)
        return any(g in self.guests for g in guests)


STATUS_RULES = ("status-cleared", "status-forbidden-bit")
TABLE_READERS = ("g.bind_dma", "l.fill", "l.nobuf")  # (and sends on shared keys, and Host records)


def reads_shares(st, g) -> bool:
    """May a send of Guest g go to another Guest (g maps a share: its key may be shared)?"""
    gs = st.guests.get(g)
    return gs is None or bool(gs.maps)


def outcome_recorded(rec: Record, nxt: Record | None) -> bool:
    """After a `lost`: does the trace record what this table-reading step did, so that every completion
    that explains it did the same (a bind's table is open anyway; a fill that names its descriptor and
    irq; a send answered by a recorded deliver, drop or pending without `?`)?"""
    kind = rec.kind
    if kind in ("g.bind_dma", "l.nobuf") or kind[0] == "h":
        return True
    if kind == "l.fill":
        f = rec.fields
        return isinstance(f.get("dma"), int) and isinstance(f.get("irq"), int)
    if kind == "g.send_dma":
        return (
            nxt is not None
            and nxt.kind in ("host.deliver", "host.drop", "host.pending")
            and not any(has_unknown(v) for v in nxt.fields.values())
        )
    return True


def forget_descriptors(st, g) -> int:
    """Every field of every descriptor of Guest g is unknown (a `lost` may have rewritten any); returns how
    many.  A later `gN dma`, or a recorded write of used_len, pins what it writes."""
    gs = st.guests.get(g)
    if gs is None:
        return 0
    unknown = [UNKNOWN] * C.LGUEST_MAX_DMA_SECTIONS
    for addr, d in gs.mem.items():
        if d.used_len is not UNKNOWN:
            st.wr_used_len(g, addr, UNKNOWN)
        d.addrs = list(unknown)
        d.lens = list(unknown)
        d.memo = None
    return len(gs.mem)


def involved(st, rec: Record) -> set[int]:
    """The Guests whose state a record reads or writes (shared memory: every Guest that maps a share)."""
    gs: set[int] = set()
    if isinstance(rec.guest, int):
        gs.add(rec.guest)
    f = rec.fields
    for k in ("src", "dst"):
        v = f.get(k)
        if isinstance(v, tuple) and isinstance(v[0], int):
            gs.add(v[0])
        elif isinstance(v, int):
            gs.add(v)
    if rec.kind.startswith("host.") and isinstance(f.get("guest"), int):
        gs.add(f["guest"])
    if rec.kind == "share":
        gs.update(g for g, _ in f.get("map", ()) if isinstance(g, int))
    guests = st.guests
    if any(guests.get(g) is not None and guests[g].maps for g in gs):
        gs.update(h for h, x in guests.items() if x.maps)
    return gs


def forget_buffers(st, g) -> int:
    """Make the used_len of every descriptor of Guest g that a live binding holds unknown; returns how many."""
    gs = st.guests.get(g)
    if gs is None:
        return 0
    arrays = [(b.dmas, b.num_dmas) for b in gs.slots if b.interrupt and isinstance(b.num_dmas, int)]
    if not arrays:
        return 0
    n = 0
    for addr, d in gs.mem.items():
        if d.used_len is UNKNOWN:
            continue
        for base, num in arrays:
            if base <= addr < base + num * C.DMA_SIZE and (addr - base) % C.DMA_SIZE == 0:
                st.wr_used_len(g, addr, UNKNOWN)
                n += 1
                break
    return n


def known_fields_match(expected: Record, recorded: Record) -> bool:
    """Does a recorded Host record with `?`s agree with the model's record on every field it does give?

    A deliver's `sum=` (version 2) is no field of the model's record: it is compared with the bytes once the
    delivery is followed (engine.check_sum), not taken here for a difference.
    """
    if expected is None or expected.kind != recorded.kind:
        return False
    for k, v in recorded.fields.items():
        if k == "sum":
            continue
        e = expected.fields.get(k)
        if isinstance(v, tuple) and isinstance(e, tuple):
            if any(x is not UNKNOWN and x != y for x, y in zip(v, e)):
                return False
        elif v is not UNKNOWN and v != e:
            return False
    return True


_TEXT = {"src": "from", "dst": "to"}  # a Host record's fields as the trace writes them


def _shown(k, v) -> str:
    if isinstance(v, tuple) and len(v) == 2:
        return f"g{v[0]}:" + ("?" if v[1] is UNKNOWN else f"{v[1]:#x}")
    return "?" if v is UNKNOWN else (f"{v:#x}" if isinstance(v, int) and k not in ("len", "irq") else str(v))


def _differs(v, e) -> bool:
    """Does a recorded field (with `?`s) differ from the model's where it gives a value?"""
    if isinstance(v, tuple) and isinstance(e, tuple):
        return any(x is not UNKNOWN and x != y for x, y in zip(v, e))
    return v is not UNKNOWN and v != e


def why_no_value_explains(expected: Record, recorded: Record) -> str:
    """Why no value of a Host record's `?`s makes it the model's: the candidates for its `?`s (the model's own
    values among them) and the field it gives that differs, which fails the same whatever they are."""
    unknown = [k for k, v in recorded.fields.items() if has_unknown(v)]
    wrong = [
        f"{_TEXT.get(k, k)}={_shown(k, v)} where the model has {_shown(k, expected.fields.get(k))}"
        for k, v in recorded.fields.items()
        if _differs(v, expected.fields.get(k))
    ]
    if expected.kind != recorded.kind:
        wrong.insert(0, f"the record is `{recorded.kind[5:]}` where the model's is `{expected.kind[5:]}`")
    model = ", ".join(
        f"{_TEXT.get(k, k)}={_shown(k, expected.fields[k])}" for k in unknown if expected.fields.get(k) is not None
    )
    tried = f"the model's own ({model}), 0, 1 or any other" if model else "0, 1 or any other value"
    names = ", ".join(_TEXT.get(k, k) for k in unknown)
    return f"no value of its `?` ({names}) explains it: with {tried}, {'; '.join(wrong) or 'a field it gives differs'}"


def bind_made(rec: Record) -> bool:
    """Does a bind record pin that its binding was made (key and irq known, irq not 0, a recorded success)?"""
    f = rec.fields
    return (
        rec.kind == "g.bind_dma"
        and isinstance(f.get("result"), int)
        and f["result"] is not UNKNOWN
        and f["result"] != 0
        and isinstance(f.get("irq"), int)
        and f["irq"] is not UNKNOWN
        and f["irq"] != 0
        and f.get("key") is not UNKNOWN
    )


def pinned_kill(nxt: Record | None, kill) -> bool:
    """Is the next record a Host kill of the Guest the model's Host kills here (so the trace pins the kill)?"""
    return (
        nxt is not None
        and nxt.kind == "host.kill"
        and nxt.fields.get("guest") == kill.f["guest"]
        and not any(has_unknown(v) for v in nxt.fields.values())
    )
