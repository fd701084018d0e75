"""prove --coverage (checker/coverage.py): each outcome's shortest run, and a warning for a "holds" no run exercised."""

from __future__ import annotations

import json
import os
import time

import jsonschema
import pytest

from lgcheck.checker.config import Config
from lgcheck.checker.coverage import DEPENDS, measure
from lgcheck.cli import main

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
KILLS = {
    "kill (bad DMA entry)",
    "kill (bad address in registered DMA struct)",
    "kill (bad dma key)",
    "kill (bad read address)",
    "kill (bad registered DMA buffer)",
    "kill (bad sending DMA key)",
}


def _measure(**kw):
    return measure(Config(**kw), time.monotonic() + 120)


def test_the_default_model_reaches_its_outcomes_at_their_shortest_depths():
    cov = _measure(depth=2)
    assert (cov.looked, cov.stopped) == (2, "")
    # One step: a driver binds; a Guest sends on the console (private: pending) or to the peer's net key
    # that nobody bound (drop); the Launcher has input and no buffer (nobuf; on the block key its Launcher
    # then exits: close, lguest.c handle_block_output's err(1, ...)); a status write.
    # Two: bind first, then unbind it, fill it, or send into it (the peer's net binding: deliver, 0 bytes
    # of an empty send); a pending send, then the Launcher's output.
    assert {o: k for o, k in cov.first.items() if k is not None} == {
        "bind": 1, "pending": 1, "drop": 1, "nobuf": 1, "close": 1, "status": 1,
        "unbind": 2, "fill": 2, "deliver": 2, "output": 2,
    }  # fmt: skip
    # Conforming Guests never give the Host a bad key, address or entry; `full` needs 5 steps (below).
    assert {o for o, k in cov.first.items() if k is None} == KILLS | {"full"}
    assert cov.words("full") == "never within 2 steps" and cov.words("deliver") == "2 steps"


def test_full_needs_an_entry_that_a_copy_made_used():
    # A used entry is one a copy wrote a non-zero used_len into (a conforming Guest writes used_len 0 or
    # leaves it): bind, both Guests write sections (the entry's and the sent descriptor's), a send copies,
    # and the next send finds no free entry: 5 steps.
    cov = _measure(slots=1, buffers=1, sections=1, depth=5)
    assert cov.first["full"] == 5
    assert {o for o, k in cov.first.items() if k is None} == KILLS


def test_an_outcome_no_step_can_have_is_never():
    # One Guest has no peer: the Host never copies (its sends are all private), so no deliver, full or drop;
    # they are listed because the buffer invariants judge deliveries.
    cov = _measure(guests=1, depth=3, invariants=("buffers",))
    assert cov.stopped == "" and cov.looked == 3
    assert cov.first["deliver"] is None and cov.first["fill"] == 2
    assert cov.words("deliver") == "never within 3 steps"
    assert "status" not in cov.first  # no status invariant asked: the status writes are not encoded (as BMC)


def test_a_time_limit_is_unknown_never_never():
    cov = measure(Config(depth=3), time.monotonic())
    assert cov.stopped == "the time limit" and cov.looked == 0
    assert cov.words("deliver") == "unknown: none within 0 steps, then the time limit"


def test_every_invariant_the_model_checks_has_its_outcomes():
    from lgcheck.spec.registry import INVARIANTS

    assert set(DEPENDS) == {n for group in INVARIANTS.values() for n in group}


ONE_GUEST = ["--guest-count", "1", "--launcher", "checked", "--fault", "host-skips-used-len-check", "--inv", "buffers"]


def _prove(capsys, tmp_path, *argv):
    code = main(["prove", "--engine", "bmc", "--no-progress", "--out", str(tmp_path / "out"), *argv])
    return code, capsys.readouterr().out


def test_a_holds_no_delivery_exercised_is_warned_of(capsys, tmp_path):
    # The motivating case: host-skips-used-len-check "held" write-to-used-buffer with no peer to send to.
    code, out = _prove(capsys, tmp_path, *ONE_GUEST, "--depth", "3", "--coverage")
    assert code == 0
    assert "write-to-used-buffer: holds" in out and "  deliver: never within 3 steps" in out
    assert (
        "warning: write-to-used-buffer holds, but no deliver happens in any run within 3 steps: what it judges "
        "of a deliver is never exercised"
    ) in out
    assert "warning: buffer-overflow holds, but no deliver happens" in out
    assert "fill happens" not in out  # the Launcher's fills are exercised (2 steps)


def test_no_warning_where_every_outcome_is_reached(capsys, tmp_path):
    argv = ["--launcher", "checked", "--inv", "buffers", "--depth", "2", "--no-induction", "--coverage"]
    code, out = _prove(capsys, tmp_path, *argv)
    assert code == 0 and "  deliver: 2 steps" in out and "  fill: 2 steps" in out
    assert "\nwarning:" not in out


def _verdicts(doc):
    # (Which engine answered first under auto, and when, varies from run to run; the verdicts do not.)
    keys = ("invariant", "status", "every_depth", "depth", "vacuous", "counterexample")
    return [{k: r[k] for k in keys} for r in doc["results"]]


