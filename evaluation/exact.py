"""Exact sums of float64 values by group, batch by batch: the same bits however the input is cut or ordered.

A float64 is ``m * 2**(e - 53)`` with an integer mantissa ``|m| < 2**53`` (``np.frexp``). Per group and exponent the
mantissas are summed exactly (split into 27- and 26-bit halves, whose float sums stay below ``2**53`` for up to
``2**26`` values a call), and the group's total is kept as one Python integer in units of ``2**-SHIFT``. Adding
two partial totals is integer addition, so a batch's sums merge with any other's without rounding, and
:func:`to_float` rounds the exact total once, to nearest (as ``math.fsum`` does: the settlement's point totals
and base rates are the same as the per-case ``math.fsum`` of the whole year).
"""

from __future__ import annotations

import numpy as np

from .common import key_codes

SHIFT = 1126  # frexp exponents of finite float64 reach down to -1073; a mantissa carries 53 more bits
_CHUNK = 1 << 25  # values per bincount: half-mantissa sums stay exact in float64


def exact_sums(values: np.ndarray, groups: np.ndarray, into: dict) -> dict:
    """Add ``values`` (finite float64) into ``into`` ({group: exact total as int}, group codes ``>= 0``); returns it."""
    values = np.asarray(values, dtype=float)
    groups = np.asarray(groups, dtype=np.int64)
    if not np.isfinite(values).all():
        raise ValueError("exact_sums: values must be finite")
    for lo in range(0, len(values), _CHUNK):
        v, gr = values[lo:lo + _CHUNK], groups[lo:lo + _CHUNK]
        if not len(v):
            continue
        m, e = np.frexp(v)
        mant = (m * 9007199254740992.0).astype(np.int64)  # m * 2**53: exact
        e = e.astype(np.int64)
        lo_e = int(e.min())
        span = int(e.max()) - lo_e + 1  # the exponents present: a few dozen in practice
        code, uniq = key_codes(gr * span + (e - lo_e), (int(gr.max()) + 1) * span)
        high = np.bincount(code, weights=(mant >> 26).astype(float), minlength=len(uniq))
        low = np.bincount(code, weights=(mant & ((1 << 26) - 1)).astype(float), minlength=len(uniq))
        for k, a, b in zip(uniq.tolist(), high.tolist(), low.tolist()):
            g, ex = divmod(k, span)
            total = ((int(a) << 26) + int(b)) << (ex + lo_e - 53 + SHIFT)
            if total:
                into[g] = into.get(g, 0) + total
    return into


def merge_sums(into: dict, other: dict) -> dict:
    """``into`` plus ``other`` (both from :func:`exact_sums`), exactly."""
    for g, v in other.items():
        into[g] = into.get(g, 0) + v
    return into


def to_float(total: int) -> float:
    """The exact total rounded once to the nearest float64 (Python's integer division is correctly rounded)."""
    return total / (1 << SHIFT)


def split_exact(total: int) -> tuple[float, float]:
    """An exact total of :func:`exact_sums` as two floats ``hi + lo``: ``hi`` rounded to nearest, ``lo`` the rest
    (rounded), so that ``hi + lo`` carries ~106 bits of it."""
    from fractions import Fraction

    hi = to_float(total)
    rest = total - int(Fraction(hi) * (1 << SHIFT))  # hi is a multiple of 2**-1074, a whole number of units
    return hi, rest / (1 << SHIFT)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _dekker_split(a):
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    p = a * b
    ah, al = _dekker_split(a)
    bh, bl = _dekker_split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


REMAINDER_BITS = 32  # remainders are compared in units of 2**-32 fen (2.3e-10 fen)


def fen_shares(x: np.ndarray, s_hi, s_lo, total) -> tuple[np.ndarray, np.ndarray]:
    """``floor(x * total / S)`` and its remainder for each share ``x`` of a sum ``S = s_hi + s_lo`` (from
    :func:`split_exact`), ``total`` whole fen below 2**53. The remainder comes as an integer: rounded (half up) to
    units of 2**-32 fen. The quotient is computed in double-double arithmetic (error-free products and sums, Dekker
    1971; Shewchuk 1997), ~1e-18 fen at a 10**13-fen quotient, so the integer is exact unless the exact remainder
    lies within that of a rounding boundary. Plain float64 resolves remainders only to ~1e-4 fen at such
    quotients: the largest-remainder order then differed from exact arithmetic. Remainders equal in exact arithmetic
    (often: a half, a third) get the same integer, so their order is the key's."""
    x = np.asarray(x, dtype=float)
    s_hi = np.asarray(s_hi, dtype=float)
    s_lo = np.asarray(s_lo, dtype=float)
    total = np.asarray(total, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ph, pl = _two_prod(x, total)
        q1 = ph / s_hi
        th, tl = _two_prod(q1, s_hi)
        q2 = (((ph - th) - tl) + pl - q1 * s_lo) / s_hi  # ph - th is exact: th is within an ulp or two of ph
        f = np.floor(q1)
        rh, rl = _two_sum(q1 - f, q2)
        f = np.where(rh < 0, f - 1, np.where(rh >= 1, f + 1, f))  # q1 a whole number and q2 < 0, or just below one
        rh, rl = _two_sum(q1 - f, q2)
        w = rh * float(1 << REMAINDER_BITS) + 0.5  # exact: a power-of-two scale and a half at this magnitude
        r = np.floor(w)
        r = np.where((w == r) & (rl < 0), r - 1, r)  # the low part decides only on a whole number
    return f.astype(np.int64), r.astype(np.int64)
