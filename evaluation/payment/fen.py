"""Money in integer fen (分): conversion from yuan with a bound, halves rounded up, and a total shared out to the fen by
the largest remainders (Hamilton's method; ties to the smaller key)."""

from __future__ import annotations

import numpy as np

from ..common import EvaluationError
from ..exact import exact_sums, fen_shares, split_exact

FEN_MAX = 2 ** 62  # any one amount in fen, checked before conversion: sums of a few of them still fit int64


def to_fen(yuan) -> np.ndarray:
    """Yuan -> integer fen, rounded half up; NaN -> 0. An amount whose fen would not fit (beyond ±2**62 fen, i.e.
    an absurd rate or cost that got past the bounds) is :class:`EvaluationError` naming it, never a wrapped-around
    int64."""
    fen = np.nan_to_num(np.asarray(yuan, dtype=float), nan=0.0, posinf=np.inf, neginf=-np.inf) * 100.0
    bad = ~(np.abs(fen) < FEN_MAX)
    if bad.any():
        v = float(np.asarray(yuan, dtype=float).ravel()[np.flatnonzero(bad.ravel())[0]])
        raise EvaluationError(f"an amount of {v:g} yuan is beyond what integer fen hold; check the budget, the "
                              "base rate's basis and the costs (a case costs at most 1e12 yuan)")
    return round_half_up(fen)


def allocate_fen(total_fen: int, shares: np.ndarray, keys) -> np.ndarray:
    """Split ``total_fen`` (an integer) over items in proportion to ``shares`` (>= 0): largest-remainder
    method (Hamilton), remainders compared in units of 2**-32 fen, ties to the smaller key. Sums to ``total_fen``
    exactly; independent of the items' order. The shares' sum is exact (:func:`evaluation.exact.exact_sums`) and
    each quotient is computed in double-double arithmetic (:func:`evaluation.exact.fen_shares`), so the fen go
    where exact arithmetic puts them."""
    shares = np.asarray(shares, dtype=float)
    n = len(shares)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    exact = exact_sums(shares, np.zeros(n, np.int64), {}).get(0, 0) if np.isfinite(shares).all() else 0
    if not exact > 0:
        raise EvaluationError("nothing to share the budget over (every share is 0)")
    s_hi, s_lo = split_exact(exact)
    base, rem = fen_shares(shares, s_hi, s_lo, float(total_fen))
    left = int(total_fen - int(base.sum()))
    while left < 0:  # a quotient within ~1e-18 of a whole number floored one too high (never in practice)
        i = int(np.argmin(np.where(base > 0, rem, np.iinfo(np.int64).max)))
        base[i] -= 1
        rem[i] += 1 << 32
        left += 1
    if left >= n:  # the same, the other way
        base += left // n
        left %= n
    if left:
        base[_largest(rem, keys, left)] += 1
    return base


def _largest(rem: np.ndarray, keys, k: int) -> np.ndarray:
    """Indices of the ``k`` largest remainders; among equal remainders the smaller keys first."""
    n = len(rem)
    t = np.partition(rem, n - k)[n - k]  # the k-th largest value
    above = np.flatnonzero(rem > t)
    tied = np.flatnonzero(rem == t)
    need = k - len(above)
    if need < len(tied):
        tied_keys = np.asarray(keys, dtype=object)[tied].astype(str)
        tied = tied[np.argsort(tied_keys, kind="stable")][:need]
    return np.concatenate([above, tied])


def round_half_up(x) -> np.ndarray:
    """Whole numbers (int64), halves rounded up."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)
