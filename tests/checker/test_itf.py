"""Counterexamples as ITF (checker/itf.py): itf-py loads them, and they keep what ADR-015 asks.

itf-py (the Python reader of Apalache/Quint traces) reads a JSON object as a
record, a namedtuple whose field names must be identifiers; it rejected the
old address-keyed objects ({"0x1000": ...}).  The strict check below fails
on everything ADR-015 forbids, so the test does not rest on one reader's
leniency.
"""

from __future__ import annotations

import json
import re

import itf_py
import pytest

from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import prove

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
SPECIAL = {"#bigint", "#tup", "#set", "#map", "#unserializable"}


def itf_problems(v, where="$") -> list[str]:
    """What ADR-015 forbids in a value: non-integer numbers, null, bad record fields, malformed #forms."""
    if isinstance(v, bool) or isinstance(v, str):
        return []
    if isinstance(v, int):
        return [] if abs(v) < 2**53 else [f"{where}: integer {v} must be a #bigint"]
    if v is None or isinstance(v, float):
        return [f"{where}: {v!r} is not an ITF value"]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in itf_problems(x, f"{where}[{i}]")]
    assert isinstance(v, dict)
    special = [k for k in v if k.startswith("#")]
    if special:
        if len(v) != 1 or special[0] not in SPECIAL:
            return [f"{where}: {sorted(v)} is not one ITF form"]
        (k,) = special
        body = v[k]
        if k == "#bigint":
            return [] if isinstance(body, str) and re.fullmatch(r"-?[0-9]+", body) else [f"{where}: bad #bigint"]
        if k == "#map":
            if not all(isinstance(p, list) and len(p) == 2 for p in body):
                return [f"{where}: #map must hold [key, value] pairs"]
            pairs = [(f"{where}[{i}][{j}]", x) for i, p in enumerate(body) for j, x in enumerate(p)]
            return [q for w, x in pairs for q in itf_problems(x, w)]
        return itf_problems(body, f"{where}.{k}")
    bad = [k for k in v if not NAME.match(k)]
    out = [f"{where}: record field {k!r} is not a name (a keyed table must be a #map)" for k in bad]
    return out + [p for k, x in v.items() for p in itf_problems(x, f"{where}.{k}")]


def trace_problems(doc) -> list[str]:
    out = []
    if not isinstance(doc.get("vars"), list) or not isinstance(doc.get("states"), list):
        return ["vars and states must be lists"]
    for i, st in enumerate(doc["states"]):
        if st.get("#meta", {}).get("index") != i:
            out.append(f"state {i}: #meta.index must be {i}")
        if set(st) - {"#meta"} != set(doc["vars"]):
            out.append(f"state {i}: has {sorted(set(st) - {'#meta'})}, vars are {doc['vars']}")
        out += itf_problems({k: x for k, x in st.items() if k != "#meta"}, f"states[{i}]")
    return out


@pytest.fixture(scope="module")
def cx(tmp_path_factory):
    out = tmp_path_factory.mktemp("itf")
    cfg = Config(invariants=("write-to-used-buffer",), depth=6, induction=False)
    run = prove(cfg, str(out))
    cx = run.counterexamples["write-to-used-buffer"]
    with open(cx.itf, encoding="utf-8") as fh:
        return cfg, run.results["write-to-used-buffer"].steps, json.load(fh)


def test_itf_py_loads_it_with_descriptors_as_a_map(cx):
    cfg, steps, doc = cx
    trace = itf_py.trace_from_json(doc)
    assert len(trace.states) == steps + 1 and trace.vars == doc["vars"]
    last = trace.states[-1].values
    for g in range(cfg.guests):
        table = last[f"g{g}"].descriptors
        assert sorted(table) == sorted(cfg.cells)  # integer keys: the descriptors' addresses
        assert all(isinstance(k, int) for k in table)
        assert trace.states[0].values[f"g{g}"].bindings[0].owner == 0xFFFF  # never bound: NO_OWNER
        assert [b.interrupt for b in trace.states[0].values[f"g{g}"].bindings] == [0] * cfg.slots  # free
    # the console flood (z3 picks the Guest): before the last fill, the descriptor it writes has a used_len
    before = trace.states[-2].values
    (g,) = [g for g in range(cfg.guests) if any(d.used_len for d in before[f"g{g}"].descriptors.values())]
    flooded = last[f"g{g}"]
    # docs/itf.md: irqs is a bitmask (the console's irq 3 is 8); a live slot has a nonzero interrupt
    assert flooded.irqs & (1 << Config.CONSOLE_IRQ)
    assert Config.CONSOLE_IRQ in [b.interrupt for b in flooded.bindings]
    # and itf-py writes back exactly what it read
    for raw, state in zip(doc["states"], trace.states):
        assert itf_py.state_to_json(state) == raw


def test_meta_names_the_invariant_and_the_step(cx):
    cfg, steps, doc = cx
    meta = doc["#meta"]
    assert meta["format"] == "ITF" and meta["invariant"] == "write-to-used-buffer"
    assert meta["violation"] == {"step": steps, "state": steps}
    assert doc["states"][steps]["#meta"]["violates"] == "write-to-used-buffer"
    assert all("violates" not in s["#meta"] for s in doc["states"][:steps])
    assert meta["config"]["guest-count"] == cfg.guests


def test_it_keeps_what_adr_015_asks(cx):
    assert trace_problems(cx[2]) == []


def test_the_checks_catch_the_old_encoding(cx):
    """The address-keyed object of before: itf-py rejects it, and so does the strict check."""
    doc = json.loads(json.dumps(cx[2]))
    g0 = doc["states"][0]["g0"]
    g0["descriptors"] = {hex(int(k["#bigint"])): v for k, v in g0["descriptors"]["#map"]}
    with pytest.raises(ValueError):
        itf_py.trace_from_json(doc)
    assert any("is not a name" in p for p in trace_problems(doc))
    assert itf_problems({"#bigint": 1}) and itf_problems(2**60) and itf_problems({"#map": [[1]]})


def test_a_sysfs_write_is_a_guest_action(tmp_path):
    cfg = Config(launcher="checked", invariants=("status-forbidden-bit",), depth=2, induction=False)
    run = prove(cfg, str(tmp_path))
    with open(run.counterexamples["status-forbidden-bit"].itf, encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["states"][0]["action"] == "init"
    assert [s["action"] for s in doc["states"][1:]] in (["g0.sysfs"], ["g1.sysfs"])  # z3 picks the Guest
    assert trace_problems(doc) == []
