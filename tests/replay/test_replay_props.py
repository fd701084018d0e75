"""Properties of replay on whole generated runs (tests/model_strategies.py: valid_runs).

- a valid input-only trace replays with verdict ok and no findings;
- replay completes it (`emit=`) to exactly the full trace the generator
  predicts from its own shadow of the Host and Launcher; that full form
  replays clean too, is no shorter, and is a fixed point of `emit`;
- a block reply written in the real Launcher's order (the fill before the
  `output` that ends the pending send) replays clean as well;
- every record kind conforming runs use shows up across generated runs;
- mutations of the full form are caught with the right rule at the right
  line, one test per kind of mutation: (a) a changed Host answer
  (divergence), (b) a status write that clears a bit (status-cleared, alone),
  (c) a Guest setting REMOVED (status-forbidden-bit, alone), (d) a second
  bind of a live key (key-collision), (e) a bind outside the device pages
  (key-outside-device, alone), (f) a second fill before the hand-back
  (write-to-used-buffer), (g) a fill longer than the buffer (buffer-overflow),
  (h) a sent section crossing a page on a shared key (bad-dma), (i) the
  descriptor write removed before its first use (unknown-descriptor; also
  for the sends the block device answers, since handle_output's dma2iov
  reads every pending send), and removed where nothing reads it (clean).

Mutations work on the text of the emitted full trace (no comments, so line N
is record N).  Insertions go at a *boundary*: not between a hypercall and its
Host records, nor between `host pending` and its `output`.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lgcheck.replay.engine import replay_records
from lgcheck.replay.parser import parse_text
from lgcheck.replay.records import KINDS, Record, format_record
from lgcheck.spec import constants as C

# tests/ holds the shared strategies; pytest puts only this folder on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from model_strategies import (  # noqa: E402
    ACK,
    DRIVER,
    DRIVER_OK,
    FAILED,
    PAGE,
    REMOVED,
    REMOVED_ACK,
    Run,
    valid_runs,
)

# LGCHECK_PROPS_SCALE=10 runs ten times as many examples (a deeper search; not for CI).
SCALE = max(1, int(os.environ.get("LGCHECK_PROPS_SCALE", "1")))
SOME = settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For a case the broader tests cover too: fewer examples.
SETTLED = settings(max_examples=30 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ helpers


def numbered(text: str) -> str:
    return "".join(f"{n:4} | {line}\n" for n, line in enumerate(text.splitlines(), 1))


def describe(result) -> str:
    if result.error is not None:
        return result.error.text
    return "\n".join(f"  {f.line}: {f.rule}: {f.message}" for f in result.findings) or "  no findings"


def replay_text(text: str, emit=None):
    return replay_records(parse_text(text, "mutant.lgt"), "mutant.lgt", emit=emit)


def complete(run: Run) -> str:
    """The full form replay writes for an input-only run."""
    out = io.StringIO()
    result = replay_records(list(run), "run.lgt", emit=out)
    assert result.verdict == "ok", f"the valid run did not replay clean:\n{describe(result)}\n{numbered(run.text())}"
    return out.getvalue()


def join(lines) -> str:
    return "".join(line + "\n" for line in lines)


def found(result, rule, line) -> bool:
    return (rule, line) in [(f.rule, f.line) for f in result.findings]


def report(text, result, rule, line) -> str:
    return f"expected {rule} at line {line}; replay says:\n{describe(result)}\n{numbered(text)}"


def boundary(full: list[Record], p: int) -> bool:
    """May a record be inserted before full[p] (p == len: at the end)?"""
    return p == len(full) or not (full[p].kind.startswith("host.") or full[p].kind == "l.output")


def fields_key(rec: Record):
    return (rec.kind, rec.guest, rec.fields)


# ------------------------------------------------------------------ a walk over a full trace


class Binding:
    __slots__ = ("g", "key", "owner", "off", "dmas", "num", "irq", "live", "cursor")

    def __init__(self, g, key, owner, off, dmas, num, irq):
        self.g, self.key, self.owner, self.off = g, key, owner, off
        self.dmas, self.num, self.irq = dmas, num, irq
        self.live = True
        self.cursor = 0

    def index(self, addr):
        if self.dmas <= addr < self.dmas + self.num * C.DMA_SIZE and (addr - self.dmas) % C.DMA_SIZE == 0:
            return (addr - self.dmas) // C.DMA_SIZE
        return None


class Walk:
    """What a conforming full trace has set up before each record: devices, statuses, bindings, descriptors.

    Written from trace-format.md and lguest-io.md for the traces the generator
    makes (no kills, one binding per key), independently of lgcheck.spec's
    rules (it borrows only its constants).
    """

    def __init__(self):
        self.pages: dict[int, int] = {}
        self.devices: dict[int, dict[int, tuple[int, int, int]]] = {}  # g -> idx -> (type, pfn, pages)
        self.maps: dict[int, list[tuple[int, int, int]]] = {}  # g -> (share, base, size)
        self.status: dict[tuple[int, int], int] = {}
        self.closed: set[int] = set()
        self.bindings: list[Binding] = []
        self.lens: dict[tuple[int, int], list[int]] = {}  # the sections' lengths of each descriptor
        self.addrs: dict[tuple[int, int], list[int]] = {}
        self.shares = 0

    def translate(self, g, key):
        for sid, base, size in self.maps.get(g, ()):
            if base <= key < base + size:
                return C.SHARED_OWNER + sid, key - base
        return g, key

    def live(self, g=None):
        return [b for b in self.bindings if b.live and (g is None or b.g == g)]

    def lookup(self, g, key, own):
        owner, off = self.translate(g, key)
        hits = [b for b in self.live() if (b.owner, b.off) == (owner, off) and ((b.g == g) == own)]
        return hits[-1] if hits else None  # the newest: a bucket walk meets it first

    def holder(self, g, addr):
        """The live binding of Guest g whose array holds descriptor addr."""
        for b in self.live(g):
            if b.index(addr) is not None:
                return b
        return None

    def total(self, g, addr):
        total = 0
        for ln in self.lens.get((g, addr), [0]):
            if ln == 0:
                break
            total += ln
        return total

    def device_pages(self, g):
        return [(pfn * PAGE, (pfn + pages) * PAGE) for _, pfn, pages in self.devices.get(g, {}).values() if pages]

    def watcher(self, g, key):
        """What the Launcher's handle_output does with a send on key: 'total', 'zero' or 'none' (no device)."""
        shared = {base for _, base, _ in self.maps.get(g, ())}
        for _, (typ, pfn, pages) in sorted(self.devices.get(g, {}).items()):
            if typ == 1 and key == 0:
                return "total"
            if typ == 3 and pages and key == pfn * PAGE:
                return "zero"
            if typ == 2 and pages and key == pfn * PAGE and pfn * PAGE not in shared:
                return "total"
        return "none"

    def step(self, rec: Record):
        k, f, g = rec.kind, rec.fields, rec.guest
        if k == "guest":
            self.pages[g] = f["pages"]
        elif k == "device":
            self.devices.setdefault(g, {})[f["dev"]] = (f["type"], f["pfn"], f["pages"])
        elif k == "share":
            for n, pfn in f["map"]:
                self.maps.setdefault(n, []).append((self.shares, pfn * PAGE, f["pages"] * PAGE))
            self.shares += 1
        elif k in ("g.status", "l.status"):
            self.status[(g, f["dev"])] = f["value"]
        elif k == "l.close":
            self.closed.add(g)
            for b in self.live(g):
                b.live = False
        elif k == "g.bind_dma" and f.get("result") == 1:
            owner, off = self.translate(g, f["key"])
            if f["irq"]:
                self.bindings.append(Binding(g, f["key"], owner, off, f["dmas"], f["num"], f["irq"]))
            else:
                for b in self.live(g):
                    if (b.owner, b.off, b.dmas) == (owner, off, f["dmas"]):
                        b.live = False
                        break
        elif k == "g.dma":
            if "lens" in f:
                self.lens[(g, f["addr"])] = f["lens"]
            if "addrs" in f:
                self.addrs[(g, f["addr"])] = f["addrs"]
        elif k == "host.deliver":
            dg, da = f["dst"]
            b = self.holder(dg, da)
            if b is not None:
                b.cursor += 1


