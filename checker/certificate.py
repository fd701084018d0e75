"""Certificates: each "holds at every depth" as SMT-LIB 2, re-checked by a second solver.

A proof by 1-induction (checker/induction.py) rests on one formula, the
inductive invariant I: the conjunction of the lemmas Houdini kept, over the
variables of a free state.  Three queries, each unsatisfiable, make it a
proof that the rule R holds at every depth:

  (a) initial states imply it:                 initial(s) and not I(s)
  (b) it and a step imply it after:            I(s) and step(s, t) and not I(t)
  (c) it and a step imply no violation of R:   I(s) and step(s, t) and violation_R(s)

Where the proof of data-corrupted cut the copy out of the step (manifest
entry "cut": "copy-lemma", checker/copy_lemma.py), violation_R in (c) is the
copy lemma's hypothesis failing at a delivery, and one more query proves the
lemma itself, over one copy between two free descriptors:

  (l) shaped descriptors, a length within both totals, and a failed check

A proof by k-induction (k > 1, manifest entry "k") replaces (c) by two
queries over a run of k steps s0 -> s1 -> ... -> sk (states NAME@s, NAME@s1,
..., choices NAME@step, NAME@step1, ...):

  (c) I in s0 .. s(k-1), pairwise different, the k steps, the first k-1 keep R
      and the k-th breaks it
  (d) the initial state and k-1 steps break R somewhere (the base case)

`write_certificates` puts, for each such R, OUT/certificates/R.smt2: I and the
three queries as one self-contained SMT-LIB 2 script (any solver answers
`unsat` three times), and manifest.json: the configuration of the model.

`check_folder` trusts nothing in a certificate but I.  It rebuilds the
initial state, the step and the violation of R from this checker's model and
the recorded configuration, reads I (the body of `(define-fun invariant ()
Bool ...)`) against declarations rebuilt from the model's variable names
(`name@s`), refuses any other symbol, and asks bitwuzla, a solver independent
of z3, the three queries.  z3 only builds the terms and prints them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import z3

from ..spec.ops import SYM_WIDTH
from ..spec.registry import FINDINGS
from . import copy_lemma
from .config import Config
from .induction import free_state, lemmas
from .symstate import SymState
from .time_limit import OutOfTime, alarm_at
from .transition import encode_step

FORMAT = "lgcheck-certificate/1"
MANIFEST = "manifest.json"
PRE, POST, STEP = "s", "t", "step"  # the tags of the state before, after, and the step's choices

QUERIES = {
    "a": "initial states imply it",
    "b": "it and a step imply it after",
    "c": "it and a step imply no violation of {inv}",
    "ck": "it in k different states and k steps whose first k-1 keep {inv} imply that the k-th keeps it too",
    "d": "no run of k-1 steps from the initial state breaks {inv}",
    "l": "the copy lemma: one copy between shaped descriptors, within both totals, keeps {inv}",
}
FAILED = {
    "a": "the initial state does not satisfy the invariant",
    "b": "a step from a state that satisfies the invariant leaves it (it is not inductive)",
    "c": "a step from a state that satisfies the invariant breaks {inv}",
    "ck": "k steps from states that satisfy the invariant break {inv} at the last step only (not k-inductive)",
    "d": "a run from the initial state breaks {inv} within k-1 steps",
    "l": "a copy between shaped descriptors breaks {inv} (the copy lemma fails)",
}
CUT = "copy-lemma"  # a manifest entry's "cut": (c) asks the copy lemma's hypothesis, and (l) proves the lemma

# Exit statuses of `lgcheck certify` (shared/spec/trace-format.md).
OK, REFUSED, MALFORMED, UNKNOWN, INTERNAL = 0, 1, 2, 3, 4


class CertificateError(Exception):
    """A certificate or manifest that cannot be checked: `status` says how (REFUSED or MALFORMED)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- the model's side of the queries


@dataclass
class Rebuilt:
    """The parts of the three queries that come from the model, never from a certificate."""

    cfg: Config
    pre: dict  # name@s -> z3 constant: the only symbols an invariant may use
    post: list  # [(pre constant, post constant)], to move I from s to t
    initial: object  # s is the initial state
    step: object  # t follows s by one step (the step's own choices are free)
    info: object  # the StepInfo: violation(names)
    cache: dict = field(default_factory=dict)


