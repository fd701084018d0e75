"""The rules' concrete reading, compiled to plain Python (once per process, at import).

The rules of spec/ (host.py, hypercalls.py, launcher.py, devices.py), the
monitors (monitors.py) and apply.py, which runs them after each effect, are
written once against `ops`; replay runs them with `ops.Concrete`, which
costs a Python call per `ops.X(...)` (about 78 a record on busy traffic).
Here each rule module's own source is parsed, its `ops.X(...)` calls are
rewritten into the Python expressions that `Concrete.X` computes, and the
module is executed again under a private name: the same rules, the same
control flow, the same state calls, without the calls through the vocabulary.
The written rules stay the source of truth; tests/spec/test_compiled.py
checks on generated states and steps that both readings agree.

The rewrites (Concrete's own definitions, spec/ops.py):

    ops.Add(a, b)        ((a + b) & MASK)         also Sub, Mul
    ops.Eq(a, b)         (a == b)                 also Ne, ULT, ULE, UGT, UGE
    ops.BitAnd(a, b)     (a & b)                  also BitOr, LShR
    ops.AddOverflows     ((a + b) > MASK)
    ops.TRUE / FALSE     True / False
    ops.And(x, y)        (x and y)                every operand a bool, pure
    ops.Or(x, y)         (x or y)
    ops.Not(x)           (not x)
    ops.If(c, a, b)      (a if c else b)          a and b pure
    ops.Min(a, b)        (a if a <= b else b)     a and b pure
    _known_false(x)      (x is False)             _known_true likewise
    _add(effs, k, w, ..) if (w2 := w) is not False: _add(effs, k, w2, ..)
                                                  host.py's helper records nothing for
                                                  a False guard; other arguments pure

`Concrete.And`, `Or`, `Not` and `If` refuse a condition that is not a Python
bool (a z3 term that slipped into the concrete reading).  The compiled code
keeps that check wherever it cannot see that the value is a bool: a
comparison, a constant, an And/Or/Not of such, a local variable that only
ever holds such, or a call of a function of the same module whose every
`return` is such, is a bool; anything else (a parameter such as `when`, an
attribute, a call's result) is tested with `is True` / `is False` and refused
otherwise, exactly as Concrete does.  Operands are *pure* (Names, constants,
attributes of Names, and rewritten expressions of those) when evaluating
them lazily cannot change what happens; a call whose operands are not all
pure (a rule call, say, that may write a note) stays a call of `Concrete.X`,
which evaluates every argument, as the interpreted reading does.

What "a comparison is a bool" rests on: the compiled reading only ever runs
on ConcreteState and parsed records, whose values are Python ints, and a
comparison of ints is a bool.  A z3 term inside a comparison (`b.off == x`
with a symbolic off) is not refused by the compiled code (z3 would answer
`==` by structural equality); the interpreted reading, which the tests run
(tests/spec, and LGCHECK_INTERPRETED=1), still refuses it.

`LGCHECK_INTERPRETED=1` in the environment makes this module hand out the
interpreted rules instead (for debugging the compiler, or to compare).
"""

from __future__ import annotations

import ast
import copy
import importlib
import marshal
import os
import sys
import types
import zlib

from . import ops as _ops
from .env import INTERPRETED

# The rule modules compiled, in dependency order (later ones import earlier ones' rules).
# The monitors (their checks run after every effect) and apply (which runs them) too:
# the compiled monitors module registers its own copies, in its own MONITORS.
MODULES = ("host", "devices", "launcher", "hypercalls", "monitors", "apply")

_BOOL_OPS = {"Eq", "Ne", "ULT", "ULE", "UGT", "UGE", "AddOverflows"}
_CMP = {"Eq": ast.Eq, "Ne": ast.NotEq, "ULT": ast.Lt, "ULE": ast.LtE, "UGT": ast.Gt, "UGE": ast.GtE}
_MASKED = {"Add": ast.Add, "Sub": ast.Sub, "Mul": ast.Mult}
_PLAIN = {"BitAnd": ast.BitAnd, "BitOr": ast.BitOr, "LShR": ast.RShift}


def _refuse(what, value):
    _ops._refuse(what, value)


def _name(n: str) -> ast.Name:
    return ast.Name(n, ast.Load())


def _const(v) -> ast.Constant:
    return ast.Constant(v)


