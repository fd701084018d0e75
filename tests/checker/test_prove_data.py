"""prove and the data invariant (version 2): the symbolic state keeps bytes, and 2.6.23's copy is found wrong.

- the default model breaks data-corrupted in 4 steps (a destination section
  ends inside a source section); the counterexample is version 2 (`mem`
  records, `sum=`), its ITF carries the same records, and replaying it
  reports data-corrupted at its last record;
- the symbolic and the concrete readings of copy_data (the same rule) agree
  on which source byte lands at each offset of the destination, for
  generated sections, on both Hosts;
- `--host` is a setting like `--launcher`: flag, TOML key, JSON key, replay.
"""

from __future__ import annotations

import json
import os

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from lgcheck.checker.cli import _invariants
from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import prove, replay_command
from lgcheck.checker.symstate import SymState
from lgcheck.cli import main
from lgcheck.replay.engine import replay_file
from lgcheck.replay.parser import read_trace
from lgcheck.spec import ops as O
from lgcheck.spec.host import copy_data_steps
from lgcheck.spec.monitors import byte_at
from lgcheck.spec.state import ConcreteState


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cx")
    cfg = Config(invariants=("data-corrupted",), depth=4, induction=False)
    return cfg, prove(cfg, str(out))


def test_default_model_breaks_data_corrupted_and_the_trace_replays_to_it(default_run):
    cfg, run = default_run
    res = run.results["data-corrupted"]
    assert res.status == "violated" and res.steps == 4  # bind, two descriptors, the send
    cx = run.counterexamples["data-corrupted"]
    text = open(cx.lgt).read()
    assert "\nlguest-trace 2\n" in text
    records = list(read_trace(cx.lgt))
    mems = [r for r in records if r.kind == "g.mem"]
    (deliver,) = [r for r in records if r.kind == "host.deliver"]
    assert mems and len(deliver.fields["sum"]) == 64
    assert records[-1] is deliver
    result = replay_file(cx.lgt)
    assert [f.rule for f in result.findings if f.line == deliver.line] == ["data-corrupted"]
    assert cx.finding is not None and "should be the source's" in cx.finding.message
    # The ITF carries the bytes and the sum, as the records of the last step.
    with open(cx.itf) as fh:
        doc = json.load(fh)
    last = doc["states"][-1]["records"]
    assert any(" mem " in r and "data=" in r for r in last) and any("sum=" in r for r in last)
    # On the fixed Host the model's own copy gives other bytes than the trace recorded.
    fixed = replay_file(cx.lgt, host="fixed")
    assert "divergence" in {f.rule for f in fixed.findings}


def _sections(draw_lens):
    return [(0x2000 + 0x1000 * j, ln) for j, ln in enumerate(draw_lens)]


lens = st.lists(st.integers(1, 40), min_size=1, max_size=3)


