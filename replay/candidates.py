"""Checks that need unknowns: possible findings from a few concrete completions of one step.

When a step of a partial trace needs a value the trace left unknown (a `?`
in the record, or state a `?` or a `lost` made unknown, such as a
descriptor's used_len after a `lost`), replay cannot run the step's checks
on its one state.  Rather than skip them, it runs the step on copies of the
state, once for each of a few *candidate* completions: every unknown the
step can read (the record's `?`s, the unknown used_len, lengths and
addresses of the descriptors of the Guests the record involves, and the
statuses a `?` or a `lost` made unknown until a status record pins them) takes one
of the values of CANDIDATES.  A protocol finding that a candidate run
raises is a finding of that completion (one of the states the trace so far
allows, as far as replay knows it), so it is reported as *possible*, with
the values that make it happen; the replay itself then goes on from its own
state as before.  A candidate run sees the record's recorded Host answer
when the trace gives it next: a divergence at that answer (or a kill it
does not record) says that the answer contradicts the candidate, which is
then dropped (pruned), findings and all.

Candidates are few and fixed (0: nothing handed back, a value cleared;
1: something not handed back, a tiny section; 0x100000: a length past any
section, and for an unknown status every bit set, so that a write which
clears any bit is tried), so the search is bounded, not complete.  Copying the state costs
time in proportion to it, so at most BUDGET records of a file get candidate
runs; past it, such checks are skipped and a note says so once.
"""

from __future__ import annotations

import pickle
import re

from .findings import FileResult
from .records import UNKNOWN, Record

CANDIDATES = (0, 1, 0x100000)
BUDGET = 32


def _filled(rec: Record, v: int) -> Record:
    from .witness import MODEL_CHOOSES

    fields = {}
    for k, x in rec.fields.items():
        if x is UNKNOWN and (rec.kind, k) in MODEL_CHOOSES:
            continue
        if x is UNKNOWN:
            x = min(v, _largest(rec.kind, k))  # a completion writes only what the field can hold
        elif isinstance(x, tuple) and k in ("src", "dst") and x[1] is UNKNOWN:
            x = (x[0], v)
        elif isinstance(x, list):
            x = [v if y is UNKNOWN else y for y in x]
        fields[k] = x
    return Record(rec.kind, rec.guest, fields, rec.line, rec.text, rec.ts)


def _bound_keys(st, rec: Record, most: int = 4) -> list[int]:
    """For a Launcher fill or nobuf with `key=?`: the keys (as the Guest passed them) of its live bindings."""
    if rec.kind not in ("l.fill", "l.nobuf") or rec.fields.get("key") is not UNKNOWN:
        return []
    gs = st.guests.get(rec.guest)
    keys = [] if gs is None else [b.key for b in gs.slots if b.interrupt and isinstance(b.key, int)]
    return sorted(set(keys))[:most]


def _largest(kind: str, attr: str) -> int:
    """The largest value the format lets a record's field take (a status is u16, a length u32)."""
    from .lgt_fields import SPECS, Limit

    for spec in SPECS.get(kind, ()):
        if spec.attr == attr and isinstance(spec.limit, Limit):
            return spec.limit.max
    return 0xFFFF_FFFF


def _shown(rec: Record, v: int) -> int:
    """The value a candidate run gave the record's own `?`s (v, cut to the field when they all hold less)."""
    sizes = {_largest(rec.kind, k) for k, x in rec.fields.items() if x is UNKNOWN}
    return min(v, max(sizes)) if sizes else v


def _resolve(st, guests, v: int, statuses=()) -> None:
    """Give every unknown field of the descriptors of `guests`, and each unknown status, the value v (in a copy)."""
    for g, dev in statuses:
        d = st.guests[g].devices.get(dev) if g in st.guests and g in guests else None
        if d is not None:
            d.status = v if v <= 0xFF else 0xFF  # a status is one byte; the large candidate: every bit set
    for g in guests:
        gs = st.guests.get(g)
        if gs is None:
            continue
        for addr, d in list(gs.mem.items()):
            if d.used_len is UNKNOWN:
                st.wr_used_len(g, addr, v)
            for name in ("lens", "addrs"):
                xs = getattr(d, name)
                if xs and any(x is UNKNOWN for x in xs):
                    setattr(d, name, [v if x is UNKNOWN else x for x in xs])


