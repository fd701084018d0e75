"""Partial mode: a few whole candidate states, kept side by side while an unknown has few possible values.

Most unknowns of a partial trace can take any of 2^32 values, and replay
keeps one state plus marks of what it does not know (replay/partial.py).
Some have few values that matter: a bind with `num=?` (key, dmas and irq
known) makes a binding of num entries, and the Host reads its entries
only as far as the Guest wrote descriptors there: num = 0, 1, ..., K (K the
descriptors written in a row at dmas, at most MAX_ENTRIES) or more than K
(one state, num = K + 1, stands for all of them until the Host reads an
entry never written).  For such a `?` replay keeps one whole state per value
(a Fork): its own state (num=1, as before) and one *alternative* each for the
others, each a Replay of its own that steps the same records.

After each record the states are judged on what the trace recorded:

- a state whose run of the record diverges is dropped when another explains
  the record (trace-format.md: the completions that do not explain a record
  are dropped); if replay's own state is the one dropped, it takes over a
  surviving alternative's state;
- when every state diverges, no completion explains the record: the
  divergence is **certain**, and its message names each candidate state
  (which value of which `?`) and the condition that failed in it (at most
  SAID of them, then "and N more"); each state then follows the record as
  written, as outside partial mode;
- when one state is left, the `?` is pinned: the Guests the fork made
  doubtful are exactly known again.

This holds only while the fork's states are the only doubt about the
Guests they involve: any other doubt about them (another `?`, a `lost`), a
state that needs a value still unknown, or more than MAX_RECORDS records
without a pin, ends the fork (the Guests stay doubtful, as without it).
Protocol findings of an alternative that replay's own state lacks are
reported as possible, naming the value.
"""

from __future__ import annotations

import pickle

from ..spec import constants as C
from .findings import FileResult, Finding
from .records import UNKNOWN, Record

MAX_ENTRIES = 7  # num=? is tried for 0..K and K+1, K the written descriptors at dmas (at most this many)
MAX_RECORDS = 400  # records a fork may run without a pin before it is given up (each costs one step per state)
SAID = 3  # candidate states named in a certain divergence's message


def written_in_a_row(st, g: int, dmas: int, most: int) -> int:
    """How many descriptors the Guest wrote at dmas, dmas+100, ... in a row (at most `most`)."""
    mem = st.guests[g].mem if g in st.guests else {}
    k = 0
    while k < most and dmas + k * C.DMA_SIZE in mem:
        k += 1
    return k


class _Tapped:
    """Mixed into the main Replay's record iterator while a fork lives: keeps the records each step takes."""

    tap: list

    def __next__(self):
        r = super().__next__()  # type: ignore[misc]
        self.tap.append(r)
        return r