@settings(max_examples=12, deadline=None)
@given(lens, lens, st.sampled_from(["2.6.23", "fixed"]))
def test_symbolic_and_concrete_copy_data_agree_byte_by_byte(src_lens, dst_lens, host):
    """Each destination offset gets the same source address in both readings (the monitor's own walks)."""
    O.SYM_WIDTH[0] = 16
    n = 3
    cfg = Config(invariants=("data-corrupted",), sections=n)
    src, dst = _sections(src_lens), _sections(dst_lens)
    # Concrete: the replay's state, bytes that differ from one another.
    cs = ConcreteState()
    cs.write_desc(1, 0x1800, 0, [a for a, _ in src], [ln for _, ln in src])
    cs.write_desc(0, 0x1400, 0, [a for a, _ in dst], [ln for _, ln in dst])
    for a, ln in src:
        cs.write_bytes(1, a, bytes(((a >> 12) - 2) * 64 + o for o in range(ln)))
    steps = copy_data_steps(O.Concrete, cs, 1, 0x1800, 0, 0x1400, host)
    length = min(sum(src_lens), sum(dst_lens))
    cs.deliver_bytes((1, 0x1800), (0, 0x1400), length, steps, "test")
    # Symbolic: the section lengths are variables, fixed only by the solver.
    ss = SymState(cfg)
    sv = [z3.BitVec(f"s{j}", 16) for j in range(n)]
    dv = [z3.BitVec(f"d{j}", 16) for j in range(n)]
    pad = lambda xs: xs + [0] * (n - len(xs))  # noqa: E731
    ss.write_cell(1, 0x1800, 0, pad([a for a, _ in src]), sv, True)
    ss.write_cell(0, 0x1400, 0, pad([a for a, _ in dst]), dv, True)
    ss.deliver_bytes((1, 0x1800), (0, 0x1400), length, copy_data_steps(O.Symbolic, ss, 1, 0x1800, 0, 0x1400, host), "t")
    probe = z3.BitVec("probe", 16)
    got = byte_at(O.Symbolic, ss, 0, 0x1400, probe)
    fix = [v == x for v, x in zip(sv + dv, pad(list(src_lens)) + pad(list(dst_lens)))]
    sol = z3.Solver()
    sol.add(*fix)
    for i in range(length):
        assert sol.check(probe == i) == z3.sat
        tag = sol.model().eval(got, model_completion=True).as_long()
        guest, addr = tag >> 16, tag & 0xFFFF
        assert guest == 1
        assert cs.read_byte(1, addr) == byte_at(O.Concrete, cs, 0, 0x1400, i)  # the same byte landed there


def test_host_is_a_setting_like_the_launcher(tmp_path, capsys):
    from lgcheck.checker.cli import _settings, add_prove_parser
    import argparse

    parser = argparse.ArgumentParser()
    add_prove_parser(parser.add_subparsers(), run=None)
    toml = tmp_path / "m.toml"
    toml.write_text('host = "fixed"\ninv = ["data"]\n')
    s = _settings(parser.parse_args(["prove", "--config", str(toml)]))
    assert s["host"] == "fixed" and _invariants(s["inv"]) == ("data-corrupted",)
    assert _settings(parser.parse_args(["prove", "--config", str(toml), "--host", "2.6.23"]))["host"] == "2.6.23"
    with pytest.raises(ValueError, match="--host must be one of"):
        Config(host="patched")
    cfg = Config(host="fixed")
    assert "--host fixed" in replay_command(cfg, "x.lgt")
    from lgcheck.checker.report import config_keys

    assert config_keys(cfg)["host"] == "fixed" and cfg.describe()["host"] == "fixed"
    split = os.path.join("traces", "bad-data-corrupted-split-sections.input.lgt")
    assert main(["replay", split]) == 1 and main(["replay", "--host", "fixed", split]) == 0


