"""The operations every protocol rule is written against, in two readings.

A rule never uses Python's `if`, `+` or `<` on protocol values: it calls
`ops.If`, `ops.Add`, `ops.ULT`, ... (named as z3 names them).  `Concrete`
computes on Python ints and bools, masked to 32 bits like the u32 arithmetic of
the C code; `Symbolic` builds z3 bit-vector terms of 32 bits.  So one rule is
both the replay's model and the checker's transition relation.

The concrete reading refuses a symbolic condition (`SymbolicValueError`)
instead of guessing a branch, so a rule that slipped a z3 term into a Python
decision fails loudly in the tests.
"""

from __future__ import annotations


class _LazyZ3:
    """`z3`, imported at its first use: replay (the Concrete reading) never imports it (~50-130 ms)."""

    def __getattr__(self, name):
        import z3 as module

        globals()["z3"] = module
        return getattr(module, name)


z3 = _LazyZ3()

WIDTH = 32
MASK = (1 << WIDTH) - 1


class SymbolicValueError(TypeError):
    """A concrete operation was handed something that is not a concrete value."""


def _refuse(what, value):
    raise SymbolicValueError(
        f"concrete {what} needs a Python bool, got {type(value).__name__}: {value!r}; "
        "a rule is branching on a symbolic value (use ops.If, not Python's if)"
    )


class Concrete:
    """Python ints (u32, masked) and bools."""

    name = "concrete"
    TRUE = True
    FALSE = False

    @staticmethod
    def If(c, a, b):
        if c is True:
            return a
        if c is False:
            return b
        _refuse("If", c)

    @staticmethod
    def And(*xs):
        for x in xs:
            if x is False:
                return False
            if x is not True:
                _refuse("And", x)
        return True

    @staticmethod
    def Or(*xs):
        for x in xs:
            if x is True:
                return True
            if x is not False:
                _refuse("Or", x)
        return False

    @staticmethod
    def Not(x):
        if x is True:
            return False
        if x is False:
            return True
        _refuse("Not", x)

    @staticmethod
    def Implies(a, b):
        return Concrete.Or(Concrete.Not(a), b)

    @staticmethod
    def Eq(a, b):
        return a == b

    @staticmethod
    def Ne(a, b):
        return a != b

    @staticmethod
    def ULT(a, b):
        return a < b

    @staticmethod
    def ULE(a, b):
        return a <= b

    @staticmethod
    def UGT(a, b):
        return a > b

    @staticmethod
    def UGE(a, b):
        return a >= b

    @staticmethod
    def Add(a, b):
        return (a + b) & MASK

    @staticmethod
    def Sub(a, b):
        return (a - b) & MASK

    @staticmethod
    def Mul(a, b):
        return (a * b) & MASK

    @staticmethod
    def UDiv(a, b):
        # z3's convention for division by zero, so that both readings agree.
        return MASK if b == 0 else a // b

    @staticmethod
    def URem(a, b):
        return a if b == 0 else a % b

    @staticmethod
    def URemBounded(a, b, bound):
        """a % b for a divisor known to be at most `bound` (exact in this reading for any b)."""
        return a if b == 0 else a % b

    @staticmethod
    def BitAnd(a, b):
        return a & b

    @staticmethod
    def BitOr(a, b):
        return a | b

    @staticmethod
    def BitNot(a):
        return ~a & MASK

    @staticmethod
    def Shl(a, b):
        return (a << b) & MASK if b < WIDTH else 0

    @staticmethod
    def LShR(a, b):
        return a >> b

    @staticmethod
    def AddOverflows(a, b):
        """True when the u32 sum a+b wraps (lguest_address_ok's wrap test)."""
        return a + b > MASK

    @staticmethod
    def Min(a, b):
        return a if a <= b else b

    @staticmethod
    def is_concrete(x) -> bool:
        return True


SYM_WIDTH = [32]  # the symbolic reading's bit width; the checker may narrow it


def _bv(x):
    if isinstance(x, bool):
        raise SymbolicValueError(f"bool {x!r} where a bit-vector was expected")
    if isinstance(x, int):
        w = SYM_WIDTH[0]
        return z3.BitVecVal(x & ((1 << w) - 1), w)
    return x


def _concrete(*xs) -> bool:
    return all(type(x) is int or type(x) is bool for x in xs)