class Fork:
    """Replay's own state plus alternatives, one per other value of one `?` (see the module docstring)."""

    def __init__(self, replay, rec: Record, label: str, guests: set[int], alts: list):
        self.rec = rec
        self.label = label  # e.g. "line 12's num=?"
        self.guests = set(guests)  # the Guests whose state differs between the fork's states
        self.alts = alts  # [(value, Replay)]
        self.mine = None  # the value replay's own state took
        self.records = 0
        self.broken = False
        self.deferred: list[tuple] = []  # divergences of replay's own state at this step: (rec, message, rel)
        self.first: dict = {}  # value -> the forking record as that alternative runs it (its first step)
        self.larger = None  # the value that stands for every larger one (num=K+1)
        self.beyond: tuple | None = None  # (Guest, address): a descriptor written from there on may be an entry

    # ------------------------------------------------------------ start
    @classmethod
    def num_unknown(cls, replay, rec: Record, mine: int) -> "Fork | None":
        """A bind `gN bind_dma key=K dmas=D num=? irq=I` of an exactly known Guest: one state per num that matters."""
        g, f = rec.guest, rec.fields
        if replay.unc.everything or replay.unc.lost or replay.unc.uncertain((g,)) or replay.fork is not None:
            # (After a `lost` a binding table may hold what no state here has: the states are not every one.)
            return None
        k = written_in_a_row(replay.st, g, f["dmas"], MAX_ENTRIES)
        values = [v for v in range(0, k + 2) if v != mine]
        label = f"line {rec.line}'s num=?"
        fork = cls(replay, rec, label, {g}, [])
        fork.mine = mine
        fork.larger = k + 1
        fork.beyond = (g, f["dmas"] + k * C.DMA_SIZE - (C.DMA_SIZE - 1)) if k else (g, f["dmas"] - (C.DMA_SIZE - 1))
        frozen = freeze(replay)
        for v in values:
            fields = dict(f, num=v)
            if fields.get("result") is UNKNOWN:
                del fields["result"]
            fork.alts.append((v, thaw(replay, frozen)))
            fork.first[v] = Record(rec.kind, g, fields, rec.line, "", rec.ts)  # run at the first after_step
        return fork

    def name(self, v) -> str:
        return f"with num={self.value(v)}" + (" (replay's own state)" if v == self.mine else "")

    # ------------------------------------------------------------ each step
    def covers(self, replay, guests) -> bool:
        """Is the fork the only doubt about these Guests (so its states are every completion's)?"""
        unc = replay.unc
        if self.broken or unc.everything:
            return False
        doubtful = [g for g in guests if g in unc.guests]
        return bool(doubtful) and all(g in self.guests for g in doubtful)

    def run_alt(self, alt, records, nxt=None) -> list[Finding]:
        """Step an alternative over `records` (those it took ahead already left out).  `nxt`, the record
        replay takes next, is offered when it is a Host record: an alternative's hypercall may be answered
        by it where replay's own state took the answer as missing."""
        from .engine import _Peekable

        ahead = getattr(alt, "ahead", None)
        if ahead is not None and records and records[0] is ahead:
            records = records[1:]
        alt.ahead = None
        offered = [nxt] if nxt is not None and nxt.kind.startswith("host.") else []
        n0 = len(alt.result.findings)
        alt.recs = _Peekable(iter(records + offered))
        alt.st.cursor = alt.recs
        try:
            for r in alt.recs:
                if offered and r is offered[0] and alt.recs.taken == len(records) + 1:
                    alt.recs.taken -= 1  # not an answer here: a record of its own, for the next step
                    break
                alt.step(r)
            if offered and alt.recs.taken == len(records) + 1:
                alt.ahead = offered[0]  # an answer it took ahead of replay's own state
        except Exception:  # noqa: BLE001 - a state this record cannot be run on: the fork proves nothing
            self.broken = True
            return []
        alt.st.notes.clear()
        if alt.unc.everything or alt.unc.guests & self.guests:
            self.broken = True  # the alternative needed a value still unknown: no longer one whole state
        return list(alt.result.findings)[n0:]

    def after_step(self, replay, records) -> None:
        """Step every alternative over the records replay's own state just took, then judge them all."""
        self.records += 1
        if self.broken or self.records > MAX_RECORDS or replay.unc.everything:
            self.end(replay, "given up" if self.broken else f"no pin within {MAX_RECORDS} records")
            return
        if self.beyond is not None:
            g, lo = self.beyond
            if any(
                r.kind == "g.dma"
                and r.guest == g
                and not isinstance(r.fields["addr"], int)
                or r.kind == "g.dma"
                and r.guest == g
                and r.fields["addr"] >= lo
                for r in records
            ):
                # An entry past those written at the bind: num=K+1 no longer stands for every larger num.
                self.broken = True
        # A certain divergence of replay's own state is at a record that involves none of the fork's Guests
        # (else it would be doubtful): every state has it, so it tells the states nothing.
        recent = _recent(replay.result.findings, {r.line for r in records})
        if recent is None:
            self.end(replay, "too many findings")  # (end() prunes this step's deferred divergences)
            return
        mine = self.deferred
        self.deferred = []
        results = []
        nxt = replay.recs.peek()
        everywhere = {f.line for f in recent if f.rule == "divergence" and f.certain}
        for v, alt in self.alts:
            first = self.first.pop(v, None)
            found = self.run_alt(alt, records if first is None else [first, *records[1:]], nxt)
            div = [f for f in found if f.rule == "divergence" and f.line not in everywhere]
            results.append((v, alt, div, found))
        if self.broken:
            # An alternative needs an unknown: replay's own divergences are explained by some completion.
            for rec, message, _ in mine:
                replay.unc.prune(rec, message, replay.st)
            self.end(replay, "given up")
            return
        alive = [(v, alt) for v, alt, div, _ in results if not div]
        if mine and alive:
            # Replay's own state does not explain the record and an alternative does: the own state is no
            # completion, so what else it found at these records (following the record as written) is no
            # finding; the explaining states' findings are reported below, as possible.
            _drop(replay.result.findings, [f for f in recent if f.rule != "divergence"])
        self.possible_findings(replay, records, results)
        if not mine:
            self.alts = alive
        elif alive:
            # Replay's own state does not explain the record; an alternative does: take its state.
            for rec, message, _ in mine:
                replay.unc.prune(rec, message, replay.st)
            v, alt = alive[0]
            adopt(replay, alt)
            self.mine = v
            self.alts = alive[1:]
        else:
            self.certain(replay, mine, results)
            return
        if not self.alts:
            self.pinned(replay)

    def possible_findings(self, replay, records, results) -> None:
        """Protocol findings of an alternative that replay's own state lacks at the same record: possible."""
        have = {(f.rule, f.line) for f in _recent(replay.result.findings, {r.line for r in records}) or ()}
        for v, _, div, found in results:
            if div:
                continue  # a state the record contradicts is no completion
            for f in found:
                if f.rule != "divergence" and (f.rule, f.line) not in have:
                    have.add((f.rule, f.line))
                    replay.result.findings.append(
                        Finding(
                            f.rule,
                            f.line,
                            f.record,
                            f"{f.message} (a completion where {self.label} is {v})",
                            f.related,
                            False,
                        )  # fmt: skip
                    )

    def certain(self, replay, mine, results) -> None:
        """No state explains the record: a certain divergence that names each state and what failed in it."""
        values = sorted([self.mine] + [v for v, _, _, _ in results])
        may = ", ".join(self.value(v) for v in values)
        for rec, message, rel in mine:
            fails = [f"{self.name(self.mine)}: as above"]
            for v, _, div, _ in results:
                why = next((f.message for f in div if f.line == rec.line), None) or div[0].message
                fails.append(f"{self.name(v)}: {why}")
            shown = "; ".join(fails[:SAID]) + (f"; and {len(fails) - SAID} more" if len(fails) > SAID else "")
            text = (
                f"{message} [no completion explains this record: of the values of {self.label} the records "
                f"so far leave ({may}), each fails here: {shown}]"
            )
            replay.result.findings.append(Finding("divergence", rec.line, rec.text.strip(), text, rel, True))
        # Every state follows the record as written and goes on (trace-format.md).

    def value(self, v) -> str:
        return f"{v} or more" if v == self.larger else str(v)

    # ------------------------------------------------------------ end
    def pinned(self, replay) -> None:
        """One state left: the `?` is pinned, and the Guests it made doubtful are exactly known again."""
        replay.st.note(
            f"line {replay.recs.line}: {self.label} is pinned to {self.mine} (the records since contradict "
            "every other value): the Guests it made doubtful are exactly known again"
        )
        replay.unc.guests -= self.guests
        self.close(replay)

    def end(self, replay, why: str) -> None:
        """The fork proves nothing more: its Guests stay doubtful, and replay's own divergences of this step are
        explained by some completion, as without a fork."""
        for rec, message, _ in self.deferred:
            replay.unc.prune(rec, message, replay.st)
        self.deferred = []
        self.close(replay)

    def close(self, replay) -> None:
        replay.fork = None
        recs = replay.recs
        if isinstance(recs, _Tapped):
            recs.__class__ = recs.__class__.__bases__[1]


