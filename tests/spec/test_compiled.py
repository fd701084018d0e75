"""The compiled concrete reading (spec/compiled.py) agrees with the interpreted one.

For the generated scenarios and actions of test_agreement.py (bind, unbind,
send with its retry, fill, output, status, irq, close), the action runs on
ConcreteState twice: with the rules of spec/ called through `ops.Concrete`,
and with their compiled form; every observable of the post-state, the
effects that happened (and each guard a plain bool), the rule's result, the
failed checks and the notes must be the same.  Then a realistic trace
(benchmarks/realistic.py: full receivers, consoles, block) replays to the
same `--emit` output under LGCHECK_INTERPRETED=1 and without it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

from lgcheck.spec import compiled
from lgcheck.spec import host as interpreted_host
from lgcheck.spec.ops import Concrete, SymbolicValueError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import spec_fixtures  # noqa: E402
import test_agreement as ta  # noqa: E402

RULES = (
    "bind_dma",
    "send_attempt",
    "get_dma_buffer",
    "hcall_send_dma",
    "fill",
    "handle_output",
    "send_irq",
    "release_all_dma",
    "status_write",
    "apply",  # performs effects and runs the monitors (compiled too)
)


@contextlib.contextmanager
def compiled_rules():
    """spec_fixtures.World calls the compiled rules inside the block."""
    saved = {name: getattr(spec_fixtures, name) for name in RULES if hasattr(spec_fixtures, name)}
    built = compiled._build() if compiled.INTERPRETED else compiled.MODULE
    mods = {n: built[m] for m in compiled.MODULES for n in RULES if hasattr(built[m], n)}
    try:
        for name in saved:
            setattr(spec_fixtures, name, getattr(mods[name], name))
        yield
    finally:
        for name, fn in saved.items():
            setattr(spec_fixtures, name, fn)


def run_concrete(sc, action, use_compiled: bool) -> dict:
    sc = ta.prepare(sc, action)
    ctx = compiled_rules() if use_compiled else contextlib.nullcontext()
    with ctx:
        w = ta.build("concrete", sc)
        out = ta.observe(w, ta.run(w, action))
    guards = [e.when for e in w.effects]
    assert all(g is True or g is False for g in guards), f"a guard that is not a bool: {guards}"
    out["notes"] = list(w.st.notes)
    out["effects-all"] = [(e.kind, e.when) for e in w.effects]
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=ta.cases())
def test_compiled_and_interpreted_readings_agree(case):
    sc, action = case
    left, right = run_concrete(sc, action, False), run_concrete(sc, action, True)
    diffs = [
        f"{k}: {left.get(k)!r} <--interpreted-vs-compiled--> {right.get(k)!r}"
        for k in dict.fromkeys(list(left) + list(right))
        if left.get(k) != right.get(k)
    ]
    assert not diffs, f"action {action}\n" + "\n".join(diffs)


def test_every_rule_of_the_vocabulary_is_compiled_and_most_calls_inlined():
    built = compiled._build()
    assert set(built) == set(compiled.MODULES)
    done, kept = compiled.STATS["host"]
    assert done > 100 and kept < done / 10, compiled.STATS
    assert "lguest_address_ok" in compiled.BOOL_FUNCS["host"]
    # the compiled rules call one another, not the interpreted ones
    assert built["hypercalls"].send_attempt is built["host"].send_attempt
    assert built["launcher"].get_dma_buffer is built["host"].get_dma_buffer
    assert built["host"].send_attempt is not interpreted_host.send_attempt


@pytest.mark.parametrize("use_compiled", [False, True])
def test_a_symbolic_condition_is_refused_in_both_readings(use_compiled):
    """A z3 term where the concrete reading needs a bool: refused, as Concrete.And / If refuse it."""
    built = compiled._build() if use_compiled else None
    send_irq = built["launcher"].send_irq if use_compiled else sys.modules["lgcheck.spec.launcher"].send_irq
    with pytest.raises(SymbolicValueError):
        send_irq(Concrete, None, 0, 3, when=z3.Bool("w"))
    bind_dma = built["host"].bind_dma if use_compiled else interpreted_host.bind_dma
    with pytest.raises(SymbolicValueError):
        bind_dma(Concrete, _NoMaps(), 0, 0x1000, 0x2000, 1, 3, when=z3.Bool("w"))


class _NoMaps:
    """Just enough state for get_futex_key and bind_dma's slot walks."""

    def maps(self, g):
        return []

    def slots(self, g):
        return []

    def key_mapped(self, g, key):
        return True


def _emit(trace: Path, out: Path, interpreted: bool) -> str:
    env = dict(os.environ)
    env.pop("LGCHECK_INTERPRETED", None)
    if interpreted:
        env["LGCHECK_INTERPRETED"] = "1"
    p = subprocess.run(
        [sys.executable, "-m", "lgcheck", "replay", "--emit", str(out), str(trace)],
        capture_output=True,
        text=True,
        env=env,
    )
    return p.stdout + out.read_text()