def _val(x, like):
    if isinstance(x, bool):
        return z3.BoolVal(x)
    if isinstance(x, int):
        return z3.BitVecVal(x, like.size())
    return x


def rebuild(cfg: Config) -> Rebuilt:
    """Initial state, step and violations of the model `cfg`, over a free state @s and its successor @t."""
    SYM_WIDTH[0] = cfg.width
    s = free_state(cfg, PRE)
    nxt = s.copy()
    constraints: list = []
    info = encode_step(cfg, nxt, STEP, constraints)
    t = free_state(cfg, POST)
    init = SymState(cfg)
    pre, post, init_eqs, step_eqs = {}, [], [], list(constraints)
    for (name, obj, attr, idx), (_, tobj, tattr, tidx), (_, iobj, iattr, iidx), (_, nobj, nattr, nidx) in zip(
        s.fields(), t.fields(), init.fields(), nxt.fields()
    ):
        sv, tv = s.get(obj, attr, idx), t.get(tobj, tattr, tidx)
        pre[f"{name}@{PRE}"] = sv
        post.append((sv, tv))
        init_eqs.append(sv == _val(init.get(iobj, iattr, iidx), sv))
        step_eqs.append(tv == _val(nxt.get(nobj, nattr, nidx), tv))
    step = z3.And(*[_val(c, None) if isinstance(c, bool) else c for c in step_eqs])
    return Rebuilt(cfg, pre, post, z3.And(*init_eqs), step, info)


@dataclass
class Run:
    """k steps from the free state @s (the model's side of the k-step queries)."""

    states: list  # [{name@s: var}, {name@s1: var}, ...]: k+1 states, as lists of variables in field order
    steps: list  # the step formula from state i to i+1
    infos: list  # each step's StepInfo


def run_of(model: Rebuilt, k: int) -> Run:
    """s0 -> ... -> sk, s0 being the model's free state @s and each step's choices tagged step, step1, ..."""
    if k in model.cache.setdefault("runs", {}):
        return model.cache["runs"][k]
    cfg = model.cfg
    SYM_WIDTH[0] = cfg.width
    cur = free_state(cfg, PRE)
    states = [[cur.get(obj, attr, idx) for _, obj, attr, idx in cur.fields()]]
    steps, infos = [], []
    for i in range(k):
        nxt = cur.copy()
        constraints: list = []
        infos.append(encode_step(cfg, nxt, STEP if i == 0 else f"{STEP}{i}", constraints))
        after = free_state(cfg, f"{PRE}{i + 1}")
        eqs = [_val(c, None) if isinstance(c, bool) else c for c in constraints]
        for (_, obj, attr, idx), (_, aobj, aattr, aidx) in zip(nxt.fields(), after.fields()):
            av = after.get(aobj, aattr, aidx)
            eqs.append(av == _val(nxt.get(obj, attr, idx), av))
        steps.append(z3.And(*eqs))
        states.append([after.get(obj, attr, idx) for _, obj, attr, idx in after.fields()])
        cur = after
    out = Run(states, steps, infos)
    model.cache["runs"][k] = out
    return out


def k_queries(model: Rebuilt, inv, invariant: str, k: int) -> dict[str, list]:
    """Queries (c) and (d) of a k-induction proof (k > 1) for the invariant term `inv` over @s."""
    run = run_of(model, k)
    first = run.states[0]
    at = [z3.substitute(inv, *zip(first, st)) if i else inv for i, st in enumerate(run.states[:k])]
    fails = [_b(info.violation((invariant,))) for info in run.infos]
    simple = [z3.Or(*[a != b for a, b in zip(run.states[i], run.states[j])]) for j in range(k) for i in range(j)]
    return {
        "c": [*at, *simple, *run.steps, *[z3.Not(f) for f in fails[: k - 1]], fails[k - 1]],
        "d": [model.initial, *run.steps[: k - 1], z3.Or(*fails[: k - 1]) if k > 2 else fails[0]],
    }


