"""The two readings of spec/ops.py: Concrete (u32 Python ints) and Symbolic (z3 bit-vectors).

- Concrete wraps like the C code's u32 arithmetic and follows z3 for
  division by zero, so the two readings can agree;
- Concrete refuses a z3 term where it needs a bool (claripy's
  BackendConcrete._If: refuse to guess a branch);
- Symbolic folds all-concrete arguments to Concrete's results (the rules'
  shortcuts depend on it);
- every binary op of Concrete equals z3.simplify of Symbolic's on values, at
  32 bits and, masked, at the checker's narrower width (Config.width).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as hs

from lgcheck.checker.config import Config
from lgcheck.spec import ops as ops_module
from lgcheck.spec.ops import MASK, SYM_WIDTH, Concrete, Symbolic, SymbolicValueError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spec_fixtures import restore_width  # noqa: E402

_restore_width = pytest.fixture(autouse=True)(restore_width)

U32 = 0xFFFF_FFFF
BV_OPS = ("Add", "Sub", "Mul", "UDiv", "URem", "BitAnd", "BitOr", "Shl", "LShR", "Min")
CMP_OPS = ("Eq", "Ne", "ULT", "ULE", "UGT", "UGE")
WIDTHS = (32, Config().width)  # the concrete width, and the checker's default (16)


# ------------------------------------------------------------------ Concrete: u32 arithmetic
def test_concrete_masks_to_32_bits():
    assert ops_module.WIDTH == 32 and MASK == U32
    assert Concrete.Add(U32, 1) == 0
    assert Concrete.Add(U32, U32) == U32 - 1
    assert Concrete.Sub(0, 1) == U32
    assert Concrete.Sub(5, 7) == U32 - 1
    assert Concrete.Mul(0x10000, 0x10000) == 0
    assert Concrete.Mul(0x10001, 0x10001) == 0x20001
    assert Concrete.BitNot(0) == U32
    assert Concrete.Shl(1, 31) == 0x8000_0000
    assert Concrete.Shl(1, 32) == 0 and Concrete.Shl(3, 31) == 0x8000_0000


def test_concrete_division_by_zero_follows_z3():
    # z3: bvudiv x 0 = all ones, bvurem x 0 = x.
    for a in (0, 1, 7, U32):
        assert Concrete.UDiv(a, 0) == U32
        assert Concrete.URem(a, 0) == a
        assert z3.simplify(z3.UDiv(z3.BitVecVal(a, 32), z3.BitVecVal(0, 32))).as_long() == U32
        assert z3.simplify(z3.URem(z3.BitVecVal(a, 32), z3.BitVecVal(0, 32))).as_long() == a


def test_concrete_add_overflows_is_the_u32_wrap():
    assert Concrete.AddOverflows(U32, 1) is True
    assert Concrete.AddOverflows(U32 - 1, 1) is False
    assert Concrete.AddOverflows(0x8000_0000, 0x8000_0000) is True


# ------------------------------------------------------------------ Concrete: refuse to guess
TERMS = [z3.Bool("c"), z3.BitVec("x", 32) == 0, z3.BitVec("x", 32)]


@pytest.mark.parametrize("term", TERMS, ids=["bool", "comparison", "bitvector"])
def test_concrete_refuses_symbolic_conditions(term):
    with pytest.raises(SymbolicValueError, match="use ops.If"):
        Concrete.If(term, 1, 2)
    with pytest.raises(SymbolicValueError):
        Concrete.And(True, term)
    with pytest.raises(SymbolicValueError):
        Concrete.Or(False, term)
    with pytest.raises(SymbolicValueError):
        Concrete.Not(term)
    with pytest.raises(SymbolicValueError):
        Concrete.Implies(term, True)


def test_concrete_refuses_ints_as_conditions():
    """A Python int is not a bool: `If(1, ...)` would be a silent guess too."""
    with pytest.raises(SymbolicValueError):
        Concrete.If(1, "a", "b")
    with pytest.raises(SymbolicValueError):
        Concrete.And(True, 0)


def test_concrete_and_or_short_circuit_like_c():
    """A decided conjunct/disjunct ends the scan, as && and || do; later ones are not looked at."""
    assert Concrete.And(False, z3.Bool("c")) is False
    assert Concrete.Or(True, z3.Bool("c")) is True
    assert Concrete.And() is True and Concrete.Or() is False
    assert Concrete.If(True, "a", "b") == "a" and Concrete.If(False, "a", "b") == "b"


def test_symbolic_value_error_is_a_type_error():
    assert issubclass(SymbolicValueError, TypeError)


# ------------------------------------------------------------------ Symbolic: folding
@pytest.mark.parametrize("name", BV_OPS + CMP_OPS + ("AddOverflows",))
@pytest.mark.parametrize("a,b", [(0, 0), (3, 5), (U32, 1), (0x1234, 0), (7, 33), (0xFFFF, 0xFFFF)])
def test_symbolic_folds_concrete_arguments(name, a, b):
    got = getattr(Symbolic, name)(a, b)
    want = getattr(Concrete, name)(a, b)
    assert type(got) is type(want) and got == want


def test_symbolic_folds_logic_and_if():
    x = z3.BitVec("x", 32)
    assert Symbolic.And(True, True) is True
    assert Symbolic.And(True, False, x == 0) is False
    assert Symbolic.Or(False, False) is False
    assert Symbolic.Or(x == 0, True) is True
    assert Symbolic.Not(True) is False and Symbolic.Not(False) is True
    assert Symbolic.Implies(False, x == 0) is True
    assert Symbolic.If(True, 1, x) == 1
    assert Symbolic.If(False, x, 2) == 2
    assert Symbolic.If(x == 0, 4, 4) == 4  # both branches the same value: no term
    assert Symbolic.BitNot(0) == U32
    assert Symbolic.is_concrete(3) and Symbolic.is_concrete(True) and not Symbolic.is_concrete(x)
    # A single symbolic conjunct comes back as itself, not wrapped in And.
    assert Symbolic.And(True, x == 0).eq(x == 0)


def test_symbolic_builds_terms_of_the_symbolic_width():
    SYM_WIDTH[0] = 16
    x = z3.BitVec("x", 16)
    t = Symbolic.Add(x, 0x1_0005)  # the constant is masked to the width
    assert z3.is_bv(t) and t.size() == 16
    assert z3.simplify(z3.substitute(t, (x, z3.BitVecVal(0xFFFF, 16)))).as_long() == 4
    assert Symbolic.If(x == 0, 1, 2).size() == 16
    c = z3.Bool("c")
    pair = Symbolic.If(c, (1, x), (2, x))  # tuples are chosen component-wise
    assert isinstance(pair, tuple) and len(pair) == 2
    with pytest.raises(SymbolicValueError):
        Symbolic.Add(x, True)  # a bool where a bit-vector belongs


# ------------------------------------------------------------------ the two readings agree
def _as_value(t):
    if isinstance(t, (bool, int)):
        return t  # folded
    t = z3.simplify(t)
    if z3.is_true(t):
        return True
    if z3.is_false(t):
        return False
    assert z3.is_bv_value(t), t
    return t.as_long()


def _expected(name, a, b, width):
    """Concrete's result seen at `width` bits: ring ops are exact mod 2**width; the rest on narrow inputs."""
    want = getattr(Concrete, name)(a, b)
    if isinstance(want, bool):
        return want
    return want & ((1 << width) - 1)