def walk(full: list[Record]):
    """Yield (p, walk) with the walk's state just before full[p], for p = 0 .. len(full)."""
    w = Walk()
    for p, rec in enumerate(full):
        yield p, w
        w.step(rec)
    yield len(full), w


def status_alone(full: list[Record], p: int, g: int, dev: int, new: int, by: str = "g.status") -> str | None:
    """The finding a status write of `new` inserted before full[p] makes, if the later writes make none.

    The status rules of trace-format.md, on their own: a write clearing a set
    bit is status-cleared; a Guest newly setting REMOVED, or a Launcher newly
    setting anything else, is status-forbidden-bit.  Returns the inserted
    write's one finding, or None when it makes none, several, or a later
    status write of the same device makes one.
    """
    old = 0
    for r in full[:p]:
        if r.kind in ("g.status", "l.status") and (r.guest, r.fields["dev"]) == (g, dev):
            old = r.fields["value"]

    def rules(kind, old, new):
        out = []
        if old & ~new:
            out.append("status-cleared")
        newly = new & ~old
        if (kind == "g.status" and newly & REMOVED) or (kind == "l.status" and newly & ~REMOVED):
            out.append("status-forbidden-bit")
        return out

    mine = rules(by, old, new)
    old = new
    for r in full[p:]:
        if r.kind in ("g.status", "l.status") and (r.guest, r.fields["dev"]) == (g, dev):
            if rules(r.kind, old, r.fields["value"]):
                return None
            old = r.fields["value"]
    return mine[0] if len(mine) == 1 else None