_NAMED = re.compile(r"g(\d+) descriptor (0x[0-9a-f]+) ")


def _resolve_named(st, what: str, v: int) -> None:
    """The descriptor an UnknownValue named, in a copy: its fields never written (None) take v (lengths: the
    first section v, the rest 0; a descriptor the trace never wrote is one in partial mode)."""
    m = _NAMED.search(what + " ")
    if m is None:
        return
    g, addr = int(m.group(1)), int(m.group(2), 16)
    d = st._desc_for_write(g, addr)
    if d.used_len is None:
        st.wr_used_len(g, addr, v)
    if d.lens[0] is None:
        d.lens = [v] + [0 if x is None else x for x in d.lens[1:]]
    if d.addrs[0] is None:
        d.addrs = [v] + [0 if x is None else x for x in d.addrs[1:]]


def _freeze(real) -> bytes:
    """The state, pickled without its cursor and relations (the runs get the real ones back)."""
    cursor, relate = real.cursor, real.relate
    real.cursor = real.relate = None
    try:
        return pickle.dumps(real, pickle.HIGHEST_PROTOCOL)  # a few times faster than copy.deepcopy
    finally:
        real.cursor, real.relate = cursor, relate


class Trials:
    """Candidate runs of one Replay's steps (replay/engine.py calls `possible`)."""

    __slots__ = ("used", "said")

    def __init__(self):
        self.used = 0
        self.said = False

    def spent(self, replay, rec: Record) -> bool:
        """Is the budget used up?  (Said once, at the first record it leaves unchecked.)"""
        if self.used < BUDGET:
            return False
        if not self.said:
            self.said = True
            replay.st.note(
                f"line {rec.line}: checks that depend on unknowns were tried on candidate values for "
                f"{BUDGET} records; from here on they are skipped (bounded: the copies cost time)"
            )
        return True

    def possible(self, replay, rec: Record, guests, what: str = "") -> list[tuple[str, str]]:
        """(rule, message) of the protocol findings that some candidate run of `rec` raises."""
        self.used += 1
        found: dict[str, str] = {}
        frozen = _freeze(replay.st)
        for v in CANDIDATES:
            for rule, message in self.run(replay, rec, guests, v, what, frozen):
                if rule != "divergence" and rule not in found:
                    found[rule] = f"{message} (a completion where the unknowns this step reads are {_shown(rec, v):#x})"
        if rec.kind in ("g.status", "l.status") and rec.fields.get("value") is UNKNOWN:
            # value=? on a status whose old value is unknown too: the same candidate for both never clears a bit,
            # so also the write of 0 over every bit set.
            zero = Record(rec.kind, rec.guest, dict(rec.fields, value=0), rec.line, rec.text, rec.ts)
            for rule, message in self.run(replay, zero, guests, CANDIDATES[-1], what, frozen):
                if rule != "divergence" and rule not in found:
                    found[rule] = (
                        f"{message} (a completion where value=? is 0 and the status it overwrites had every bit set)"
                    )
        for key in _bound_keys(replay.st, rec):
            # `key=?` on a fill or nobuf: the keys the Guest has bound are the ones GETDMA can find a buffer on.
            keyed = Record(rec.kind, rec.guest, dict(rec.fields, key=key), rec.line, rec.text, rec.ts)
            for v in CANDIDATES:
                for rule, message in self.run(replay, keyed, guests, v, what, frozen):
                    if rule != "divergence" and rule not in found:
                        found[rule] = (
                            f"{message} (a completion where key=? is {key:#x} and the other unknowns this step "
                            f"reads are {_shown(keyed, v):#x})"
                        )
        return list(found.items())

    def on_devices(self, replay, rec: Record, devs, guests) -> dict[str, tuple[str, set[int]]]:
        """`gN status dev=?` / `lN status dev=?`: the write run once on each device it may reach (for each
        candidate value of its other unknowns); rule -> (message of the first run that raised it, the devices
        whose runs raised it).  The caller decides which findings every choice gives."""
        self.used += 1
        frozen = _freeze(replay.st)
        more = rec.fields.get("value") is UNKNOWN or any((rec.guest, d) in replay.status_unknown for d in devs)
        found: dict[str, tuple[str, set[int]]] = {}
        for d in devs:
            one = Record(rec.kind, rec.guest, dict(rec.fields, dev=d), rec.line, rec.text, rec.ts)
            runs = [(one, v) for v in (CANDIDATES if more else CANDIDATES[:1])]
            if rec.fields.get("value") is UNKNOWN:
                # The same candidate for the old status and the value never clears a bit: also 0 over every bit.
                runs.append(
                    (Record(rec.kind, rec.guest, dict(one.fields, value=0), rec.line, rec.text, rec.ts), CANDIDATES[-1])
                )
            for r, v in runs:
                for rule, message in self.run(replay, r, guests, v, "", frozen):
                    if rule == "divergence":
                        continue
                    if rule not in found:
                        also = f" and the unknowns it reads are {_shown(r, v):#x}" if more else ""
                        found[rule] = (f"{message} (a completion where dev=? is {d}{also})", set())
                    found[rule][1].add(d)
        return found

    @staticmethod
    def run(replay, rec: Record, guests, v: int, what: str, frozen: bytes) -> list[tuple[str, str]]:
        from .engine import _Peekable
        from .partial import Uncertainty

        names = (
            "st", "recs", "out", "result", "pending_recorded", "completed", "unc", "reported_gone", "mem_sorted",
            "found_here", "status_unknown", "fork",
        )  # fmt: skip
        saved = {k: getattr(replay, k) for k in names}
        real = replay.st
        st = pickle.loads(frozen)
        st.cursor, st.relate = real.cursor, real.relate
        st.findings, st.notes, st.related = [], [], {}
        try:
            _resolve(st, guests, v, replay.status_unknown)
            _resolve_named(st, what, v)
            replay.st = st
            # The record's own recorded answer, when the trace gives one next: a candidate it contradicts is
            # pruned (a divergence in the run drops the run's findings).
            nxt = saved["recs"].peek() if saved["recs"] is not None else None
            answer = [nxt] if nxt is not None and nxt.kind.startswith("host.") else []
            replay.recs = _Peekable(iter(answer))
            replay.out = None
            replay.result = FileResult(replay.path)
            replay.pending_recorded = dict(saved["pending_recorded"])
            replay.completed = dict(saved["completed"])
            replay.unc = Uncertainty()
            replay.reported_gone = set(saved["reported_gone"])
            replay.mem_sorted = {}
            replay.found_here = (None, set())
            replay.status_unknown = set(saved["status_unknown"])  # a run's undeclared device must not leak out
            replay.fork = None  # a candidate run is one state of its own
            filled = _filled(rec, v)
            try:
                replay.handlers[rec.kind](filled)
                replay.flush(filled)
            except Exception:  # noqa: BLE001 - an unknown still read, or a value that is no valid record: no run
                return []
            if any(
                f.rule == "divergence" and (f.line != rec.line or "records no kill" in f.message)
                for f in replay.result.findings
            ):
                return []  # the candidate contradicts the record's recorded answer
            # (A divergence at the record itself may come from the candidate value of one of its own `?`s,
            # where the real value would agree: not a reason to drop the run.)
            return [(f.rule, f.message) for f in replay.result.findings]
        finally:
            for k, x in saved.items():
                setattr(replay, k, x)