class _Rewrite(ast.NodeTransformer):
    """Rewrite one function's `ops.X(...)` calls (see the module docstring)."""

    def __init__(self, bool_locals: set[str], bool_funcs: frozenset[str] = frozenset(), guarded_add: bool = False):
        self.bool_locals = bool_locals
        self.bool_funcs = bool_funcs
        self.guarded_add = guarded_add  # the module defines host.py's `_add(effects, kind, when, **fields)`
        self.rewritten = 0
        self.kept = 0

    # -- what is known of an expression
    def is_bool(self, e) -> bool:
        if isinstance(e, ast.Constant):
            return e.value is True or e.value is False
        if isinstance(e, ast.Compare):
            return True
        if isinstance(e, ast.BoolOp):
            return all(self.is_bool(v) for v in e.values)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return True
        if isinstance(e, ast.IfExp):
            return self._is_check(e) or (self.is_bool(e.body) and self.is_bool(e.orelse))
        if isinstance(e, ast.Name):
            return e.id in self.bool_locals
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name):
            # a bool, or it raises; or a function of this module whose every return is a bool
            return e.func.id in ("_refuse", "_as_bool") or e.func.id in self.bool_funcs
        return False

    @staticmethod
    def _is_check(e: ast.IfExp) -> bool:
        """`(x if x is True or x is False else _refuse(...))`: a bool, or it raises (see `checked`)."""
        t = e.test
        return (
            isinstance(e.body, ast.Name)
            and isinstance(t, ast.BoolOp)
            and isinstance(t.op, ast.Or)
            and len(t.values) == 2
            and all(
                isinstance(v, ast.Compare)
                and isinstance(v.left, ast.Name)
                and v.left.id == e.body.id
                and isinstance(v.ops[0], ast.Is)
                and isinstance(v.comparators[0], ast.Constant)
                and v.comparators[0].value is want
                for v, want in zip(t.values, (True, False))
            )
        )

    def is_pure(self, e) -> bool:
        if isinstance(e, (ast.Name, ast.Constant)):
            return True
        if isinstance(e, ast.Attribute):
            return isinstance(e.value, ast.Name)
        if isinstance(e, ast.BinOp):
            return self.is_pure(e.left) and self.is_pure(e.right)
        if isinstance(e, ast.Compare):
            return self.is_pure(e.left) and all(self.is_pure(c) for c in e.comparators)
        if isinstance(e, ast.BoolOp):
            return all(self.is_pure(v) for v in e.values)
        if isinstance(e, ast.UnaryOp):
            return self.is_pure(e.operand)
        if isinstance(e, ast.IfExp):
            return self.is_pure(e.test) and self.is_pure(e.body) and self.is_pure(e.orelse)
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in ("_refuse", "_as_bool"):
            return all(self.is_pure(a) for a in e.args)  # the concrete reading's own refusal
        if isinstance(e, ast.Tuple):
            return all(self.is_pure(v) for v in e.elts)
        return False

    def checked(self, e, what: str):
        """`e` as an expression that is a bool, or refuses as Concrete.<what> would (e is pure)."""
        if self.is_bool(e):
            return e
        if not isinstance(e, ast.Name):  # evaluate once: a Name's second read is free
            return ast.Call(_name("_as_bool"), [_const(what), e], [])
        # (e if e is True or e is False else _refuse(what, e))
        test = ast.BoolOp(
            ast.Or(),
            [ast.Compare(e, [ast.Is()], [_const(True)]), ast.Compare(e, [ast.Is()], [_const(False)])],
        )
        return ast.IfExp(test, e, ast.Call(_name("_refuse"), [_const(what), e], []))

    # -- the rewrite
    def visit_Expr(self, node):
        """`_add(effects, kind, when, **fields)` -> `if (w := when) is not False: _add(effects, kind, w, **fields)`.

        _add records nothing when its guard is False (most kill guards, on
        every send): testing the guard first skips the call and the dict of
        its fields.  Only when every other argument is pure, so that not
        evaluating them changes nothing.
        """
        self.generic_visit(node)
        c = node.value
        if not (
            self.guarded_add
            and isinstance(c, ast.Call)
            and isinstance(c.func, ast.Name)
            and c.func.id == "_add"
            and len(c.args) == 3
            and not any(isinstance(a, ast.Starred) for a in c.args)
            and all(k.arg is not None and self.is_pure(k.value) for k in c.keywords)
            and self.is_pure(c.args[0])
            and self.is_pure(c.args[1])
        ):
            return node
        guard = ast.NamedExpr(ast.Name("_add_when", ast.Store()), c.args[2])
        call = ast.Call(c.func, [c.args[0], c.args[1], _name("_add_when")], c.keywords)
        test = ast.Compare(guard, [ast.IsNot()], [_const(False)])
        return ast.If(test, [ast.Expr(call)], [])

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "ops" and node.attr in ("TRUE", "FALSE"):
            self.rewritten += 1
            return _const(node.attr == "TRUE")
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Name) and f.id in ("_known_false", "_known_true") and len(node.args) == 1:
            self.rewritten += 1
            return ast.Compare(node.args[0], [ast.Is()], [_const(f.id == "_known_true")])
        if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "ops"):
            return node
        op, args = f.attr, node.args
        out = None
        if node.keywords or any(isinstance(a, ast.Starred) for a in args):
            out = None
        elif op in _CMP and len(args) == 2:
            out = ast.Compare(args[0], [_CMP[op]()], [args[1]])
        elif op in _MASKED and len(args) == 2:
            out = ast.BinOp(ast.BinOp(args[0], _MASKED[op](), args[1]), ast.BitAnd(), _name("MASK"))
        elif op in _PLAIN and len(args) == 2:
            out = ast.BinOp(args[0], _PLAIN[op](), args[1])
        elif op == "AddOverflows" and len(args) == 2:
            out = ast.Compare(ast.BinOp(args[0], ast.Add(), args[1]), [ast.Gt()], [_name("MASK")])
        elif op in ("And", "Or") and args and all(self.is_pure(a) for a in args):
            vals = [self.checked(a, op) for a in args]
            out = vals[0] if len(vals) == 1 else ast.BoolOp(ast.And() if op == "And" else ast.Or(), vals)
        elif op == "Not" and len(args) == 1 and self.is_pure(args[0]):
            out = ast.UnaryOp(ast.Not(), self.checked(args[0], "Not"))
        elif op == "If" and len(args) == 3 and self.is_pure(args[1]) and self.is_pure(args[2]):
            c = args[0]
            if self.is_bool(c):
                out = ast.IfExp(c, args[1], args[2])
            elif self.is_pure(c) and isinstance(c, ast.Name):
                # (a if c is True else (b if c is False else _refuse("If", c)))
                out = ast.IfExp(
                    ast.Compare(c, [ast.Is()], [_const(True)]),
                    args[1],
                    ast.IfExp(
                        ast.Compare(c, [ast.Is()], [_const(False)]),
                        args[2],
                        ast.Call(_name("_refuse"), [_const("If"), c], []),
                    ),
                )
            else:
                out = ast.IfExp(ast.Call(_name("_as_bool"), [_const("If"), c], []), args[1], args[2])
        elif op == "Min" and len(args) == 2 and all(self.is_pure(a) for a in args):
            out = ast.IfExp(ast.Compare(args[0], [ast.LtE()], [args[1]]), args[0], args[1])
        elif op == "URemBounded" and len(args) == 3 and self.is_pure(args[0]) and self.is_pure(args[1]):
            a, b = args[0], args[1]
            out = ast.IfExp(ast.Compare(b, [ast.Eq()], [_const(0)]), a, ast.BinOp(a, ast.Mod(), b))
        if out is None:  # kept as a call of the concrete reading itself
            self.kept += 1
            return ast.Call(ast.Attribute(_name("_Concrete"), op, ast.Load()), args, node.keywords)
        self.rewritten += 1
        return out