def test_a_realistic_trace_replays_the_same_in_both_readings(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import realistic

    trace = tmp_path / "r.lgt"
    realistic.write_trace(str(trace), 4000, 4, seed=7)
    a = _emit(trace, tmp_path / "a.lgt", interpreted=True)
    b = _emit(trace, tmp_path / "b.lgt", interpreted=False)
    assert "host full" in a and "host deliver" in a and "host pending" in a
    assert a.replace(str(tmp_path / "a.lgt"), "X") == b.replace(str(tmp_path / "b.lgt"), "X")


def test_interpreted_replay_looks_up_bindings_as_the_rules_do_not_through_the_live_index():
    """LGCHECK_INTERPRETED=1 (mutation runs): a bucket holds every slot, live or freed, as the symbolic one does.

    The concrete index lists live bindings only, under their key: a shortcut that restates live_match,
    so a mutation of live_match changed prove's verdict but not replay's (its counterexample diverged).
    """
    probe = (
        "from lgcheck.spec.state import ConcreteState\n"
        "st = ConcreteState(); b = st.slots(0)[0]\n"
        "st.set_binding(b, owner=0, off=0, dmas=0x1000, num_dmas=1, interrupt=1)\n"
        "st.set_binding(b, interrupt=0)\n"
        "print(b in st.bucket(0, 0), len(st.bucket(0, 0)))\n"
    )
    out = {}
    for interpreted in (False, True):
        env = dict(os.environ)
        env.pop("LGCHECK_INTERPRETED", None)
        if interpreted:
            env["LGCHECK_INTERPRETED"] = "1"
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
        out[interpreted] = p.stdout.split()
    assert out[False] == ["False", "0"]  # replay's own run: only live bindings, by key
    assert out[True] == ["True", "32"]  # every slot of Guest 0; live_match decides


def test_replay_does_not_import_z3():
    """Start-up: the concrete reading needs no z3 (spec/ops.py imports it at first symbolic use)."""
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['lgcheck', 'replay', {str(ROOT / 'traces' / 'console-boot.lgt')!r}]\n"
        "try:\n    runpy.run_module('lgcheck', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('z3' in sys.modules, file=sys.stderr)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stderr.strip().splitlines()[-1] == "False", p.stderr


# ---------------------------------------------------------------- version 2's usual copy
# Lengths and addresses around the usual frame's edges (None: never written).
_LEN = st_.sampled_from([None, 0, 0, 1, 60, 1535, 1536, 1537, 4096, 0xFFFF_FFFF, 1 << 32])
_ADDR = st_.sampled_from([None, 0, 0x1000, 0x2FFF, 0xFFFF_FFFF, -1, 1 << 32])


def _desc(lens, addrs):
    """(lens, addrs) of a descriptor's first three sections; often one section (the usual frame's shape)."""
    first = st_.one_of(st_.integers(1, 2000), lens)
    one = st_.tuples(first, st_.just(0), lens).map(list)
    addrs = st_.lists(st_.one_of(st_.integers(0, 0xFFFF), addrs), min_size=3, max_size=3)
    return st_.tuples(st_.one_of(one, st_.lists(lens, min_size=3, max_size=3)), addrs)


def _copy_outcome(copy, layout, partial, same_guest, host):
    """What one call of copy_data_steps returns or raises, and what it leaves in the state."""
    from lgcheck.replay.records import UNKNOWN
    from lgcheck.spec.state import ConcreteState, UnknownValue

    (slens, saddrs), (dlens, daddrs), unknown_at = layout
    state = ConcreteState(partial=partial)
    g, h = 0, (0 if same_guest else 1)
    for guest, addr, lens, addrs in ((g, 0x100, slens, saddrs), (h, 0x200, dlens, daddrs)):
        d = state._desc_for_write(guest, addr)
        d.lens[:3], d.addrs[:3] = lens, addrs
        if unknown_at is not None and addr == unknown_at[0]:
            (d.lens if unknown_at[1] else d.addrs)[unknown_at[2]] = UNKNOWN
    try:
        got = copy(Concrete, state, g, 0x100, h, 0x200, host)
    except UnknownValue as e:
        got = ("raised", str(e))
    descs = {(x, a): (list(d.lens), list(d.addrs)) for x, gs in state.guests.items() for a, d in gs.mem.items()}
    return got, state.findings, state.notes, state.doubtful, descs, sorted(state.guests)


@settings(max_examples=150, deadline=None)
@given(
    layout=st_.tuples(
        _desc(_LEN, _ADDR),
        _desc(_LEN, _ADDR),
        st_.one_of(st_.none(), st_.tuples(st_.sampled_from([0x100, 0x200]), st_.booleans(), st_.integers(0, 2))),
    ),
    partial=st_.booleans(),
    same_guest=st_.booleans(),
    host=st_.sampled_from(["2.6.23", "fixed"]),
)
def test_the_usual_copy_agrees_with_copy_data_steps(layout, partial, same_guest, host):
    """The concrete reading's direct answer for the usual frame (spec/compiled.py _usual_copy) is the rule's."""
    fast = compiled._usual_copy(interpreted_host.copy_data_steps)
    rule = interpreted_host.copy_data_steps
    assert _copy_outcome(fast, layout, partial, same_guest, host) == _copy_outcome(
        rule, layout, partial, same_guest, host
    )


def test_the_usual_copy_is_the_one_replay_runs_and_it_takes_the_usual_frame():
    from lgcheck.spec.state import ConcreteState

    if compiled.INTERPRETED:
        pytest.skip("LGCHECK_INTERPRETED=1: the rules run as written")
    copy = compiled.MODULE["host"].dma_transfer.__globals__["copy_data_steps"]
    assert copy.general is not None and copy is not copy.general
    state = ConcreteState()
    calls = []
    fast = compiled._usual_copy(lambda *a: calls.append(a) or [])
    for guest, addr, ln in ((0, 0x100, 60), (1, 0x200, 1536)):
        d = state._desc_for_write(guest, addr)
        d.lens[:2], d.addrs[:2] = [ln, 0], [0x1000 * (guest + 1), 0]
    assert fast(Concrete, state, 0, 0x100, 1, 0x200) == [(True, 0x1000, 0x2000, 60)] and not calls