def _values(width):
    top = (1 << width) - 1
    return hs.one_of(
        hs.sampled_from([0, 1, 2, 31, 32, 33, top, top - 1, top // 2, (top + 1) // 2]),
        hs.integers(0, 64),
        hs.integers(0, top),
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_every_binary_op_agrees_with_z3(width):
    """For every op: Concrete(a, b) == z3.simplify(Symbolic(BitVecVal a, BitVecVal b)).

    At 32 bits this is exact.  At the checker's width (16) the symbolic
    reading computes mod 2**16: Add, Sub, Mul, Shl, BitNot wrap there, and on
    16-bit inputs the others (division included: 0xFFFF is all ones) are
    exact; so Concrete's result masked to 16 bits must be z3's.  AddOverflows
    asks about the 32-bit wrap and has no 16-bit counterpart; the checker's
    memory (config.py) keeps every address + length far below 2**16.
    """
    names = BV_OPS + CMP_OPS + (("AddOverflows",) if width == 32 else ())

    @settings(max_examples=150, deadline=None)
    @given(a=_values(width), b=_values(width), name=hs.sampled_from(names))
    def check(a, b, name):
        SYM_WIDTH[0] = width
        try:
            term = getattr(Symbolic, name)(z3.BitVecVal(a, width), z3.BitVecVal(b, width))
            got = _as_value(term)
            assert got == _expected(name, a, b, width), f"{name}({a:#x}, {b:#x}) at {width} bits"
        finally:
            SYM_WIDTH[0] = 32

    check()


@pytest.mark.parametrize("width", WIDTHS)
def test_unary_and_mixed_arguments_agree_with_z3(width):
    """BitNot, and a binary op with one Python int and one z3 value (the int is widened by _bv)."""
    mask = (1 << width) - 1

    @settings(max_examples=100, deadline=None)
    @given(a=_values(width), b=_values(width), name=hs.sampled_from(BV_OPS + CMP_OPS))
    def check(a, b, name):
        SYM_WIDTH[0] = width
        try:
            assert _as_value(Symbolic.BitNot(z3.BitVecVal(a, width))) == Concrete.BitNot(a) & mask
            got = _as_value(getattr(Symbolic, name)(a, z3.BitVecVal(b, width)))
            assert got == _expected(name, a, b, width)
            got = _as_value(getattr(Symbolic, name)(z3.BitVecVal(a, width), b))
            assert got == _expected(name, a, b, width)
        finally:
            SYM_WIDTH[0] = 32

    check()


@settings(max_examples=100, deadline=None)
@given(c=hs.booleans(), d=hs.booleans(), a=_values(32), b=_values(32))
def test_logic_agrees_with_z3(c, d, a, b):
    """If/And/Or/Not/Implies on z3 Boolean values give Concrete's answer on Python bools."""
    SYM_WIDTH[0] = 32
    zc, zd = z3.BoolVal(c), z3.BoolVal(d)
    assert _as_value(Symbolic.If(zc, z3.BitVecVal(a, 32), z3.BitVecVal(b, 32))) == Concrete.If(c, a, b)
    assert _as_value(Symbolic.If(zc, a, b)) == Concrete.If(c, a, b)
    assert _as_value(Symbolic.And(zc, zd)) == Concrete.And(c, d)
    assert _as_value(Symbolic.Or(zc, zd)) == Concrete.Or(c, d)
    assert _as_value(Symbolic.Not(zc)) == Concrete.Not(c)
    assert _as_value(Symbolic.Implies(zc, zd)) == Concrete.Implies(c, d)
    assert _as_value(Symbolic.If(zc, zd, z3.BoolVal(not d))) == Concrete.If(c, d, not d)