def _assigned(fn: ast.FunctionDef) -> dict[str, list]:
    """Each local name's assigned values (None for an assignment whose value is not seen: loops, tuples)."""
    out: dict[str, list] = {}
    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs}
    for p in params:
        out.setdefault(p, []).append(None)
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out.setdefault(t.id, []).append(node.value)
                else:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            out.setdefault(n.id, []).append(None)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, []).append(None if isinstance(node, ast.AugAssign) else node.value)
        elif isinstance(node, (ast.For, ast.comprehension, ast.With, ast.NamedExpr)):
            targets = [node.target] if hasattr(node, "target") else [i.optional_vars for i in node.items]
            for t in targets:
                for n in ast.walk(t) if t is not None else ():
                    if isinstance(n, ast.Name):
                        out.setdefault(n.id, []).append(None)
    return out


def _bool_locals(fn: ast.FunctionDef, bool_funcs: frozenset[str] = frozenset()) -> set[str]:
    """Locals that only ever hold a bool: the greatest fixed point over their assignments.

    Every local is first assumed a bool; one whose some assignment is not a
    bool under the current assumption is dropped, until nothing changes (so
    `found = ops.Or(found, hit)` in a loop counts).  The test is made on the
    rewritten form of each value, so `x = ops.Eq(a, b)` counts too.
    """
    assigned = _assigned(fn)
    known = {name for name, values in assigned.items() if values and None not in values}
    while True:
        probe = _Rewrite(known, bool_funcs)
        kept = {name for name in known if all(probe.is_bool(probe.visit(_copy(v))) for v in assigned[name])}
        if kept == known:
            return known
        known = kept