@pytest.mark.parametrize(
    "argv",
    [
        ONE_GUEST + ["--depth", "3", "--no-induction"],  # holds, with a warning
        ["--inv", "status", "--depth", "2", "--no-induction"],  # violated (sysfs), exit 1
        ["--engine", "auto", "--compare", "0", "--inv", "keys", "--inv", "status", "--depth", "2"],
    ],
)
def test_coverage_changes_no_verdict_and_no_exit_status(capsys, tmp_path, argv):
    with open(os.path.join(ROOT, "docs", "json-schemas", "prove.schema.json")) as fh:
        schema = json.load(fh)
    code, out = _prove(capsys, tmp_path, *argv, "--json", "--no-coverage")
    plain = json.loads(out)
    code_cov, out = _prove(capsys, tmp_path, *argv, "--json", "--coverage")
    covered = json.loads(out)
    code_default, out = _prove(capsys, tmp_path, *argv, "--json")
    default = json.loads(out)
    for doc in (plain, covered, default):
        jsonschema.validate(doc, schema)
    assert code_cov == code == code_default
    assert _verdicts(covered) == _verdicts(plain) == _verdicts(default)
    assert "coverage" not in plain and all("unexercised" not in r for r in plain["results"])
    if "coverage" in default:  # (only where something that holds judges an outcome)
        assert default["coverage"]["scope"] == "judged" and covered["coverage"]["scope"] == "all"
        # The default's walk and --coverage's answers agree on every outcome both settled.
        for o, k in default["coverage"]["outcomes"].items():
            assert k is None or covered["coverage"]["outcomes"][o] == k, o
        assert [r["unexercised"] for r in default["results"]] == [r["unexercised"] for r in covered["results"]]
    cov = covered["coverage"]
    assert cov["depth"] == plain["config"]["depth"]
    for r in covered["results"]:
        assert r["unexercised"] == ([] if r["status"] != "holds" else r["unexercised"])
    if argv[:2] == ONE_GUEST[:2]:
        assert cov["outcomes"]["deliver"] is None and cov["stopped"] is None
        assert {r["invariant"]: r["unexercised"] for r in covered["results"]} == {
            "write-to-used-buffer": ["deliver"],
            "buffer-overflow": ["deliver"],
        }


def test_sarif_and_github_carry_the_warnings(capsys, tmp_path):
    with open(os.path.join(ROOT, "tests", "data", "sarif-schema-2.1.0.json")) as fh:
        schema = json.load(fh)
    argv = [*ONE_GUEST, "--depth", "2", "--no-induction", "--coverage", "--format"]
    code, out = _prove(capsys, tmp_path, *argv, "sarif")
    doc = json.loads(out)
    jsonschema.validate(doc, schema)
    warned = [(r["ruleId"], r["level"]) for r in doc["runs"][0]["results"]]
    assert code == 0 and warned == [("write-to-used-buffer", "warning"), ("buffer-overflow", "warning")]
    code, out = _prove(capsys, tmp_path, *argv, "github")
    assert out.startswith("::warning title=write-to-used-buffer::write-to-used-buffer holds, but no deliver happens")


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "1e300"])
def test_coverage_seconds_must_be_a_time_z3_can_take(capsys, tmp_path, seconds):
    # (z3 takes its timeout in milliseconds as an unsigned int: 1e300 s would end in an OverflowError)
    code = main(["prove", "--coverage", seconds, "--out", str(tmp_path)])
    assert code == 2 and "--coverage must be a number of seconds above 0, at most 2,000,000" in capsys.readouterr().err


def test_the_walk_and_z3_agree_on_each_outcomes_shortest_run():
    # Two independent ways to the same numbers: the concrete walk (checker/bfs.py's steps, the compiled
    # rules) and BMC's encoding asked by z3.
    from lgcheck.checker.coverage import concrete_first

    for kw in ({}, {"launcher": "checked", "slots": 1, "buffers": 1, "sections": 1}):
        cfg = Config(depth=2, **kw)
        walked, whole, exhausted = concrete_first(cfg, time.monotonic() + 60)
        solved = measure(cfg, time.monotonic() + 120)
        assert whole == 2 and not exhausted
        assert walked == {o: k for o, k in solved.first.items() if k is not None}, kw


def test_the_default_warns_from_the_walk_alone_and_says_nothing_when_every_outcome_happens(capsys, tmp_path):
    code, out = _prove(capsys, tmp_path, *ONE_GUEST, "--depth", "3", "--no-induction")
    warned = [line for line in out.splitlines() if line.startswith("warning: ")]
    assert code == 0 and "coverage (" not in out  # (the list of outcomes is --coverage's)
    assert [w.split(":")[1].split(",")[0].strip() for w in warned] == [
        "write-to-used-buffer holds", "buffer-overflow holds"
    ]
    assert all("no deliver happens in any run within" in w for w in warned)
    code, out = _prove(capsys, tmp_path, "--inv", "buffers", "--depth", "3", "--no-induction")
    assert code == 0 and "warning" not in out


def test_the_default_walk_asks_only_what_holds(capsys, tmp_path):
    # Every invariant violated: nothing to warn of, no walk, no coverage object.
    code, out = _prove(capsys, tmp_path, "--inv", "status", "--depth", "2", "--no-induction", "--json")
    assert code == 1 and "coverage" not in json.loads(out)


def test_coverage_and_no_coverage_contradict(capsys, tmp_path):
    assert main(["prove", "--coverage", "--no-coverage", "--out", str(tmp_path)]) == 2
    assert "--coverage and --no-coverage contradict each other" in capsys.readouterr().err
