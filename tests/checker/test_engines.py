"""--engine bfs and --engine auto: the explicit-state search agrees with BMC, and disagreement is exit 4."""

from __future__ import annotations

import json
import time

import pytest

from lgcheck.checker import bfs
from lgcheck.checker.config import Config
from lgcheck.checker.pipeline import prove
from lgcheck.cli import main

SMALL = dict(slots=1, buffers=1, sections=1)


def _verdicts(run):
    return {n: (r.status, r.depth) for n, r in run.results.items()}


def test_bfs_and_bmc_agree_on_the_default_model_to_a_small_depth(tmp_path):
    """Per invariant: the same verdict and the same counterexample length (the default rules, sysfs on)."""
    cfg = Config(depth=2, induction=False, **SMALL)
    by_bfs = prove(cfg, str(tmp_path / "bfs"), engine="bfs")
    by_bmc = prove(cfg, str(tmp_path / "bmc"), engine="bmc")
    assert _verdicts(by_bfs) == _verdicts(by_bmc)
    assert any(r.status == "violated" for r in by_bfs.results.values())  # something to compare lengths of
    assert all(r.engine == "bfs" and r.states > 1 for r in by_bfs.results.values())


@pytest.mark.parametrize(
    "fault, inv",
    [
        ("guest-rebinds-key", "key-collision"),  # needs two slots
        ("guest-clears-status", "status-cleared"),
        ("launcher-ignores-iov-length", "buffer-overflow"),
        ("host-copies-source-length", "buffer-overflow"),
    ],
)
def test_a_fault_gives_the_same_shortest_counterexample_length_and_it_replays(tmp_path, fault, inv):
    small = dict(SMALL, slots=2)
    cfg = Config(launcher="checked", faults=(fault,), invariants=(inv,), depth=4, induction=False, **small)
    by_bfs = prove(cfg, str(tmp_path / "bfs"), engine="bfs")
    by_bmc = prove(cfg, str(tmp_path / "bmc"), engine="bmc")
    r, b = by_bfs.results[inv], by_bmc.results[inv]
    assert r.status == b.status == "violated"
    assert r.steps == b.steps
    cx = by_bfs.counterexamples[inv]
    assert cx.finding is not None and cx.finding.rule == inv  # the written trace replays to its finding
    assert main(["replay", *(["--launcher", "checked"]), "--fault", fault, cx.lgt]) == 1


def test_exhausting_a_tiny_configuration_is_a_proof_with_a_state_count(tmp_path, capsys):
    args = ["prove", "--engine", "bfs", "--guest-count", "1", "--no-sysfs", "--inv", "status", "--depth", "40"]
    args += ["--slots", "1", "--buffers", "1", "--sections", "1", "--json", "--out", str(tmp_path)]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"] == "bfs" and doc["exhausted"] is True
    # Three devices, each status any OR of the four bits the drivers set: 16 ** 3 states.
    assert doc["states"] == 16**3
    assert all(r["every_depth"] and r["status"] == "holds" and r["states"] == 16**3 for r in doc["results"])


def test_the_search_stops_at_its_state_limit_as_unknown(tmp_path, capsys):
    args = ["prove", "--engine", "bfs", "--max-states", "50", "--inv", "keys", "--no-progress", "--out", str(tmp_path)]
    assert main(args) == 3
    assert "state limit reached" in capsys.readouterr().out


