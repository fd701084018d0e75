"""Mutation testing of the model (issue 6, item 4): every mutation of checker/mutations.py is caught or equivalent.

Caught: prove, run on a copy of the package with the mutation applied, exits 1
with the mutation's invariants VIOLATED, and each counterexample replays (on
the same copy, same --launcher/--fault) to the same rule at its last record.
Equivalent: prove on the copy finds nothing.

CI runs a representative third (checker/mutate.py: ci_subset, every third
mutation of each invariant by id); `LGCHECK_MUTATIONS=all` runs them all, as
does `python benchmarks/mutation_score.py`.  The runs are marked `mutation`
(`-m "not mutation"` leaves them out).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from lgcheck.checker.mutate import (
    MutationTextError,
    build_tree,
    check_isolation,
    check_text,
    ci_subset,
    format_outcome,
    model_flags,
    run_all,
    score,
)
from lgcheck.checker.mutations import BY_ID, MUTATIONS, Mutation
from lgcheck.checker.config import Config
from lgcheck.spec.registry import INVARIANTS

# The invariants prove checks (mutations are judged by prove): not "data", which only replay checks
# until the symbolic model keeps bytes (tests/checker/test_prove_data.py).
SIX = [n for group in Config().invariants for n in INVARIANTS[group]]
assert len(SIX) == 6
SELECTED = list(MUTATIONS) if os.environ.get("LGCHECK_MUTATIONS") == "all" else ci_subset()


# ------------------------------------------------------------ the data (fast)
@pytest.mark.parametrize("mid", [m.id for m in MUTATIONS])
def test_every_mutation_text_occurs_exactly_once(mid):
    """A refactor that moves a mutated line fails here, loudly (never a skip): update checker/mutations.py."""
    check_text(BY_ID[mid])


def test_a_moved_line_is_an_error_not_a_skip(tmp_path):
    gone = Mutation("gone", "spec/host.py", "this text is in no rule", "x", ("key-collision",), (), "nothing")
    with pytest.raises(MutationTextError, match="does not occur"):
        check_text(gone)
    twice = Mutation("twice", "spec/host.py", "ops.", "x", ("key-collision",), (), "everything")
    with pytest.raises(MutationTextError, match="occurs .* times"):
        check_text(twice)
    with pytest.raises(MutationTextError):
        build_tree(tmp_path / "t", gone)


def test_the_mutations_are_many_small_and_cover_every_invariant():
    live = [m for m in MUTATIONS if not m.equivalent]
    assert len(live) >= 25
    assert {inv for m in live for inv in m.breaks} == set(SIX)
    for m in MUTATIONS:
        assert m.old != m.new, m.id
        assert all(b in SIX for b in m.breaks), m.id
        assert bool(m.breaks) != bool(m.equivalent), f"{m.id}: either invariants to break or a reason it is equivalent"
        checked = [m.flags[i + 1] for i, f in enumerate(m.flags) if f == "--inv"]
        assert all(b in checked for b in m.breaks), f"{m.id}: its flags do not check {m.breaks}"
        args = _prove_parser().parse_args(["prove", *m.flags])  # exits (fails the test) on a bad flag
        assert args.inv, f"{m.id}: name the invariants (--inv), so a run ends once they are settled"
        assert model_flags(m.flags) == [x for f in ("--launcher", "--fault") for x in _pairs(m.flags, f)]


def _prove_parser():
    import argparse

    from lgcheck.checker.cli import add_prove_parser

    ap = argparse.ArgumentParser()
    add_prove_parser(ap.add_subparsers(), run=None)
    return ap


def _pairs(flags, name):
    return [x for i, f in enumerate(flags) if f == name for x in (f, flags[i + 1])]


def test_the_ci_third_covers_every_invariant_and_an_equivalent_mutation():
    sub = ci_subset()
    assert {inv for m in sub for inv in m.breaks} == set(SIX)
    assert any(m.equivalent for m in sub)
    assert len(sub) <= len(MUTATIONS) // 2
    assert [m.id for m in ci_subset(list(reversed(MUTATIONS)))][::-1] == [m.id for m in sub]  # not order-dependent


def test_a_counterexample_counts_only_if_it_replays_to_its_invariant_without_parting_from_the_trace():
    from lgcheck.checker.mutate import replay_misses

    inv = "write-to-used-buffer"
    at = lambda line, rule: {"line": line, "rule": rule}  # noqa: E731
    assert replay_misses(inv, [at(9, inv)], 9) == ""
    # another invariant on the way, or beside it at the end: still the run the mutated model makes
    assert replay_misses(inv, [at(4, "status-cleared"), at(9, "key-collision"), at(9, inv)], 9) == ""
    assert replay_misses(inv, [at(8, inv)], 9) == "reports nothing at line 9"
    assert replay_misses(inv, [at(9, "buffer-overflow")], 9) == "reports ['buffer-overflow'] at line 9"
    # the finding is there, but replay parted from the recorded run: not a catch (it was accepted before)
    assert replay_misses(inv, [at(7, "divergence"), at(9, inv)], 9) == "diverges at line 7"
    assert replay_misses(inv, [at(9, "divergence"), at(9, inv)], 9) == "diverges at line 9"


@pytest.mark.mutation
def test_the_mutated_copy_is_what_runs(tmp_path):
    """prove run on a copy whose spec/host.py raises fails: the copy, not the installed package, is imported."""
    check_isolation(tmp_path)


@pytest.mark.mutation
def test_a_catch_counts_only_where_the_unmutated_model_holds(tmp_path):
    """A no-op "mutation" under the 2.6.23 Launcher shows the console flood, but so does the model itself."""
    real = BY_ID["fill-checked-drops-used-test"]
    noop = real._replace(id="noop", new=real.old + "  # a no-op", flags=("--inv", "write-to-used-buffer"))
    (o,) = run_all([noop], jobs=1, workdir=tmp_path)
    assert o.verdict == "error" and "unmutated model does not hold write-to-used-buffer" in o.detail, o


# ------------------------------------------------------------ the runs (slow: 2 at a time)
@pytest.fixture(scope="module")
def outcomes(request):
    tr = request.config.pluginmanager.get_plugin("terminalreporter")

    def report(m, o):
        if tr is not None:
            tr.write_line(format_outcome(m, o))

    with tempfile.TemporaryDirectory(prefix="lgcheck-mut-") as tmp:
        results = run_all(SELECTED, jobs=2, workdir=Path(tmp), report=report)
    caught, total = score(SELECTED, results)
    if tr is not None:
        tr.write_line(f"mutation score: {caught}/{total} non-equivalent mutations caught")
    return {o.id: o for o in results}


# Both tests read the module's `outcomes`: under xdist each worker that ran one of them ran every mutation
# again (the same 2 processes twice over, 150 s of CPU); one group puts them in one worker (--dist loadgroup).
@pytest.mark.mutation
@pytest.mark.xdist_group("mutations")
@pytest.mark.parametrize("mid", [m.id for m in SELECTED])
def test_mutation_is_caught_or_equivalent(mid, outcomes):
    m, o = BY_ID[mid], outcomes[mid]
    assert o.ok, format_outcome(m, o)


@pytest.mark.mutation
@pytest.mark.xdist_group("mutations")
def test_mutation_score_is_100_percent(outcomes):
    caught, total = score(SELECTED, outcomes.values())
    missed = [format_outcome(BY_ID[i], o) for i, o in outcomes.items() if not o.ok]
    assert caught == total and not missed, f"mutation score {caught}/{total}:\n" + "\n".join(missed)