def _drop(findings, items) -> None:
    """Remove `items` (found by _recent, so in memory) from replay's findings."""
    if not items:
        return
    if hasattr(findings, "drop_recent"):
        findings.drop_recent(items)
    else:
        ids = {id(x) for x in items}
        findings[:] = [f for f in findings if id(f) not in ids]


def _recent(findings, lines) -> list | None:
    """The findings at these lines (they are the last ones appended); None once the findings spilled to disk
    (reading them back each step would cost too much: the fork is then given up)."""
    mem = getattr(findings, "_mem", findings)
    if len(mem) != len(findings):
        return None
    out = []
    for f in reversed(mem):
        if f.line not in lines:
            break
        out.append(f)
    return out


_COPIED = ("pending_recorded", "completed", "reported_gone", "desc_addrs", "status_unknown", "status_anydev",
           "layout_unknown")  # fmt: skip


def freeze(replay) -> bytes:
    """Replay's own state and the records it keeps about it, pickled (the cursor and relations left out)."""
    st = replay.st
    cursor, relate = st.cursor, st.relate
    st.cursor = st.relate = None
    try:
        return pickle.dumps((st, {k: getattr(replay, k) for k in _COPIED}), pickle.HIGHEST_PROTOCOL)
    finally:
        st.cursor, st.relate = cursor, relate


def thaw(replay, frozen: bytes):
    """A Replay of the same file and model on a copy of the frozen state: no output, no candidate runs."""
    from .engine import Replay

    st, kept = pickle.loads(frozen)
    alt = Replay.__new__(Replay)
    alt.__dict__.update(replay.__dict__)
    alt.handlers = {k: getattr(alt, "on_" + k.replace(".", "_")) for k in replay.handlers}
    alt.st = st
    st.relate = replay.st.relate
    st.findings, st.notes, st.related = [], [], {}
    for k, v in kept.items():
        setattr(alt, k, v)
    alt.result = FileResult(replay.path)
    alt.out = None
    alt.fork = None
    alt.n_unchecked = 0
    alt.found_here = (None, set())
    alt.mem_sorted = {}
    from .candidates import BUDGET, Trials
    from .partial import Uncertainty

    alt.unc = Uncertainty()
    alt.trials = Trials()
    alt.trials.used, alt.trials.said = BUDGET, True  # an alternative makes no candidate runs
    return alt


def adopt(replay, alt) -> None:
    """Replay's own state becomes the alternative's (its findings and notes stay replay's own)."""
    alt.st.cursor = replay.st.cursor
    alt.st.notes = replay.st.notes
    replay.st = alt.st
    for k in _COPIED:
        setattr(replay, k, getattr(alt, k))
    replay.mem_sorted = {}


def tap(replay) -> None:
    """Make replay's record iterator keep the records each step takes (while a fork lives)."""
    recs = replay.recs
    if not isinstance(recs, _Tapped):
        recs.__class__ = type("TappedPeekable", (_Tapped, type(recs)), {})
    recs.tap = []