class Symbolic:
    """z3 terms: 32-bit bit-vectors and Booleans; plain values fold to Concrete."""

    name = "symbolic"
    TRUE = True
    FALSE = False

    @staticmethod
    def If(c, a, b):
        if c is True:
            return a
        if c is False:
            return b
        if isinstance(a, tuple):
            return tuple(Symbolic.If(c, x, y) for x, y in zip(a, b, strict=True))
        if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(a) or z3.is_bool(b):
            return z3.If(c, a, b)
        if _concrete(a, b) and a == b:
            return a
        return z3.If(c, _bv(a), _bv(b))

    @staticmethod
    def And(*xs):
        rest = []
        for x in xs:
            if x is False:
                return False
            if x is not True:
                rest.append(x)
        if not rest:
            return True
        return rest[0] if len(rest) == 1 else z3.And(*rest)

    @staticmethod
    def Or(*xs):
        rest = []
        for x in xs:
            if x is True:
                return True
            if x is not False:
                rest.append(x)
        if not rest:
            return False
        return rest[0] if len(rest) == 1 else z3.Or(*rest)

    @staticmethod
    def Not(x):
        if isinstance(x, bool):
            return not x
        return z3.Not(x)

    @staticmethod
    def Implies(a, b):
        return Symbolic.Or(Symbolic.Not(a), b)

    @staticmethod
    def Eq(a, b):
        if _concrete(a, b):
            return a == b
        return _bv(a) == _bv(b)

    @staticmethod
    def Ne(a, b):
        return Symbolic.Not(Symbolic.Eq(a, b))

    @staticmethod
    def ULT(a, b):
        return a < b if _concrete(a, b) else z3.ULT(_bv(a), _bv(b))

    @staticmethod
    def ULE(a, b):
        return a <= b if _concrete(a, b) else z3.ULE(_bv(a), _bv(b))

    @staticmethod
    def UGT(a, b):
        return a > b if _concrete(a, b) else z3.UGT(_bv(a), _bv(b))

    @staticmethod
    def UGE(a, b):
        return a >= b if _concrete(a, b) else z3.UGE(_bv(a), _bv(b))

    @staticmethod
    def Add(a, b):
        return Concrete.Add(a, b) if _concrete(a, b) else _bv(a) + _bv(b)

    @staticmethod
    def Sub(a, b):
        return Concrete.Sub(a, b) if _concrete(a, b) else _bv(a) - _bv(b)

    @staticmethod
    def Mul(a, b):
        return Concrete.Mul(a, b) if _concrete(a, b) else _bv(a) * _bv(b)

    @staticmethod
    def UDiv(a, b):
        return Concrete.UDiv(a, b) if _concrete(a, b) else z3.UDiv(_bv(a), _bv(b))

    @staticmethod
    def URem(a, b):
        return Concrete.URem(a, b) if _concrete(a, b) else z3.URem(_bv(a), _bv(b))

    @staticmethod
    def URemBounded(a, b, bound):
        """a % b as a case split over the divisors 1..bound: remainders by constants, no divider circuit.

        Exact when b <= bound (the checker keeps num_dmas within its buffers: a
        domain constraint, and a lemma of the induction); b = 0 gives a, as z3.
        """
        if _concrete(a, b):
            return Concrete.URemBounded(a, b, bound)
        out = a
        for n in range(bound, 0, -1):
            r = _bv(a) & (n - 1) if n & (n - 1) == 0 else z3.URem(_bv(a), n)
            out = Symbolic.If(Symbolic.Eq(b, n), r, out)
        return out

    @staticmethod
    def BitAnd(a, b):
        return a & b if _concrete(a, b) else _bv(a) & _bv(b)

    @staticmethod
    def BitOr(a, b):
        return a | b if _concrete(a, b) else _bv(a) | _bv(b)

    @staticmethod
    def BitNot(a):
        return Concrete.BitNot(a) if _concrete(a) else ~_bv(a)

    @staticmethod
    def Shl(a, b):
        return Concrete.Shl(a, b) if _concrete(a, b) else _bv(a) << _bv(b)

    @staticmethod
    def LShR(a, b):
        return a >> b if _concrete(a, b) else z3.LShR(_bv(a), _bv(b))

    @staticmethod
    def AddOverflows(a, b):
        if _concrete(a, b):
            return Concrete.AddOverflows(a, b)
        return z3.Not(z3.BVAddNoOverflow(_bv(a), _bv(b), False))

    @staticmethod
    def Min(a, b):
        return Symbolic.If(Symbolic.ULE(a, b), a, b)

    @staticmethod
    def is_concrete(x) -> bool:
        return _concrete(x)
