"""lgcheck prove: faults give counterexamples that replay to the same rule; the checked model holds."""

from __future__ import annotations

import json
import os

import itf_py
import pytest

from lgcheck.checker.faults import FAULTS
from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import prove
from lgcheck.cli import main
from lgcheck.replay.engine import replay_file
from lgcheck.replay.parser import read_trace

# The invariant each fault must break (checker/faults.py declares it).
EXPECTED = {f.name: f.breaks for f in FAULTS.values()}


def test_every_fault_breaks_an_invariant_and_all_three_are_covered():
    from lgcheck.spec.registry import INVARIANTS

    assert len(FAULTS) >= 6
    groups = {g for g, names in INVARIANTS.items() for inv in EXPECTED.values() if inv in names}
    # every group prove checks ("data" is replay's until prove keeps bytes: tests/checker/test_prove_data.py)
    assert groups == set(Config().invariants) == set(INVARIANTS) - {"data"}


def _round_trip(run, name, cfg):
    """The written .lgt replays to the same rule at its last record."""
    cx = run.counterexamples[name]
    assert cx.lgt and os.path.exists(cx.lgt) and os.path.exists(cx.itf)
    records = list(read_trace(cx.lgt))
    last = records[-1].line
    result = replay_file(cx.lgt, launcher=cfg.launcher, faults=cfg.faults)
    at_last = {f.rule for f in result.findings if f.line == last}
    assert name in at_last, f"replay of {cx.lgt} gave {result.findings}"
    with open(cx.itf) as fh:
        doc = json.load(fh)
    assert doc["#meta"]["format"] == "ITF"
    assert [s["#meta"]["index"] for s in doc["states"]] == list(range(run.results[name].steps + 1))
    assert all(set(doc["vars"]) <= set(s) for s in doc["states"])
    assert len(itf_py.trace_from_json(doc).states) == len(doc["states"])  # the reader of ADR-015 loads it
    assert doc["#meta"]["invariant"] == name and doc["#meta"]["violation"]["step"] == run.results[name].steps


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_is_found_and_replays(fault, tmp_path):
    cfg = Config(launcher="checked", faults=(fault,), invariants=(EXPECTED[fault],), depth=8)
    run = prove(cfg, str(tmp_path))
    res = run.results[EXPECTED[fault]]
    assert res.status == "violated", res
    assert res.steps <= 6
    _round_trip(run, EXPECTED[fault], cfg)


def test_checked_launcher_and_drivers_alone_hold_at_every_depth_and_say_how(tmp_path):
    cfg = Config(launcher="checked", depth=20, sysfs=False)
    run = prove(cfg, str(tmp_path))
    for name, res in run.results.items():
        assert res.status == "holds", (name, res)
        assert res.depth == 20 and res.inductive
    assert os.listdir(tmp_path) == ["certificates"]  # no counterexample; a certificate for each proof
    how = {n: r.vacuous for n, r in run.results.items()}
    # Drivers never bind outside their devices, nor clear or set forbidden bits: those hold only because
    # the environment never tries, and prove says so; the Host's min() keeps buffer-overflow by itself.
    assert how["key-outside-device"] == how["status-cleared"] == how["status-forbidden-bit"] == "environment"
    assert how["buffer-overflow"] == "rules"
    assert how["key-collision"] == how["write-to-used-buffer"] == ""
    assert run.results["key-collision"].lemmas and run.results["write-to-used-buffer"].lemmas


def test_sysfs_status_store_clears_bits_and_sets_removed(tmp_path):
    """lguest_bus.c status_store lets Guest userspace write the whole status field (on by default, as in 2.6.23)."""
    cfg = Config(launcher="checked", depth=4, invariants=("status",))
    run = prove(cfg, str(tmp_path))
    assert run.results["status-cleared"].status == "violated" and run.results["status-cleared"].steps == 2
    assert run.results["status-forbidden-bit"].status == "violated" and run.results["status-forbidden-bit"].steps == 1
    for name in ("status-cleared", "status-forbidden-bit"):
        _round_trip(run, name, cfg)
        assert any("through sysfs" in line for line in run.counterexamples[name].explanation)


def test_bmc_alone_agrees_to_a_small_depth(tmp_path):
    cfg = Config(launcher="checked", depth=3, induction=False, sysfs=False)
    run = prove(cfg, str(tmp_path))
    assert {r.status for r in run.results.values()} == {"holds"}
    assert all(r.depth == 3 and not r.inductive for r in run.results.values())