def test_the_fixed_host_proves_data_at_every_depth_with_a_certificate_bitwuzla_rechecks(tmp_path, capsys):
    """The proof machinery on contents, end to end, at a size that settles in CI time: one section each.

    The proof goes through the copy lemma (checker/copy_lemma.py): the step is
    asked only whether a delivery's descriptors leave the lemma's hypothesis,
    which the section lemmas rule out; the certificate carries query (l), the
    lemma itself, and bitwuzla re-checks all four.  (Two sections take about a
    minute: README "Proving the data".)
    """
    cfg = Config(invariants=("data-corrupted",), host="fixed", sections=1, slots=1, buffers=1, depth=3)
    run = prove(cfg, str(tmp_path))
    res = run.results["data-corrupted"]
    assert res.status == "holds" and res.inductive and res.cut == "data-corrupted", res
    assert res.lemmas and all("sections as a conforming driver builds them" in n for n in res.lemmas), res.lemmas
    assert os.listdir(tmp_path) == ["certificates"]
    status = main(["certify", str(tmp_path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0, doc
    (c,) = doc["certificates"]
    assert c["invariant"] == "data-corrupted"
    assert c["queries"] == {"a": "unsat", "b": "unsat", "c": "unsat", "l": "unsat"}, c
    # A certificate that claims some other cut is refused, not re-checked on trust.
    path = tmp_path / "certificates" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["certificates"][0]["cut"] = "anything"
    path.write_text(json.dumps(manifest))
    assert main(["certify", str(tmp_path)]) == 2
    assert "cut = 'anything'" in capsys.readouterr().out


def test_the_copy_lemma_holds_for_the_fixed_copy_only():
    """(l) fails for 2.6.23's copy at two sections (the defect), holds where no section can split."""
    from lgcheck.checker import copy_lemma

    assert copy_lemma.holds(Config(invariants=("data-corrupted",), sections=2)) is False
    assert copy_lemma.holds(Config(invariants=("data-corrupted",), sections=1)) is True
    assert copy_lemma.holds(Config(invariants=("data-corrupted",), sections=1, host="fixed")) is True


def test_the_cut_is_implied_by_the_monitors_check_only_where_the_lemma_holds():
    """Where (l) fails, the step keeps the monitor's own check: the defect is still found (default_run above)."""
    from lgcheck.checker.induction import cut_applies, free_state
    from lgcheck.checker.transition import encode_step

    for host, applies in (("2.6.23", False), ("fixed", True)):
        cfg = Config(invariants=("data-corrupted",), sections=1 if host == "fixed" else 2, host=host)
        O.SYM_WIDTH[0] = cfg.width
        info = encode_step(cfg, free_state(cfg, "t"), "t", [])
        assert info.cuts and cut_applies(cfg, info, "data-corrupted") is applies
        assert not cut_applies(cfg, info, "buffer-overflow")


def test_prove_still_does_not_ask_for_data_by_default():
    assert "data" not in Config().invariants
    assert "data-corrupted" not in _invariants(()) and len(_invariants(())) == 6


def test_the_copy_lemma_fails_when_its_hypothesis_is_weakened(monkeypatch):
    """(l) is not vacuous: one byte more than both totals, or a destination of any shape, breaks the fixed copy."""
    from lgcheck.checker import copy_lemma as L

    ops = O.Symbolic
    cfg = Config(invariants=("data-corrupted",), sections=2, host="fixed")

    def weakened(extra, dst_shaped):
        def pre(st, src, dst, length):
            s = [st.rd_section(src[0], src[1], j) for j in range(st.sections)]
            d = [st.rd_section(dst[0], dst[1], j) for j in range(st.sections)]
            shaped = ops.And(L._shape(st.cfg, s), L._shape(st.cfg, d) if dst_shaped else True)
            return ops.And(shaped, ops.ULE(length, ops.Add(extra, ops.Min(L._total(s), L._total(d)))))

        return pre

    for extra, dst_shaped in ((1, True), (0, False)):
        monkeypatch.setattr(L, "_CACHE", {})
        monkeypatch.setattr(L, "precondition", weakened(extra, dst_shaped))
        assert L.holds(cfg) is False, (extra, dst_shaped)


def test_a_counterexamples_mem_records_lie_in_the_senders_memory():
    """A send's source sections outside the Guest's memory get no `mem` record (replay refuses one there).

    No copy reads them (check_dma_list kills first; a Launcher-bound send reads no bytes), so nothing is lost.
    """
    from types import SimpleNamespace

    from lgcheck.checker.decode import evaluator, step_records

    pre = ConcreteState()
    pre.guest(0).pages = 15
    pre.guest(0).recompute_limit()  # memory below 0x10000
    pre.write_bytes(0, 0, b"")  # (the model keeps bytes)
    pre.write_desc(0, 0x1000, 0, [0x2000, 0xFFF0, 0x10000, 0x20000], [16, 16, 8, 8])
    send = SimpleNamespace(guard=True, guest=0, action="send", effects=[])
    info = SimpleNamespace(params={"dma": 0x1000, "key": 0x8000}, cases=[send], k=0)
    _, _, recs = step_records(info, evaluator(None), pre)
    assert [(r.kind, r.fields.get("addr")) for r in recs] == [
        ("g.mem", 0x2000),
        ("g.mem", 0xFFF0),
        ("g.send_dma", None),
    ]