def inserted(full_lines: list[str], p: int, line: str):
    """The full trace with `line` inserted before record p: (text, its records, the new line's number)."""
    lines = full_lines[:p] + [line] + full_lines[p:]
    text = join(lines)
    return text, parse_text(text, "mutant.lgt"), p + 1


class Completed(tuple):
    """(run, emitted full text, its records, its lines); printed short (the assertion messages show the trace)."""

    def __repr__(self):
        return f"<a run of {len(self[0])} records, completed to {len(self[2])}>"


@st.composite
def completed(draw, **kw):
    """A valid run drawn with valid_runs(**kw), completed by replay: a Completed."""
    run = draw(valid_runs(**kw))
    text = complete(run)
    return Completed((run, text, parse_text(text, "full.lgt"), text.splitlines()))


# ------------------------------------------------------------------ valid runs


@SOME
@given(valid_runs())
def test_a_valid_input_only_run_replays_clean(run):
    result = replay_records(list(run), "run.lgt")
    assert result.error is None and result.verdict == "ok" and not result.findings, (
        f"{describe(result)}\n{numbered(run.text())}"
    )
    assert result.records == len(run)


@SOME
@given(valid_runs())
def test_its_full_form_is_the_predicted_one_replays_clean_and_is_no_shorter(run):
    text = complete(run)
    full = parse_text(text, "full.lgt")
    assert len(full) >= len(run)
    got, want = [fields_key(r) for r in full], [fields_key(r) for r in run.full]
    if got != want:
        i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        pytest.fail(
            f"the emitted full trace differs from the generator's prediction at record {i + 1}:\n"
            f"  emitted:   {text.splitlines()[i] if i < len(got) else '(end)'}\n"
            f"  predicted: {format_record(run.full[i]) if i < len(want) else '(end)'}\n"
            f"input-only trace:\n{numbered(run.text())}"
        )
    result = replay_records(full, "full.lgt")
    assert result.verdict == "ok" and not result.findings, f"{describe(result)}\n{numbered(text)}"
    assert result.records == len(full)


@SOME
@given(valid_runs())
def test_the_emitted_full_trace_is_a_fixed_point(run):
    text = complete(run)
    again = io.StringIO()
    result = replay_text(text, emit=again)
    assert result.verdict == "ok", describe(result)
    assert again.getvalue() == text, f"emit of the full trace changed it:\n{numbered(text)}\n---\n{numbered(again.getvalue())}"