def _b(t):
    return z3.BoolVal(t) if isinstance(t, bool) else t


def _violation(model: Rebuilt, invariant: str, cut: bool = False):
    v = model.info.cut_violation((invariant,)) if cut else model.info.violation((invariant,))
    return z3.BoolVal(v) if isinstance(v, bool) else v


def _after(model: Rebuilt, inv):
    return z3.substitute(inv, *model.post)


# ---------------------------------------------------------------- SMT-LIB text: a small reader


_TOKEN = re.compile(r'\s+|;[^\n]*|\|[^|\\]*\||"(?:[^"]|"")*"|\(|\)|[^\s()|";]+')


@dataclass
class SExp:
    items: list | None  # None for an atom
    text: str  # the atom, or "" for a list
    start: int
    end: int


def read_sexps(text: str) -> list[SExp]:
    """The top-level s-expressions of an SMT-LIB text (comments and |quoted| symbols understood)."""
    out: list[SExp] = []
    stack: list[SExp] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise CertificateError(MALFORMED, f"{_where(text, pos)}: unreadable SMT-LIB text {text[pos : pos + 20]!r}")
        tok, start, pos = m.group(), m.start(), m.end()
        if tok[0].isspace() or tok[0] == ";":
            continue
        if tok == "(":
            stack.append(SExp([], "", start, -1))
            continue
        if tok == ")":
            if not stack:
                raise CertificateError(MALFORMED, f"{_where(text, start)}: ')' closes nothing")
            node = stack.pop()
            node.end = pos
        else:
            node = SExp(None, tok[1:-1] if tok[0] == "|" else tok, start, pos)
        (stack[-1].items if stack else out).append(node)
    if stack:
        raise CertificateError(MALFORMED, f"{_where(text, stack[-1].start)}: '(' is never closed")
    return out


def _where(text, pos):
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _dump(formula) -> tuple[list[str], str]:
    """z3's SMT-LIB printing of one formula: (its declarations, its text)."""
    solver = z3.Solver()
    solver.add(formula)
    text = solver.to_smt2()
    decls, body = [], None
    for form in read_sexps(text):
        head = form.items[0].text if form.items else ""
        if head in ("declare-fun", "declare-const"):
            decls.append(text[form.start : form.end])
        elif head == "assert":
            body = text[form.items[1].start : form.items[1].end]
    return decls, body if body is not None else "true"


# ---------------------------------------------------------------- writing


def write_certificates(
    cfg: Config, proved: list[str], lemma_names: list[str], folder: str, ks: dict | None = None, cuts=()
) -> dict[str, str]:
    """Write a certificate for each invariant in `proved` (held at every depth with these lemmas).

    Certificates an earlier run left in `folder` are removed first, so the
    folder never holds a proof the last run did not make.  Returns
    {invariant: path of its .smt2}.
    """
    _clear(folder)
    if not proved:
        return {}
    os.makedirs(folder, exist_ok=True)
    model = rebuild(cfg)
    s = free_state(cfg, PRE)
    kept = dict(lemmas(cfg, s))
    missing = [n for n in lemma_names if n not in kept]
    if missing:
        raise RuntimeError(f"induction kept lemmas the model does not state: {missing}")
    chosen = [(n, _val(kept[n], None) if isinstance(kept[n], bool) else kept[n]) for n in lemma_names]
    inv = z3.And(*[t for _, t in chosen]) if chosen else z3.BoolVal(True)
    shared = [_dump(f) for f in (_after(model, inv), model.initial, model.step)]
    paths, entries = {}, []
    for name in proved:
        k = (ks or {}).get(name, 1)
        violation = _dump(_violation(model, name, name in cuts))
        extra = []
        if name in cuts:
            extra.append(("l", _dump(z3.And(*copy_lemma.query(cfg)))))
        if k > 1:
            qs = k_queries(model, inv, name, k)
            extra = [("ck", _dump(z3.And(*qs["c"]))), ("d", _dump(z3.And(*qs["d"])))]
        decls = list(dict.fromkeys(d for part in shared + [violation] + [e[1] for e in extra] for d in part[0]))
        path = os.path.join(folder, f"{name}.smt2")
        text = _certificate_text(cfg, name, chosen, decls, [p[1] for p in shared], violation[1], k)
        for q, (_, body) in extra:
            text += f"; ({q}) {QUERIES[q].format(inv=name)}{'' if q == 'l' else f' (k = {k})'}\n"
            text += f"(push 1)\n(assert {body})\n(check-sat)\n(pop 1)\n"
        _write_new(path, lambda fh, text=text: fh.write(text))
        paths[name] = path
        entry = {"invariant": name, "file": f"{name}.smt2", "lemmas": [n for n, _ in chosen]}
        if k > 1:
            entry["k"] = k
        if name in cuts:
            entry["cut"] = CUT
        entries.append(entry)
    doc = {
        "format": FORMAT,
        "method": "1-induction, or k-induction where an entry says k; the inductive invariant is the conjunction "
        "of the lemmas found Houdini-style",
        "config": cfg.describe(),
        "variables": {"before": f"NAME@{PRE}", "after": f"NAME@{POST}", "step": f"NAME@{STEP}"},
        "certificates": entries,
    }
    _write_new(os.path.join(folder, MANIFEST), lambda fh: fh.write(json.dumps(doc, indent=2) + "\n"))
    return paths


