"""Replay: run a trace's records on the concrete model and collect findings.

Records stream in from the parser; each is run on the spec (Concrete ops,
ConcreteState).  After a Guest hypercall the engine looks at the next record:
if it is a Host record the trace is *full* for this hypercall, and each
recorded answer is compared with the model's and then applied (the model
follows the trace, so later findings are not echoes of an earlier one); if
not, the model's own answer is applied (an *input-only* trace).  Memory use is
bounded by the model's state and the findings, never by the trace's length.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from typing import Iterator, TextIO

from ..spec import constants as C
from ..spec.apply import kill_reason
from ..spec import fused
from ..spec.compiled import INTERPRETED
from ..spec.compiled import apply as apply_effect
from ..spec.compiled import observe
from ..spec.compiled import bind_dma, fill, handle_output, hcall_send_dma, release_all_dma, send_irq, status_write
from ..spec.compiled import fill_bytes
from ..spec.effects import Effect
from ..spec.monitors import Write
from ..spec.ops import Concrete as ops
from ..spec.state import ConcreteState, Device, UnknownValue, put_known
from . import related, why
from .answers import HOST_EFFECTS, from_record, matches, to_record
from .candidates import Trials
from .errors import TraceError
from .findings import FileResult, Finding, InputError
from .parser import read_trace
from .partial import STATUS_RULES, Uncertainty, forget_buffers, involved, known_fields_match
from .partial import bind_made, forget_descriptors, outcome_recorded, pinned_kill
from .partial import why_no_value_explains as why_no
from .records import KINDS, UNKNOWN, Record, format_record

_END = object()
_PAGE_OFF = C.PAGE_SIZE - 1
_PAGE, _PAGE_SHIFT = C.PAGE_SIZE, C.PAGE_SHIFT
_DMA_BELOW = C.DMA_SIZE - 1  # a descriptor starting this far below an address still covers it
_bisect_left = bisect.bisect_left
_ADDR_END = 1 << 32  # one past the last Guest-physical address (u32)
_MEM_ADDR = re.compile(r"mem[ \t]+")
_DMA_ADDR = re.compile(r"dma[ \t]+")


def _addr_column(text: str, head=_MEM_ADDR) -> int:
    """The 1-based column of a `mem` (or, with _DMA_ADDR, `dma`) record's ADDR in its line (the line parsed)."""
    m = head.search(text)
    return m.end() + 1 if m else 1


class _Peekable:
    """An iterator over records with one record of look-ahead; `line` is the last one taken's."""

    line = None

    def __init__(self, it: Iterator[Record]):
        self._it = it
        self._next = _END
        self.taken = 0

    def __iter__(self):
        return self

    def __next__(self) -> Record:
        if self._next is not _END:
            r, self._next = self._next, _END
            if r is None:  # peek() met the end
                raise StopIteration
        else:
            r = next(self._it)
        self.taken += 1
        self.line = r.line
        return r

    def peek(self) -> Record | None:
        if self._next is _END:
            self._next = next(self._it, None)
        return self._next


def _has_unknown(fields) -> bool:
    for v in fields.values():
        if v is UNKNOWN:
            return True
        if isinstance(v, (list, tuple)) and any(x is UNKNOWN for x in v):
            return True
    return False


def _pfns(lo, hi) -> str:
    return f"pfn {lo:#x}" if hi == lo + 1 else f"pfn {lo:#x}-{hi - 1:#x}"


def _hexs(v) -> str:
    return f"{v:#x}" if isinstance(v, int) else str(v)


