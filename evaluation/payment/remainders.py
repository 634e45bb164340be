"""The point method's largest remainders, to the fen, from a spill of every case's points (drg pay, drg dip pay):
each case's exact share of its year's budget in fen and its remainder in 2**-32 fen (:func:`exact_shares`); a
histogram of the remainders finds each year's threshold bucket, only that bucket's cases are sorted, ties go to the
smaller case id (:func:`resolve_ties`); :func:`shares_fen` then pays each case its fen in any later pass."""

from __future__ import annotations

import numpy as np

from ..common import EvaluationError
from ..exact import fen_shares

_BUCKETS = 1 << 20  # remainder histogram resolution
_BUCKET_SHIFT = 32 - 20  # remainders are in 2**-32 fen: the top 20 bits are the bucket


# -- the largest remainders, from the spill ---------------------------------------------------------------------
def select_remainders(run, years: list, chunks) -> None:
    """Fill ``run.threshold``, ``run.tied`` (rows whose tie needs the case ids: as ``(rows, need)``) and ``run.extra``."""
    n = len(years)
    denom = np.array([run.denom[i] for i in range(n)], dtype=float).reshape(n, 2)
    total = np.array([float(run.total_fen(y)) for y in years])
    base_sum, count = [0] * n, np.zeros(n, np.int64)
    hist = np.zeros(n * _BUCKETS, np.int64)

    def tally(chunk):
        _, year, points = chunk
        keep = year >= 0
        year, points = year[keep].astype(np.int64), points[keep]
        base, rem = exact_shares(points, year, denom, total)
        return ({int(i): int(base[year == i].sum()) for i in np.unique(year)}, np.bincount(year, minlength=n),
                np.bincount(year * _BUCKETS + _bucket(rem), minlength=n * _BUCKETS))

    for sums, counts, h in _in_threads(tally, chunks()):  # integer tallies: the same whatever the order
        for i, v in sums.items():
            base_sum[i] += v
        count += counts
        hist += h
    target = {}
    for i in range(n):
        left = run.total_fen(years[i]) - base_sum[i]
        if left < 0:
            raise EvaluationError("the floors of the shares exceed the budget (float error): report this input")
        extra = 0
        if count[i] and left >= count[i]:  # float error only: whole fen to everybody first
            extra, left = divmod(left, int(count[i]))
        run.extra[i] = extra
        run.threshold[i] = NO_THRESHOLD
        run.tied[i] = np.empty(0, np.int64)
        if left:
            h = hist[i * _BUCKETS:(i + 1) * _BUCKETS]
            above = np.cumsum(h[::-1])[::-1] - h  # cases in higher buckets
            b = int(np.flatnonzero(above + h >= left).max())
            target[i] = (b, left - int(above[b]))
    if not target:
        return
    found = {i: ([], []) for i in target}  # the threshold buckets' rows and remainders

    def near(chunk):
        first, year, points = chunk
        keep = year >= 0
        rows = first + np.flatnonzero(keep)
        year, points = year[keep].astype(np.int64), points[keep]
        _, rem = exact_shares(points, year, denom, total)
        bucket = _bucket(rem)
        return {i: (rows[sel], rem[sel]) for i, (b, _) in target.items() for sel in [(year == i) & (bucket == b)]}

    for part in _in_threads(near, chunks()):  # in input order
        for i, (rows, rem) in part.items():
            found[i][0].append(rows)
            found[i][1].append(rem)
    for i, (b, k) in target.items():
        rows, rem = np.concatenate(found[i][0]), np.concatenate(found[i][1])
        t = int(np.sort(rem)[::-1][k - 1])  # the k-th largest remainder of the bucket
        need = k - int((rem > t).sum())
        tied = rows[rem == t]
        run.threshold[i] = t
        run.tied[i] = (tied, need)  # resolved by the case ids (:func:`resolve_ties`) when need < len(tied)


def _in_threads(work, items, threads: int = 2):
    """``work(item)`` of each item, in order, two at a time on threads (NumPy releases the GIL in its loops); at
    most ``threads`` items read ahead, so memory stays a few chunks."""
    import collections
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        pending: collections.deque = collections.deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def resolve_ties(run, case_ids) -> None:
    """Turn each year's ``(tied rows, need)`` into the rows that get the fen: all when every tie gets one, else the
    ``need`` smallest case ids (``case_ids(rows)``: their ids as text, rows ascending), earlier rows first."""
    for i, v in run.tied.items():
        if not isinstance(v, tuple):
            continue
        tied, need = v
        if need >= len(tied):
            run.tied[i] = np.sort(tied)
        else:
            tied = np.sort(tied)
            keys = np.array(case_ids(tied), dtype=object).astype(str)
            run.tied[i] = np.sort(tied[np.argsort(keys, kind="stable")][:need])


def tied_rows(runs: list) -> np.ndarray:
    """The rows whose case ids break a tie (sorted)."""
    parts = [v[0] for run in runs for v in run.tied.values() if isinstance(v, tuple) and v[1] < len(v[0])]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)


def exact_shares(points, year, denom, total):
    """(floor, remainder in 2**-32 fen) of each case's share: allocate_fen's arithmetic, case by case."""
    return fen_shares(points, denom[year, 0], denom[year, 1], total[year])


NO_THRESHOLD = 1 << 40  # above every remainder: nobody gets a fen by remainder


def _bucket(rem: np.ndarray) -> np.ndarray:
    return np.minimum(rem >> _BUCKET_SHIFT, _BUCKETS - 1)


def shares_fen(shares: np.ndarray, year: np.ndarray, rows: np.ndarray, run, years: list) -> np.ndarray:
    """Each case's fen of its year's budget once :func:`select_remainders` and :func:`resolve_ties` have run:
    the floor of its share, the whole fen everybody got, and one more for a remainder above the year's threshold
    or a tie the case ids gave it (``year``: indices into ``years``, every case settled; ``rows``: the cases' global
    rows, ascending). What `drg pay` and `drg dip pay` settle with."""
    n = len(years)
    denom = np.array([run.denom.get(i, (1.0, 0.0)) for i in range(n)], dtype=float).reshape(n, 2)
    total = np.array([float(run.total_fen(v)) for v in years])
    base, rem = exact_shares(shares, year, denom, total)
    bonus = rem > np.array([run.threshold.get(i, NO_THRESHOLD) for i in range(n)], np.int64)[year]
    for i, tied in run.tied.items():
        bonus |= (year == i) & in_sorted(rows, tied)
    return base + np.array([run.extra.get(i, 0) for i in range(n)], np.int64)[year] + bonus


def in_sorted(rows: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` (ascending) are in ``sorted_rows``."""
    if not len(sorted_rows) or not len(rows):
        return np.zeros(len(rows), dtype=bool)
    lo, hi = np.searchsorted(sorted_rows, [rows[0], rows[-1] + 1])
    return np.isin(rows, sorted_rows[lo:hi])