@SOME
@given(valid_runs(ensure=("block_read",)))
def test_block_replies_in_the_real_launcher_order_replay_clean(run):
    """handle_block_output fills bd->dma and raises the irq before handle_output stores its 0 (lguest-io.md 8.2)."""
    text = complete(run)
    full = parse_text(text, "full.lgt")
    lines = text.splitlines()
    swapped = 0
    for p in range(len(full) - 1):
        out, fill = full[p], full[p + 1]
        if (out.kind == "l.output" and fill.kind == "l.fill" and out.guest == fill.guest
                and out.fields["key"] == fill.fields["key"]):
            lines[p], lines[p + 1] = lines[p + 1], lines[p]
            swapped += 1
    assert swapped
    mutant = join(lines)
    again = io.StringIO()
    result = replay_text(mutant, emit=again)
    assert result.verdict == "ok" and not result.findings, f"{describe(result)}\n{numbered(mutant)}"
    assert again.getvalue() == mutant


# Every kind a conforming run produces, input or completed (a kill never happens in one).
CONFORMING_KINDS = set(KINDS) - {"host.kill", "lost", "g.mem"}  # `lost` is a capture's record; valid_runs are version 1: no bytes


def test_every_record_kind_of_a_conforming_run_appears():
    seen_input, seen_full = set(), set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(valid_runs())
    def collect(run):
        seen_input.update(r.kind for r in run)
        seen_full.update(r.kind for r in run.full)

    collect()
    assert seen_full == CONFORMING_KINDS, f"never generated: {sorted(CONFORMING_KINDS - seen_full)}"
    # an input-only trace leaves the answers to replay
    assert not seen_input & {"host.deliver", "host.full", "host.pending", "host.drop", "l.output", "l.nobuf"}


# ------------------------------------------------------------------ (a) a changed Host answer


ANSWER_CHANGES = {"deliver-len": "deliver", "deliver-dst": "deliver", "full-irq": "full", "pending-dma": "console_output"}


@SOME
@given(st.sampled_from(sorted(ANSWER_CHANGES)), st.data())
def test_a_changed_host_answer_is_a_divergence_at_its_line(how, data):
    run, text, full, lines = data.draw(completed(ensure=(ANSWER_CHANGES[how],)), label="run")
    kind = {"deliver": "host.deliver", "full": "host.full", "pending": "host.pending"}[how.split("-")[0]]
    cands = [p for p, r in enumerate(full) if r.kind == kind]
    assume(cands)
    p = data.draw(st.sampled_from(cands), label="position")
    rec = full[p]
    f = dict(rec.fields)
    if how == "deliver-len":
        f["len"] = data.draw(st.integers(0, 0xFFFF_FFFF).filter(lambda n: n != rec.fields["len"]), label="len")
    elif how == "deliver-dst":
        dg, da = f["dst"]
        step = data.draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, -1, -2, -3, -4, -5, -6, -7]), label="entries away")
        f["dst"] = (dg, (da + step * C.DMA_SIZE) & 0xFFFF_FFFF)
    elif how == "full-irq":
        f["irq"] = data.draw(st.integers(0, 255).filter(lambda q: q != rec.fields["irq"]), label="irq")
    else:
        f["dma"] = data.draw(st.integers(0, 0xFFFF_FFFF).filter(lambda a: a != rec.fields["dma"]), label="dma")
    lines[p] = format_record(Record(rec.kind, rec.guest, f))
    mutant = join(lines)
    result = replay_text(mutant)
    assert found(result, "divergence", p + 1), report(mutant, result, "divergence", p + 1)


# ------------------------------------------------------------------ (b), (c) status writes


def status_insertions(full, make):
    """(p, line) of Guest status writes `make(value) -> new value or None` that trigger only their own finding."""
    out = []
    for p, w in walk(full):
        if not boundary(full, p):
            continue
        for g, devs in w.devices.items():
            if g in w.closed:
                continue
            for dev in devs:
                new = make(w.status.get((g, dev), 0))
                if new is not None:
                    out.append((p, g, dev, new))
    return out


def check_alone(full, lines, p, line, rule):
    text, recs, at = inserted(lines, p, line)
    result = replay_records(recs, "mutant.lgt")
    pairs = [(f.rule, f.line) for f in result.findings]
    assert pairs == [(rule, at)], report(text, result, rule, at)