def test_real_launcher_overwrites_a_used_buffer(tmp_path):
    """The 2.6.23 GETDMA returns the last entry when none is free (io.c: get_dma_buffer)."""
    cfg = Config(invariants=("write-to-used-buffer",), depth=8)
    run = prove(cfg, str(tmp_path))
    res = run.results["write-to-used-buffer"]
    assert res.status == "violated" and res.steps == 4
    _round_trip(run, "write-to-used-buffer", cfg)
    cx = run.counterexamples["write-to-used-buffer"]
    assert any("GETDMA" in line for line in cx.explanation)
    # Shrunk: the smallest values that still break it (checker/shrink.py).
    steps = [r for s in cx.steps for r in s]
    assert all(r.fields["len"] <= 1 for r in steps if r.kind == "l.fill")
    assert all(n <= 1 for r in steps if r.kind == "g.dma" for n in r.fields["lens"])


def test_shrinking_keeps_only_the_bits_that_matter(tmp_path):
    cfg = Config(guest_mode="any", invariants=("status-forbidden-bit",), depth=3)
    run = prove(cfg, str(tmp_path))
    (step,) = run.counterexamples["status-forbidden-bit"].steps
    assert step[0].kind == "g.status" and step[0].fields["value"] == 8  # REMOVED, nothing else


def test_cli_json_and_exit_status(tmp_path, capsys):
    out = tmp_path / "cx"
    # --engine bmc: under the default (auto) the search to depth 4 would add its compare window, and the
    # bmc_depth asserted below is BMC's (tests/checker/test_certificate.py runs the default's JSON).
    status = main(["prove", "--engine", "bmc", "--json", "--fault", "launcher-sets-driver-ok", "--launcher", "checked",
                   "--no-sysfs", "--inv", "status", "--depth", "4", "--out", str(out), "--no-progress"])
    assert status == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["fault"] == ["launcher-sets-driver-ok"]
    by = {r["invariant"]: r for r in doc["results"]}
    assert set(by) == {"status-cleared", "status-forbidden-bit"}
    assert by["status-forbidden-bit"]["status"] == "violated"
    cx = by["status-forbidden-bit"]["counterexample"]
    assert cx["lgt"].endswith("status-forbidden-bit.lgt") and os.path.exists(cx["lgt"])
    assert cx["itf"].endswith("status-forbidden-bit.itf.json") and os.path.exists(cx["itf"])
    assert by["status-cleared"]["status"] == "holds"
    assert by["status-cleared"]["every_depth"] and by["status-cleared"]["depth"] is None
    assert by["status-cleared"]["bmc_depth"] <= 4
    assert by["status-cleared"]["vacuous"] == "environment" and by["status-cleared"]["lemmas"] == []
    assert by["status-cleared"]["certificate"].endswith("status-cleared.smt2")


