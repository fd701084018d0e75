"""Certificates: what `lgcheck prove` proves for every depth re-checks with bitwuzla; nothing else does.

`lgcheck certify` rebuilds the three queries from the model and the recorded
configuration and reads only the invariant from a certificate, so a file
that is not a proof about this model is refused (exit 1, naming the query),
and a file that cannot be read is a usage error (exit 2), never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import pytest

from lgcheck.checker import certificate as C
from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import prove
from lgcheck.cli import main

DEFAULTS = {"default": Config(), "checked": Config(launcher="checked", sysfs=False)}


@dataclasses.dataclass
class Proved:
    every: list  # the invariants prove settled for every depth
    certificates: dict  # invariant -> .smt2
    folder: str  # --out
    verdicts: dict  # invariant -> (status, every depth, depth): what --engine bmc says


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    """{name: Proved} for the two default configurations (no z3 objects: a failure's report stays short)."""
    out = {}
    for name, cfg in DEFAULTS.items():
        folder = str(tmp_path_factory.mktemp(name))
        run = prove(cfg, folder)
        every = sorted(n for n, r in run.results.items() if r.status == "holds" and r.inductive)
        verdicts = {n: (r.status, n in every, None if n in every else r.depth) for n, r in run.results.items()}
        out[name] = Proved(every, dict(run.certificates), folder, verdicts)
    return out


def certify(capsys, *argv):
    status = main(["certify", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return status, captured.out, captured.err


# ---------------------------------------------------------------- what prove writes re-checks


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_certificate_of_the_default_configurations_rechecks(proved, name, capsys):
    every, folder = proved[name].every, proved[name].folder
    assert every and sorted(proved[name].certificates) == every
    if name == "checked":
        assert len(every) == 6  # all six hold with the checked Launcher and no sysfs writes
    status, out, _ = certify(capsys, folder, "--json")
    assert status == 0, out
    doc = json.loads(out)
    assert doc["solver"].startswith("bitwuzla")
    assert sorted(c["invariant"] for c in doc["certificates"]) == every
    for c in doc["certificates"]:
        assert c["status"] == "re-checked" and c["queries"] == {"a": "unsat", "b": "unsat", "c": "unsat"}, c


def test_the_default_engine_agrees_with_bmc_on_the_default_model_and_writes_what_it_writes(proved, tmp_path, capsys):
    """`lgcheck prove` with no flags (--engine auto): bmc's verdicts, replaying counterexamples, certificates."""
    from lgcheck.replay.engine import replay_file
    from lgcheck.replay.parser import read_trace

    out = tmp_path / "cx"
    assert main(["prove", "--json", "--no-progress", "--out", str(out)]) == 1
    doc = json.loads(capsys.readouterr().out)
    # The search never exhausts this model: it is still running when the answers are in, and is compared
    # for at least the window's floor.
    from lgcheck.checker.portfolio import COMPARE_FLOOR

    assert doc["engine"] == "auto" and doc["compare_seconds"] >= COMPARE_FLOOR
    got = {r["invariant"]: (r["status"], r["every_depth"], r["depth"]) for r in doc["results"]}
    assert got == proved["default"].verdicts
    assert {r["engine"] for r in doc["results"]} <= {"bfs", "bmc", "induction"}
    for r in doc["results"]:
        if r["status"] == "violated":
            lgt = r["counterexample"]["lgt"]
            assert os.path.isfile(r["counterexample"]["itf"])
            last = list(read_trace(lgt))[-1].line
            findings = replay_file(lgt).findings
            assert r["invariant"] in {f.rule for f in findings if f.line == last}, findings
    # The same certificates as --engine bmc's (that those re-check is the test above).
    certificates = {r["invariant"]: r["certificate"] for r in doc["results"] if r["certificate"]}
    assert sorted(certificates) == sorted(proved["default"].certificates)
    for n, path in certificates.items():
        assert os.path.basename(path) == os.path.basename(proved["default"].certificates[n]) and os.path.isfile(path)


def test_prove_says_where_each_certificate_went(tmp_path, capsys):
    # --engine bmc: the default (auto) would add its compare window; the test above covers auto's certificates.
    argv = ["prove", "--engine", "bmc", "--launcher", "checked", "--no-sysfs", "--inv", "status"]
    assert main([*argv, "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    for inv in ("status-cleared", "status-forbidden-bit"):
        path = os.path.join(str(tmp_path), "certificates", f"{inv}.smt2")
        assert f"  certificate: {path}" in out and os.path.isfile(path)
    status, text, _ = certify(capsys, str(tmp_path))
    assert status == 0 and "2 certificates: 2 re-checked by bitwuzla" in text


@pytest.mark.parametrize("engine", ["bmc", "auto"])
def test_a_check_with_nothing_to_compare_is_trivially_true_and_gets_no_certificate(tmp_path, capsys, engine):
    # One Guest with one slot has no two bindings: key-collision's check is empty.  prove said "the
    # rules keep it" and wrote a certificate that certify then refused as vacuous (exit 1).
    size = ["--guest-count", "1", "--slots", "1", "--buffers", "2", "--sections", "1", "--no-sysfs", "--depth", "4"]
    argv = ["prove", "--engine", engine, *size, "--inv", "keys", "--compare", "0", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    results = {r["invariant"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    collision, outside = results["key-collision"], results["key-outside-device"]
    assert collision["certificate"] is None and outside["vacuous"] != "empty"
    if engine == "bmc" or collision["engine"] == "induction":
        # under auto the search may exhaust this tiny model first: its proof says nothing of vacuity
        assert collision["vacuous"] == "empty"
    if engine == "bmc":
        # key-outside-device has a check at this size (it compares keys with the device pages): certified
        assert outside["certificate"]
        status, text, _ = certify(capsys, str(tmp_path))
        assert status == 0 and "1 certificate: 1 re-checked by bitwuzla" in text


def test_a_certificate_is_a_script_any_solver_answers_unsat_three_times(proved, capfd):
    """Without lgcheck: the file alone, given to bitwuzla's own SMT-LIB reader."""
    import bitwuzla

    path = proved["checked"].certificates["key-collision"]
    tm = bitwuzla.TermManager()
    parser = bitwuzla.Parser(tm, bitwuzla.Options(), "smt2")
    parser.parse(path, False, True)
    assert capfd.readouterr().out.split() == ["unsat", "unsat", "unsat"]


def test_an_earlier_runs_certificates_are_removed(tmp_path):
    folder = str(tmp_path / "certificates")
    cfg = Config(launcher="checked")
    paths = C.write_certificates(cfg, ["key-outside-device"], [], folder)
    assert os.path.isfile(paths["key-outside-device"])
    assert C.write_certificates(cfg, [], [], folder) == {}
    assert os.listdir(folder) == []


def test_certificates_replace_links_rather_than_write_through_them(tmp_path):
    """The certificates were opened with open(path, "w"): a link at certificates/R.smt2 or manifest.json
    (left by anyone) wrote the proof into the file it named."""
    from lgcheck.checker import bfs_certificate

    folder = tmp_path / "certificates"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    for name in ("key-outside-device.smt2", "manifest.json"):
        (folder / name).symlink_to(victim)
    cfg = Config(launcher="checked")
    C.write_certificates(cfg, ["key-outside-device"], [], str(folder))
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").symlink_to(victim)
    bfs_certificate.write(str(folder), cfg, [])
    assert victim.read_text() == "keep me\n"
    assert not any(os.path.islink(folder / n) for n in os.listdir(folder))


def test_out_whose_certificates_folder_is_a_link_is_refused(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "certificates").symlink_to(elsewhere)
    argv = ["prove", "--engine", "bfs", "--inv", "key-collision", "--timeout", "5", "--out", str(out)]
    assert main(argv) == 2
    assert "certificates is a symbolic link" in capsys.readouterr().err
    assert os.listdir(elsewhere) == []


def test_the_manifest_records_every_setting_of_the_model():
    """A Config field that is not in describe() would be lost: certify would rebuild another model."""
    # induction, k_max and bmc_solver are how prove searches, not the model
    fields = {f.name for f in dataclasses.fields(Config)} - {"induction", "k_max", "bmc_solver"}
    # (num_skbs is described only when on: manifests written before it describe their model without it.)
    assert fields <= set(Config(num_skbs=2).describe())
    on = Config(num_skbs=2)
    for cfg in (Config(), Config(launcher="checked", faults=("guest-rebinds-key",), guest_mode="any", slots=3), on):
        assert C.config_from_dict(json.loads(json.dumps(cfg.describe()))).describe() == cfg.describe()


# ---------------------------------------------------------------- tampered certificates are refused


def tampered(src: str, dst, invariant: str, body=None, config=None) -> str:
    """A copy of the certificates under `src` with only `invariant`'s, its invariant or configuration changed."""
    dst = str(dst)
    shutil.copytree(os.path.join(src, "certificates"), dst)
    manifest = os.path.join(dst, C.MANIFEST)
    with open(manifest) as fh:
        doc = json.load(fh)
    doc["certificates"] = [c for c in doc["certificates"] if c["invariant"] == invariant]
    if config is not None:
        doc["config"].update(config)
    with open(manifest, "w") as fh:
        json.dump(doc, fh)
    if body is not None:
        path = os.path.join(dst, f"{invariant}.smt2")
        with open(path) as fh:
            text = fh.read()
        old = C.read_invariant(path)
        lemmas = doc["certificates"][0]["lemmas"]
        with open(path, "w") as fh:
            fh.write(text.replace(old, body(old, lemmas) if callable(body) else body, 1))
    return dst


def without(name: str):
    """The invariant with the lemma `name` left out of its (and ...)."""

    def drop(old, lemmas):
        (form,) = C.read_sexps(old)
        i = lemmas.index(name) + 1  # items[0] is `and`
        assert form.items[0].text == "and"
        return old[: form.items[i].start] + old[form.items[i].end :]

    return drop


@pytest.mark.parametrize(
    "invariant, body, query",
    [
        ("key-collision", "false", "(a)"),  # proves anything from nothing: no initial state satisfies it
        ("key-collision", "true", "(c)"),  # too weak: key-collision needs the lemmas on live bindings
        ("write-to-used-buffer", "(= g0.slot0.interrupt@s #x0000)", "(b)"),  # not kept by a bind
    ],
)
def test_an_invariant_that_is_no_proof_is_refused_naming_the_query(proved, tmp_path, capsys, invariant, body, query):
    folder = tampered(proved["checked"].folder, tmp_path / "t", invariant, body)
    status, out, _ = certify(capsys, folder)
    assert status == 1, out
    assert f"{invariant}: REFUSED: query {query}" in out
    assert "0 re-checked" in out


def test_a_lemma_removed_where_it_is_needed_is_refused(proved, tmp_path, capsys):
    with open(os.path.join(proved["checked"].folder, "certificates", C.MANIFEST)) as fh:
        (entry,) = [c for c in json.load(fh)["certificates"] if c["invariant"] == "key-collision"]
    # Key-collision rests on "a live binding holds one of its Guest's own keys"; try those first.
    order = sorted(entry["lemmas"], key=lambda n: "own keys" not in n)
    for i, lemma in enumerate(order):
        folder = tampered(proved["checked"].folder, tmp_path / f"t{i}", "key-collision", without(lemma))
        status, out, _ = certify(capsys, folder)
        assert status in (0, 1), out
        if status == 1:
            assert "query (b)" in out or "query (c)" in out
            return
    pytest.fail("no lemma of key-collision's invariant is needed: then certificate checking proves nothing")


@pytest.mark.parametrize(
    "body, message",
    [
        ("(= nonsense@s #x0000)", "unknown constant nonsense@s"),
        ("(= g0.slot0.interrupt@t #x0000)", "unknown constant g0.slot0.interrupt@t"),  # the state after: not free
        ("(= sel@step #x0000)", "unknown constant sel@step"),  # a step's choice
        ("(= g0.dead@s #x0000)", "not a formula over this model's state"),  # a Bool used as a bit-vector
        ("g0.slot0.interrupt@s", "not a formula over this model's state"),  # a bit-vector, not a Bool
        ("(forall ((x (_ BitVec 16))) (= x x))", "quantifier"),
    ],
)
def test_a_symbol_that_is_no_variable_of_the_model_is_refused(proved, tmp_path, capsys, body, message):
    folder = tampered(proved["checked"].folder, tmp_path / "t", "key-outside-device", body)
    status, out, _ = certify(capsys, folder)
    assert status == 1, out
    assert "key-outside-device: REFUSED:" in out and message in out


@pytest.mark.parametrize(
    "invariant, config",
    [
        ("write-to-used-buffer", {"launcher": "2.6.23"}),  # the real Launcher fills used buffers
        ("write-to-used-buffer", {"faults": ["host-skips-used-len-check"]}),
        ("key-collision", {"faults": ["two-guests-one-slot"]}),
        ("status-cleared", {"faults": ["guest-clears-status"]}),
    ],
)
def test_a_certificate_moved_to_another_model_is_refused(proved, tmp_path, capsys, invariant, config):
    folder = tampered(proved["checked"].folder, tmp_path / "t", invariant, config=config)
    status, out, _ = certify(capsys, folder)
    assert status == 1, out
    assert f"{invariant}: REFUSED: query" in out


# ---------------------------------------------------------------- malformed input: exit 2, a clear message


def _manifest(folder, doc):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, C.MANIFEST), "w") as fh:
        fh.write(doc if isinstance(doc, str) else json.dumps(doc))
    return str(folder)


def _good(**change):
    doc = {"format": C.FORMAT, "config": Config().describe(), "certificates": []}
    doc.update(change)
    return doc


@pytest.mark.parametrize(
    "doc, message",
    [
        ("{not json", "not JSON"),
        ({"format": "something-else/9"}, "not an lgcheck certificate manifest"),
        (_good(config={**Config().describe(), "slots": 0}), "--slots must be"),
        (_good(config={**Config().describe(), "slots": "2"}), "slots = '2' is not of the right type"),
        (_good(config={**Config().describe(), "faults": ["no-such-fault"]}), "unknown fault"),
        (_good(config={**Config().describe(), "colour": "blue"}), "does not describe a model of this checker"),
        (_good(certificates=[{"invariant": "no-such-rule", "file": "x.smt2"}]), "unknown invariant"),
        (_good(certificates=[{"invariant": "key-collision", "file": "../x.smt2"}]), "must be a name in its folder"),
        (_good(certificates=[{"invariant": "key-collision"}]), "needs an `invariant` and a `file`"),
        (_good(certificates={}), "`certificates` is not a list"),
        # Past what prove encodes, so no proof of it was written: rebuilding its step ran for hours.
        (
            _good(config={**Config().describe(), "guests": 16, "slots": 32, "sections": 16}),
            "guests^2 x slots x buffers x sections = 262,144, past the 4,096",
        ),
    ],
)
def test_a_malformed_manifest_is_a_usage_error(tmp_path, capsys, doc, message):
    status, out, err = certify(capsys, _manifest(tmp_path / "m", doc))
    assert status == 2, out + err
    assert "lgcheck certify: error:" in err
    assert message in err


@pytest.mark.parametrize(
    "text, message",
    [
        ("(define-fun invariant () Bool (and true)", "is never closed"),
        ("(define-fun invariant () Bool true))", "closes nothing"),
        ("(define-fun other () Bool true)", "no definition of `invariant`"),
        ("(define-fun invariant () Bool true)\n(define-fun invariant () Bool false)", "2 definitions"),
        ("(define-fun invariant ((x Bool)) Bool x)", "must be defined as"),
        ('(define-fun invariant () Bool "unterminated)', "unreadable SMT-LIB text"),
        (b"\xff\xfe\x00binary", "not a text file"),
        (None, "cannot read"),
    ],
)
def test_a_malformed_certificate_file_is_a_usage_error(tmp_path, capsys, text, message):
    folder = _manifest(tmp_path / "m", _good(certificates=[{"invariant": "key-collision", "file": "k.smt2"}]))
    if text is not None:
        with open(os.path.join(folder, "k.smt2"), "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode())
    status, out, _ = certify(capsys, folder)
    assert status == 2, out
    assert "key-collision: MALFORMED:" in out and message in out


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_certificate_that_is_not_a_regular_file_is_refused_not_read(tmp_path, capsys, kind):
    """A FIFO at a certificate's name hung certify for ever; a link to /dev/zero read until memory ran out
    (an internal error, exit 4, or the machine's memory)."""
    folder = _manifest(tmp_path / "m", _good(certificates=[{"invariant": "key-collision", "file": "k.smt2"}]))
    if kind == "fifo":
        os.mkfifo(os.path.join(folder, "k.smt2"))
    else:
        os.symlink("/dev/zero", os.path.join(folder, "k.smt2"))
    status, out, _ = certify(capsys, folder)
    assert status == 2, out
    assert "key-collision: MALFORMED: cannot read: not a regular file" in out


def test_a_crafted_manifests_names_reach_the_terminal_escaped(tmp_path, capsys):
    # The names a manifest gives (a bfs entry's invariants, a certificate's file) were printed as written:
    # a certificate folder from elsewhere could clear the screen or reorder the line that judges it.
    doc = _good(
        certificates=[{"invariant": "key-collision", "file": "\x1b[2J.smt2"}],
        bfs=[{"invariants": ["\x1b[2Jevil\u202e"], "states": 3}],
    )
    status, out, err = certify(capsys, _manifest(tmp_path / "m", doc))
    assert status == 2, out + err
    assert "\x1b" not in out + err and "\u202e" not in out + err
    assert "\\x1b[2Jevil\\u202e: MALFORMED" in out and "\\x1b[2J.smt2: key-collision: MALFORMED" in out


def test_a_folder_without_certificates_is_a_usage_error(tmp_path, capsys):
    status, _, err = certify(capsys, str(tmp_path))
    assert status == 2 and "no manifest.json" in err
    status, _, err = certify(capsys, str(tmp_path / "missing"))
    assert status == 2 and "no such file or folder" in err


def test_one_certificate_file_is_checked_against_the_manifest_beside_it(proved, tmp_path, capsys):
    status, out, _ = certify(capsys, proved["checked"].certificates["key-outside-device"])
    assert status == 0 and "1 certificate: 1 re-checked" in out
    stray = tmp_path / "stray.smt2"
    shutil.copy(proved["checked"].certificates["key-outside-device"], stray)
    status, _, err = certify(capsys, str(stray))
    assert status == 2 and "cannot read" in err  # no manifest beside it


def test_several_folders_exit_with_the_highest_status(proved, tmp_path, capsys):
    bad = tampered(proved["checked"].folder, tmp_path / "t", "key-collision", "false")
    status, out, err = certify(capsys, proved["checked"].folder, bad, str(tmp_path / "missing"))
    assert status == 2
    assert "REFUSED" in out and "no such file or folder" in err


# ---------------------------------------------------------------- unknown and internal errors


def test_a_query_the_solver_leaves_unknown_is_exit_3(proved, tmp_path, capsys):
    folder = tampered(proved["checked"].folder, tmp_path / "t", "buffer-overflow")
    status, out, _ = certify(capsys, folder, "--timeout", "0.001")
    assert status == 3, out
    assert "UNKNOWN: query" in out


@pytest.mark.parametrize("timeout", ["nan", "inf", "1e300", "0", "-1"])
def test_a_timeout_that_is_no_time_limit_is_a_usage_error(proved, capsys, timeout):
    """nan, inf and 1e300 reached bitwuzla as a time limit that did not convert: every good certificate was
    REFUSED as "not a QF_BV formula bitwuzla reads", exit 1."""
    status, out, err = certify(capsys, "--timeout", timeout, proved["checked"].folder)
    assert status == 2, out + err
    assert "REFUSED" not in out and "--timeout must be a number of seconds above 0, at most 2,000,000" in err


def test_an_internal_error_is_exit_4_without_traceback(proved, tmp_path, capsys, monkeypatch):
    def broken(cfg):
        raise RuntimeError("boom")

    monkeypatch.setattr(C, "rebuild", broken)
    status, out, _ = certify(capsys, tampered(proved["checked"].folder, tmp_path / "t", "key-collision"))
    assert status == 4
    assert "internal error: RuntimeError: boom" in out