def test_a_disagreement_between_engines_is_an_internal_error(tmp_path, monkeypatch, capsys):
    """A BFS that wrongly claims to have seen every state, against BMC's 1-step counterexample: exit 4."""

    def lying_search(cfg, names, *args, **kw):
        return bfs.Outcome(states=1, exhausted=True, per={n: (1, 0, True) for n in names})

    monkeypatch.setattr(bfs, "search", lying_search)  # the BFS process is a fork: it runs this one
    args = ["prove", "--engine", "auto", "--fault", "guest-binds-outside-device", "--inv", "key-outside-device"]
    assert main([*args, "--no-induction", "--no-progress", "--out", str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert "internal error" in err and "bfs proved it for every depth" in err


def test_auto_reports_the_first_answer_and_agrees(tmp_path, capsys):
    args = ["prove", "--engine", "auto", "--fault", "guest-binds-outside-device", "--inv", "key-outside-device"]
    assert main([*args, "--no-induction", "--json", "--out", str(tmp_path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    (r,) = doc["results"]
    assert doc["engine"] == "auto" and r["status"] == "violated" and r["depth"] == 1
    assert r["engine"] in ("bfs", "bmc")


def test_bfs_refuses_arbitrary_guests(capsys):
    assert main(["prove", "--engine", "bfs", "--guests", "any"]) == 2
    assert "conforming Guests only" in capsys.readouterr().err


def test_guest_symmetry_only_where_guests_are_alike():
    assert not bfs.symmetric(Config())  # each Guest has its own net slot: no symmetry
    assert bfs.symmetric(Config(faults=("two-guests-one-slot",)))


def test_symmetry_keeps_the_verdict_and_length(tmp_path):
    cfg = Config(faults=("two-guests-one-slot",), invariants=("key-collision",), depth=3, induction=False, **SMALL)
    with_sym = bfs.search(cfg, ["key-collision"], sym=True)
    without = bfs.search(cfg, ["key-collision"], sym=False)
    assert with_sym.found["key-collision"].steps == without.found["key-collision"].steps == 2


def test_the_search_stops_cleanly_near_its_memory_limit(monkeypatch):
    monkeypatch.setattr(bfs, "_address_space_mib", lambda: 900.0)
    out = bfs.search(Config(**SMALL), ["key-collision"], max_memory_mib=1000)
    assert out.stopped.startswith("memory limit reached") and not out.exhausted


def test_data_is_refused_by_the_search_that_keeps_no_contents(tmp_path, capsys):
    # BMC proves data-corrupted on tagged contents (test_prove_data.py); BFS's concrete states hold none.
    assert main(["prove", "--engine", "bfs", "--inv", "data", "--no-progress", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot judge data-corrupted" in err and "Traceback" not in err


def test_the_search_itself_refuses_data_corrupted():
    # Called directly (not through the CLI's refusal above), it says why, not an AttributeError.
    with pytest.raises(ValueError, match="cannot judge data-corrupted"):
        bfs.search(Config(**SMALL), ["data-corrupted"])


@pytest.mark.parametrize(
    "flags, status, verdicts",
    [
        (["--inv", "data"], 0, {"data-corrupted": "holds"}),
        (["--guests", "any", "--inv", "status"], 1, {"status-cleared": "holds", "status-forbidden-bit": "violated"}),
    ],
    ids=["data", "any-guests"],
)
def test_the_default_engine_is_bmc_where_the_search_does_not_apply(flags, status, verdicts, tmp_path, capsys):
    """`--engine auto`, the default, runs BMC alone (as --engine bmc) where BFS cannot judge or enumerate."""
    argv = ["prove", *flags, "--depth", "1", "--no-induction", "--json", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == status
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"] == "bmc" and "compare_seconds" not in doc
    assert {r["invariant"]: r["status"] for r in doc["results"]} == verdicts
    assert {r["engine"] for r in doc["results"]} == {"bmc"}


def test_which_claims_of_two_engines_conflict():
    from lgcheck.checker.portfolio import Portfolio

    def pf(*msgs):
        p = Portfolio(Config(depth=5), ["key-collision"])
        for m in msgs:
            p.take(m, 1.0)
        return p.conflict("key-collision")

    run = [(0, "bind", {})] * 3

    def broken(engine, steps):
        return ("violated", engine, "key-collision", steps, run[:steps], 1.0)

    assert pf(broken("bmc", 3), broken("bfs", 3)) == ""
    assert pf(broken("bmc", 3), ("depth", "bfs", 2, 1.0, {}, ["key-collision"])) == ""
    assert "no run of up to 3" in pf(broken("bmc", 3), ("depth", "bfs", 3, 1.0, {}, ["key-collision"]))
    assert "no run of up to 4" in pf(broken("bfs", 3), ("depths", "bmc", 4, 1.0, {"key-collision": 4}))
    assert "shortest" in pf(broken("bfs", 2), broken("bmc", 3))
    assert "every depth" in pf(broken("bfs", 2), ("proved", "induction", "key-collision", 1.0, {}))


TINY = ["--engine", "bfs", "--guest-count", "1", "--no-sysfs", "--inv", "status", "--depth", "40"]
TINY += ["--slots", "1", "--buffers", "1", "--sections", "1"]


def _tamper(manifest, key, value):
    doc = json.loads(manifest.read_text())
    doc["bfs"][0][key] = value
    manifest.write_text(json.dumps(doc))


def test_an_exhausted_search_writes_a_certificate_that_certify_re_searches(tmp_path, capsys):
    """The certificate names the states; certify runs the search again and compares count and digest."""
    assert main(["prove", *TINY, "--no-progress", "--out", str(tmp_path)]) == 0
    manifest = tmp_path / "certificates" / "manifest.json"
    (entry,) = json.loads(manifest.read_text())["bfs"]
    assert entry["engine"] == "bfs" and "value domains" in entry["proof"]
    assert sorted(entry["invariants"]) == ["status-cleared", "status-forbidden-bit"]
    assert entry["states"] == 16**3 and entry["digest"].startswith("sha256:") and entry["depth"] > 0
    assert set(entry["induction"].values()) == {"proves it too"}  # the cross-check: induction agrees
    capsys.readouterr()
    assert main(["certify", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "same digest" in out
    # The summary credits the search run again, not the second solver that never saw it.
    assert "re-checked by running the search again" in out and "bitwuzla" not in out
    assert main(["certify", "--json", str(tmp_path)]) == 0
    methods = {c["method"] for c in json.loads(capsys.readouterr().out)["certificates"] if c["invariant"]}
    assert methods == {"search run again"}

    _tamper(manifest, "states", 16**3 - 1)
    assert main(["certify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and "states: certificate says 4095, the search gives 4096" in out

    _tamper(manifest, "states", 16**3)
    _tamper(manifest, "digest", "sha256:" + "0" * 64)
    assert main(["certify", str(tmp_path)]) == 1
    assert "digest: certificate says" in capsys.readouterr().out


def test_certify_timeout_bounds_the_search_it_runs_again_and_says_unknown(tmp_path, capsys):
    """--timeout bounded the solver's queries but not the re-run search: a manifest whose search does not
    end (here: a second Guest) kept certify running past any --timeout."""
    assert main(["prove", *TINY, "--no-progress", "--out", str(tmp_path)]) == 0
    manifest = tmp_path / "certificates" / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["config"]["guests"] = 2
    manifest.write_text(json.dumps(doc))
    capsys.readouterr()
    started = time.monotonic()
    assert main(["certify", "--timeout", "1", str(tmp_path)]) == 3
    assert time.monotonic() - started < 20
    assert "UNKNOWN: the search did not end within --timeout 1 s" in capsys.readouterr().out


def test_ctrl_c_in_certifys_search_is_an_interrupt_not_a_refused_certificate(tmp_path, capsys, monkeypatch):
    """The search keeps what it found when Ctrl-C stops it, and certify read "did not exhaust the state
    space (interrupted (Ctrl-C))" as the certificate's fault: REFUSED, exit 1, not 130."""
    assert main(["prove", *TINY, "--no-progress", "--out", str(tmp_path)]) == 0
    capsys.readouterr()

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(bfs.Cone, "level", interrupted)
    assert main(["certify", str(tmp_path)]) == 130
    captured = capsys.readouterr()
    assert "REFUSED" not in captured.out and "interrupted" in captured.err


def test_a_malformed_bfs_certificate_is_refused_clearly(tmp_path, capsys):
    assert main(["prove", *TINY, "--no-induction", "--no-progress", "--out", str(tmp_path)]) == 0
    manifest = tmp_path / "certificates" / "manifest.json"
    assert "induction" not in json.loads(manifest.read_text())["bfs"][0]
    doc = json.loads(manifest.read_text())
    del doc["bfs"][0]["digest"]
    manifest.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["certify", str(tmp_path)]) == 2
    assert "needs invariants, states, depth, digest" in capsys.readouterr().out
    # Names the model does not check, or one the search cannot judge: malformed, never "none breaks it".
    for names, says in [(["no-such-rule"], "not invariants this model checks"), (["data-corrupted"], "not invariants")]:
        doc = json.loads(manifest.read_text())
        doc["bfs"][0]["digest"] = "sha256:" + "0" * 64
        doc["bfs"][0]["invariants"] = names
        manifest.write_text(json.dumps(doc))
        assert main(["certify", str(tmp_path)]) == 2
        out = capsys.readouterr().out
        assert says in out and "none breaks" not in out


def test_a_counterexample_to_induction_from_a_reached_state_is_an_engine_disagreement(tmp_path, monkeypatch, capsys):
    """Induction that wrongly breaks the invariant from the initial state (which BFS reached): exit 4."""
    from lgcheck.checker import induction
    from lgcheck.checker.symstate import SymState

    def lying_prove(cfg, names, *args, **kw):
        st = SymState(cfg)
        cti = {name: st.get(obj, attr, idx) for name, obj, attr, idx in st.fields()}
        return {n: induction.Verdict(cti=cti) for n in names}, []

    monkeypatch.setattr(induction, "prove", lying_prove)
    assert main(["prove", *TINY, "--no-progress", "--out", str(tmp_path)]) == 4
    err = capsys.readouterr().err
    assert "internal error" in err and "from a state the search reached" in err


def _reference_levels(cfg, actions, depth):
    """The search written plainly: whole copies, the interpreted rules, every candidate through `domain`."""
    from lgcheck.checker.symstate import SymState
    from lgcheck.checker.transition import Case, domain, perform
    from lgcheck.spec.ops import Concrete

    dom = bfs.domains(cfg)
    secs = bfs._sections(cfg, dom)
    init = SymState(cfg)
    seen, frontier, broken = {bfs.fingerprint(init, False)}, [init], set()
    for _ in range(depth):
        nxt = []
        for st in frontier:
            for g in range(cfg.guests):
                for action in actions:
                    if st.dead[g] or (action == "output") != bool(st.pending[g]):
                        continue
                    for p in bfs.candidates(cfg, dom, secs, st, g, action):
                        if domain(Concrete, cfg, st, g, action, p, True) is not True:
                            continue
                        new = st.copy()
                        perform(Concrete, cfg, new, g, action, p, True, Case(g, action, True))
                        broken |= {n for n, ok in new.checks if ok is False}
                        new.checks = []
                        fp = bfs.fingerprint(new, False)
                        if fp not in seen:
                            seen.add(fp)
                            nxt.append(new)
        frontier = nxt
    return seen, broken


def test_the_fast_search_reaches_exactly_the_states_of_a_plain_one():
    """Copy-on-write states, cached menus, cached fingerprint parts and the compiled rules change no state.

    Two Guests with a fault whose run uses sends, fills, outputs and binds,
    three levels: the same set of fingerprints and the same invariants
    broken as a search with whole copies and the written rules.
    """
    cfg = Config(launcher="checked", faults=("host-skips-used-len-check",), depth=3, **SMALL)
    names = ["write-to-used-buffer", "buffer-overflow", "key-collision", "key-outside-device"]
    (_, actions), *_ = bfs.cones(cfg, names)
    seen, ref_broken = _reference_levels(cfg, actions, 3)
    assert len(seen) > 1000 and {"send", "fill", "output", "bind", "dma"} <= set(actions)
    for compiled in (True, False):
        dom = bfs.domains(cfg)
        cone = bfs.Cone(cfg, names, actions, False, dom, bfs._sections(cfg, dom), compiled, defer=False)
        broken = set()
        for _ in range(3):
            cone.level(lambda f, broken=broken: broken.add(f.invariant), lambda: "")
            cone.open = set(names)  # keep searching past a first violation, as the reference does
        assert set(cone.seen) == seen and broken == ref_broken & set(names)


def test_a_cone_watches_only_its_invariants_and_finds_the_same_runs(monkeypatch):
    """The search runs the monitors of the invariants it was asked about, no others (spec/monitors.py observe).

    A check of another invariant could never be reported, and no monitor
    changes a later step: the same states and the same shortest run as a
    search that watches every invariant (write-to-used-buffer's monitor
    observes the same writes as buffer-overflow's, and key-collision's the binds).
    """
    from lgcheck.spec import compiled, monitors

    cfg = Config(launcher="checked", faults=("launcher-ignores-iov-length",), depth=3, **SMALL)
    names = ["buffer-overflow"]
    (_, actions), *_ = bfs.cones(cfg, names)
    dom = bfs.domains(cfg)
    for is_compiled, module in ((True, compiled.MODULE["monitors"]), (False, monitors)):
        cone = bfs.Cone(cfg, names, actions, False, dom, bfs._sections(cfg, dom), is_compiled, defer=False)
        watched = {fn for fns in cone.proto.monitored.values() for fn in fns}
        assert watched == {module.MONITORS["buffer-overflow"][1]}
    asked = bfs.search(cfg, names, sym=False)
    real = bfs.Cone.__init__

    def watching_all(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self.proto.monitored = None  # every invariant's monitor, as before

    monkeypatch.setattr(bfs.Cone, "__init__", watching_all)
    every = bfs.search(cfg, names, sym=False)
    assert asked.found["buffer-overflow"].path == every.found["buffer-overflow"].path
    assert asked.found["buffer-overflow"].steps == 2 and asked.states == every.states


def test_deferred_writes_keep_every_faults_verdict_and_shortest_length():
    """The reduction (docs/engines.md "Deferred descriptor writes") against the plain search, fault by fault."""
    from lgcheck.checker.faults import FAULTS

    for f in FAULTS.values():
        slots = 2 if f.name == "guest-rebinds-key" else 1  # it needs a second slot
        cfg = Config(launcher="checked", faults=(f.name,), depth=5, slots=slots, buffers=1, sections=1, sysfs=False)
        runs = [bfs.search(cfg, [f.breaks], sym=False, defer=defer) for defer in (True, False)]
        assert runs[0].deferred and not runs[1].deferred
        lengths = [{n: x.steps for n, x in out.found.items()} for out in runs]
        assert lengths[0] == lengths[1] and f.breaks in lengths[0], f.name


def test_a_deferred_run_is_written_with_the_values_its_reads_chose_and_replays(tmp_path):
    fault, inv = "host-copies-source-length", "buffer-overflow"
    cfg = Config(launcher="checked", faults=(fault,), invariants=(inv,), depth=4, induction=False, sysfs=False, **SMALL)
    run = prove(cfg, str(tmp_path), engine="bfs", limits={"defer": True})
    r = run.results[inv]
    assert run.outcome.deferred and r.status == "violated" and r.steps == 3
    assert any(a == "dma" and "used" in p for _, a, p in run.outcome.found[inv].path)  # a decided deferred write
    cx = run.counterexamples[inv]
    assert cx.finding is not None and cx.finding.rule == inv
    assert main(["replay", "--launcher", "checked", "--fault", fault, cx.lgt]) == 1


def test_a_concrete_state_is_covered_by_a_deferred_one_only_with_a_value_a_write_allows():
    cfg = Config(guests=1, depth=2, sysfs=False, **SMALL)
    names = ["write-to-used-buffer"]
    dom = bfs.domains(cfg)
    secs = bfs._sections(cfg, dom)
    (_, actions), *_ = bfs.cones(cfg, names)
    cone = bfs.Cone(cfg, names, actions, False, dom, secs, defer=True)
    cone.level(lambda f: None, lambda: "")
    fp = next(f for f in cone.seen if any(u < 0 for u, _, _ in f[0][1]))  # one descriptor written, deferred
    i = next(k for k, (u, _, _) in enumerate(fp[0][1]) if u < 0)
    old = -1 - fp[0][1][i][0]

    def with_cell(cell):
        cells = fp[0][1][:i] + (cell,) + fp[0][1][i + 1 :]
        return ((fp[0][0], cells) + fp[0][2:],) + fp[1:]

    addrs, lens = secs[-1]
    assert bfs.covered(with_cell((old, tuple(addrs), tuple(lens))), cone.seen, secs)
    assert bfs.covered(with_cell((0, tuple(addrs), tuple(lens))), cone.seen, secs)
    assert not bfs.covered(with_cell((old + 7, tuple(addrs), tuple(lens))), cone.seen, secs)
    assert not bfs.covered(with_cell((0, (1,) * len(addrs), tuple(lens))), cone.seen, secs)


def test_a_run_that_settles_nothing_keeps_an_earlier_counterexample(tmp_path, capsys):
    # --max-states (or --timeout) leaving an invariant unknown removed the earlier run's counterexample of
    # it "as this run does not violate them" (the attack); only Ctrl-C kept it.
    from lgcheck.cli import main

    args = ["prove", "--engine", "bfs", "--fault", "guest-rebinds-key", "--inv", "keys", "--no-sysfs", "--depth", "3"]
    args += ["--no-progress", "--out", str(tmp_path)]
    assert main(args) == 1 and (tmp_path / "key-collision.lgt").exists()
    assert main([*args, "--max-states", "1"]) == 3  # unknown: nothing settled
    assert (tmp_path / "key-collision.lgt").exists(), capsys.readouterr().out