def test_cli_json_config_feeds_back_to_config(tmp_path, capsys):
    """`prove --json`'s config, written as TOML, is a --config file that gives the same run."""
    from lgcheck.checker.report import toml_lines

    argv = ["prove", "--json", "--launcher", "checked", "--no-sysfs", "--inv", "status", "--depth", "3",
            "--no-induction", "--out", str(tmp_path / "cx"), "--no-progress"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["config"]["sysfs"] is False and first["config"]["inv"] == ["status"]
    conf = tmp_path / "again.toml"
    conf.write_text("\n".join(toml_lines(first["config"])) + "\n")
    assert main(["prove", "--json", "--config", str(conf), "--out", str(tmp_path / "cx"), "--no-progress"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["config"] == first["config"]
    assert [(r["invariant"], r["status"], r["depth"]) for r in again["results"]] == [
        (r["invariant"], r["status"], r["depth"]) for r in first["results"]
    ]


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github"])
def test_cli_formats(fmt, tmp_path, capsys):
    argv = ["prove", "--format", fmt, "--fault", "launcher-sets-driver-ok", "--launcher", "checked", "--no-sysfs",
            "--inv", "status-forbidden-bit", "--depth", "3", "--no-induction", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["results"][0]["ruleId"] == "status-forbidden-bit"
    elif fmt == "junit":
        assert '<testcase classname="lgcheck.prove" name="status-forbidden-bit"' in out and "<failure" in out
    else:
        assert out.startswith("::error file=") and "title=status-forbidden-bit::" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--fault", "no-such-fault"], "unknown fault"),
        (["--inv", "nonsense"], "unknown invariant"),
        (["--slots", "0"], "--slots must be"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(["prove", "--no-progress", *argv]) == 2
    assert message in capsys.readouterr().err


def test_list_faults(capsys):
    assert main(["prove", "--list-faults"]) == 0
    out = capsys.readouterr().out
    assert all(f in out for f in FAULTS)


def test_a_timeout_is_unknown_never_holds(tmp_path, capsys):
    status = main(["prove", "--json", "--launcher", "checked", "--no-sysfs", "--no-induction", "--depth", "50",
                   "--timeout", "0.5", "--out", str(tmp_path), "--no-progress"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 3
    assert {r["status"] for r in doc["results"]} == {"unknown"}
    assert all(r["depth"] < 50 for r in doc["results"])


def test_an_unwritable_out_folder_is_a_usage_error_before_solving(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["prove", "--out", str(blocker / "cx"), "--no-progress"]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_config_file_then_flags(tmp_path, capsys):
    conf = tmp_path / "model.toml"
    conf.write_text('launcher = "checked"\ndepth = 4\ninv = ["status"]\nfault = ["guest-clears-status"]\n')
    out = tmp_path / "cx"
    assert main(["prove", "--json", "--config", str(conf), "--out", str(out), "--no-progress"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"]["launcher"] == "checked" and doc["config"]["depth"] == 4
    assert {r["invariant"]: r["status"] for r in doc["results"]}["status-cleared"] == "violated"
    # A flag given on the command line wins over the file.
    assert main(["prove", "--json", "--config", str(conf), "--depth", "2", "--out", str(out), "--no-progress"]) == 1
    assert json.loads(capsys.readouterr().out)["config"]["depth"] == 2


def test_config_file_errors_are_usage_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("slots = \"two\"\n")
    assert main(["prove", "--config", str(bad), "--no-progress"]) == 2
    assert "slots" in capsys.readouterr().err
    bad.write_text("colour = 1\n")
    assert main(["prove", "--config", str(bad), "--no-progress"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err


def _cli_config(**given):
    from lgcheck.checker.cli import DEFAULTS, config_from_settings

    return config_from_settings({**DEFAULTS, **given})


def test_counterexample_header_replays_and_feeds_config(tmp_path, capsys):
    """The .lgt says how to replay it (with --launcher/--fault) and carries its config as --config TOML."""
    import shlex
    import tomllib

    from lgcheck.checker.cli import DEFAULTS, config_from_settings
    from lgcheck.checker.pipeline import config_from_lgt

    cfg = _cli_config(launcher="checked", fault=["launcher-sets-driver-ok"], inv=["status-forbidden-bit"], depth=3,
                      sysfs=False, induction=False, timeout=300.0)
    run = prove(cfg, str(tmp_path))
    cx = run.counterexamples["status-forbidden-bit"]
    text = open(cx.lgt, encoding="utf-8").read()
    (command,) = [line[len("# replay it: "):] for line in text.splitlines() if line.startswith("# replay it: ")]
    argv = shlex.split(command)
    assert argv[:2] == ["lgcheck", "replay"] and argv[-1] == cx.lgt
    assert "--launcher checked" in command and "--fault launcher-sets-driver-ok" in command
    # the command, run, reports the invariant at the last record line and nothing else anywhere (no divergence)
    assert main(argv[1:] + ["--json"]) == 1
    findings = json.loads(capsys.readouterr().out)["files"][0]["findings"]
    last = max(r.line for r in read_trace(cx.lgt))
    assert {(f["rule"], f["line"]) for f in findings} == {("status-forbidden-bit", last)}
    # the config block, cut out, is a --config file for the very same Config
    toml = config_from_lgt(text)
    assert toml.count("\n") >= 10 and 'launcher = "checked"' in toml
    assert config_from_settings({**DEFAULTS, **tomllib.loads(toml)}) == cfg
    conf = tmp_path / "model.toml"
    conf.write_text(toml)
    assert main(["prove", "--json", "--config", str(conf), "--out", str(tmp_path / "again"), "--no-progress"]) == 1
    assert json.loads(capsys.readouterr().out)["config"] == tomllib.loads(toml)


def test_counterexample_steps_are_marked(tmp_path):
    cfg = Config(invariants=("write-to-used-buffer",), depth=6, induction=False)
    run = prove(cfg, str(tmp_path))
    cx = run.counterexamples["write-to-used-buffer"]
    lines = open(cx.lgt, encoding="utf-8").read().splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith("# step ")]
    assert [lines[i] for i in marks] == [f"# step {k}" for k in range(1, len(cx.steps) + 1)]
    # each mark is followed by exactly its step's records, and the file ends with the last step's
    ends = marks[1:] + [len(lines)]
    for k, (start, end) in enumerate(zip(marks, ends)):
        assert lines[start + 1 : end] == [r.text for r in cx.steps[k]]
    assert lines[-1] == cx.steps[-1][-1].text
    _round_trip(run, "write-to-used-buffer", cfg)


def test_a_file_prove_did_not_write_is_kept_even_under_an_invariants_name(tmp_path):
    """remove_stale removed any regular <invariant>.lgt in --out: a folder of captures given as --out lost the
    user's own key-collision.lgt once key-collision held.  Only files that begin as prove writes them go."""
    out = tmp_path / "captures"
    out.mkdir()
    mine = {"key-collision.lgt": "lguest-trace 1\n# my capture\n", "key-collision.itf.json": '{"mine": 1}\n'}
    for name, text in mine.items():
        (out / name).write_text(text)
    cfg = Config(launcher="checked", invariants=("key-collision",), depth=2, induction=False, sysfs=False)
    run = prove(cfg, str(out))
    assert run.results["key-collision"].status == "holds" and run.removed == []
    assert {n: (out / n).read_text() for n in mine} == mine


def test_stale_counterexamples_are_removed_links_and_other_files_kept(tmp_path):
    out = tmp_path / "cx"
    out.mkdir()
    for name in ("notes.lgt", "status-cleared.lgt.bak"):
        (out / name).write_text("old\n")
    # what an earlier run wrote begins as prove writes it
    (out / "key-collision.lgt").write_text("# lgcheck prove: a shortest run (2 steps) that breaks key-collision\n")
    (out / "key-collision.itf.json").write_text('{\n "#meta": {\n  "format": "ITF",\n  "source": "lgcheck prove"}}\n')
    outside = tmp_path / "precious.lgt"
    outside.write_text("keep me\n")
    (out / "buffer-overflow.lgt").symlink_to(outside)
    (out / "status-cleared.itf.json").mkdir()
    cfg = Config(launcher="checked", faults=("launcher-sets-driver-ok",), invariants=("status-forbidden-bit",),
                 depth=3, induction=False, sysfs=False)
    run = prove(cfg, str(out))
    assert sorted(os.path.basename(p) for p in run.removed) == ["key-collision.itf.json", "key-collision.lgt"]
    left = sorted(os.listdir(out))
    assert left == ["buffer-overflow.lgt", "notes.lgt", "status-cleared.itf.json", "status-cleared.lgt.bak",
                    "status-forbidden-bit.itf.json", "status-forbidden-bit.lgt"]
    assert outside.read_text() == "keep me\n" and os.path.islink(out / "buffer-overflow.lgt")
    # a run that violates nothing leaves no counterexample behind, and makes no folder
    cfg = Config(launcher="checked", invariants=("status",), depth=2, induction=False, sysfs=False)
    run = prove(cfg, str(out))
    assert "status-forbidden-bit.lgt" not in os.listdir(out) and len(run.removed) == 2
    run = prove(cfg, str(tmp_path / "never"))
    assert not os.path.exists(tmp_path / "never")


@pytest.mark.parametrize(
    "body, said",
    [
        ("timeout = -1", "cfg.toml:3:1: timeout must be a number of seconds above 0, at most 2,000,000, not -1"),
        ("timeout = nan", "cfg.toml:3:1: timeout must be a number of seconds above 0, at most 2,000,000, not nan"),
        ("  depth = 0", "cfg.toml:3:3: depth must be at least 1, not 0"),
        ('"slots" = 0', "cfg.toml:3:1: slots must be 1..32 (LGUEST_MAX_DMA), not 0"),
        ('guests = "bogus"', "cfg.toml:3:1: guests must be one of conforming, any, not 'bogus'"),
        ("num-skbs = 5", "cfg.toml:3:1: num-skbs must be 0..2 (at most the buffers), not 5"),
        ('fault = ["nope"]', "cfg.toml:3:1: fault: unknown fault 'nope'"),
        ('inv = ["nope"]', "cfg.toml:3:1: inv: unknown invariant 'nope'"),
        ("depth = 1.5", "cfg.toml:3:1: depth = 1.5 is not of the right type (a whole number)"),
        ("colour = 1", "cfg.toml:3:1: unknown setting 'colour'"),
        ("timeout = 0.001\nslots = 8\nbuffers = 8", "cfg.toml:3:1: timeout 0.001: encoding one step"),
        ("timeout = 1e10", "cfg.toml:3:1: timeout must be a number of seconds above 0, at most 2,000,000, not 1000"),
    ],
)
def test_config_file_errors_name_the_file_line_and_key_not_the_option(tmp_path, capsys, body, said):
    conf = tmp_path / "cfg.toml"
    conf.write_text(f"# the model\nlauncher = \"2.6.23\"\n{body}\n")
    assert main(["prove", "--config", str(conf), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"lgcheck prove: error: {tmp_path}/{said}" in err and "--" + said.split(": ")[1].split()[0] not in err


def test_a_flag_that_overrides_a_config_value_is_named_as_the_flag(tmp_path, capsys):
    conf = tmp_path / "cfg.toml"
    conf.write_text("depth = 0\n")
    assert main(["prove", "--config", str(conf), "--depth", "0", "--no-progress"]) == 2
    assert "lgcheck prove: error: --depth must be at least 1, not 0" in capsys.readouterr().err


def test_an_empty_inv_list_in_a_config_file_is_refused_not_every_invariant(tmp_path, capsys):
    """`inv = []` reads as "none"; it used to prove every default invariant: refused, naming the line."""
    conf = tmp_path / "cfg.toml"
    conf.write_text("depth = 1\ninv = [\n]\n")
    assert main(["prove", "--config", str(conf), "--engine", "bmc", "--no-induction", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{conf}:2:1: inv = [] names no invariant; leave inv out for the default ones" in err
    assert main(["prove", "--config", str(conf), "--inv", "keys", "--timeout", "60", "--no-progress"]) == 2
    capsys.readouterr()  # a flag does not excuse the file's mistake: the file is read whole first


def test_out_dash_is_refused_not_a_folder_named_dash(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["prove", "--out", "-", "--inv", "keys", "--depth", "1", "--timeout", "60", "--no-progress"]) == 2
    assert "--out -: - is standard output, where the report goes" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("engine", ["auto", "bmc"])
@pytest.mark.parametrize("timeout", ["4294967.296", "1e10", "1e300"])
def test_a_timeout_too_long_to_wait_is_a_usage_error_not_an_overflow(tmp_path, capsys, engine, timeout):
    """A long --timeout reached poll() and setitimer() as a number they cannot hold: OverflowError, exit 4."""
    argv = ["prove", "--engine", engine, "--slots", "1", "--buffers", "1", "--sections", "1"]
    assert main([*argv, "--timeout", timeout, "--no-progress", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--timeout must be a number of seconds above 0, at most 2,000,000, not {float(timeout)!r}" in err
    assert "internal error" not in err


def test_a_refused_tiny_timeout_says_how_long_one_step_takes():
    """The estimate was printed with no decimals: "takes about 0 s ..., longer than the time limit"."""
    from lgcheck.checker.cli import DEFAULTS, _check_limits
    from lgcheck.checker.config import SettingError

    with pytest.raises(SettingError) as e:
        _check_limits({**DEFAULTS, "timeout": 0.001, "slots": 1, "buffers": 1, "sections": 1})
    assert "takes about 0.08 s" in str(e.value)


def test_an_empty_out_is_refused_before_any_solving(monkeypatch, capsys):
    """`--out ""` passed the check made before solving and failed only at the write after it
    ("cannot write: No such file or directory")."""
    from lgcheck.checker import pipeline

    def never(*args, **kw):
        raise AssertionError("solving started")

    monkeypatch.setattr(pipeline, "prove", never)
    assert main(["prove", "--out", "", "--inv", "status-forbidden-bit", "--timeout", "30", "--no-progress"]) == 2
    assert "--out : is empty; give a folder" in capsys.readouterr().err