def _write_new(path: str, write) -> None:
    """As the counterexamples are written (checker/pipeline.py): a link already at `path` (a name the user
    or an earlier run put there) is replaced, never written through into the file it names."""
    from .pipeline import _write_new as write_new

    write_new(path, write)


def _clear(folder: str) -> None:
    manifest = os.path.join(folder, MANIFEST)
    try:
        with open(manifest, encoding="utf-8") as fh:
            old = json.load(fh)
        files = [c["file"] for c in old.get("certificates", []) if isinstance(c, dict)]
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return
    for f in files:
        if isinstance(f, str) and os.path.basename(f) == f and f.endswith(".smt2"):
            try:
                os.remove(os.path.join(folder, f))
            except OSError:
                pass
    os.remove(manifest)


def _certificate_text(cfg, name, chosen, decls, shared, violation, k=1) -> str:
    after, initial, step = shared
    lines = [
        f"; lgcheck certificate ({FORMAT}): {name} holds at every depth of the model that manifest.json describes:",
        f";   {json.dumps(cfg.describe())}",
        "; Proof by 1-induction.  The inductive invariant is the conjunction of the lemmas found Houdini-style;",
        "; each of the three (check-sat) below must answer unsat.  `lgcheck certify` rebuilds `initial`, `step`",
        "; and `violation` from the model and the configuration and reads only `invariant` from this file.",
        "(set-logic QF_BV)",
        f"; the state before the step (NAME@{PRE}), after it (NAME@{POST}), and the step's own choices (NAME@{STEP})",
        *decls,
        f"; the inductive invariant over the state before the step ({len(chosen)} lemmas)",
        "(define-fun invariant () Bool",
    ]
    parts = [f"    ; {lemma}\n    " + term.sexpr().replace("\n", "\n    ") for lemma, term in chosen]
    if not parts:
        lines.append("  true)")
    elif len(parts) == 1:
        lines.append(parts[0] + ")")
    else:
        lines.append("  (and\n" + "\n".join(parts) + "))")
    if k > 1:
        lines.append(f"; Proof by {k}-induction: (a), (b), then (ck) and (d) below, each over its own run of steps.")
    lines += [
        "; the same over the state after the step",
        f"(define-fun invariant-after () Bool\n  {after})",
        "; the initial state",
        f"(define-fun initial () Bool\n  {initial})",
        "; one step of the model, from the state before to the state after",
        f"(define-fun step () Bool\n  {step})",
        f"; the step breaks {name}",
        f"(define-fun violation () Bool\n  {violation})",
        f"; (a) {QUERIES['a']}",
        "(push 1)\n(assert initial)\n(assert (not invariant))\n(check-sat)\n(pop 1)",
        f"; (b) {QUERIES['b']}",
        "(push 1)\n(assert invariant)\n(assert step)\n(assert (not invariant-after))\n(check-sat)\n(pop 1)",
    ]
    if k == 1:
        lines += [
            f"; (c) {QUERIES['c'].format(inv=name)}",
            "(push 1)\n(assert invariant)\n(assert step)\n(assert violation)\n(check-sat)\n(pop 1)",
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reading and re-checking


@dataclass
class Verdict:
    manifest: str
    file: str
    invariant: str
    status: int = OK
    message: str = ""
    queries: dict = field(default_factory=dict)  # "a" | "b" | "c" -> "unsat" | "sat" | "unknown"
    seconds: float = 0.0
    stage: str = "while reading its manifest entry"  # what the re-check was doing (said when --timeout runs out)
    asked: list = field(default_factory=list)  # the queries it asks (those not answered when time runs out: unknown)


def find_manifest(path: str) -> tuple[str, str | None]:
    """(the manifest, the one certificate file asked for or None) for a folder, a manifest or a certificate.

    A folder is `--out` (its certificates/ holds the manifest) or certificates/ itself; a .smt2 file is
    one certificate, checked against the manifest beside it.
    """
    if os.path.isfile(path):
        if path.endswith(".smt2"):
            return os.path.join(os.path.dirname(path), MANIFEST), os.path.basename(path)
        return path, None
    for cand in (os.path.join(path, MANIFEST), os.path.join(path, "certificates", MANIFEST)):
        if os.path.isfile(cand):
            return cand, None
    if not os.path.exists(path):
        raise CertificateError(MALFORMED, f"{path}: no such file or folder")
    raise CertificateError(
        MALFORMED, f"{path}: no {MANIFEST} here or in {os.path.join(path, 'certificates')} (the folder --out names)"
    )


def config_from_dict(d) -> Config:
    """The Config that `describe()` gave `d`; anything else is a malformed manifest."""
    from .faults import FAULTS

    if not isinstance(d, dict):
        raise CertificateError(MALFORMED, "config is not a table")
    fields = {f.name: f for f in dataclasses.fields(Config)}
    kwargs = {}
    for key, value in d.items():
        f = fields.get(key)
        if f is None:
            continue  # a derived value: checked by the round trip below
        default = f.default
        if isinstance(default, tuple):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            value = tuple(value) if ok else value
        elif default is None:
            ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        elif isinstance(default, bool):
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, type(default)) and not isinstance(value, bool)
        if not ok:
            raise CertificateError(MALFORMED, f"config: {key} = {value!r} is not of the right type")
        kwargs[key] = value
    for fault in kwargs.get("faults", ()):
        if fault not in FAULTS:
            raise CertificateError(MALFORMED, f"config: unknown fault {fault!r}")
    try:
        cfg = Config(**kwargs)
    except (TypeError, ValueError) as e:
        raise CertificateError(MALFORMED, f"config: {e}") from None
    from .cli import MAX_MODEL_UNITS, model_units

    size = {"guest-count": cfg.guests, "slots": cfg.slots, "buffers": cfg.buffers, "sections": cfg.sections}
    units = model_units(size)
    if units > MAX_MODEL_UNITS:
        # prove refuses to encode such a model, so it wrote no certificate of it; rebuilding the step to
        # check one would run for hours and gigabytes before the first query (--timeout bounds queries).
        raise CertificateError(
            MALFORMED,
            f"config: guests^2 x slots x buffers x sections = {units:,}, past the {MAX_MODEL_UNITS:,} that "
            "`lgcheck prove` encodes: no proof of this model was written",
        )
    if json.loads(json.dumps(cfg.describe())) != d:
        diff = sorted(k for k in set(d) | set(cfg.describe()) if d.get(k) != cfg.describe().get(k))
        raise CertificateError(MALFORMED, f"config does not describe a model of this checker (differs in {diff})")
    return cfg


