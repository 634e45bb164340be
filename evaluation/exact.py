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