@SOME
@given(completed(ensure=("status",)), st.data())
def test_a_status_write_that_clears_a_bit_is_status_cleared_alone(case, data):
    run, text, full, lines = case
    bits = [ACK, DRIVER, DRIVER_OK, REMOVED, REMOVED_ACK, FAILED]
    cands = [
        (p, format_record(Record("g.status", g, {"dev": dev, "value": old & ~b})))
        for p, g, dev, old in status_insertions(full, lambda v: v or None)
        for b in bits
        if old & b and status_alone(full, p, g, dev, old & ~b) == "status-cleared"
    ]
    assume(cands)
    p, line = data.draw(st.sampled_from(cands), label="insertion")
    check_alone(full, lines, p, line, "status-cleared")


@SOME
@given(completed(), st.data())
def test_a_guest_setting_removed_is_status_forbidden_bit_alone(case, data):
    run, text, full, lines = case
    cands = [
        (p, format_record(Record("g.status", g, {"dev": dev, "value": new})))
        for p, g, dev, new in status_insertions(full, lambda v: None if v & REMOVED else v | REMOVED)
        if status_alone(full, p, g, dev, new) == "status-forbidden-bit"
    ]
    assume(cands)
    p, line = data.draw(st.sampled_from(cands), label="insertion")
    check_alone(full, lines, p, line, "status-forbidden-bit")


# ------------------------------------------------------------------ (d), (e) binds


@SOME
@given(completed(ensure=("bind",)), st.data())
def test_binding_a_live_key_again_is_a_key_collision(case, data):
    run, text, full, lines = case
    cands = []
    for p, w in walk(full):
        if not boundary(full, p):
            continue
        for b in w.live():
            for g in w.pages:
                if g in w.closed or len(w.live(g)) >= C.LGUEST_MAX_DMA:
                    continue
                if g == b.g:
                    cands.append((p, g, b.key))
                elif b.owner >= C.SHARED_OWNER:  # another Guest reaches a shared key through its own mapping
                    for sid, base, _ in w.maps.get(g, ()):
                        if C.SHARED_OWNER + sid == b.owner:
                            cands.append((p, g, base + b.off))
    assume(cands)
    p, g, key = data.draw(st.sampled_from(cands), label="insertion")
    dmas = data.draw(st.integers(0, 0x3FFF_FFFF), label="dmas") * 4
    num = data.draw(st.integers(0, 8), label="num")
    irq = data.draw(st.integers(1, C.LGUEST_IRQS - 1), label="irq")
    line = format_record(Record("g.bind_dma", g, {"key": key, "dmas": dmas, "num": num, "irq": irq, "result": 1}))
    mutant, recs, at = inserted(lines, p, line)
    result = replay_records(recs, "mutant.lgt")
    assert found(result, "key-collision", at), report(mutant, result, "key-collision", at)


@SOME
@given(completed(), st.data())
def test_binding_a_key_outside_the_device_pages_is_key_outside_device_alone(case, data):
    run, text, full, lines = case
    cands = [
        (p, g, w.device_pages(g))
        for p, w in walk(full)
        if boundary(full, p)
        for g in w.pages
        if g not in w.closed and len(w.live(g)) < C.LGUEST_MAX_DMA
    ]
    assume(cands)
    p, g, spans = data.draw(st.sampled_from(cands), label="insertion")
    key = data.draw(
        st.integers(1, 0x3FFF_FFFF).map(lambda k: 4 * k).filter(lambda k: not any(lo <= k < hi for lo, hi in spans)),
        label="key",
    )
    dmas = data.draw(st.integers(0, 0x3FFF_FFFF), label="dmas") * 4
    irq = data.draw(st.integers(1, C.LGUEST_IRQS - 1), label="irq")
    line = format_record(Record("g.bind_dma", g, {"key": key, "dmas": dmas, "num": 1, "irq": irq, "result": 1}))
    check_alone(full, lines, p, line, "key-outside-device")


# ------------------------------------------------------------------ (f), (g) fills


