"""Memory running out in z3: one answer however z3 says it (checker/bmc.py), and no C++ text on the terminal
from an engine's process that z3 aborted (checker/engine_stderr.py)."""

from __future__ import annotations

import faulthandler
import json
import multiprocessing
import os

import jsonschema
import pytest
import z3

from lgcheck.checker import bmc_solver, engine_stderr, induction, pipeline, portfolio
from lgcheck.cli import main

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TERMINATE = b"terminate called after throwing an instance of 'out_of_memory_error'\n  what():  out of memory\n"


class _GivesUp:
    """z3's solver, except that every check answers unknown with `reason`."""

    def __init__(self, reason):
        self.inner, self.reason = z3.SolverFor("QF_BV"), reason

    def check(self, *assumptions):
        return z3.unknown

    def reason_unknown(self):
        return self.reason

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _prove(tmp_path, capsys, *extra):
    argv = ["prove", "--engine", "bmc", "--inv", "key-collision", "--depth", "2", "--no-induction", "--no-progress"]
    code = main([*argv, *extra, "--out", str(tmp_path)])
    return code, capsys.readouterr()


def test_z3_giving_up_at_its_memory_budget_is_out_of_memory_not_an_unknown(tmp_path, capsys, monkeypatch):
    # Seen in CI under --max-memory 150: "(sat.giveup out of memory)" became four unknowns beside two
    # violations, exit 1, while the same limit met as a z3 exception is one line and exit 2.
    monkeypatch.setattr(bmc_solver, "make", lambda name: _GivesUp("(sat.giveup out of memory)"))
    code, out = _prove(tmp_path, capsys, "--json")
    assert code == 2 and out.out == ""
    assert out.err.strip().splitlines() == [
        "lgcheck: error: out of memory: the model's formulas or states outgrew it; nothing more was checked"
    ]


def test_any_other_reason_to_give_up_is_unknown_and_the_json_says_why(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bmc_solver, "make", lambda name: _GivesUp("incomplete quantifiers"))
    code, out = _prove(tmp_path, capsys, "--json")
    doc = json.loads(out.out)
    with open(os.path.join(ROOT, "docs", "json-schemas", "prove.schema.json")) as fh:
        jsonschema.validate(doc, json.load(fh))
    assert code == 3
    assert [(r["status"], r["reason"]) for r in doc["results"]] == [("unknown", "incomplete quantifiers")]


def test_a_settled_result_has_no_reason(tmp_path, capsys):
    code, out = _prove(tmp_path, capsys, "--json")
    doc = json.loads(out.out)
    assert code == 0 and [(r["status"], r["reason"]) for r in doc["results"]] == [("holds", None)]


def _abort_like_z3(text=TERMINATE):
    faulthandler.disable()  # (pytest's, which writes to the terminal itself; lgcheck has none)
    os.write(2, text)  # below Python, as libstdc++ writes it
    os.abort()


def _fork(target, err):
    ctx = multiprocessing.get_context("fork")

    def body():
        engine_stderr.redirect(err)
        target()

    p = ctx.Process(target=body)
    p.start()
    p.join(30)
    return p.exitcode


def test_an_engine_process_that_aborts_for_memory_is_read_back_not_shown(capfd):
    err = engine_stderr.capture()
    code = _fork(_abort_like_z3, err)
    text = engine_stderr.read_back(err)
    assert code < 0 and engine_stderr.aborted_for_memory(code, text)
    assert "terminate called" not in capfd.readouterr().err


def test_what_else_an_engine_writes_below_python_is_passed_on_marked_and_its_python_stderr_is_the_real_one(capfd):
    def body():
        os.write(2, b"z3 warning: something\x1b[2J\n")
        print("said by Python", file=__import__("sys").stderr, flush=True)
        os._exit(0)

    err = engine_stderr.capture()
    code = _fork(body, err)
    text = engine_stderr.read_back(err)
    assert code == 0 and not engine_stderr.aborted_for_memory(code, text)
    engine_stderr.pass_on("bmc", text)
    lines = capfd.readouterr().err.splitlines()
    assert "said by Python" in lines
    assert "lgcheck: bmc: z3 warning: something?[2J" in lines  # (a terminal's control bytes are not passed on)
    # An abort that does not name memory is not read as memory.
    err = engine_stderr.capture()
    code = _fork(lambda: _abort_like_z3(b"Segmentation\n"), err)
    assert not engine_stderr.aborted_for_memory(code, engine_stderr.read_back(err))


def test_the_induction_process_aborted_by_z3_for_memory_gives_its_one_line_and_no_cpp_text(
    tmp_path, capfd, monkeypatch
):
    # One CI run in many: the induction child, not lgcheck, ended in C++'s terminate under --max-memory 155.
    def prove(*args, **kwargs):
        _abort_like_z3()

    monkeypatch.setattr(induction, "prove", prove)
    argv = ["prove", "--engine", "bmc", "--inv", "key-collision", "--depth", "3", "--no-progress"]
    code = main([*argv, "--out", str(tmp_path)])
    err = capfd.readouterr().err
    assert code == 0  # BMC's own verdict to depth 3 stands; induction proved nothing
    assert "terminate called" not in err and "what():" not in err
    assert "lgcheck: induction stopped: out of memory; what it had not settled is left to the other engines" in err


@pytest.mark.parametrize("engine", ["bmc", "bfs"])
def test_an_auto_engine_aborted_by_z3_for_memory_is_out_of_memory_not_an_internal_error(
    tmp_path, capfd, monkeypatch, engine
):
    monkeypatch.setattr(portfolio, f"_{engine}_child", lambda *args: _abort_like_z3())
    argv = ["prove", "--engine", "auto", "--inv", "key-collision", "--depth", "3", "--no-induction", "--no-progress"]
    code = main([*argv, "--out", str(tmp_path)])
    err = capfd.readouterr().err
    assert "terminate called" not in err and "internal error" not in err, err
    assert f"lgcheck: {engine} stopped: out of memory; what it had not settled is left to the other engines" in err
    # The other engine settles key-collision to depth 3 alone: its verdict stands.
    assert code == 0, err


def test_an_engine_stderr_file_is_read_once_and_closed():
    err = engine_stderr.capture()
    os.write(err.fileno(), b"x" * (engine_stderr.TAIL + 10))
    assert engine_stderr.read_back(err) == b"x" * engine_stderr.TAIL and err.closed
    assert engine_stderr.read_back(None) == b""


def test_pipeline_reads_the_induction_stderr_at_most_once():
    run = pipeline.Run(cfg=None, out_dir="")
    pipeline._induction_ended(run)  # no induction process: nothing to read
    assert run.induction_err is None