def read_manifest(path: str) -> tuple[Config, list[dict]]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as e:
        raise CertificateError(MALFORMED, f"{path}: cannot read: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise CertificateError(MALFORMED, f"{path}: not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise CertificateError(MALFORMED, f"{path}: not an lgcheck certificate manifest (format {got!r}, not {FORMAT})")
    try:
        cfg = config_from_dict(doc.get("config"))
    except CertificateError as e:
        raise CertificateError(e.status, f"{path}: {e}") from None
    entries = doc.get("certificates")
    if not isinstance(entries, list):
        raise CertificateError(MALFORMED, f"{path}: `certificates` is not a list")
    invariants = {n for n, f in FINDINGS.items() if f.invariant}
    for i, e in enumerate(entries):
        if not (isinstance(e, dict) and isinstance(e.get("invariant"), str) and isinstance(e.get("file"), str)):
            raise CertificateError(MALFORMED, f"{path}: certificate {i + 1} needs an `invariant` and a `file`")
        if e["invariant"] not in invariants:
            raise CertificateError(
                MALFORMED, f"{path}: unknown invariant {e['invariant']!r}: choose from {', '.join(sorted(invariants))}"
            )
        if os.path.basename(e["file"]) != e["file"] or e["file"] in ("", ".", ".."):
            raise CertificateError(MALFORMED, f"{path}: certificate file {e['file']!r} must be a name in its folder")
    return cfg, entries


def read_invariant(path: str) -> str:
    """The text of the body of `(define-fun invariant () Bool BODY)`, the one thing taken from a certificate."""
    from ..replay.parser import open_regular

    try:
        # A regular file only: a FIFO at the name hung certify, a link to /dev/zero filled its memory.
        with open_regular(path) as fh:
            text = fh.read().decode("utf-8")
    except OSError as e:
        raise CertificateError(MALFORMED, f"cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise CertificateError(MALFORMED, "not a text file (not UTF-8)") from None
    found = []
    for form in read_sexps(text):
        items = form.items or []
        named = len(items) >= 2 and items[0].text == "define-fun" and items[1].items is None
        if named and items[1].text == "invariant":
            if len(items) != 5 or items[2].items != [] or items[3].text != "Bool" or items[3].items is not None:
                where = _where(text, form.start)
                raise CertificateError(
                    MALFORMED, f"{where}: `invariant` must be defined as (define-fun invariant () Bool TERM)"
                )
            found.append(text[items[4].start : items[4].end])
    if len(found) != 1:
        raise CertificateError(
            MALFORMED, "no definition of `invariant`" if not found else f"{len(found)} definitions of `invariant`"
        )
    return found[0]


def parse_invariant(model: Rebuilt, body: str):
    """The invariant as a term over the model's free state @s; any other symbol is refused."""
    try:
        parsed = z3.parse_smt2_string(f"(assert {body})", decls=model.pre)
    except z3.Z3Exception as e:
        msg = e.value.decode() if isinstance(e.value, bytes) else str(e.value)
        msg = re.sub(r'^\(error "line \d+ column \d+: (.*)"\)\s*$', r"\1", msg.strip(), flags=re.S)
        raise CertificateError(REFUSED, f"the invariant is not a formula over this model's state: {msg}") from None
    if len(parsed) != 1:
        raise CertificateError(MALFORMED, "the invariant is not one formula")
    inv = parsed[0]
    if not z3.is_bool(inv):
        raise CertificateError(REFUSED, "the invariant is not a Boolean formula")
    allowed = {v.get_id() for v in model.pre.values()}
    seen, todo = set(), [inv]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_quantifier(t):
            raise CertificateError(REFUSED, "the invariant has a quantifier; it must be a quantifier-free formula")
        if z3.is_app(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED and t.get_id() not in allowed:
            name = t.decl().name()
            raise CertificateError(REFUSED, f"the invariant uses {name!r}, which is no variable of this model")
        if z3.is_app(t):
            todo.extend(t.children())
    return inv


def solver_name() -> str:
    import bitwuzla

    return f"bitwuzla {bitwuzla.version()}"


def _bitwuzla(formulas, timeout: float | None):
    """A bitwuzla instance holding `formulas`, read from z3's SMT-LIB 2 printing of them (not yet solved)."""
    import bitwuzla

    solver = z3.Solver()
    solver.add(*formulas)
    tm = bitwuzla.TermManager()
    opts = bitwuzla.Options()
    if timeout is not None:
        opts.set(bitwuzla.Option.TIME_LIMIT_PER, max(1, int(timeout * 1000)))
    parser = bitwuzla.Parser(tm, opts, "smt2")
    parser.parse(solver.to_smt2(), True, False)
    return tm, parser


def second_solver(formulas, timeout: float | None = None) -> str:
    """Ask bitwuzla whether `formulas` can all hold: 'sat', 'unsat' or 'unknown'."""
    import bitwuzla

    _tm, parser = _bitwuzla(formulas, timeout)
    answer = parser.bitwuzla().check_sat()
    return {bitwuzla.Result.SAT: "sat", bitwuzla.Result.UNSAT: "unsat"}.get(answer, "unknown")


def asked(k: int = 1, cut: bool = False) -> list[str]:
    """The queries of a certificate, in the order they are asked."""
    return ["a", "b", *(["c"] if k == 1 else ["ck", "d"]), *(["l"] if cut else [])]


def _ask(formulas, deadline: float | None) -> str:
    """second_solver within what is left of the certificate's time (none left: the limit has passed)."""
    if deadline is None:
        return second_solver(formulas)
    left = deadline - time.monotonic()
    if left <= 0:
        raise OutOfTime
    return second_solver(formulas, left)


def check_invariant(
    model: Rebuilt,
    invariant: str,
    body: str,
    deadline: float | None = None,
    k: int = 1,
    cut: bool = False,
    answers: dict | None = None,
) -> dict[str, str]:
    """The second solver's answers to (a), (b), (c) (k > 1: (a), (b), (ck), (d); a cut: and (l)); unsat: a proof.

    Each query takes what is left until `deadline` (time.monotonic()) as its limit; `answers` receives
    each answer as it comes, so that what was answered is known when the limit interrupts the rest.
    """
    answers = {} if answers is None else answers
    inv = parse_invariant(model, body)
    if z3.is_false(_violation(model, invariant, cut)):
        raise CertificateError(
            REFUSED, f"the model has no check of {invariant}: query (c) would hold without the invariant (vacuous)"
        )
    try:
        _bitwuzla([inv], None)
    except Exception as e:  # bitwuzla cannot read what z3 accepted: not a QF_BV formula
        raise CertificateError(REFUSED, f"the invariant is not a QF_BV formula bitwuzla reads: {e}") from None
    key = inv.sexpr()
    parts = queries(model, inv, invariant, cut)
    # (a) and (b) do not depend on the rule: asked once per invariant text (an answer, not a time limit's unknown)
    known = model.cache.setdefault(key, {})
    for q in "ab":
        answers[q] = known[q] if q in known else _ask(parts[q], deadline)
        if answers[q] != "unknown":
            known[q] = answers[q]
    if k == 1:
        answers["c"] = _ask(parts["c"], deadline)
    else:
        kq = k_queries(model, inv, invariant, k)
        answers["ck"] = _ask(kq["c"], deadline)
        answers["d"] = _ask(kq["d"], deadline)
    if cut:
        answers["l"] = _ask(copy_lemma.query(model.cfg), deadline)
    return answers


def queries(model: Rebuilt, inv, invariant: str, cut: bool = False) -> dict[str, list]:
    """The three queries for `inv` as lists of formulas (each must be unsatisfiable)."""
    return {
        "a": [model.initial, z3.Not(inv)],
        "b": [inv, model.step, z3.Not(_after(model, inv))],
        "c": [inv, model.step, _violation(model, invariant, cut)],
    }


def check_folder(path: str, timeout: float | None = None) -> list[Verdict]:
    """Re-check every certificate of the manifest at `path` (a folder, the manifest, or one .smt2).

    `timeout` bounds each certificate's whole re-check, the model's rebuild included (it is rebuilt once,
    within the first certificate's time, or the next one's if that ran out); past it, what was not
    answered is unknown.
    """
    try:
        manifest, only = find_manifest(path)
        cfg, entries = read_manifest(manifest)
        if only is not None:
            entries = [e for e in entries if e["file"] == only]
            if not entries:
                raise CertificateError(MALFORMED, f"{path}: {manifest} lists no certificate {only}")
    except CertificateError as e:
        return [Verdict(path, "", "", e.status, str(e))]
    folder = os.path.dirname(manifest)
    model = None
    out = [] if only is not None else _check_bfs(manifest, cfg, timeout)
    for e in entries:
        v = Verdict(manifest, os.path.join(folder, e["file"]), e["invariant"])
        with _judging(v, timeout) as deadline:
            k = e.get("k", 1)
            if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 16:
                raise CertificateError(MALFORMED, f"{manifest}: k = {k!r} must be a whole number 1..16")
            cut = e.get("cut")
            if cut not in (None, CUT) or (cut and v.invariant != copy_lemma.INVARIANT):
                raise CertificateError(MALFORMED, f"{manifest}: cut = {cut!r}: only {CUT!r}, for data-corrupted")
            v.asked = asked(k, bool(cut))
            v.stage = "while reading the certificate"
            body = read_invariant(v.file)
            if model is None:
                v.stage = "while rebuilding the model from the recorded configuration"
                model = rebuild(cfg)
            v.stage = "while asking the solver"
            check_invariant(model, v.invariant, body, deadline, k, bool(cut), v.queries)
            failed = [q for q in v.queries if v.queries[q] == "sat"]
            unknown = [q for q in v.queries if v.queries[q] == "unknown"]
            if failed:
                v.status = REFUSED
                v.message = "; ".join(
                    f'query ({q}) "{QUERIES[q].format(inv=v.invariant)}" fails: {FAILED[q].format(inv=v.invariant)}'
                    for q in failed
                )
            elif unknown:
                v.status = UNKNOWN
                v.message = "; ".join(f'query ({q}) "{QUERIES[q].format(inv=v.invariant)}": unknown' for q in unknown)
        out.append(v)
    return out


GRACE = 0.25  # seconds past the deadline before the alarm: work that watches the clock itself stops first


@contextmanager
def _judging(v: Verdict, timeout: float | None = None):
    """Time a certificate's re-check, within `timeout` s; what it raises becomes its verdict (a checker bug
    says so).  Yields the deadline (time.monotonic(), None without a limit)."""
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    try:
        with alarm_at(None if deadline is None else deadline + GRACE):
            yield deadline
    except OutOfTime:
        v.queries = {q: v.queries.get(q, "unknown") for q in v.asked or v.queries}
        unknown = [q for q, a in v.queries.items() if a == "unknown" and q in QUERIES]
        v.status = UNKNOWN
        v.message = "; ".join(f'query ({q}) "{QUERIES[q].format(inv=v.invariant)}": unknown' for q in unknown)
        v.message += f"{'; ' if unknown else ''}--timeout {timeout:g} s ran out {v.stage}"
    except CertificateError as err:
        v.status, v.message = err.status, str(err)
    except Exception as err:  # a bug of the checker, not of the certificate
        v.status, v.message = INTERNAL, f"internal error: {type(err).__name__}: {err} (please report it)"
    v.seconds = time.monotonic() - started


def _check_bfs(manifest: str, cfg: Config, timeout: float | None = None) -> list[Verdict]:
    """The exhausted searches the manifest records (key "bfs"), each run again (checker/bfs_certificate.py)."""
    from .bfs_certificate import check_entry

    with open(manifest, encoding="utf-8") as fh:
        es = json.load(fh).get("bfs", [])
    if not isinstance(es, list):
        return [Verdict(manifest, "", "", MALFORMED, f"{manifest}: `bfs` is not a list")]
    out = []
    for e in es:
        names = e.get("invariants") if isinstance(e, dict) else None
        label = ", ".join(names) if isinstance(names, list) and all(isinstance(n, str) for n in names) else "?"
        v = Verdict(manifest, f"{manifest} (bfs)", label, stage="while running the search again", asked=["bfs"])
        with _judging(v, timeout):
            ok, v.message = check_entry(cfg, e, timeout)
            v.queries = {"bfs": "same states" if ok else "differs"}
            if not ok:
                v.status = REFUSED
        out.append(v)
    return out