def _bool_funcs(fns: list[ast.FunctionDef]) -> frozenset[str]:
    """The module's functions that always return a bool (greatest fixed point, like _bool_locals).

    A function qualifies when its body ends in a `return` and every `return`
    in it gives a bool once rewritten; so `lguest_address_ok(...)` is a bool
    where it is called.
    """
    known = frozenset(f.name for f in fns if f.body and isinstance(f.body[-1], ast.Return))
    by_name = {f.name: f for f in fns}
    while True:
        kept = set()
        for name in known:
            fn = by_name[name]
            probe = _Rewrite(_bool_locals(fn, known), known)
            rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
            if all(r.value is not None and probe.is_bool(probe.visit(_copy(r.value))) for r in rets):
                kept.add(name)
        if kept == known:
            return known
        known = frozenset(kept)


def _copy(node):
    return copy.deepcopy(node)


def _strip_rule(fn: ast.FunctionDef):
    """Drop `@rule(...)`: the interpreted module has registered the rule already."""
    fn.decorator_list = [
        d
        for d in fn.decorator_list
        if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "rule")
    ]


def _as_bool(what, x):
    if x is True or x is False:
        return x
    _refuse(what, x)


BOOL_FUNCS: dict[str, frozenset[str]] = {}  # module -> its functions found to return a bool
STATS: dict[str, tuple[int, int]] = {}  # module -> (ops calls rewritten, kept as Concrete calls)
SOURCES: dict[str, str] = {}  # module -> the compiled source (for reading, and for tracebacks)


def _rewrite_module(source: str) -> tuple[str, int, int, frozenset[str]]:
    """One rule module's source, rewritten: (source, calls rewritten, calls kept, bool functions)."""
    tree = ast.parse(source)
    done = kept = 0
    fns = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    bool_funcs = _bool_funcs(fns)
    guarded_add = any(f.name == "_add" for f in fns)
    for node in fns:
        _strip_rule(node)
        if any(a.arg == "ops" for a in node.args.args):
            rw = _Rewrite(_bool_locals(node, bool_funcs), bool_funcs, guarded_add)
            rw.visit(node)
            done, kept = done + rw.rewritten, kept + rw.kept
    ast.fix_missing_locations(tree)
    return ast.unparse(tree), done, kept, bool_funcs


_CACHE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")


