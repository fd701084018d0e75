"""A run the search found is written from its concrete steps, then checked on BMC's encoding.

The fast path (checker/bfs.py concrete_run, read by checker/decode.py with
`concrete`) must write what the slow one wrote (the run fixed on BMC's
encoding, shrunk, decoded from the z3 model): the same .lgt and ITF, byte
for byte once the --out folder is renamed.  A run BMC's encoding does not
have is still an internal error (exit 4), found after the files are written.
"""

from __future__ import annotations

import copy
import json
import os

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from lgcheck.checker import bfs, pipeline, transition
from lgcheck.checker.config import Config
from lgcheck.checker.faults import FAULTS
from lgcheck.checker.itf import dumps
from lgcheck.cli import main

SHALLOW = [f for f in FAULTS.values() if f.name != "host-skips-used-len-check"]  # runs of 1-3 steps


def _slow(run, out: str) -> None:
    """What `--engine bfs` wrote before: the runs fixed on BMC's encoding, shrunk, decoded from z3's model."""
    slow = pipeline.Run(run.cfg, out, engine="bfs")
    slow.results = copy.deepcopy(run.results)
    found = {n: bfs.Found(n, len(p), p, 0.0) for n, p in run.paths.items()}
    slow.unrolling, models = bfs.witness(run.cfg, found)
    for n, (model, lit) in models.items():
        slow.results[n].model, slow.results[n].literal = model, lit
    for step in (pipeline.simplify, pipeline.decode, pipeline.replay_check, pipeline.write):
        slow = step(slow)
    assert not slow.concrete  # every counterexample came from a z3 model


def _files(folder: str) -> dict:
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            out[name] = fh.read().replace(folder, "OUT")
    return out


@pytest.mark.parametrize("fault", SHALLOW, ids=lambda f: f.name)
def test_the_concrete_run_writes_what_the_z3_model_wrote(tmp_path, fault):
    cfg = Config(launcher="checked", sysfs=False, faults=(fault.name,), invariants=(fault.breaks,))
    fast_dir, slow_dir = str(tmp_path / "fast"), str(tmp_path / "slow")
    # host-copies-source-length's 3-step run with deferred writes (`concretize`), 3x faster: that path too
    limits = {"defer": fault.name == "host-copies-source-length"}
    run = pipeline.prove(cfg, fast_dir, engine="bfs", limits=limits)
    assert run.results[fault.breaks].status == "violated"
    assert set(run.concrete) == {fault.breaks}  # written with no z3 model
    assert run.results[fault.breaks].model is None
    assert run.checked == {fault.breaks}  # and checked on BMC's encoding afterwards
    assert run.counterexamples[fault.breaks].finding is not None  # replays to the finding at its last record
    _slow(run, slow_dir)
    fast, slow = _files(fast_dir), _files(slow_dir)
    assert set(fast) == {f"{fault.breaks}.lgt", f"{fault.breaks}.itf.json"}
    assert fast == slow
    itf = fast[f"{fault.breaks}.itf.json"]
    assert itf == json.dumps(json.loads(itf), indent=1) + "\n"  # itf.dumps writes json's own text


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(_JSON)
def test_itf_dumps_is_json_dumps_with_indent_1(v):
    assert dumps(v) == json.dumps(v, indent=1)
    # ITF's integers, the writer's own fast case, nested at any depth, and objects that only resemble one
    for w in ({"#bigint": "-12"}, [v, {"#bigint": "7"}], {"a": [{"#bigint": "0"}]}, {"#bigint": 7}, {"#bigint": '"'}):
        assert dumps(w) == json.dumps(w, indent=1)


def _no_run_in_bmc(monkeypatch):
    """BMC's encoding made to lose every run (a constraint False at step 0), as a broken encoding would."""
    real = transition.encode_step

    def encode_step(cfg, st, k, constraints, only=None):
        info = real(cfg, st, k, constraints, only)
        if k == 0:
            constraints.append(z3.BoolVal(False))
        return info

    monkeypatch.setattr(transition, "encode_step", encode_step)


@pytest.mark.parametrize("engine", ["bfs", "auto"])
def test_a_run_bmc_encoding_lacks_is_an_internal_error_after_it_is_written(tmp_path, monkeypatch, capsys, engine):
    _no_run_in_bmc(monkeypatch)
    args = ["prove", "--engine", engine, "--launcher", "checked", "--no-sysfs", "--fault", "launcher-sets-driver-ok"]
    args += ["--inv", "status-forbidden-bit", "--no-progress", "--compare", "0.5", "--out", str(tmp_path)]
    assert main(args) == 4
    err = capsys.readouterr().err
    assert "internal error: status-forbidden-bit" in err
    assert "BMC's encoding has no such run" in err
    if engine == "auto" and "(its files were written" not in err:
        return  # BMC answered first (a loaded machine): its run is fixed on the encoding before any is written
    lgt = tmp_path / "status-forbidden-bit.lgt"
    assert f"its files were written before this check: {lgt}" in err  # written first, then checked
    assert lgt.exists()


def test_engines_disagreeing_about_a_run_written_early_name_its_files(tmp_path, monkeypatch, capsys):
    # auto writes the search's run as the window opens; BMC (made to have no run) then says none exists
    # up to that depth: an internal error whose message named nothing while the files stayed (the attack).
    _no_run_in_bmc(monkeypatch)
    args = ["prove", "--engine", "auto", "--launcher", "checked", "--no-sysfs", "--fault", "launcher-sets-driver-ok"]
    args += ["--inv", "status-forbidden-bit", "--no-progress", "--compare", "3", "--depth", "3", "--out", str(tmp_path)]
    assert main(args) == 4
    err = capsys.readouterr().err
    lgt = tmp_path / "status-forbidden-bit.lgt"
    assert not lgt.exists() or str(lgt) in err


def test_auto_with_deferred_writes_checks_the_run_it_wrote(tmp_path, monkeypatch):
    # The written run gives each deferred write its smallest value (smallest_writes); the check on BMC's
    # encoding was made on the search's raw run instead, so the file on disk was never cross-checked.
    import time

    from lgcheck.checker import portfolio

    checked = []
    real = bfs.witness

    def witness(cfg, found):
        checked.extend((n, list(f.path)) for n, f in found.items())
        return real(cfg, found)

    monkeypatch.setattr(bfs, "witness", witness)
    bmc_child = portfolio._bmc_child

    def late_bmc(*a):  # BMC answers after the search, so the search's run is written as the window opens
        # (Long enough for a loaded machine's search: 6 s was not, once, at load 4 on 2 cores.  It costs
        # nothing when the search is fast: the window closes 5 s after its answer and BMC, silent, is killed.)
        time.sleep(30)
        return bmc_child(*a)

    monkeypatch.setattr(portfolio, "_bmc_child", late_bmc)
    fault = ("host-copies-source-length",)
    cfg = Config(launcher="checked", sysfs=False, faults=fault, invariants=("buffer-overflow",))
    run = pipeline.prove(cfg, str(tmp_path), engine="auto", limits={"defer": True, "compare": 5})
    assert run.results["buffer-overflow"].status == "violated"
    assert checked and all(p == list(run.paths["buffer-overflow"]) for n, p in checked if n == "buffer-overflow")
