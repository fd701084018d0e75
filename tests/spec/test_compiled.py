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
