"""k-induction (checker/induction.py), its certificates, and BMC's second solver.

A k-induction proof rests on two more queries than 1-induction's (the k-step
case over pairwise different states, and the base case from the initial
state); `lgcheck certify` rebuilds both and asks bitwuzla.  The base case is
what keeps k-induction sound where a short run breaks the invariant.
`--bmc-solver bitwuzla` must give z3's answers (z3 stays the reference).
"""

from __future__ import annotations

import json

import pytest

from lgcheck.checker import bmc, certificate, induction
from lgcheck.checker.config import Config

# One Guest, two slots: small enough that every query below takes well under a second.
SMALL = dict(launcher="checked", sysfs=False, guests=1, slots=2, buffers=1, sections=1, invariants=("keys",))


@pytest.fixture(scope="module")
def two_step(tmp_path_factory):
    """key-collision proved by 2-induction from the lemmas Houdini keeps, and its certificates."""
    cfg = Config(**SMALL, k_max=2)
    names = bmc.rule_names(cfg)
    _, kept = induction.prove(Config(**SMALL, k_max=1), names)
    verdicts = {n: induction.Verdict() for n in names}
    induction.k_induction(cfg, names, dict.fromkeys(kept), verdicts, None)
    folder = str(tmp_path_factory.mktemp("kcert"))
    proved = [n for n in names if verdicts[n].proved]
    certificate.write_certificates(cfg, proved, kept, folder, ks={n: verdicts[n].k for n in proved})
    return cfg, kept, verdicts, folder


def test_k_induction_proves_with_its_k(two_step):
    _, _, verdicts, _ = two_step
    v = verdicts["key-collision"]
    assert v.proved and v.k == 2 and not v.unknown


def test_k_step_certificate_rechecks(two_step):
    _, _, _, folder = two_step
    with open(f"{folder}/manifest.json", encoding="utf-8") as fh:
        entries = {e["invariant"]: e for e in json.load(fh)["certificates"]}
    assert entries["key-collision"]["k"] == 2
    with open(f"{folder}/key-collision.smt2", encoding="utf-8") as fh:
        text = fh.read()
    assert "; (ck)" in text and "; (d)" in text and "(assert violation)" not in text
    verdicts = {v.invariant: v for v in certificate.check_folder(folder)}
    v = verdicts["key-collision"]
    assert v.status == certificate.OK, v.message
    assert v.queries == {"a": "unsat", "b": "unsat", "ck": "unsat", "d": "unsat"}


def test_k_step_certificate_without_its_lemmas_is_refused(two_step, tmp_path):
    """The invariant `true` is inductive, but 2 steps from any state can break key-collision: (ck) fails."""
    cfg, _, _, _ = two_step
    certificate.write_certificates(cfg, ["key-collision"], [], str(tmp_path), ks={"key-collision": 2})
    (v,) = certificate.check_folder(str(tmp_path))
    assert v.status == certificate.REFUSED
    assert v.queries["ck"] == "sat" and "(ck)" in v.message


def test_base_case_keeps_k_induction_sound():
    """guest-rebinds-key breaks key-collision in 2 steps: no k proves it, and BMC finds the run."""
    cfg = Config(**SMALL, faults=("guest-rebinds-key",), k_max=4, depth=3, induction=False)
    verdicts = {"key-collision": induction.Verdict()}
    induction.k_induction(cfg, ["key-collision"], {}, verdicts, None)
    assert not verdicts["key-collision"].proved
    results, _ = bmc.check(cfg)
    assert results["key-collision"].status == "violated"


@pytest.mark.parametrize(
    "kw",
    [
        dict(launcher="checked", sysfs=False, guests=1, slots=2, buffers=1, sections=1, depth=3),
        dict(guests=1, slots=2, buffers=1, sections=1, faults=("guest-rebinds-key",), invariants=("keys",), depth=3),
    ],
    ids=["checked-holds", "fault-violated"],
)
def test_bitwuzla_and_z3_agree_on_bmc(kw):
    answers = {}
    for solver in ("z3", "bitwuzla"):
        results, _ = bmc.check(Config(**kw, induction=False, bmc_solver=solver))
        answers[solver] = {n: (r.status, r.depth) for n, r in results.items()}
    assert answers["bitwuzla"] == answers["z3"]
    if kw.get("faults"):
        assert answers["z3"]["key-collision"] == ("violated", 2)


def test_bitwuzla_bmc_writes_the_counterexample_z3_decodes(tmp_path):
    """With --bmc-solver bitwuzla, shrinking and decoding ask the z3 shadow: the run replays as usual."""
    from lgcheck.checker.pipeline import prove

    cfg = Config(**SMALL, faults=("guest-rebinds-key",), depth=3, induction=False, bmc_solver="bitwuzla")
    run = prove(cfg, str(tmp_path))
    assert run.results["key-collision"].status == "violated"
    assert (tmp_path / "key-collision.lgt").exists()
    assert run.counterexamples["key-collision"].finding is not None  # replay breaks the same rule at the last record


def test_auto_certifies_a_k_induction_proof_with_its_k(two_step, tmp_path):
    """Under `--engine auto` the proof reaches the parent as a message: its k must reach the certificate.

    Written as a 1-step query, a proof that needed 2-induction would not re-check (test above).
    """
    from types import SimpleNamespace

    from lgcheck.checker import portfolio

    cfg, kept, verdicts, _ = two_step
    v = verdicts["key-collision"]
    pf = portfolio.Portfolio(cfg, ["key-collision"])
    extra = {"vacuous": v.vacuous, "lemmas": list(v.lemmas), "k": v.k, "cut": ""}
    pf.take(("proved", "induction", "key-collision", 0.0, extra), 0.0)
    pf.lemmas = kept
    results = portfolio._results(pf, ["key-collision"])
    assert results["key-collision"].status == "holds" and results["key-collision"].k == 2
    run = SimpleNamespace(
        cfg=cfg, interrupted=False, portfolio=pf, results=results, lemmas=kept, out_dir=str(tmp_path), certificates={}
    )
    portfolio.certify_induction(run)
    with open(f"{tmp_path}/certificates/manifest.json", encoding="utf-8") as fh:
        entry = json.load(fh)["certificates"][0]
    assert entry["invariant"] == "key-collision" and entry["k"] == 2
    (checked,) = certificate.check_folder(f"{tmp_path}/certificates")
    assert checked.status == certificate.OK, checked.message


def test_a_proof_stands_when_its_lemmas_cannot_be_minimised_in_time(monkeypatch):
    """Naming a proof's lemmas has a budget (minimising a core can cost 20x the proof): past it, the
    verdicts are the same and the whole core is named, which contains every lemma a minimal one names."""
    cfg = Config(**{**SMALL, "invariants": ("keys", "buffers")})
    names = bmc.rule_names(cfg)
    minimal, kept = induction.prove(cfg, names)
    monkeypatch.setattr(induction, "MINIMISE_BUDGET", 0.0)
    whole, kept_again = induction.prove(cfg, names)
    assert kept_again == kept
    assert {n: v.proved for n, v in whole.items()} == {n: v.proved for n, v in minimal.items()}
    named = [n for n, v in minimal.items() if v.proved and v.lemmas]
    assert named, "no proof here needs a lemma: the test would check nothing"
    for n in named:
        assert set(minimal[n].lemmas) <= set(whole[n].lemmas) <= set(kept)