def _translated(name: str, orig: types.ModuleType, use_cache: bool = True):
    """(code, source, rewritten, kept, bool functions) of a rule module, from the cache when it is current.

    The rewrite takes ~0.1 s; its result depends only on the module's source
    and this compiler's, so it is kept (marshalled, like a .pyc) in
    spec/__pycache__ under a hash of both.  An unwritable folder only costs
    the rewrite again.
    """
    with open(orig.__file__, encoding="utf-8") as fh:
        source = fh.read()
    filename = f"<compiled {orig.__file__}>"
    with open(__file__, "rb") as fh:
        me = fh.read()
    data = me + b"\0" + source.encode()
    digest = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"  # zlib: no hashlib import at start-up
    path = os.path.join(_CACHE_DIR, f"compiled-{name}.{sys.implementation.cache_tag}.{digest}.bin")
    if use_cache:
        try:
            with open(path, "rb") as fh:
                code, src, done, kept, funcs = marshal.load(fh)
            return code, src, done, kept, frozenset(funcs)
        except (OSError, ValueError, EOFError, TypeError):
            pass
    src, done, kept, funcs = _rewrite_module(source)
    code = compile(src, filename, "exec")
    if use_cache:
        try:
            os.makedirs(_CACHE_DIR, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                marshal.dump((code, src, done, kept, tuple(sorted(funcs))), fh)
            os.replace(tmp, path)
            stale = f"compiled-{name}.{sys.implementation.cache_tag}."
            for old in os.listdir(_CACHE_DIR):  # the translations of earlier sources
                if old.startswith(stale) and old.endswith(".bin") and old != os.path.basename(path):
                    os.unlink(os.path.join(_CACHE_DIR, old))
        except OSError:
            pass
    return code, src, done, kept, funcs


def compile_module(name: str, compiled: dict[str, types.ModuleType], use_cache: bool = True) -> types.ModuleType:
    """Compile spec/<name>.py's rules; names imported from already compiled modules are rebound to them."""
    pkg = __package__ or "lgcheck.spec"
    orig = importlib.import_module(f"{pkg}.{name}")
    code, src, done, kept, bool_funcs = _translated(name, orig, use_cache)
    modname = f"{pkg}._compiled_{name}"
    mod = types.ModuleType(modname, orig.__doc__)
    mod.__dict__.update(
        __package__=pkg,
        __file__=code.co_filename,
        MASK=_ops.MASK,
        _Concrete=_ops.Concrete,
        _refuse=_refuse,
        _as_bool=_as_bool,
    )
    exec(code, mod.__dict__)
    # Rules another compiled module defines are called in their compiled form.
    for other, om in compiled.items():
        src_mod = importlib.import_module(f"{pkg}.{other}")
        for k, v in list(mod.__dict__.items()):
            if callable(v) and getattr(src_mod, k, None) is v and k in om.__dict__:
                mod.__dict__[k] = om.__dict__[k]
    sys.modules[modname] = mod
    STATS[name] = (done, kept)
    SOURCES[name] = src
    BOOL_FUNCS[name] = bool_funcs
    return mod


def _build(use_cache: bool = True) -> dict[str, types.ModuleType]:
    compiled: dict[str, types.ModuleType] = {}
    for name in MODULES:
        compiled[name] = compile_module(name, compiled, use_cache)
    return compiled


if INTERPRETED:
    from . import devices as _devices
    from . import host as _host
    from . import hypercalls as _hypercalls
    from . import apply as _apply
    from . import launcher as _launcher
    from . import monitors as _monitors

    MODULE = {
        "host": _host,
        "devices": _devices,
        "launcher": _launcher,
        "hypercalls": _hypercalls,
        "monitors": _monitors,
        "apply": _apply,
    }
else:
    MODULE = _build()

# What replay calls (the same names as the rules of spec/).
bind_dma = MODULE["host"].bind_dma
send_attempt = MODULE["host"].send_attempt
get_dma_buffer = MODULE["host"].get_dma_buffer
hcall_send_dma = MODULE["hypercalls"].hcall_send_dma
fill = MODULE["launcher"].fill
fill_bytes = MODULE["launcher"].fill_bytes
handle_output = MODULE["launcher"].handle_output
send_irq = MODULE["launcher"].send_irq
release_all_dma = MODULE["launcher"].release_all_dma
status_write = MODULE["devices"].status_write
apply = MODULE["apply"].apply  # perform an effect, then run the (compiled) monitors
# What spec/fused.py calls on a memo miss (the same rules: the memo keeps their answers).
check_dma_list = MODULE["host"].check_dma_list
get_futex_key = MODULE["host"].get_futex_key
capacity = MODULE["monitors"].capacity
observe = MODULE["monitors"].observe  # run the (compiled) monitors over the state's log (replay's fused v2 copy)

MASK = _ops.MASK


def _usual_copy(general):
    """copy_data_steps with the usual frame's answer computed directly (the concrete reading's version 2 copy).

    The usual frame: the source's sections are one, of sl bytes, and the
    destination's first section is longer.  copy_data's loop then runs
    once: it moves sl bytes from the source's addr[0] to the destination's
    addr[0], reads the source's len[1] (0: the loop ends) and never reaches
    the destination's next section.  That is the step returned here, after
    reading the same fields the rule reads; any other layout, or a field the
    trace left unwritten or unknown (where reading it says so), takes the
    rule itself.  tests/spec/test_compiled.py checks both on generated
    descriptors.
    """

    def copy_data_steps(ops, st, g, src_dma, h, dst_dma, host="2.6.23"):
        try:
            guests = st.guests
            s, d = guests[g].mem.get(src_dma), guests[h].mem.get(dst_dma)
        except (AttributeError, KeyError):  # another state, or a Guest never seen: the rule
            return general(ops, st, g, src_dma, h, dst_dma, host)
        if s is not None and d is not None:
            sl, dl, nl = s.lens[0], d.lens[0], s.lens[1]
            if type(nl) is int and nl == 0:
                # A field never written is None, one a partial trace left unknown is UNKNOWN: both refuse
                # `<` and `&` (TypeError), and the rule reads them (and says so).
                try:
                    if 0 < sl < dl <= MASK:
                        sa = s.addrs[0]
                        # The rule's own arithmetic: it adds the (zero) offsets modulo 2^32.
                        frm, to = sa & MASK, d.addrs[0] & MASK
                        return [(True, frm if host == "fixed" else sa, to, sl)]
                except TypeError:
                    pass
        return general(ops, st, g, src_dma, h, dst_dma, host)

    copy_data_steps.general = general
    return copy_data_steps


if not INTERPRETED:
    MODULE["host"].copy_data_steps = _usual_copy(MODULE["host"].copy_data_steps)
copy_data_steps = MODULE["host"].copy_data_steps  # what spec/fused.py's version 2 send calls: the rule