class Replay:
    """One file's replay; `run()` returns its FileResult."""

    fused = True  # spec/fused.py's common-case sends and fills (tests switch it off to compare)

    def __init__(
        self,
        path: str,
        *,
        partial: bool = False,
        emit: TextIO | None = None,
        launcher: str = "2.6.23",
        faults: tuple[str, ...] = (),
        host: str = "2.6.23",
    ):
        self.path = path
        self.partial = partial
        self.st = ConcreteState(partial=partial)
        self.st.faults = frozenset(faults)
        self.checked = launcher == "checked"
        self.host = host  # spec/host.py HOSTS: the copy_data that moves the bytes
        self.handlers = {k: getattr(self, "on_" + k.replace(".", "_")) for k in KINDS}
        self.result = FileResult(path)
        self.out = emit
        self.emitted = 0  # lines written to `out` (not_checked: did the step write its record before it stopped?)
        self.recs: _Peekable | None = None
        self.pending_recorded: dict[int, bool] = {}
        self.reported_gone: set = set()  # Guests (ints) and exited Launchers (("l", g)) already reported
        self.exited: dict[int, tuple[int, str]] = {}  # Guest -> (line, why) where its Launcher exited
        self.desc_addrs: dict[int, dict[int, int]] = {}  # Guest -> address // 100 -> descriptor address
        self.unc = Uncertainty()  # partial mode: the Guests whose state replay no longer knows exactly
        self.found_here: tuple = (None, set())  # partial mode: (line, rules found there) of the latest finding
        self.parsed = False  # records come from read_trace (their text is the line they were parsed from)
        self.n_unchecked = 0  # partial mode: records not (fully) checked; the first few are said in notes
        self.status_unknown: set[tuple[int, int]] = set()  # partial mode: (Guest, device) whose status is unknown
        self.status_anydev: set[int] = set()  # partial mode: Guests whose undeclared devices `dev=?` may have hit
        self.trials = Trials()  # partial mode: candidate runs of steps that need unknowns (replay/candidates.py)
        self.completed: dict[int, tuple] = {}  # Guest -> (key, dma, line) of the send whose output replay computed
        self.layout_unknown: set[int] = set()  # Guests with a `?` in a device's pages: their memory size is unknown
        self.mem_sorted: dict[int, tuple[int, list[int]]] = {}  # Guest -> (how many, sorted descriptor addresses)
        self.fork = None  # partial mode: whole candidate states while a `?` has few values (replay/alternatives.py)

    # ----------------------------------------------------------- driver
    def run(self, records: Iterator[Record] | None = None) -> FileResult:
        """Replay the file (or `records`, when given, as if read from it)."""
        try:
            self.parsed = records is None
            source = records if records is not None else read_trace(self.path, partial=self.partial)
            self.recs = _Peekable(iter(source))
            self.st.cursor, self.st.relate = self.recs, related.lookup
            step = self.step
            if self.partial or self.out is not None:
                for rec in self.recs:
                    step(rec)
                    if self.fork is not None:
                        self.fork.after_step(self, self.recs.tap)
                        if self.fork is not None:
                            self.recs.tap = []
            else:
                # Version 2's `mem` records (one per section sent) take a path of their own at full
                # speed: no step() (no `?`, nothing to emit, no finding or note to flush), unless
                # their Guest waits for its Launcher or has stopped (step() settles that first).
                # Descriptors, sends and fills (most of an input-only trace) likewise: spec/fused.py's one-pass
                # common case, which hands back to step() whatever it does not cover.
                guests = self.st.guests
                fast = {"g.mem": self.mem_fast, "g.dma": self.on_g_dma}
                if self.fused and not INTERPRETED and not self.st.faults:
                    fast["g.send_dma"] = self.send_fast
                    if not self.checked:
                        fast["l.fill"] = self.fill_fast
                lookup = fast.get
                for rec in self.recs:
                    handler = lookup(rec.kind)
                    if handler is not None:
                        gs = guests.get(rec.guest)
                        if gs is None or (gs.pending is None and gs.dead is None and not gs.closed):
                            handler(rec)
                            continue
                    step(rec)
            self.finish()
        except TraceError as e:
            self.result.findings.clear()
            self.result.error = InputError(e.line, e.column, e.message, str(e))
        if self.recs is not None:
            self.result.records = self.recs.taken
        self.take_notes()
        return self.result

    def step(self, rec: Record):
        kind = rec.kind
        if kind[0] == "g" and kind[1] == ".":
            gs = self.st.guests.get(rec.guest)
            if gs is not None and (gs.pending is not None or gs.dead is not None or gs.closed):
                # Until its Launcher answers, the Guest does not run; its Launcher
                # may do other work first (handle_block_output fills the reply).
                self.settle_pending(rec)
                self.check_alive(rec)
        elif kind[0] == "l" and rec.guest in self.exited and kind != "l.close":
            self.after_exit(rec)
            return
        if (
            self.partial
            # Parsed from text, a record has a `?` only where its line does: one substring search, and a
            # complete record takes the concrete path at once.  (Records built by programs are looked at.)
            and ("?" in rec.text or not self.parsed)
            and _has_unknown(rec.fields)
            # (`lost records=?` is a `lost` of unknown count, which on_lost takes as such, not a step to try.)
            and kind not in ("g.dma", "header", "guest", "device", "share", "lost")
        ):
            nxt = self.recs.peek() if self.unc.lost else None
            mark = self.emitted
            try:
                if kind != "g.bind_dma" or not self.bind_partly_known(rec):
                    self.skip_unknown(rec, self.try_candidates(rec))
            except UnknownValue as e:
                self.not_checked(rec, e, mark)
            self.spread_doubt(rec, nxt)
            return
        handler = self.handlers[kind]
        pinned = None
        unmapped = self.key_above_memory(rec) if kind in FUTEX_KILLS else None
        if not self.partial:
            handler(rec)
        else:
            if self.status_unknown and kind in ("g.status", "l.status"):
                pinned = self.pin_status(rec)
            nxt = self.recs.peek() if self.unc.lost else None
            mark = self.emitted
            try:
                handler(rec)
            except UnknownValue as e:
                self.not_checked(rec, e, mark)
            self.spread_doubt(rec, nxt)
        if unmapped is not None:
            self.st.unmapped.discard(unmapped)
        if self.st.findings:
            self.flush(rec)
        if pinned is not None:
            self.status_unknown.discard(pinned)  # the write pinned it (after judging this write)
        if self.st.notes:
            self.take_notes()

    def take_notes(self):
        """Move the state's notes to the result as they come (the result spills them past a bound)."""
        self.result.notes.extend(self.st.notes)
        self.st.notes.clear()

    def not_checked(self, rec: Record, e: UnknownValue, mark: int | None = None):
        """Partial mode: the step needs a value the trace left unrecorded; follow the trace's own answers."""
        if mark is not None and self.emitted == mark:
            # The step stopped before writing its record (a fill reads used_len before it emits): --emit
            # still writes it as given, or the completed trace would silently lose a record of the input.
            self.emit_input(rec)
        self.st.findings.clear()
        how = "checked on candidate values only" if self.try_candidates(rec, str(e)) else "not checked"
        self.unchecked(f"line {rec.line}: {how}: it depends on a value the trace left unrecorded ({e})")
        f = rec.fields
        if rec.kind == "l.fill" and isinstance(f.get("dma"), int) and isinstance(f.get("len"), int):
            # The check could not run, but what the fill wrote is recorded: used_len is its length.
            self.st.wr_used_len(rec.guest, f["dma"], f["len"])
        elif rec.kind == "l.output" and isinstance(f.get("dma"), int) and isinstance(f.get("len"), int):
            # Likewise: the Launcher answered the send it names, and wrote this length (the send waits no more).
            if self.st.guest(rec.guest).pending is not None:
                self.st.set_pending(rec.guest, None)
            self.pending_recorded.pop(rec.guest, None)
            self.st.wr_used_len(rec.guest, f["dma"], f["len"])
        self.taint(rec)
        self.follow_recorded(rec)

    def finish(self):
        if self.unc.pruned:
            self.unc.say_pruned(self.st)
        if self.n_unchecked > self.UNCHECKED_SAID:
            self.st.note(
                f"{self.n_unchecked - self.UNCHECKED_SAID} more records not (fully) checked, for the same reasons "
                f"(the first {self.UNCHECKED_SAID} are said above)"
            )
        for g, gs in sorted(self.st.guests.items()):
            if gs.pending is not None:
                if self.pending_recorded.get(g):
                    key, dma = gs.pending
                    self.st.note(
                        f"g{g}'s send of {dma:#x} on key {key:#x} still waits for l{g}'s output at the end of the trace"
                    )
                else:
                    self.complete_output(g, None)

    # ----------------------------------------------------------- output
    def emit(self, rec, text: str | None = None):
        if self.out is not None:
            if callable(rec):  # built only when someone reads it
                rec = rec()
            self.emitted += 1
            self.out.write((text if text is not None else format_record(rec)) + "\n")

    def emit_input(self, rec: Record):
        if self.out is not None:
            self.emitted += 1
            self.out.write(rec.text.rstrip("\r\n") + "\n")

    def find(self, rec: Record, rule: str, message: str, rel=(), certain=True, pinned=False):
        if pinned:
            pass  # the trace records what makes it (see bad_dma): every completion that explains it has it
        elif self.partial and rule in STATUS_RULES and rec.kind in ("g.status", "l.status"):
            # A status rule reads only the device's status before the write: certain while that is known
            # (a `?` or a `lost` makes it unknown until a status record with a known value pins it).
            dev = (rec.guest, rec.fields.get("dev"))
            certain = certain and dev not in self.status_unknown and rec.guest not in self.unc.status
        elif self.partial and rule == "key-outside-device" and bind_made(rec):
            # Reads only the bind's key and the Guest's device pages (setup, which no `lost` drops); a recorded
            # success pins that the binding was made: certain while no device record of the Guest had a `?`
            # (unknown_device counts such a device's pages as none, and puts the Guest in unc.status).
            certain = certain and rec.guest not in self.layout_unknown and rec.guest not in self.unc.status
        elif self.partial and rule == "key-collision" and self.unc.lost and bind_made(rec) and self.sure_clash(rec):
            # After a `lost`: this bind and the live binding it clashes with were both recorded as made since,
            # and nothing recorded since may have undone that one (pin_binding): every completion collides here.
            certain = certain and not self.unc.everything
        elif certain and self.unc:
            gs = involved(self.st, rec)
            certain = not (
                self.unc.everything or self.unc.uncertain_finding(rule, gs) or self.unc.lost_doubt(self.st, rec, gs)
            )
        if not certain and self.found_here[0] == rec.line and rule in self.found_here[1]:
            return  # already found here by a candidate run (replay/candidates.py)
        if not certain and rule == "divergence":
            if self.fork is not None and self.fork.covers(self, involved(self.st, rec)):
                self.fork.deferred.append((rec, message, rel))  # judged with the fork's other states
                return
            # Partial mode: some completion explains the record (it pins what it reports): no finding.
            self.unc.prune(rec, message, self.st)
            return
        self.result.findings.append(Finding(rule, rec.line, rec.text.strip(), message, rel, certain))
        if self.partial:
            if self.found_here[0] != rec.line:
                self.found_here = (rec.line, set())
            self.found_here[1].add(rule)

    # ----------------------------------------------------------- partial mode (replay/partial.py)
    UNCHECKED_SAID = 20

    def unchecked(self, text: str):
        """A note that a record was not (fully) checked: the first UNCHECKED_SAID said, the rest counted."""
        self.n_unchecked += 1
        if self.n_unchecked <= self.UNCHECKED_SAID:
            self.st.note(text)

    def taint(self, rec: Record):
        """The Guests this record involves are no longer known exactly (nothing to do once all are not)."""
        if not self.unc.everything and not self.all_doubtful(rec):
            self.unc.taint(involved(self.st, rec))

    def pin_binding(self, rec: Record):
        """After a `lost`: a bind recorded as made (key, dmas and irq known, a recorded success) pins that its
        binding is live from here on in every completion; a record that may unbind (irq 0 or `?`) or a `close`
        undoes that for its Guest's bindings."""
        sure, g, f = self.unc.sure_binds, rec.guest, rec.fields
        if rec.kind == "g.bind_dma" and bind_made(rec) and not _has_unknown(f):
            sure[rec.line] = g
        elif rec.kind == "l.close" or f.get("irq") == 0 or f.get("irq") is UNKNOWN:
            for line in [x for x, h in sure.items() if h == g]:
                del sure[line]

    def sure_clash(self, rec: Record) -> bool:
        """Does the binding this bind made clash with one pinned since the last `lost` (see pin_binding), both
        keys named through a setup with no `?`?  Then every completion has the collision."""
        g = rec.guest
        b = next((x for x in self.st.guest(g).slots if x.interrupt and x.line == rec.line), None)
        if b is None:
            return False
        for c in self.st.holders(b, b.nowner, b.noff):
            if (
                c.interrupt
                and self.unc.sure_binds.get(c.line) == c.guest
                and ((c.owner, c.off) == (b.owner, b.off) or (c.nowner, c.noff) == (b.nowner, b.noff))
                and self.setup_known({g, c.guest})
            ):
                return True
        return False

    def all_doubtful(self, rec: Record) -> bool:
        """Is every Guest doubtful for good already, the record's own among them (no fork alive)?  Then doubt
        has nowhere to spread and nothing is pinned: a lossy capture's records skip the work."""
        unc, guests = self.unc, self.st.guests
        if unc.fork is not None or len(unc.guests) < len(guests) or not unc.guests.issuperset(guests):
            return False
        if rec.kind[0] != "h":
            return rec.guest in unc.guests
        f = rec.fields  # a Host record names its Guests in its fields
        named = [f.get("guest")] + [v[0] for k in ("src", "dst") if isinstance(v := f.get(k), tuple)]
        return all(x is None or x in unc.guests for x in named)

    def pin_status(self, rec: Record) -> tuple[int, int] | None:
        """A known status write to a device whose status a `?` or a `lost` made unknown: candidate runs, then
        the write pins the status."""
        dev = (rec.guest, rec.fields["dev"])
        if rec.guest in self.status_anydev and dev[1] not in self.st.guest(rec.guest).devices:
            self.check_device(rec, *dev)  # a `dev=?` write may have reached it: its status is unknown
        if dev in self.status_unknown:
            self.try_candidates(rec)
            return dev
        return None

    def try_candidates(self, rec: Record, what: str = "") -> bool:
        """A step that needs unknowns: the protocol findings of a few candidate completions, as possible ones.

        Returns whether candidate runs were made (not for descriptor or Host records, nor past the budget)."""
        if rec.kind == "g.dma" or rec.kind.startswith("host.") or self.trials.spent(self, rec):
            return False
        if rec.kind in ("g.status", "l.status") and rec.fields["dev"] is UNKNOWN:
            self.status_any_device(rec)
            return True
        have = self.found_here[1] if self.found_here[0] == rec.line else ()
        for rule, message in self.trials.possible(self, rec, involved(self.st, rec), what):
            if rule not in have:
                self.result.findings.append(Finding(rule, rec.line, rec.text.strip(), message, (), False))
                if self.found_here[0] != rec.line:
                    self.found_here = (rec.line, set())
                self.found_here[1].add(rule)
        return True

    def status_any_device(self, rec: Record):
        """`gN status dev=?` / `lN status dev=?`: the write may reach any of Guest N's devices, or one it never
        declared (whose status starts at 0: one such device stands for all).  The status rules are run on each
        choice (replay/candidates.py); a finding is certain only if every choice gives it and every status it
        read is known, else possible.  (skip_unknown then makes those statuses unknown.)"""
        g = rec.guest
        declared = sorted(self.st.guest(g).devices)
        fresh = [d for d in range(C.LGUEST_MAX_DEVICES) if d not in self.st.guest(g).devices][:1]
        if not declared:
            self.st.note(
                f"line {rec.line}: g{g} has no devices: `dev=?` can only be a device it never declared "
                "(its status starts at 0)"
            )
        choices = declared + fresh
        known = (
            rec.fields["value"] is not UNKNOWN
            and not self.unc.everything
            and g not in self.unc.status
            and not (fresh and g in self.status_anydev)
            and not any((g, d) in self.status_unknown for d in choices)
        )
        have = self.found_here[1] if self.found_here[0] == rec.line else ()
        for rule, (message, hit) in self.trials.on_devices(self, rec, choices, involved(self.st, rec)).items():
            if rule in have:
                continue
            certain = known and hit == set(choices)
            if certain:
                message = message.rsplit(" (a completion where", 1)[0] + (
                    f" (whichever device dev=? is: each of {', '.join(map(str, declared))} or an undeclared one)"
                    if fresh
                    else " (whichever device dev=? is)"
                )
            self.result.findings.append(Finding(rule, rec.line, rec.text.strip(), message, (), certain))
            if self.found_here[0] != rec.line:
                self.found_here = (rec.line, set())
            self.found_here[1].add(rule)

    def spread_doubt(self, rec: Record, nxt: Record | None = None):
        """A step that involved a Guest replay no longer knows exactly leaves every Guest it involved so.

        After a `lost`: a step that read a binding table the `lost` left open, and whose outcome the trace
        does not record (replay took the model's), leaves every Guest it involved so; a record of a Guest
        pins that no send of it waits (a waiting Guest does not run), a recorded `close` pins its table."""
        unc = self.unc
        if unc.lost and rec.kind in ("g.bind_dma", "l.close"):
            self.pin_binding(rec)
        if unc and not unc.everything and not self.all_doubtful(rec):
            gs = involved(self.st, rec)
            if unc.uncertain(gs):
                unc.taint(gs, spread=True)
            elif unc.lost and unc.lost_doubt(self.st, rec, gs) and not outcome_recorded(rec, nxt):
                unc.taint(gs)
            if unc.lost and isinstance(rec.guest, int):
                if rec.kind[0] == "g":
                    unc.pending_pinned.add(rec.guest)
                elif rec.kind == "l.close":
                    unc.tables_pinned.add(rec.guest)  # release_all_dma: the table is empty in every completion

    def bind_partly_known(self, rec: Record) -> bool:
        """A bind whose only `?`s are its result or num is made with what is known; False: skip it."""
        f = rec.fields
        if any(f[k] is UNKNOWN for k in ("key", "dmas", "irq")):
            return False
        fields = dict(f)
        said = []
        if fields.get("result") is UNKNOWN:
            del fields["result"]
            said.append("its result is `?`: the model's is taken")
        if fields["num"] is UNKNOWN:
            fields["num"] = 1
            said.append("num is `?`: bound with num=1 (the entries past the first are unknown)")
        text = rec.text.split("#", 1)[0].rstrip()
        if text.endswith("?") and "->" in text:
            text = text[: text.rindex("->")].rstrip()
        self.st.note(
            f"line {rec.line}: {'; '.join(said)}; findings that involve g{rec.guest} are possible from here on"
        )
        if f["num"] is UNKNOWN and self.start_fork(rec, fields["num"]):
            pass  # the Guest is doubtful through the fork's states only
        else:
            self.taint(rec)
        self.on_g_bind_dma(Record(rec.kind, rec.guest, fields, rec.line, text, rec.ts))
        if self.st.findings:
            self.flush(rec)
        return True

    def start_fork(self, rec: Record, mine: int) -> bool:
        """`num=?` on a bind of an exactly known Guest: keep one whole state per num that matters."""
        from . import alternatives

        fork = alternatives.Fork.num_unknown(self, rec, mine)
        if fork is None:
            return False
        self.fork = self.unc.fork = fork
        alternatives.tap(self)
        self.recs.tap.append(rec)
        self.unc.taint(fork.guests, spread=True)
        return True

    def on_lost(self, rec: Record):
        """What up to N records of any actor could change is unknown (trace-format.md, "Incomplete captures").

        One record can change any one thing a Guest, its Launcher or the Host writes, so N >= 1 opens the
        same parts as an unbounded `lost`: every descriptor field, byte and device status (marked unknown
        in the state: later `g dma`, recorded Host and Launcher writes and status records pin them again),
        whether a send waits, and every binding table (replay/partial.py `lost_doubt`).  A lost record
        raises no finding itself (a kill is one), so no Guest dies in a `lost`."""
        self.emit_input(rec)
        n = rec.fields.get("records")
        if n == 0:
            return
        unc = self.unc
        unc.lost = True
        unc.sure_binds.clear()
        unc.tables_pinned.clear()
        unc.pending_pinned.clear()
        if self.fork is not None:
            self.fork.broken = True  # its states no longer stand for every completion
        self.status_unknown.update((g, d) for g, gs in self.st.guests.items() for d in gs.devices)
        self.status_anydev.update(self.st.guests)  # a lost status write may reach a device never declared
        forgotten = sum(forget_descriptors(self.st, g) for g in sorted(self.st.guests))
        self.st.forget_all_bytes()  # a lost `mem` may have written any byte
        for g, gs in self.st.guests.items():
            if gs.pending is not None:
                self.pending_recorded[g] = False  # its output may be among what was lost
        count = "an unknown number of" if not isinstance(n, int) else f"up to {n}"
        self.st.note(
            f"line {rec.line}: {count} records lost: every field of the {forgotten} descriptors written so far, "
            "every byte and every device status is unknown until a record pins it again (a `g dma`, a recorded "
            "Host or Launcher write, a status record); sends may wait or have been answered; binding tables may "
            "have changed, so findings at binds, fills and sends on shared keys stay possible until a recorded "
            "`close` empties the table"
        )
        if not isinstance(n, int) and not unc.unbounded_said:
            unc.unbounded_said = True
            self.st.note(
                f"line {rec.line}: `lost` without a count: any number of steps may have run, so everything of "
                "every Guest that Guests, Launchers and the Host can change is unknown from here on, until "
                "records pin it again (said once)"
            )

    def flush(self, rec: Record):
        if not self.st.findings:
            return
        seen = set()
        for rule, message in self.st.findings:
            if (rule, message) not in seen:
                seen.add((rule, message))
                self.find(rec, rule, message, self.st.related.get((rule, message), ()))
        self.st.findings.clear()
        self.st.related.clear()

    # ----------------------------------------------------------- helpers
    def check_alive(self, rec: Record):
        g = rec.guest
        gs = self.st.guest(g)
        if g in self.reported_gone:
            return
        if gs.closed and g in self.exited:
            self.reported_gone.add(g)
            line, what = self.exited[g]
            self.find(
                rec,
                "divergence",
                f"g{g} acts after its Launcher exited at line {line} ({what}), which closed /dev/lguest; "
                "a Guest whose Launcher closed never runs again (followed anyway; not reported again)",
            )
        elif gs.closed:
            self.reported_gone.add(g)
            self.find(
                rec,
                "divergence",
                f"g{g} acts after its Launcher closed /dev/lguest (l{g} close); "
                "a Guest whose Launcher closed never runs again (followed anyway; not reported again)",
            )
        elif gs.dead is not None:
            self.reported_gone.add(g)
            self.find(
                rec,
                "divergence",
                f"g{g} acts after the Host killed it ({gs.dead}); a killed Guest "
                "never runs again (followed anyway; not reported again)",
            )

    def key_above_memory(self, rec: Record):
        """A key above the Guest's memory: mapped or not is the Launcher's (host.get_futex_key); the trace decides.

        Returns the (Guest, key) marked unmapped for this record, when the
        record's recorded answer is get_futex_key's failure (the kill that
        follows it), else None: the key is taken as mapped, a private key.
        """
        g, key = rec.guest, rec.fields.get("key")
        if type(key) is not int or key & 3:
            return None
        limit = self.st.pfn_limit(g)
        if limit is None or key < limit * C.PAGE_SIZE:
            return None
        nxt = self.recs.peek() if self.recs is not None else None
        reason = FUTEX_KILLS[rec.kind]
        killed = (
            nxt is not None
            and nxt.kind == "host.kill"
            and nxt.fields.get("guest") == g
            and isinstance(nxt.fields.get("reason"), str)
            and nxt.fields["reason"].startswith(reason)
        )
        said = (
            "the trace records get_futex_key's failure, so the Launcher does not map it"
            if killed
            else "replay takes it as mapped (a private key), since the trace records no kill for it"
        )
        self.st.note(
            f"line {rec.line}: key {key:#x} lies above g{g}'s memory (pfn limit {limit:#x}): get_futex_key finds it "
            f"only if g{g}'s Launcher maps that address (its binary, heap, libraries or stack, which the trace does "
            f"not show; else \"{reason}\" kills g{g}); {said}"
        )
        if not killed:
            return None
        self.st.unmapped.add((g, key))
        return (g, key)

    def launcher_exits(self, rec: Record, effects) -> bool:
        """handle_block_output's err(1): GETDMA gave no buffer on the block key; the exit closes /dev/lguest."""
        what = 'handle_block_output: err(1, "{}")'
        said = f"l{rec.guest} finds no buffer on g{rec.guest}'s block key {_hexs(rec.fields.get('key'))} and exits"
        return self.exit_launcher(rec.guest, rec.line, effects, what, said)

    def exit_launcher(self, g, line, effects, what, said) -> bool:
        """Perform a Launcher's exit the rules decided (a true `close` effect among `effects`), if any."""
        for e in effects:
            if e.kind != "close" or e.when is not True:
                continue
            apply_effect(ops, self.st, e)
            # The send whose handler exited is never answered: no output will come.
            self.st.set_pending(g, None)
            self.pending_recorded.pop(g, None)
            what = what.format(e.f["exit"])
            self.exited[g] = (line, what)
            if self.partial and (self.unc.everything or self.unc.table_open(g) or g in self.unc.guests):
                # The exit rests on what replay does not know exactly (a lost bind may have given the block
                # device its reply buffer): what follows from it is possible, not certain.
                self.unc.taint((g,))
            self.st.note(
                f"line {line}: {said} ({what}); its exit closes /dev/lguest: every binding of g{g} is removed "
                f"and g{g} never runs again"
            )
            return True
        return False

    def output_exits(self, g, key, dma) -> bool:
        """Does the Launcher exit in dma2iov when it handles this send (check_pointer)?"""
        try:
            effs = handle_output(ops, self.st, g, key, dma)
        except UnknownValue:
            return False
        return any(e.kind == "close" and e.when is True for e in effs)

    def after_exit(self, rec: Record):
        """A Launcher record after that Launcher exited: no such request was made (said once, not followed)."""
        self.emit_input(rec)
        g = rec.guest
        if ("l", g) in self.reported_gone:
            return
        self.reported_gone.add(("l", g))
        line, what = self.exited[g]
        self.find(
            rec,
            "divergence",
            f"l{g} exited at line {line} ({what}) and makes no more requests; this record and l{g}'s later ones "
            "are not followed (not reported again)",
        )
        if self.st.findings:
            self.flush(rec)

    def settle_pending(self, rec: Record):
        """A record of Guest N while N's send waits for its Launcher: complete the output first."""
        g = rec.guest
        gs = self.st.guests.get(g)
        if gs is None or gs.pending is None:
            return
        if self.pending_recorded.get(g) and self.partial:
            key, dma = gs.pending
            self.st.note(
                f"line {rec.line}: l{g}'s output for g{g}'s send of {dma:#x} on key {key:#x} was not recorded: "
                "replay takes the model's (a missing answer)"
            )
        elif self.pending_recorded.get(g) and not self.output_exits(g, *gs.pending):
            # (When the Launcher exits on this send, check_alive says the Guest acts after that exit.)
            key, dma = gs.pending
            self.find(
                rec,
                "divergence",
                f"{'g' if rec.kind.startswith('g.') else 'l'}{g} acts while g{g}'s send of {dma:#x} on key "
                f"{key:#x} still waits for l{g}'s output; until then Guest {g} does not run "
                "(replay completes the output as the model computes it)",
            )
        self.complete_output(g, rec)

    def complete_output(self, g, rec):
        key, dma = self.st.guest(g).pending
        try:
            effs = handle_output(ops, self.st, g, key, dma)
        except UnknownValue as e:
            # Partial mode: the Launcher's answer depends on an unrecorded value, so is unknown too.
            self.st.note(
                f"g{g}'s send of {dma:#x}: the Launcher's output is not computed: it depends on a "
                f"value the trace left unrecorded ({e})"
            )
            self.st.set_pending(g, None)
            self.st.write_desc(g, dma, used_len=UNKNOWN)
            self.pending_recorded.pop(g, None)
            self.unc.taint((g,))
            return
        line = rec.line if rec is not None else (self.recs.line if self.recs is not None else 0)
        said = f"l{g}, handling g{g}'s send of {dma:#x}, exits in dma2iov: {why.pointer(self.st, g, dma)}"
        if self.exit_launcher(g, line, effs, 'errx(1, "{}")', said):
            if rec is not None:
                self.flush(rec)
            return
        for e in effs:
            apply_effect(ops, self.st, e)
            if self.out is not None:
                self.emit(to_record(e))
        if not self.pending_recorded.get(g):
            self.completed[g] = (key, dma, self.recs.line if self.recs is not None else None)
        self.pending_recorded.pop(g, None)
        if rec is not None:
            self.flush(rec)

    def skip_unknown(self, rec: Record, tried: bool = False):
        self.emit_input(rec)
        if rec.kind == "l.output":
            pending = self.st.guest(rec.guest).pending
            if pending is not None:
                # The Launcher answered the send, with a length (or for a descriptor) not recorded.
                self.st.wr_used_len(rec.guest, pending[1], UNKNOWN)
            self.st.set_pending(rec.guest, None)
            self.pending_recorded.pop(rec.guest, None)
        elif rec.kind == "l.fill":
            # The Launcher filled a buffer it is not recorded which (or with how much): its used_len, or that
            # of every bound descriptor of the Guest, is unknown until a `g dma` rewrites it.
            dma = rec.fields.get("dma")
            if isinstance(dma, int) and rec.fields.get("key") is not UNKNOWN:
                self.st.wr_used_len(rec.guest, dma, UNKNOWN)
            else:
                forget_buffers(self.st, rec.guest)
        self.taint(rec)
        if rec.kind in ("g.status", "l.status"):
            if rec.fields.get("value") is UNKNOWN and isinstance(rec.fields.get("dev"), int):
                self.status_unknown.add((rec.guest, rec.fields["dev"]))
            elif rec.fields.get("dev") is UNKNOWN:
                # Any device of the Guest may have been written, one it never declared too: every status it
                # may have changed is unknown until a status record with a known dev and value pins it.
                self.status_unknown.update((rec.guest, d) for d in self.st.guest(rec.guest).devices)
                self.status_anydev.add(rec.guest)
        how = "checked on candidate values only" if tried else "not checked"
        self.unchecked(f"line {rec.line}: {how}: `?` stands for a value the model needs ({rec.kind})")
        self.follow_recorded(rec)

    def follow_recorded(self, rec: Record):
        """Apply whatever Host records follow, unchecked (partial mode)."""
        while True:
            nxt = self.recs.peek()
            if nxt is None or not nxt.kind.startswith("host."):
                return
            nxt = next(self.recs)
            self.emit_input(nxt)
            self.taint(nxt)
            if not _has_unknown(nxt.fields):
                eff = from_record(nxt)
                self.resolve_binding(eff, None)
                try:
                    apply_effect(ops, self.st, eff)
                except UnknownValue as e:
                    self.st.note(
                        f"line {nxt.line}: followed in part: it touches a value the trace left unrecorded ({e})"
                    )
                self.st.findings.clear()

    def resolve_binding(self, eff: Effect, computed: Effect | None):
        """Which binding a recorded deliver used: the model's if they agree, else one whose array holds the entry."""
        if eff.kind != "deliver":
            return
        if computed is not None and computed.kind == "deliver" and computed.f["dst"] == eff.f["dst"]:
            eff.f["binding"] = computed.f["binding"]
            if computed.f["src"] == eff.f["src"] and computed.f["len"] == eff.f["len"]:
                eff.f["steps"] = computed.f.get("steps")  # version 2: the model's copy (else its bytes are unknown)
            return
        dg, da = eff.f["dst"]
        for b in self.st.slots(dg):
            if b.interrupt and b.dmas <= da < b.dmas + b.num_dmas * C.DMA_SIZE and (da - b.dmas) % C.DMA_SIZE == 0:
                eff.f["binding"] = b
                return

    # ----------------------------------------------------------- bytes (version 2)
    def with_sum(self, rec: Record | None, eff: Effect) -> Record | None:
        """A computed delivery's record, with `sum=` when the destination's bytes are known (for --emit)."""
        if rec is not None and eff.kind == "deliver" and self.st.has_bytes:
            (dg, da), n = eff.f["dst"], eff.f["len"]
            h = self.st.section_sum(dg, da, n)
            if h is not None:
                rec.fields["sum"] = h
        return rec

    def deliver_v2(self, r: Record, eff: Effect):
        """The model's delivery, recorded as it computed it, in a trace with bytes: its bytes in one fused step.

        apply_answer performs the delivery with the copy deferred (the state
        keeps deliver_bytes' arguments: the rule's steps); spec/fused.py
        copy_judged (copy_ready, then delivered_bytes) then copies, compares
        as data-corrupted does and checks the recorded sum.  Whatever it does not settle takes the
        general path on the same state: the copy as the state performs it,
        the monitors, check_sum.  (The monitors of the delivery's other
        writes ran in apply_answer, before data-corrupted, as in the general
        path, where they come first in the log.)
        """
        st = self.st
        st.defer_copy = True
        try:
            apply_effect(ops, st, eff)  # (apply_answer's work: a delivery is no `pending`)
        finally:
            st.defer_copy = False
        d = st.deferred
        if d is not None:
            st.deferred = None
            (sg, sa), (dg, da), length, steps, who = d
            done = fused.copy_judged(st, sg, sa, dg, da, length, steps, r.fields.get("sum"))
            if done is True:
                return
            if done is None:  # not copy_ready: the state's copy
                st.deliver_bytes(*d)
            else:  # copied: data-corrupted judges (and words) it from this state
                st.log.append(Write("bytes", True, dg, da, None, (length, sg, sa), who))
            observe(ops, st)
        if "sum" in r.fields:
            self.check_sum(r)

    def check_sum(self, r: Record, followed: dict | None = None):
        """A recorded `sum=` after its delivery was applied: compared with the model's (trace-format.md, version 2).

        A different sum is a divergence; data-corrupted is then judged from the
        recorded sum (corrupted when it is not the SHA-256 of the source's first
        L bytes), and the destination's bytes become unknown.  `followed`: the
        fields of the model's deliver, taken for a recorded one with a `?`.
        """
        f = followed if followed is not None else r.fields
        (sg, sa), (dg, da), n, recorded = f["src"], f["dst"], f["len"], r.fields["sum"]
        seen = getattr(self.st, "received", None)  # data-corrupted's reading of the destination, just now
        if seen is not None and seen[:3] == (dg, da, n) and seen[3] is not None and len(seen[3]) == n:
            model = hashlib.sha256(seen[3]).hexdigest()
        else:
            model = self.st.section_sum(dg, da, n) if self.st.has_bytes else None
        if model is None:
            self.st.note(f"line {r.line}: sum= not compared: the model does not know every byte this copy moved")
            return
        if model == recorded:
            return
        # The model's own data-corrupted (if any) gives way to the one judged from the recorded sum.
        self.st.findings[:] = [x for x in self.st.findings if x[0] != "data-corrupted"]
        self.st.findings.append(
            (
                "divergence",
                f"the trace's sum= for these {n} bytes is {recorded[:16]}...; the bytes the model's copy "
                f"wrote hash to {model[:16]}... (replay follows the trace: g{dg}'s received bytes are now unknown)",
            )
        )
        source = self.st.section_sum(sg, sa, n)
        # (An empty send moves no byte: a wrong sum there is a record that contradicts itself, a divergence,
        # not a destination that received other bytes.)
        if source is not None and source != recorded and n:
            self.st.findings.append(
                (
                    "data-corrupted",
                    f"the trace's sum= for the copy into g{dg}'s descriptor {da:#x} from g{sg}'s {sa:#x} is not "
                    f"the SHA-256 of the source's first {n} bytes ({source[:16]}...): the destination "
                    "received other bytes",
                )
            )
        self.st.forget_sections(dg, da, n)

    def bad_dma(self, rec: Record, eff: Effect):
        nxt = self.recs.peek() if self.partial and self.unc else None
        if pinned_kill(nxt, eff) and self.setup_known(involved(self.st, rec)):
            # Partial mode: the kill is recorded right after the record it answers, and replay's state is one
            # completion's (no setup `?` relaxed its checks), which explains it: every completion that explains
            # the trace has the Host kill here, so it is certain, whatever else is doubtful.
            self.find(rec, "bad-dma", why.kill(self.st, eff.f) + " (the trace records this kill)", pinned=True)
            return
        self.find(rec, "bad-dma", why.kill(self.st, eff.f))

    def setup_known(self, guests) -> bool:
        """No `?` in the setup of these Guests (RAM size, devices) nor in any share: replay's state skipped no
        check for them, so it is one completion's state (partial mode)."""
        if any(p is UNKNOWN or any(x is UNKNOWN for _, x in m) for _, p, m in self.st.shares):
            return False
        gs = self.st.guests
        return not any(
            g in self.layout_unknown or g in self.unc.status or g not in gs or gs[g].pages is None for g in guests
        )

    def apply_answer(self, eff: Effect, recorded: bool):
        """Apply a Host answer; a pending send remembers whether the trace recorded it (see settle_pending)."""
        apply_effect(ops, self.st, eff)
        if eff.kind == "pending":
            self.pending_recorded[eff.f["guest"]] = recorded

    def answer(self, rec: Record, effects, terminal=True) -> list[Effect]:
        """Compare one Host attempt's decided effects with the records that follow, and apply.

        An attempt's records are any kills, then at most one of deliver, full,
        pending or drop.  Returns the effects applied.
        """
        computed = [e for e in effects if e.when is True and e.kind in HOST_EFFECTS]
        for e in computed:
            if e.kind == "kill":
                self.bad_dma(rec, e)
        nxt = self.recs.peek()
        if (
            self.partial
            and nxt is not None
            and nxt.kind[0] == "h"
            and terminal
            and any(e.kind == "full" for e in computed)
            and nxt.kind not in ("host.full", "host.kill")
        ):
            # Partial mode: the first attempt's `full` is missing and what follows is the retry's answer.
            nxt = None
        if nxt is None or nxt.kind[0] != "h":
            for e in computed:
                self.apply_answer(e, recorded=False)
                if self.out is not None:
                    self.emit(self.with_sum(to_record(e), e))
            if self.st.findings:
                self.flush(rec)
            return computed
        if self.st.findings:
            self.flush(rec)
        if (
            len(computed) == 1
            and terminal
            and (not self.partial or (self.parsed and "?" not in nxt.text))
            and matches(computed[0], nxt)
        ):
            # The usual full-trace case: one recorded answer, the model's own.
            r = next(self.recs)
            self.emit_input(r)
            eff = computed[0]
            st = self.st
            if eff.kind == "deliver" and st.has_bytes and self.fused and not (self.partial or st.faults or INTERPRETED):
                self.deliver_v2(r, eff)
            else:
                self.apply_answer(eff, recorded=True)
                if "sum" in r.fields:
                    self.check_sum(r)
            if self.st.findings:
                self.flush(r)
            return computed
        recorded = []
        while True:
            nxt = self.recs.peek()
            if nxt is None or not nxt.kind.startswith("host."):
                break
            if nxt.kind != "host.kill" and not terminal:
                break
            recorded.append(next(self.recs))
            self.emit_input(recorded[-1])
            if nxt.kind != "host.kill":
                break
        comp_kills = [e for e in computed if e.kind == "kill"]
        comp_term = next((e for e in computed if e.kind != "kill"), None)
        comp_term_followed = None  # the model's answer, followed for a recorded one with a `?`
        applied = []
        for r in recorded:
            eff = from_record(r)
            usable = not _has_unknown(r.fields)
            if not usable:
                # Partial mode: compared on the fields it gives; where they agree, the model's answer is taken.
                exp = to_record(comp_term) if comp_term is not None else None
                if known_fields_match(exp, r):
                    self.st.note(
                        f"line {r.line}: `?` in a Host record: its other fields agree with the model's "
                        f"`{format_record(exp)}`, which is followed"
                    )
                    eff, usable = comp_term, True
                    comp_term_followed = eff
                elif exp is None:
                    self.find(
                        r,
                        "divergence",
                        f"the trace records `{r.text.strip()}`; the model expects "
                        f"no such Host answer here ({why.expected(computed)}) (not followed: it has a `?`)",
                    )
                else:
                    self.find(
                        r,
                        "divergence",
                        f"the model expects `{format_record(exp)}`; the trace has `{r.text.strip()}`, "
                        f"which differs in a field it does give (not followed: it has a `?`) [{why_no(exp, r)}]",
                    )
                self.taint(r)
                comp_term = None
            elif r.kind == "host.kill":
                match = next((e for e in comp_kills if e.f["guest"] == r.fields["guest"]), None)
                if match is not None:
                    comp_kills.remove(match)
                else:
                    self.find(
                        r,
                        "divergence",
                        f"the trace says the Host killed g{r.fields['guest']} here; "
                        f"the model kills no one at this point ({why.expected(computed)})",
                    )
            else:
                exp = to_record(comp_term) if comp_term is not None else None
                if exp is None:
                    self.find(
                        r,
                        "divergence",
                        f"the trace records `{r.text.strip()}`; the model expects "
                        f"no such Host answer here ({why.expected(computed)})",
                    )
                elif not matches(comp_term, r):
                    self.find(
                        r,
                        "divergence",
                        f"the model expects `{format_record(exp)}`; the trace has "
                        f"`{r.text.strip()}`{why.deliver_mismatch(comp_term, r)}",
                    )
                self.resolve_binding(eff, comp_term)
                comp_term = None
            if usable:
                self.apply_answer(eff, recorded=True)
                applied.append(eff)
                if "sum" in r.fields:
                    # (A record with a `?` is followed as the model's answer: its sum is of the model's copy.)
                    self.check_sum(r, None if eff is not comp_term_followed else to_record(eff).fields)
            self.flush(r)
        for e in comp_kills:
            self.find(
                rec,
                "divergence",
                f"the model's Host kills g{e.f['guest']} ({kill_reason(e.f)}); the trace records no kill",
            )
        if comp_term is not None:
            self.find(
                rec,
                "divergence",
                f"the model expects `{format_record(to_record(comp_term))}` "
                "after this record; the trace records no such Host answer",
            )
        return applied

    # ----------------------------------------------------------- setup
    def on_header(self, rec):
        self.emit_input(rec)

    def on_guest(self, rec):
        self.emit_input(rec)
        gs = self.st.guest(rec.guest)
        gs.pages = rec.fields["pages"]
        if gs.pages is UNKNOWN:
            gs.pages = None
            self.st.note(
                f"line {rec.line}: g{rec.guest}'s RAM size is `?`: address checks that need it are skipped, "
                f"and findings that involve g{rec.guest} are possible, not certain"
            )
            self.taint(rec)
        gs.recompute_limit()
        if rec.guest in self.layout_unknown:
            gs.limit = None
        self.check_layout(rec, rec.guest)

    def on_device(self, rec):
        self.emit_input(rec)
        f = rec.fields
        gs = self.st.guest(rec.guest)
        if _has_unknown(f):
            self.unknown_device(rec)
            return
        gs.devices[f["dev"]] = Device(f["type"], f.get("features", 0), f["pfn"] if f["pages"] else 0, f["pages"])
        gs.recompute_limit()
        if rec.guest in self.layout_unknown:
            gs.limit = None
        self.check_layout(rec, rec.guest, only=f["dev"])

    def unknown_device(self, rec):
        """A device with a `?` (partial mode): what is known is kept; its pages count for nothing."""
        f, g = rec.fields, rec.guest
        gs = self.st.guest(g)
        known = {k: (0 if v is UNKNOWN else v) for k, v in f.items()}
        gs.devices[f["dev"]] = Device(known["type"], known.get("features", 0), 0, 0)
        unknown = ", ".join(k for k, v in f.items() if v is UNKNOWN)
        if f["pfn"] is UNKNOWN or f["pages"] is UNKNOWN:
            self.layout_unknown.add(g)
            gs.limit = None
            self.st.note(
                f"line {rec.line}: device {g}.{f['dev']} has `?` for {unknown}: g{g}'s memory size is unknown, so "
                f"address and layout checks that need it are skipped; findings that involve g{g} are possible"
            )
        else:
            self.st.note(
                f"line {rec.line}: device {g}.{f['dev']} has `?` for {unknown}: findings that involve g{g} are possible"
            )
        self.taint(rec)
        self.unc.status.add(g)

    def check_layout(self, rec, g, only=None):
        """Device pages must not overlap each other, the RAM or the descriptor page (key-collision).

        At a `device` record that device is checked against everything; at a
        `guest` record every device is checked against the RAM and descriptor
        page only, so that no overlap is reported twice.
        """
        gs = self.st.guest(g)
        fixed = []
        if gs.pages is not None:
            fixed.append(("its RAM", 0, gs.pages))
            fixed.append(("its device descriptor page", gs.pages, gs.pages + 1))
        devs = [(i, d.pfn, d.pfn + d.pages) for i, d in sorted(gs.devices.items()) if d.pages]
        for i, lo, hi in devs:
            if only is not None and i != only:
                continue
            others = list(fixed)
            if only is not None:
                others += [(f"device {g}.{j}", a, b) for j, a, b in devs if j != i]
            for name, a, b in others:
                if lo < b and a < hi:
                    self.find(
                        rec,
                        "key-collision",
                        f"device {g}.{i}'s pages ({_pfns(lo, hi)}) overlap {name} ({_pfns(a, b)}): "
                        "the same memory, and so the same keys, would belong to both",
                    )

    def on_share(self, rec):
        self.emit_input(rec)
        f = rec.fields
        sid = len(self.st.shares)
        self.st.shares.append((f["name"], f["pages"], f["map"]))
        for g, pfn in f["map"]:
            if f["pages"] is UNKNOWN or pfn is UNKNOWN:
                # Partial mode: where (or how large) the mapping is, is unknown; keys of g stay private here.
                self.st.guest(g)
                self.taint(rec)
                self.st.note(
                    f"line {rec.line}: share {f['name']}: g{g}'s mapping has a `?`: not mapped here; "
                    f"findings that involve g{g} are possible"
                )
                continue
            self.st.add_map(g, sid, pfn * C.PAGE_SIZE, f["pages"] * C.PAGE_SIZE)

    # ----------------------------------------------------------- Guest
    def on_g_dma(self, rec):
        if self.out is not None:
            self.emit_input(rec)
        f = rec.fields
        g, addr = rec.guest, f["addr"]
        if addr is UNKNOWN:
            # The struct may have been stored over any bytes of the Guest (see ConcreteState.forget_desc_bytes).
            bytes_too = " (and its bytes: the struct may lie over any, all unknown now)" if self.st.has_bytes else ""
            self.unchecked(
                f"line {rec.line}: not checked: descriptor address is `?`: g{g}'s descriptors may have changed"
                f"{bytes_too}, so findings that involve g{g} are possible from here on"
            )
            self.taint(rec)
            forget_buffers(self.st, g)
            self.st.forget_guest_bytes(g)
            return
        if addr + C.DMA_SIZE > _ADDR_END:
            # As for `mem`: a u32 address never wraps, so no struct is stored past 0xffffffff.
            raise TraceError(
                self.path,
                rec.line,
                _addr_column(rec.text, _DMA_ADDR),
                f"descriptor at {addr:#x} ({C.DMA_SIZE} bytes, a struct lguest_dma) runs past the end of the "
                f"32-bit address space (its last byte would be at {addr + C.DMA_SIZE - 1:#x}; addresses are u32, "
                "at most 0xffffffff)",
                rec.text,
            )
        # Descriptors are 100 bytes and may not overlap: at most one starts in
        # each 100-byte bucket, and an overlap can only be in this bucket or
        # a neighbour (a dict of buckets: no sorted insert, O(1) a record).
        known = self.desc_addrs.get(g)
        if known is None:
            known = self.desc_addrs[g] = {}
        bucket = addr // C.DMA_SIZE
        if known.get(bucket) != addr:
            for j in (bucket - 1, bucket, bucket + 1):
                other = known.get(j)
                if other is not None and abs(other - addr) < C.DMA_SIZE:
                    raise TraceError(
                        self.path,
                        rec.line,
                        _addr_column(rec.text, _DMA_ADDR),
                        f"descriptor at {addr:#x} overlaps g{g}'s descriptor at {other:#x} "
                        f"(a struct lguest_dma is {C.DMA_SIZE} bytes)",
                        rec.text,
                    )
            known[bucket] = addr
            cached = self.mem_sorted.get(g)  # version 2: mem_overlap's sorted addresses, kept sorted
            if cached is not None and cached[0] == len(known) - 1:
                bisect.insort(cached[1], addr)
                self.mem_sorted[g] = (len(known), cached[1])
        self.st.write_desc(g, addr, f.get("used_len"), f.get("addrs"), f.get("lens"))

    def on_g_mem(self, rec):
        """Version 2: the Guest's memory at ADDR now holds these bytes (never overlapping a descriptor)."""
        if self.out is not None:
            self.emit_input(rec)
        g, addr, data = rec.guest, rec.fields["addr"], rec.fields["data"]
        if addr is UNKNOWN:
            self.unchecked(f"line {rec.line}: not checked: `mem` address is `?`")
            return
        if addr + len(data) > _ADDR_END:
            # A Guest-physical address is a u32 and never wraps (trace-format.md, "Lexical rules"):
            # no store reaches past the last byte, so the record is out of range, like a value too large.
            raise TraceError(
                self.path,
                rec.line,
                _addr_column(rec.text),
                f"`mem` at {addr:#x} ({len(data)} bytes) runs past the end of the 32-bit address space "
                f"(its last byte would be at {addr + len(data) - 1:#x}; addresses are u32, at most 0xffffffff)",
                rec.text,
            )
        self.check_in_memory(rec, g, addr, len(data))
        desc = self.mem_overlap(g, addr, len(data))
        if desc is not None:
            raise TraceError(
                self.path,
                rec.line,
                _addr_column(rec.text),
                f"`mem` at {addr:#x} ({len(data)} bytes) overlaps g{g}'s descriptor at {desc:#x}",
                rec.text,
            )
        self.st.write_bytes(g, addr, data)

    def check_in_memory(self, rec, g, addr, n):
        """A `mem` record's bytes lie in the Guest's memory: below its pfn limit (RAM, descriptor page, devices).

        Nothing else is the Guest's memory, so nothing else can hold its bytes:
        a record that says otherwise is out of range, as a value too large is.
        The bound is the bytes' own (the last one below the limit), not
        lguest_address_ok's, which also refuses a range that ends exactly at the
        limit: that is the Host's test of what it is handed, not the memory's
        extent.  With the RAM size unknown the check is skipped, with the note
        the Host's skipped address checks give.
        """
        gs = self.st.guests.get(g)
        limit = gs.limit if gs is not None else None
        if limit is None:
            self.st.note(f"g{g}: RAM size unknown (no `guest {g}` record): address checks skipped")
            return
        top = limit << _PAGE_SHIFT
        if addr + n > top:
            raise TraceError(
                self.path,
                rec.line,
                _addr_column(rec.text),
                f"`mem` at {addr:#x} ({n} bytes) lies outside g{g}'s memory: its last byte would be at "
                f"{addr + n - 1:#x}, and g{g}'s memory ends at {top - 1:#x} (pfn limit {limit:#x}: its RAM, "
                "its device descriptor page and its device pages)",
                rec.text,
            )

    def mem_overlap(self, g, addr, n):
        """The address of a descriptor of g that [addr, addr+n) overlaps, else None."""
        known = self.desc_addrs.get(g)
        if not known:
            return None
        # The descriptors' addresses, sorted (on_g_dma inserts each new one; sorted again only if
        # the count disagrees, as after a candidate run): one bisection.
        cached = self.mem_sorted.get(g)
        if cached is None or cached[0] != len(known):
            cached = self.mem_sorted[g] = (len(known), sorted(known.values()))
        starts = cached[1]
        i = bisect.bisect_left(starts, addr - C.DMA_SIZE + 1)
        return starts[i] if i < len(starts) and starts[i] < addr + n else None

    def mem_fast(self, rec):
        """on_g_mem at full speed (no `?`, no --emit): the same overlap check, the bytes written in place.

        One call a record (a send's every section has one): mem_overlap's
        bisection over the kept sorted addresses, then the state's own
        write_bytes, inlined for the usual record (within one page, into a
        page already kept: as that method does, the bytes and their
        known-marks, two slices).  Anything else takes the methods.
        """
        g, f = rec.guest, rec.fields
        addr, data = f["addr"], f["data"]
        n = len(data)
        gs = self.st.guests.get(g)
        if gs is None or gs.limit is None or addr + n > gs.limit << _PAGE_SHIFT:
            self.on_g_mem(rec)  # notes the size unknown, or raises the input error, worded in one place
            return
        known = self.desc_addrs.get(g)
        if known:
            cached = self.mem_sorted.get(g)
            if cached is None or cached[0] != len(known):
                if self.mem_overlap(g, addr, n) is not None:
                    self.on_g_mem(rec)  # raises the overlap's input error, worded in one place
                    return
            else:
                starts = cached[1]
                i = _bisect_left(starts, addr - _DMA_BELOW)
                if i < len(starts) and starts[i] < addr + n:
                    self.on_g_mem(rec)
                    return
        contents = self.st.contents
        off = addr & _PAGE_OFF
        if off + n <= _PAGE:  # within one page, hence below 2**32
            if contents is not None:
                p = contents.get((g, addr >> _PAGE_SHIFT))
                if p is not None:
                    put_known(p, off, data)
                    return
        elif addr + n > _ADDR_END:
            self.on_g_mem(rec)  # raises the input error, worded in one place
            return
        self.st.write_bytes(g, addr, data)

    def on_g_bind_dma(self, rec):
        f = rec.fields
        g = rec.guest
        effects, result = bind_dma(ops, self.st, g, f["key"], f["dmas"], f["num"], f["irq"])
        recorded = f.get("result")
        if recorded is None:
            self.emit(rec, (rec.text.split("#", 1)[0].rstrip() + f" -> {result}"))
        else:
            self.emit_input(rec)
        self.answer(rec, effects, terminal=False)
        state_effects = [e for e in effects if e.when is True and e.kind in ("bind", "unbind")]
        if recorded is not None and recorded != result:
            self.find(
                rec,
                "divergence",
                f"BIND_DMA returns {result} here ({why.bind(rec, result)}); the trace says -> {recorded}",
            )
            if recorded == 0:
                state_effects = []
            else:
                self.st.note(
                    f"line {rec.line}: the trace's successful bind cannot be followed: {why.bind(rec, result)}"
                )
        for e in state_effects:
            apply_effect(ops, self.st, e)

    def send_fast(self, rec):
        """A send at full speed (no `?`, no --emit, input-only here): spec/fused.py, else the general path."""
        g, f = rec.guest, rec.fields
        nxt = self.recs.peek()
        if nxt is not None and (nxt.kind[0] == "h" or (nxt.guest == g and nxt.kind == "l.output")):
            self.step(rec)
            return
        key, dma = f["key"], f["dma"]
        done = fused.send(self.st, g, key, dma, self.host)
        if done is None:
            self.step(rec)
        elif done is fused.DELIVERED:
            st = self.st
            if st.log:  # version 2: data-corrupted has something to say about the bytes (fused.send)
                observe(ops, st)
                if st.findings:
                    self.flush(rec)
                if st.notes:
                    self.take_notes()
        elif done is fused.OUTPUT:
            # A private key: `host pending`, and the Launcher answers at once (complete_output's work).
            st = self.st
            effs = handle_output(ops, st, g, key, dma)
            if len(effs) != 1:  # the Launcher exits in dma2iov: the general path
                self.step(rec)
                return
            fused.answered(st, g, dma, effs[0].f["len"])
            self.completed[g] = (key, dma, rec.line)
            self.pending_recorded.pop(g, None)
            if st.findings:
                self.flush(rec)
            if st.notes:
                self.take_notes()

    def fill_fast(self, rec):
        """A fill that leaves the buffer to the model, at full speed: spec/fused.py, else the general path."""
        f = rec.fields
        if "dma" in f or "irq" in f:
            self.step(rec)
            return
        nxt = self.recs.peek()
        if (nxt is not None and nxt.kind[0] == "h") or fused.fill(self.st, rec.guest, f["key"], f["len"]) is None:
            self.step(rec)

    def on_g_send_dma(self, rec):
        self.emit_input(rec)
        f = rec.fields
        g = rec.guest
        hcall_send_dma(ops, self.st, g, f["key"], f["dma"], lambda effs: self.answer(rec, effs), host=self.host)
        pending = self.st.guest(g).pending
        if pending is not None and self.pending_recorded.get(g) is False:
            # Input-only: the Launcher's answer comes right away, unless the
            # trace writes its own `output` next.
            nxt = self.recs.peek()
            if nxt is None or nxt.kind != "l.output" or nxt.guest != g:
                self.complete_output(g, rec)
        elif pending is not None and self.pending_recorded.get(g):
            # A recorded `host pending`: a Launcher that exits in dma2iov does so at once (its next step), and
            # other Guests' records that follow see it gone; an `output` recorded next is judged by on_l_output.
            nxt = self.recs.peek()
            if (nxt is None or nxt.kind != "l.output" or nxt.guest != g) and self.output_exits(g, *pending):
                self.complete_output(g, rec)

    def on_g_status(self, rec):
        self.emit_input(rec)
        f = rec.fields
        for e in status_write(ops, self.st, rec.guest, f["dev"], f["value"], "guest"):
            self.check_device(rec, rec.guest, f["dev"])
            apply_effect(ops, self.st, e)

    def check_device(self, rec, g, dev):
        if dev not in self.st.guest(g).devices:
            if self.unc.everything or self.unc.lost or g in self.status_anydev:
                self.status_unknown.add((g, dev))  # a `lost` or a `dev=?` write may have written it
            self.st.note(f"line {rec.line}: device {g}.{dev} was never declared; its status starts at 0")
            self.st.guest(g).devices[dev] = Device(0, 0, 0, 0)

    # ----------------------------------------------------------- Host (out of place)
    def _on_host(self, rec):
        self.emit_input(rec)
        self.find(
            rec,
            "divergence",
            "a Host record that answers no hypercall: Host records follow the Guest "
            "hypercall (or Launcher request) they answer (followed anyway)",
        )
        eff = from_record(rec)
        self.resolve_binding(eff, None)
        self.apply_answer(eff, recorded=True)

    on_host_deliver = on_host_full = on_host_pending = on_host_drop = on_host_kill = _on_host

    # ----------------------------------------------------------- Launcher
    def on_l_output(self, rec):
        self.emit_input(rec)
        g, f = rec.guest, rec.fields
        gs = self.st.guest(g)
        if gs.pending is None:
            done = self.completed.get(g)
            if done is not None and done[:2] == (f["key"], f["dma"]):
                del self.completed[g]
                key, dma, line = done
                at = f" at line {line}" if line else ""
                said = (
                    f"l{g} output: no send of g{g} waits for its Launcher: the trace records no `host pending` "
                    f"for g{g}'s send of {dma:#x} on key {key:#x}{at}, so replay completed that send itself there "
                    "with the model's output (as in an input-only trace); this output's used_len write is "
                    "followed anyway"
                )
                if self.partial:
                    # The completion with that `host pending` and this output has no finding: a note, not a finding.
                    self.st.note(f"line {rec.line}: {said}")
                else:
                    self.find(rec, "divergence", said)
            else:
                self.find(
                    rec,
                    "divergence",
                    f"l{g} output: no send of g{g} waits for its Launcher "
                    "(every output ends one `host pending`); its used_len write is followed anyway",
                )
            apply_effect(ops, self.st, Effect("output", True, guest=g, key=f["key"], dma=f["dma"], len=f["len"]))
            return
        key, dma = gs.pending
        if (key, dma) != (f["key"], f["dma"]):
            self.find(
                rec,
                "divergence",
                f"l{g} output names key {f['key']:#x} and descriptor {f['dma']:#x}, "
                f"but the pending send is {dma:#x} on key {key:#x}",
            )
        effs = handle_output(ops, self.st, g, key, dma)
        eff = effs[0]
        if len(effs) > 1 and effs[1].when is True:
            self.find(
                rec,
                "divergence",
                f"l{g} exits in dma2iov before it answers g{g}'s send of {dma:#x} (errx: {effs[1].f['exit']}: "
                f"{why.pointer(self.st, g, dma)}), so it stores no used_len; the trace says {f['len']} (followed)",
            )
            self.pending_recorded.pop(g, None)
            apply_effect(ops, self.st, Effect("output", True, guest=g, key=key, dma=f["dma"], len=f["len"]))
            return
        want, got = eff.f["len"], f["len"]
        # A console or tun handler stores writev's result: any count up to the sections' total, or
        # (u32)-1 when writev fails (Documentation/lguest/lguest.c: handle_console_output, handle_tun_output).
        short = eff.f.get("writev") is True and (got <= want or got == 0xFFFF_FFFF)
        if want != got and not short:
            writev = eff.f.get("writev") is True
            self.find(
                rec,
                "divergence",
                f"the Launcher writes {'at most ' if writev else ''}{want} into used_len "
                f"({why.output(self.st, g, key, dma)}{', or 0xffffffff if writev fails' if writev else ''}); "
                f"the trace says {got}",
            )
        self.pending_recorded.pop(g, None)
        apply_effect(ops, self.st, Effect("output", True, guest=g, key=key, dma=f["dma"], len=f["len"]))

    def on_l_fill(self, rec):
        g, f = rec.guest, rec.fields
        effects = fill(ops, self.st, g, f["key"], f["len"], checked=self.checked)
        comp = next((e for e in effects if e.when is True and e.kind in ("fill", "nobuf")), None)
        kills = [e for e in effects if e.when is True and e.kind == "kill"]
        said_exit = False
        if comp is None:  # the Launcher exits in dma2iov on the buffer GETDMA gave
            bad = next(e for e in effects if e.when is True and e.kind == "close")
            udma = bad.f["dma"]
            said = (
                f"l{g} exits in dma2iov on the buffer GETDMA gives on key {f['key']:#x} ({udma:#x}: "
                f"{why.pointer(self.st, g, udma)}), before any readv"
            )
            if "dma" not in f:
                self.emit_input(rec)
                self.answer(rec, kills, terminal=False)
                self.exit_launcher(g, rec.line, [bad], 'errx(1, "{}")', said)
                return
            self.find(rec, "divergence", f"{said}; the trace says it filled {f['dma']:#x} (followed)")
            comp, said_exit = Effect("nobuf", True), True  # followed below as a fill the model did not make
        dead = self.st.guest(g).dead
        why_none = (
            f" (g{g} is dead: once the Host has killed a Guest every /dev/lguest write answers -ENOENT)"
            if dead is not None
            else ""
        )
        if comp.kind == "nobuf" and "dma" not in f:
            # The trace left the answer to the model: GETDMA finds nothing, the input is discarded.
            self.emit(Record("l.nobuf", g, {"key": f["key"]}, ts=rec.ts))
            exits = any(e.kind == "close" and e.when is True for e in effects)
            if not exits:
                self.st.note(
                    f"line {rec.line}: GETDMA finds no usable buffer on key {_hexs(f['key'])} for g{g}{why_none}: "
                    "the Launcher discards the input (as `nobuf`)"
                )
            self.answer(rec, kills, terminal=False)
            self.launcher_exits(rec, effects)
            return
        if comp.kind == "nobuf":
            if not said_exit:
                self.find(
                    rec,
                    "divergence",
                    f"GETDMA finds no usable buffer bound on key {f['key']:#x} for g{g}{why_none}; "
                    f"the trace says the Launcher filled {f['dma']:#x} (followed)",
                )
            dma, irq = f["dma"], f.get("irq", 0)
            used = self.st.rd_used_len(g, dma)
        else:
            dma, irq, used = comp.f["dma"], comp.f["irq"], comp.f["used_before"]
            rdma, rirq = f.get("dma", dma), f.get("irq", irq)
            if (rdma, rirq) != (dma, irq):
                self.find(
                    rec,
                    "divergence",
                    f"GETDMA on key {f['key']:#x} returns {dma:#x} with irq {irq} "
                    f"(the first entry with used_len 0, else the last); the trace says {rdma:#x} with irq {rirq}",
                )
                if rdma != dma:
                    used = self.st.rd_used_len(g, rdma)
                dma, irq = rdma, rirq
        if self.out is None:
            pass  # nothing emitted: no record built
        elif "dma" in f and "irq" in f:
            self.emit_input(rec)
        else:
            self.emit(Record("l.fill", g, {"key": f["key"], "dma": dma, "len": f["len"], "irq": irq}, ts=rec.ts))
        self.answer(rec, kills, terminal=False)
        landed = fill_bytes(ops, self.st, g, f["key"], f["len"])  # a failed block readv stores (u32)-1, writes nothing
        apply_effect(
            ops,
            self.st,
            Effect("fill", True, guest=g, key=f["key"], dma=dma, len=f["len"], irq=irq, used_before=used, bytes=landed),
        )

    def on_l_nobuf(self, rec):
        self.emit_input(rec)
        g, f = rec.guest, rec.fields
        effects = fill(ops, self.st, g, f["key"], 0, checked=self.checked)
        for e in effects:
            if e.when is True and e.kind == "fill":
                self.find(
                    rec,
                    "divergence",
                    f"GETDMA on key {f['key']:#x} returns g{g}'s descriptor "
                    f"{e.f['dma']:#x} (used_len {e.f['used_before']}), so the Launcher would fill it; "
                    "the trace says no buffer was found",
                )
            elif e.when is True and e.kind == "close" and "dma" in e.f:
                self.find(
                    rec,
                    "divergence",
                    f"GETDMA on key {f['key']:#x} returns g{g}'s descriptor {e.f['dma']:#x}, on which the Launcher "
                    f"exits in dma2iov ({why.pointer(self.st, g, e.f['dma'])}); the trace says no buffer was found "
                    "(followed: no exit)",
                )
        self.answer(rec, [e for e in effects if e.when is True and e.kind == "kill"], terminal=False)
        # (Only GETDMA's -ENOENT on the block key is the exit a `nobuf` records.)
        self.launcher_exits(rec, [e for e in effects if "dma" not in e.f])

    def on_l_irq(self, rec):
        self.emit_input(rec)
        g, q = rec.guest, rec.fields["irq"]
        effects = send_irq(ops, self.st, g, q)
        dead = self.st.guest(g).dead
        if q >= C.LGUEST_IRQS:
            self.find(
                rec,
                "divergence",
                f"LHREQ_IRQ refuses irq {q} (-EINVAL: not below 32), and the Launcher exits when a write fails",
            )
        elif dead is not None:
            self.find(
                rec,
                "divergence",
                f"LHREQ_IRQ for g{g}, which the Host killed ({dead}), answers -ENOENT (lguest_user.c: write), and "
                "the Launcher exits when a write fails (trigger_irq)",
            )
        for e in effects:
            apply_effect(ops, self.st, e)

    def on_l_status(self, rec):
        self.emit_input(rec)
        f = rec.fields
        self.check_device(rec, rec.guest, f["dev"])
        for e in status_write(ops, self.st, rec.guest, f["dev"], f["value"], "launcher"):
            apply_effect(ops, self.st, e)

    def on_l_close(self, rec):
        self.emit_input(rec)
        for e in release_all_dma(ops, self.st, rec.guest):
            apply_effect(ops, self.st, e)


# The records whose key the Host looks up with get_futex_key, and the kill reason its failure gives
# (io.c: bind_dma, send_dma, get_dma_buffer).
FUTEX_KILLS = {
    "g.bind_dma": "bad dma key",
    "g.send_dma": "bad sending DMA key",
    "l.fill": "bad registered DMA buffer",
    "l.nobuf": "bad registered DMA buffer",
}


def replay_file(path: str, *, partial: bool = False, emit: TextIO | None = None, **model) -> FileResult:
    """Replay one trace file; `model` may name launcher="checked", host="fixed" or faults=(...)."""
    return Replay(path, partial=partial, emit=emit, **model).run()


def replay_records(records, path: str = "<records>", *, emit: TextIO | None = None, **model) -> FileResult:
    """Replay records already parsed (or built by a program, as the checker does)."""
    return Replay(path, emit=emit, **model).run(records)