@SOME
@given(st.sampled_from(["console_fill", "block_read"]).flatmap(lambda f: completed(ensure=(f,))), st.data())
def test_a_second_fill_before_the_hand_back_is_write_to_used_buffer(case, data):
    run, text, full, lines = case
    used = []  # (fill index, last position before which a second fill still finds the buffer used)
    for i, r in enumerate(full):
        if r.kind == "l.fill" and r.fields["len"] != 0:
            g, dma = r.guest, r.fields["dma"]
            end = next((j for j in range(i + 1, len(full)) if full[j].kind == "g.dma" and full[j].guest == g
                        and full[j].fields["addr"] == dma and "used_len" in full[j].fields), len(full))
            used.append((i, end))
    cands = []
    for p, w in walk(full):
        for i, end in used:
            r = full[i]
            if i < p <= end and boundary(full, p) and r.guest not in w.closed:
                b = w.lookup(r.guest, r.fields["key"], own=True)
                if b is not None and b.num == 1:
                    cands.append((p, r, w.total(r.guest, r.fields["dma"])))
    assume(cands)
    p, r, total = data.draw(st.sampled_from(cands), label="insertion")
    n = data.draw(st.integers(0, total), label="len")
    line = format_record(Record("l.fill", r.guest, dict(r.fields, len=n)))
    mutant, recs, at = inserted(lines, p, line)
    result = replay_records(recs, "mutant.lgt")
    assert found(result, "write-to-used-buffer", at), report(mutant, result, "write-to-used-buffer", at)


@SOME
@given(st.sampled_from(["console_fill", "block_read", "block_write", "tun_fill"]).flatmap(
    lambda f: completed(ensure=(f,))), st.data())
def test_a_fill_longer_than_its_buffer_is_buffer_overflow(case, data):
    run, text, full, lines = case
    cands = [(p, full[p], w.total(full[p].guest, full[p].fields["dma"]))
             for p, w in walk(full) if p < len(full) and full[p].kind == "l.fill"]
    assume(cands)
    p, r, total = data.draw(st.sampled_from(cands), label="fill")
    n = data.draw(st.integers(total + 1, 0xFFFF_FFFF), label="len")
    lines[p] = format_record(Record("l.fill", r.guest, dict(r.fields, len=n)))
    mutant = join(lines)
    result = replay_text(mutant)
    assert found(result, "buffer-overflow", p + 1), report(mutant, result, "buffer-overflow", p + 1)


# ------------------------------------------------------------------ (h) a section crossing a page


