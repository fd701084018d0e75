"""BMC's solver: z3 (the reference) or bitwuzla asked incrementally beside a z3 shadow.

`--bmc-solver bitwuzla` gives bmc.py an object with the part of z3's Solver
interface BMC uses (add, check with assumptions, set timeout, model,
reason_unknown).  Each formula BMC adds is printed by z3 as SMT-LIB 2 and
read by one long-lived bitwuzla instance (declarations printed once), so
bitwuzla keeps what it learnt between depths as z3 does.  Every answer is
bitwuzla's; only when it answers sat does z3, which holds the same
formulas, answer the same query for the model that decoding reads (and a z3
answer other than sat there is a disagreement: an internal error).  So the
counterexamples written are always z3's, and checked by z3.

benchmarks/bmc_solvers.py measures the two on the same queries
(docs/bmc-solvers.md); the default stays z3 where bitwuzla does not win.
"""

from __future__ import annotations

import re
import time

import z3

SOLVERS = ("z3", "bitwuzla")
_DECL = re.compile(r"\(declare-fun (\|[^|]*\||[^\s()]+) ")


class SolverDisagreement(RuntimeError):
    """bitwuzla and z3 answered one query differently: an internal error, never a verdict."""


class Bitwuzla:
    """bitwuzla answers; a z3 solver with the same formulas gives the models of sat answers."""

    def __init__(self):
        import bitwuzla

        self._bz = bitwuzla
        self.shadow = z3.SolverFor("QF_BV")
        self.tm = bitwuzla.TermManager()
        self.opts = bitwuzla.Options()
        self.parser = bitwuzla.Parser(self.tm, self.opts, "smt2")
        self.parser.parse("(set-logic QF_BV)", True, False)
        self.declared: set = set()
        self.terms: dict = {}  # assumption literal name -> bitwuzla term
        self.timeout_ms = None
        self.reason = ""

    def set(self, key, value):
        self.shadow.set(key, value)
        if key == "timeout":
            self.timeout_ms = value

    def add(self, *formulas):
        formulas = [f for f in formulas if not (isinstance(f, bool) and f)]
        if not formulas:
            return
        self.shadow.add(*formulas)
        tmp = z3.Solver()
        tmp.add(*formulas)
        text = tmp.sexpr()
        out = []
        # z3 prints one top-level form per line group: keep declarations not yet made.
        for chunk in _forms(text):
            m = _DECL.match(chunk)
            if m:
                if m.group(1) in self.declared:
                    continue
                self.declared.add(m.group(1))
            out.append(chunk)
        self.parser.parse(smtlib("\n".join(out)), True, False)

    def check(self, *assumptions):
        answer = self.check_only(*assumptions)
        if answer == "sat":
            ref = self.shadow.check(*assumptions)
            if ref == z3.unsat:
                raise SolverDisagreement(f"bitwuzla answers sat, z3 unsat, to {[str(a) for a in assumptions]}")
            return ref
        return z3.unsat if answer == "unsat" else z3.unknown

    def check_only(self, *assumptions) -> str:
        """bitwuzla's answer alone: 'sat', 'unsat' or 'unknown'."""
        bz = self._bz
        solver = self.parser.bitwuzla()
        terms = []
        for a in assumptions:
            key = a.sexpr()
            if key not in self.terms:
                self.terms[key] = self.parser.parse_term(key)
            terms.append(self.terms[key])
        if self.timeout_ms is not None:
            end = time.monotonic() + self.timeout_ms / 1000
            solver.configure_terminator(lambda: time.monotonic() > end)
        answer = solver.check_sat(*terms)
        if answer == bz.Result.UNSAT:
            return "unsat"
        if answer == bz.Result.SAT:
            return "sat"
        self.reason = "bitwuzla gave up (time limit)"
        return "unknown"

    def model(self):
        return self.shadow.model()

    def reason_unknown(self):
        return self.reason or self.shadow.reason_unknown()


# z3 prints the divisions it proved safe as its own bvurem_i etc.; SMT-LIB's bvurem is the same where
# the divisor is not 0 (and SMT-LIB defines the 0 case, which z3's bvurem means too).
_INTERNAL = re.compile(r"\b(bvu?s?(?:rem|div|mod))_i\b")


def smtlib(text: str) -> str:
    """z3's printing made standard SMT-LIB 2 for bitwuzla."""
    return _INTERNAL.sub(r"\1", text)


def _forms(text: str):
    """The top-level forms of z3's SMT-LIB printing (balanced parentheses; |quoted| names kept whole)."""
    depth, start, quoted = 0, None, False
    for i, ch in enumerate(text):
        if ch == "|":
            quoted = not quoted
        if quoted:
            continue
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and start is not None:
                yield text[start : i + 1]
                start = None


def make(name: str):
    """BMC's solver for `--bmc-solver NAME`."""
    if name == "bitwuzla":
        return Bitwuzla()
    return z3.SolverFor("QF_BV")
