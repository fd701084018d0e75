"""bfs.witness encodes only the actions its runs take; refuse_unchecked is asked of what the search left open."""

from __future__ import annotations

import pytest

from lgcheck.checker import bfs, transition
from lgcheck.checker.bmc import rule_names
from lgcheck.checker.config import Config
from lgcheck.checker.decode import trace
from lgcheck.checker.induction import NoCheck
from lgcheck.checker.pipeline import Run
from lgcheck.cli import main

SMALL = dict(slots=1, buffers=1, sections=1)


def _traces(cfg, found):
    unrolling, models = bfs.witness(cfg, found)
    return {n: trace(cfg, unrolling, m, found[n].steps) for n, (m, _) in models.items()}


def test_the_restricted_witness_decodes_to_the_records_of_the_full_encoding(monkeypatch):
    """Runs of different lengths (the default rules, depth 2): the same records, step by step, either way."""
    cfg = Config(depth=2, induction=False, **SMALL)
    found = bfs.search(cfg, rule_names(cfg)).found
    assert len({f.steps for f in found.values()}) > 1  # a shorter run ends where a longer one goes on
    restricted = _traces(cfg, found)
    full = transition.encode_step
    monkeypatch.setattr(transition, "encode_step", lambda cfg, st, k, cs, only=None: full(cfg, st, k, cs))
    assert _traces(cfg, found) == restricted


def _explore(cfg, monkeypatch):
    asked = []
    monkeypatch.setattr(bfs, "refuse_unchecked", lambda cfg, names: asked.append(list(names)))
    bfs.explore(Run(cfg, "unused"))
    return asked


def test_refuse_unchecked_is_asked_once_and_only_of_the_invariants_not_found(monkeypatch):
    cfg = Config(
        launcher="checked", faults=("launcher-sets-driver-ok",), invariants=("status",), depth=3, sysfs=False, **SMALL
    )
    asked = _explore(cfg, monkeypatch)
    assert asked == [["status-cleared"]]  # status-forbidden-bit broke: its check exists


def test_an_unchecked_invariant_found_during_the_search_is_a_usage_error(monkeypatch, tmp_path, capsys):
    def refuse(cfg, names):
        raise NoCheck(f"no check of the model speaks of {', '.join(names)}")

    monkeypatch.setattr(bfs, "REFUSE_AFTER", 0.0)
    monkeypatch.setattr(bfs, "refuse_unchecked", refuse)
    args = ["prove", "--engine", "bfs", "--guest-count", "1", "--no-sysfs", "--inv", "status", "--depth", "40"]
    assert main(args + ["--slots", "1", "--buffers", "1", "--sections", "1", "--out", str(tmp_path)]) == 2
    assert "no check of the model speaks of status" in capsys.readouterr().err


def test_refuse_unchecked_of_nothing_encodes_nothing(monkeypatch):
    monkeypatch.setattr(transition, "encode_step", lambda *a, **k: pytest.fail("encoded"))
    bfs.refuse_unchecked(Config(**SMALL), [])