@SOME
@given(completed(ensure=("deliver",)), st.data())
def test_a_sent_section_crossing_a_page_on_a_shared_key_is_bad_dma(case, data):
    run, text, full, lines = case
    cands = []
    for i, r in enumerate(full):
        if r.kind != "g.dma" or "lens" not in r.fields or "addrs" not in r.fields:
            continue
        g, a = r.guest, r.fields["addr"]
        for j in range(i + 1, len(full)):
            s = full[j]
            if s.kind == "g.dma" and s.guest == g and s.fields["addr"] == a and "lens" in s.fields:
                break  # rewritten before any delivery
            if s.kind == "g.send_dma" and s.guest == g and s.fields["dma"] == a:
                if j + 1 < len(full) and full[j + 1].kind == "host.deliver":
                    secs = [k for k, ln in enumerate(r.fields["lens"]) if ln >= 2]
                    if secs:
                        cands.append((i, j, secs))
                    break
    assume(cands)
    i, j, secs = data.draw(st.sampled_from(cands), label="write, send")
    r = full[i]
    k = data.draw(st.sampled_from(secs), label="section")
    ln = r.fields["lens"][k]
    addrs = list(r.fields["addrs"])
    page_end = (addrs[k] // PAGE + 1) * PAGE
    addrs[k] = page_end - data.draw(st.integers(1, ln - 1), label="bytes before the page end")
    lines[i] = format_record(Record("g.dma", r.guest, dict(r.fields, addrs=addrs)))
    mutant = join(lines)
    result = replay_text(mutant)
    assert found(result, "bad-dma", j + 1), report(mutant, result, "bad-dma", j + 1)


# ------------------------------------------------------------------ (i) an unwritten descriptor


def first_unknown_read(full: list[Record], removed: int):
    """Where a descriptor field the trace no longer writes is first read, once full[removed] is gone.

    Returns (line, who) or None; `who` says which reader: "host" (SEND_DMA's
    search and check_dma_list), "getdma" (a fill's GETDMA and its length
    check), or "output:total" / "output:zero" / "output:none" (the Launcher's
    handle_output, whose dma2iov reads the sections of every pending send,
    whatever device watches the key: lguest-io.md 4.4).
    """
    w = Walk()
    known: dict[tuple[int, int], set] = {}

    def write(g, addr, *fields):
        known.setdefault((g, addr), set()).update(fields)

    def unknown(g, addr, field):
        return field not in known.get((g, addr), ())

    for i, rec in enumerate(full):
        k, f, g = rec.kind, rec.fields, rec.guest
        if k == "g.dma" and i != removed:
            write(g, f["addr"], *[x for x in ("used_len", "lens") if x in f])
        elif k == "g.send_dma":
            a = f["dma"]
            write(g, a, "used_len")  # lguest_send_dma clears used_len first
            j = i + 1
            while j < len(full) and full[j].kind.startswith("host."):
                h = full[j]
                if h.kind == "host.deliver":
                    dg, da = h.fields["dst"]
                    b = w.holder(dg, da)
                    start, stop = b.cursor % b.num, b.index(da)
                    n = (stop - start) % b.num + 1
                    reads = [(dg, b.dmas + C.DMA_SIZE * ((start + x) % b.num), "used_len") for x in range(n)]
                    reads += [(dg, da, "lens"), (g, a, "lens")]
                elif h.kind == "host.full":
                    b = w.lookup(h.fields["src"], h.fields["key"], own=False)
                    reads = [(b.g, b.dmas + C.DMA_SIZE * x, "used_len") for x in range(b.num)]
                else:
                    reads = []
                if any(unknown(*r) for r in reads):
                    return rec.line, "host"
                if h.kind == "host.deliver":
                    write(*h.fields["dst"], "used_len")
                j += 1
        elif k == "l.output":
            if unknown(g, f["dma"], "lens"):
                return rec.line, "output:" + w.watcher(g, f["key"])
        elif k == "l.fill":
            b = w.lookup(g, f["key"], own=True)
            stop = b.index(f["dma"])
            reads = [(g, b.dmas + C.DMA_SIZE * x, "used_len") for x in range(stop + 1)] + [(g, f["dma"], "lens")]
            if any(unknown(*r) for r in reads):
                return rec.line, "getdma"
            write(g, f["dma"], "used_len")
        w.step(rec)
    return None


def first_writes(full):
    """Indexes of the first `gN dma` of each descriptor."""
    seen, out = set(), []
    for i, r in enumerate(full):
        if r.kind == "g.dma" and (r.guest, r.fields["addr"]) not in seen:
            seen.add((r.guest, r.fields["addr"]))
            out.append(i)
    return out


def removal(data, full, lines, want):
    cands = []
    for i in first_writes(full):
        hit = first_unknown_read(full, i)
        if want(hit):
            cands.append((i, hit))
    assume(cands)
    i, hit = data.draw(st.sampled_from(cands), label="removed write")
    mutant = join(lines[:i] + lines[i + 1:])
    # the lines after the removed one move up by one
    return mutant, replay_text(mutant), (None if hit is None else hit[0] - 1)


@SOME
@given(st.sampled_from(["console_output", "console_fill", "deliver", "block_read", "tun_fill", "tun_send"]).flatmap(
    lambda f: completed(ensure=(f,))), st.data())
def test_removing_a_descriptor_write_before_its_use_is_unknown_descriptor(case, data):
    run, text, full, lines = case
    mutant, result, line = removal(data, full, lines, lambda hit: hit is not None)
    assert found(result, "unknown-descriptor", line), report(mutant, result, "unknown-descriptor", line)


@SOME
@given(completed(), st.data())
def test_removing_a_descriptor_write_nobody_reads_keeps_the_trace_clean(case, data):
    run, text, full, lines = case
    mutant, result, _ = removal(data, full, lines, lambda hit: hit is None)
    assert result.verdict == "ok", f"expected no finding:\n{describe(result)}\n{numbered(mutant)}"


@SETTLED
@given(st.sampled_from(["block_read", "block_write"]).flatmap(lambda f: completed(ensure=(f,))), st.data())
def test_removing_the_write_of_a_send_to_the_block_device_is_unknown_descriptor(case, data):
    """handle_output's dma2iov reads the sections of every pending send, also those the block device answers with 0."""
    run, text, full, lines = case
    mutant, result, line = removal(data, full, lines, lambda hit: hit is not None and hit[1] == "output:zero")
    assert found(result, "unknown-descriptor", line), report(mutant, result, "unknown-descriptor", line)
