"""`drg pay` on grouped cases batch by batch, in memory that follows the batch and the number of hospitals and
DRGs, with the per-case rules of :func:`evaluation.payment.simulate` applied to each batch unchanged.

Three passes over the input, each a reduce per batch merged in input order (the caller reads the batches, locally
or on a Dask cluster):

1. :func:`first_pass`: the cells of :class:`evaluation.cells.CaseCells` (the weights of every year's cases, as
   :func:`evaluation.weights.compute_weights` makes them), per year the cases and the unusable costs and stays,
   the hospitals without a known level, each hospital's grouped cases, and the special-review candidates.
   :func:`plan_from_first` then fixes the years, the weights and, per run (the base rules and each scenario),
   which listed cases special review accepts (list order, capped per hospital and year).
2. :func:`second_pass`: every case's class, points or rate terms; per year their exact sums
   (:mod:`evaluation.exact`: the same bits as ``math.fsum`` of the whole year). The point method's case points
   are handed back for a spill file: sharing a budget to the fen by largest remainders needs every case's
   remainder, and :func:`select_remainders` finds the year's threshold from the spill (a histogram, then the
   threshold's bucket sorted; ties by ``case_id`` as the per-case allocation breaks them).
3. :func:`third_pass`: every case's payment in fen, the per-case table, and the sums of the settlement, monthly
   advances and per-DRG profit and loss tables (:func:`finish` makes the tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cells import CaseCells, CodedBatch, month_index, sorted_categorical, first_rows, levels_of
from .coded import numbers, text_codes, years
from .common import EvaluationError, key_codes
from .exact import exact_sums, fen_shares, merge_sums, split_exact, to_float
from .payment import (
    CLASSES,
    NO_YEAR,
    SETTLED_CLASSES,
    PaymentConfig,
    balanced_rate,
    pooled_mean_cost,
    advances_table,
    case_points,
    check_budget,
    check_cost_total,
    classify,
    profit_loss_table,
    rate_terms,
    scenario_table,
    settlement_table,
    to_fen,
    usable_self_pay,
)

_BUCKETS = 1 << 20  # remainder histogram resolution
_BUCKET_SHIFT = 32 - 20  # remainders are in 2**-32 fen: the top 20 bits are the bucket


@dataclass
class Run:
    """One settlement of every year: the base rules or a scenario (``budgets``: year -> yuan)."""

    name: str
    cfg: PaymentConfig
    budgets: dict
    accepted: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # special review: global rows
    over_cap: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    denom: dict = field(default_factory=dict)  # year index -> the year's points (point method), or shares: (hi, lo)
    rate: dict = field(default_factory=dict)  # year index -> base rate (rate method)
    threshold: dict = field(default_factory=dict)  # year index -> remainder (2**-32 fen) above which a case gets one more fen
    tied: dict = field(default_factory=dict)  # year index -> rows at the threshold that get one more fen
    extra: dict = field(default_factory=dict)  # year index -> whole fen every case gets first (float error only)

    def total_fen(self, year) -> int:
        return int(round(self.budgets[year] * 100))


@dataclass
class PayPlan:
    """What every batch needs after the first pass."""

    levels: tuple | None  # from the hospitals table (:func:`evaluation.cells.levels_of`)
    years: list  # settled years (``[None]``: the file has no year column)
    runs: list
    rw: dict = field(default_factory=dict)
    mean: dict = field(default_factory=dict)
    pooled: float = float("nan")


# -- pass 1 ---------------------------------------------------------------------------------------------
class FirstPass:
    """The first pass's statistics of the batches so far (:func:`first_pass` of one batch, merged in order)."""

    def __init__(self, hospitals: pd.DataFrame | None):
        self.cells = CaseCells(hospitals)
        self.per_year = pd.DataFrame(columns=["cases", "cost_unusable", "los_unusable"], dtype=np.int64)
        self.unknown: dict = {}  # year -> hospitals with an unknown level
        self.grouped = pd.Series(dtype=np.int64)  # (year, hospital) -> grouped cases
        self.candidates: list = []  # special review: (row, hospital, year, case_id)
        self.has_year = False
        self.cost_total = 0.0  # yuan, every usable cost: checked against the money bounds before anything is paid

    def merge(self, other: "FirstPass") -> "FirstPass":
        self.cells.merge(other.cells)
        self.has_year |= other.has_year
        self.cost_total += other.cost_total
        self.per_year = self.per_year.add(other.per_year, fill_value=0).astype(np.int64)
        for y, hs in other.unknown.items():
            self.unknown.setdefault(y, set()).update(hs)
        self.grouped = self.grouped.add(other.grouped, fill_value=0).astype(np.int64)
        self.candidates += other.candidates
        return self


def _year_values(t: pa.Table) -> np.ndarray:
    y = years(t)
    return np.zeros(t.num_rows) if y is None else y


def first_pass(t: pa.Table, offset: int, hospitals: pd.DataFrame | None, listed: list | None) -> FirstPass:
    """The first pass of one batch whose first row is row ``offset`` of the input (``listed``: the special-review
    case ids)."""
    out = FirstPass(hospitals)
    out.cells = out.cells.of_batch(t)
    out.has_year = "year" in t.column_names
    cb = CodedBatch(t, levels_of(hospitals))
    out.cost_total = float(np.nansum(cb.cost))
    year = _year_values(t)
    known = ~np.isnan(year)
    ys = year[known].astype(np.int64)  # a year is its whole number, as the per-case settlement lists them
    frame = pd.DataFrame({"year": ys, "cases": 1, "cost_unusable": np.isnan(cb.cost[known]).astype(np.int64),
                          "los_unusable": np.isnan(cb.los[known]).astype(np.int64)})
    out.per_year = frame.groupby("year").sum()
    unknown = np.array([v == "unknown" for v in cb.level_names])[cb.level] & (cb.h >= 0) & known
    for y in np.unique(ys):
        sel = unknown[known] & (ys == y)
        if sel.any():
            out.unknown[int(y)] = {cb.hosp[c] for c in np.unique(cb.h[known][sel])}
    if listed:
        inc = cb.included & known
        hs = np.array(cb.hosp, dtype=object)[cb.h[inc]]
        out.grouped = pd.Series(1, index=pd.MultiIndex.from_arrays([year[inc].astype(np.int64), hs])).groupby(level=[0, 1]).sum()
        ids = batch_case_ids(t, offset)
        hit = pc.is_in(ids, value_set=pa.array(listed, pa.string())).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(hit & inc & ~np.isnan(cb.cost))
        cid = ids.take(pa.array(rows)).to_pylist()
        out.candidates = [(offset + int(r), cb.hosp[cb.h[r]], int(year[r]), c) for r, c in zip(rows, cid)]
    return out


def batch_case_ids(t: pa.Table, offset: int) -> pa.Array:
    """The batch's case ids as text (the row number in the input when the file has no case_id column)."""
    if "case_id" not in t.column_names:
        return pa.array(np.arange(offset, offset + t.num_rows).astype(str), pa.string())
    col = t.column("case_id").combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col if pa.types.is_string(col.type) else pa.array([None if v is None else str(v) for v in col.to_pylist()],
                                                             pa.string())


def plan_from_first(first: FirstPass, hospitals: pd.DataFrame | None, runs: list, supplied: pd.DataFrame | None,
                    listed: list | None) -> tuple[PayPlan, pd.DataFrame]:
    """The plan of the later passes and the weights table (every case's, as :func:`compute_weights` computes them)."""
    from .streamed import drg_statistics
    from .weights import weights_table

    years = sorted(int(y) for y in first.per_year.index) if first.has_year else [None]
    if not first.cells.rows or not years:
        raise EvaluationError("no cases to settle: the file has no rows" + (" with a readable year" if first.cells.rows else "")
                              + "; check the input (and its year column)")
    check_cost_total(None, first.cost_total)
    for run in runs:
        for y in years:
            b = run.budgets.get(y, run.budgets.get(None))
            if b is None:
                raise EvaluationError(f"--budget has no amount for year {y}; give one for every year or a single amount")
            run.budgets[y] = check_budget(b, "budget" if y is None else f"budget of {y}")
    stats, pooled, _ = drg_statistics(first.cells)
    w = weights_table(stats, pooled, supplied=supplied)
    if years and not w["rw"].notna().any():
        if not first.cells.included:
            raise EvaluationError("no DRG has a weight: no case is grouped (drg empty or a failure code, status not "
                                  "grouped, or no hospital_id); run drg group on the records first, or check the drg, "
                                  "status and hospital_id columns")
        raise EvaluationError("no DRG has a weight: no case has a usable total_cost (missing, NaN, infinite or <= 0) "
                              "and no published weights were given; fix the cost column or pass --weights CSV")
    plan = PayPlan(levels_of(hospitals), years, runs, dict(zip(w["drg"], w["rw"].astype(float))),
                   dict(zip(w["drg"], w["mean_cost"].astype(float))), pooled_mean_cost(w))
    if listed and first.candidates:
        position = {str(c): i for i, c in enumerate(listed)}
        cand = pd.DataFrame(first.candidates, columns=["row", "h", "year", "cid"])
        cand["pos"] = cand["cid"].map(position)
        cand = cand.sort_values(["pos", "cid"], kind="stable")
        for run in runs:
            cap = np.floor(run.cfg.special_review_cap * first.grouped.reindex(list(zip(cand["year"], cand["h"]))).to_numpy(float)
                           + 1e-9)
            rank = cand.groupby(["year", "h"]).cumcount().to_numpy()
            ok = rank < cap
            run.accepted = np.sort(cand["row"].to_numpy()[ok])
            run.over_cap = np.sort(cand["row"].to_numpy()[~ok])
    return plan, w


# -- the per-case rules, shared by passes 2 and 3 ---------------------------------------------------------------
@dataclass
class Priced:
    """A batch's cases under one run's rules (the arrays of :func:`evaluation.payment.simulate`)."""

    rows: np.ndarray
    year: np.ndarray  # index into plan.years, -1 when the case has no settled year
    code: np.ndarray
    rw: np.ndarray
    level_k: np.ndarray
    quality: np.ndarray
    points: np.ndarray | None
    a: np.ndarray | None
    b: np.ndarray | None
    special: np.ndarray
    over_cap: np.ndarray


def year_index(t: pa.Table, years: list) -> np.ndarray:
    if years == [None]:
        return np.zeros(t.num_rows, np.int64)
    v = _year_values(t)
    out = np.full(t.num_rows, -1, np.int64)
    for i, y in enumerate(years):
        out[v == y] = i
    return out


def _in(rows: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` (ascending) are in ``sorted_rows``."""
    if not len(sorted_rows) or not len(rows):
        return np.zeros(len(rows), dtype=bool)
    lo, hi = np.searchsorted(sorted_rows, [rows[0], rows[-1] + 1])
    return np.isin(rows, sorted_rows[lo:hi])


def price(cb: CodedBatch, t: pa.Table, rows: np.ndarray, year: np.ndarray, plan: PayPlan, run: Run) -> Priced:
    """Class, coefficients and points (point method) or rate terms ``a·r + b`` of each case, as :func:`simulate`."""
    cfg = run.cfg
    rw = np.array([plan.rw.get(v, np.nan) for v in cb.drgs] + [np.nan])[cb.g]
    mean_g = np.array([plan.mean.get(v, np.nan) for v in cb.drgs] + [np.nan])[cb.g]
    lt = pd.Categorical.from_codes(cb.lt, [v if v is not None else "None" for v in cb.lts]) if cb.lts is not None \
        else pd.Categorical([""] * len(rows))
    cases = pd.DataFrame({"cost": cb.cost, "los": cb.los, "included": cb.included, "leaving_type": lt}, copy=False)
    special, over = _in(rows, run.accepted), _in(rows, run.over_cap)
    code = classify(cases, rw, mean_g, cfg, special)
    level_k = np.array([float(cfg.coefficients.get(v, 1.0)) for v in cb.level_names])[cb.level]
    if cfg.quality_factors:
        quality = np.array([float(cfg.quality_factors.get(str(h), 1.0)) for h in cb.hosp] + [1.0])[cb.h]
    else:
        quality = np.ones(len(rows))
    K = level_k * quality
    points = a = b = None
    if cfg.method == "points":
        points = case_points(code, rw, K, cb.cost, mean_g, plan.pooled, cfg)
    else:
        a, b = rate_terms(code, rw, K, cb.cost, mean_g, plan.pooled, cfg)
    return Priced(rows, year, code, rw, level_k, quality, points, a, b, special, over)


# -- pass 2 -----------------------------------------------------------------------------------------------
def second_pass(t: pa.Table, offset: int, plan: PayPlan) -> tuple[list, np.ndarray, list]:
    """Per run its exact sums per year ({"points"|"a"|"b"|"volume": {year index: int}}), the batch's year indices,
    and per point-method run the case points (for the spill)."""
    cb = CodedBatch(t, plan.levels)
    rows = offset + np.arange(t.num_rows)
    year = year_index(t, plan.years)
    settled = year >= 0
    sums, spills = [], []
    for run in plan.runs:
        p = price(cb, t, rows, year, plan, run)
        ys = year[settled]
        if run.cfg.method == "points":
            sums.append({"points": exact_sums(p.points[settled], ys, {})})
            spills.append(p.points)
        else:
            grouped = cb.included & np.isfinite(p.rw) & settled
            sums.append({"a": exact_sums(p.a[settled], ys, {}), "b": exact_sums(p.b[settled], ys, {}),
                         "volume": exact_sums((p.level_k * p.quality * p.rw)[grouped], year[grouped], {})})
            # the balanced rate shares the budget to the fen as the point method does: each case's a and b spilled
            spills.append(np.column_stack((p.a, p.b)).ravel() if shares_budget(run.cfg) else None)
    return sums, year.astype(np.int16), spills


def shares_budget(cfg: PaymentConfig) -> bool:
    """Whether a run's payments share its budget to the fen (largest remainders): the point method, and the rate
    method on the balance basis (the rate at which the payments equal the budget); the volume basis pays a
    prospective rate and its total is what it is."""
    return cfg.method == "points" or cfg.rate_basis == "balance"


def case_shares(p: "Priced", run: Run, n_years: int, year: np.ndarray) -> np.ndarray:
    """Each case's share of its year's budget under ``run``: points, or the rate method's ``a·r + b`` (yuan)."""
    if run.cfg.method == "points":
        return p.points
    return p.a * _rates(run, n_years, year) + p.b


def shares_from_spill(a_b: np.ndarray, year: np.ndarray, run: Run, n_years: int) -> np.ndarray:
    """:func:`case_shares` of the rate method from the spilled ``a, b`` pairs (the same arithmetic, the same bits)."""
    pairs = a_b.reshape(-1, 2)
    return pairs[:, 0] * _rates(run, n_years, np.where(year >= 0, year, 0)) + pairs[:, 1]


def _rates(run: Run, n_years: int, year: np.ndarray) -> np.ndarray:
    """Each case's base rate: its year's (``year``: indices into the settled years, 0 for a case in none)."""
    return np.array([run.rate.get(i, 0.0) for i in range(n_years)])[year]


def denominators_from_spill(run: Run, years: list, chunks) -> None:
    """The rate method's ``run.denom``: per year the exact sum of the cases' shares ``a·r + b`` (``math.fsum``'s
    value), read from the spill once the rates are known."""
    total: dict = {}
    for _, year, shares in chunks():
        keep = year >= 0
        exact_sums(shares[keep], year[keep].astype(np.int64), total)
    for i in range(len(years)):
        if not total.get(i, 0) > 0:
            raise EvaluationError(f"year {years[i]}: no payment to share the budget over; check the year column")
        run.denom[i] = split_exact(total[i])


def merge_second(total: list | None, part: list) -> list:
    if total is None:
        return part
    for mine, theirs in zip(total, part):
        for k, v in theirs.items():
            merge_sums(mine.setdefault(k, {}), v)
    return total


def rates_from_second(plan: PayPlan, sums: list) -> list:
    """Each run's point totals or base rates per year, checked as :func:`simulate` checks them; returns the
    parameters rows' method columns per run and year."""
    params = []
    for run, s in zip(plan.runs, sums):
        rows = {}
        for i, y in enumerate(plan.years):
            B = run.budgets[y]
            row = {"method": run.cfg.method, "budget": run.total_fen(y) / 100, "pooled_mean": plan.pooled}
            if run.cfg.method == "points":
                if not s["points"].get(i, 0) > 0:
                    raise EvaluationError(f"year {y}: no points to share the budget over (no grouped case with a weight "
                                          "and no cost); check the year column, or settle the years that have cases")
                run.denom[i] = split_exact(s["points"][i])
                row["point_value"] = B / run.denom[i][0]
            else:
                if run.cfg.rate_basis == "balance":
                    units, fixed = to_float(s["a"].get(i, 0)), to_float(s["b"].get(i, 0))
                    r = balanced_rate(B, np.array([units]), np.array([fixed]))
                else:
                    basis = i - 1 if i > 0 else i  # the previous settled year's cases, the year's own for the first
                    v = to_float(s["volume"].get(basis, 0)) * (1.0 + run.cfg.growth)
                    if not v > 0:
                        raise EvaluationError(f"year {y}: no grouped case with a weight: the base rate is undefined")
                    r = B / v
                    if not np.isfinite(r):
                        raise EvaluationError("no grouped case with a weight: the base rate is undefined (weight units "
                                              "sum to ~0)")
                run.rate[i] = r
                row["base_rate"] = r
                row["rate_basis"] = run.cfg.rate_basis
            rows[i] = row
        params.append(rows)
    return params


# -- the largest remainders, from the spill ---------------------------------------------------------------------
def select_remainders(run: Run, years: list, chunks) -> None:
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
        base, rem = _shares(points, year, denom, total)
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
        run.threshold[i] = _NO_THRESHOLD
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
        _, rem = _shares(points, year, denom, total)
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


def resolve_ties(run: Run, case_ids) -> None:
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


def _shares(points, year, denom, total):
    """(floor, remainder in 2**-32 fen) of each case's share: allocate_fen's arithmetic, case by case."""
    return fen_shares(points, denom[year, 0], denom[year, 1], total[year])


_NO_THRESHOLD = 1 << 40  # above every remainder: nobody gets a fen by remainder


def _bucket(rem: np.ndarray) -> np.ndarray:
    return np.minimum(rem >> _BUCKET_SHIFT, _BUCKETS - 1)


# -- pass 3 -----------------------------------------------------------------------------------------------
def payments_fen(p: Priced, run: Run, years: list) -> np.ndarray:
    """Each case's settled amount in fen (cases without a settled year: 0)."""
    settled = p.year >= 0
    y = np.where(settled, p.year, 0)
    n = len(years)
    if shares_budget(run.cfg):
        pay = shares_fen(case_shares(p, run, n, y), y, p.rows, run, years)
    else:
        pay = to_fen(p.a * np.array([run.rate.get(i, 0.0) for i in range(n)])[y] + p.b)
    return np.where(settled, pay, 0)


def shares_fen(shares: np.ndarray, year: np.ndarray, rows: np.ndarray, run: Run, years: list) -> np.ndarray:
    """Each case's fen of its year's budget once :func:`select_remainders` and :func:`resolve_ties` have run:
    the floor of its share, the whole fen everybody got, and one more for a remainder above the year's threshold
    or a tie the case ids gave it (``year``: indices into ``years``, every case settled; ``rows``: the cases' global
    rows, ascending). What `drg pay` and `drg dip pay` settle with."""
    n = len(years)
    denom = np.array([run.denom.get(i, (1.0, 0.0)) for i in range(n)], dtype=float).reshape(n, 2)
    total = np.array([float(run.total_fen(v)) for v in years])
    base, rem = _shares(shares, year, denom, total)
    bonus = rem > np.array([run.threshold.get(i, _NO_THRESHOLD) for i in range(n)], np.int64)[year]
    for i, tied in run.tied.items():
        bonus |= (year == i) & _in(rows, tied)
    return base + np.array([run.extra.get(i, 0) for i in range(n)], np.int64)[year] + bonus


def case_table(cb: CodedBatch, t: pa.Table, p: Priced, pay: np.ndarray, years: list) -> pd.DataFrame:
    """The per-case table of :func:`simulate` (with ``year`` first, without ``case_id``) of every case of the batch:
    a case without a settled year (no readable year) is there too, class ``no_year``, paid 0, year empty."""
    n = len(p.year)
    settled = p.year >= 0
    level = np.where(cb.level < 0, len(cb.level_names) - 1, cb.level)
    cost = cb.cost
    if years == [None]:
        year = np.full(n, None, dtype=object)
    elif settled.all():
        year = np.array(years, dtype=np.int64)[p.year]
    else:
        year = pd.array(np.array(years, dtype=np.int64)[np.where(settled, p.year, 0)], dtype="Int64")
        year[~settled] = pd.NA
    code = np.where(settled, p.code, NO_YEAR).astype(np.int8)
    out = pd.DataFrame({
        "year": year,
        "hospital_id": sorted_categorical(cb.hosp, cb.h),
        "level": sorted_categorical(cb.level_names, level), "drg": sorted_categorical(cb.drgs, cb.g),
        "rw": p.rw, "coefficient": p.level_k, "quality_factor": p.quality,
        "payment_class": pd.Categorical.from_codes(code, CLASSES), "total_cost": cost,
        "points": np.where(settled, p.points, np.nan) if p.points is not None else np.full(n, np.nan)})
    out["payment_fen"] = pay
    out["payment"] = pay / 100.0
    out["cost_fen"] = to_fen(cost)
    out["cost_usable"] = np.isfinite(cost)
    out["special_review_over_cap"] = p.over_cap & settled
    names = t.column_names
    if "dept" in names:
        codes, values = text_codes(t.column("dept"))
        out["dept"] = sorted_categorical([v if v else None for v in values], codes)
    if "self_pay" in names:
        sp = to_fen(usable_self_pay(numbers(t.column("self_pay"))))
        out["self_pay_fen"] = sp
        out["fund_payment_fen"] = np.where(settled, out["payment_fen"].to_numpy() - sp, 0)
    if "discharge_date" in names:
        m = month_index(t.column("discharge_date"), 12)
        out["month"] = np.where(m >= 0, m % 12 + 1, np.nan).astype(float)
    return out


@dataclass
class ThirdPass:
    """Pass 3 of one batch: the per-case table (base run) and the sums of the tables, per run and year."""

    cases: pd.DataFrame | None
    settlement: list  # per run: {year index: settlement sums}
    monthly: dict  # year index -> (sums per (month, hospital_id), exact points {(month, hospital): int})
    profit_loss: dict  # year index -> profit-and-loss sums
    paid: dict  # year index -> fen paid (base run)


def third_pass(t: pa.Table, offset: int, plan: PayPlan) -> ThirdPass:
    cb = CodedBatch(t, plan.levels)
    rows = offset + np.arange(t.num_rows)
    year = year_index(t, plan.years)
    settlement, cases, monthly, profit_loss, paid = [], None, {}, {}, {}
    for r, run in enumerate(plan.runs):
        p = price(cb, t, rows, year, plan, run)
        pay = payments_fen(p, run, plan.years)
        table = case_table(cb, t, p, pay, plan.years)
        present = np.unique(year[year >= 0])
        per_year = {}
        for i in present:
            sub = table if len(present) == 1 and (year >= 0).all() else table[year == i]
            per_year[int(i)] = coded_settlement_sums(sub)
            if r == 0:
                paid[int(i)] = int(sub["payment_fen"].sum())
                profit_loss[int(i)] = coded_profit_loss_sums(sub)
                if "month" in sub.columns:
                    monthly[int(i)] = _monthly_sums(sub, run.cfg)
        settlement.append(per_year)
        if r == 0:
            cases = table
    return ThirdPass(cases, settlement, monthly, profit_loss, paid)


def coded_settlement_sums(t: pd.DataFrame) -> pd.DataFrame:
    """:func:`evaluation.payment.settlement_sums` of a batch's per-case table, summed on the hospital codes."""
    hc = t["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    ok = hc >= 0
    hc = hc[ok]
    k = len(t["hospital_id"].cat.categories)
    present = np.bincount(hc, minlength=k) > 0
    first = first_rows(hc, k)[present]
    rows = np.flatnonzero(ok)[first]
    pay = t["payment_fen"].to_numpy()[ok]
    costed = t["cost_usable"].to_numpy(bool)[ok]
    points = t["points"].to_numpy(float)[ok]
    has_points = np.bincount(hc, weights=~np.isnan(points), minlength=k)[present] > 0
    out = pd.DataFrame({"level": t["level"].iloc[rows].to_numpy(),  # the hospitals' rows only: no text per case
                        "coefficient": t["coefficient"].to_numpy()[rows], "quality_factor": t["quality_factor"].to_numpy()[rows],
                        "cases": np.bincount(hc, minlength=k)[present].astype(np.int64),
                        "points": np.where(has_points, np.bincount(hc, weights=np.nan_to_num(points), minlength=k)[present],
                                           np.nan),
                        "payment_fen": _int_sums(hc, pay, k)[present]},
                       index=pd.Index(t["hospital_id"].cat.categories.to_numpy()[present], name="hospital_id"))
    code = t["payment_class"].cat.codes.to_numpy().astype(np.int64)[ok]
    by_class = np.bincount(hc * len(CLASSES) + code, minlength=k * len(CLASSES)).reshape(k, len(CLASSES))[present]
    for j, c in enumerate(SETTLED_CLASSES):
        out[f"cases_{c}"] = by_class[:, j].astype(np.int64)
    out["cases_cost_unusable"] = np.bincount(hc, weights=~costed, minlength=k)[present].astype(np.int64)
    out["special_review_over_cap"] = np.bincount(hc, weights=t["special_review_over_cap"].to_numpy(bool)[ok],
                                                 minlength=k)[present].astype(np.int64)
    out["payment_costed_fen"] = _int_sums(hc, np.where(costed, pay, 0), k)[present]
    out["actual_cost_fen"] = _int_sums(hc, t["cost_fen"].to_numpy()[ok], k)[present]
    if "self_pay_fen" in t.columns:
        out["self_pay_fen"] = _int_sums(hc, t["self_pay_fen"].to_numpy()[ok], k)[present]
    return out


def coded_profit_loss_sums(t: pd.DataFrame) -> pd.DataFrame:
    """:func:`evaluation.payment.profit_loss_sums` of a batch's per-case table, summed on integer keys."""
    hc = t["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    gc = t["drg"].cat.codes.to_numpy().astype(np.int64)
    ok = t["cost_usable"].to_numpy(bool) & (hc >= 0) & (gc >= 0)
    parts = [(hc[ok], t["hospital_id"].cat.categories.to_numpy())]
    names = ["hospital_id", "drg"]
    if "dept" in t.columns:  # a case without a department is under dept ""
        dc = t["dept"].cat.codes.to_numpy().astype(np.int64)[ok]
        parts.append((np.where(dc >= 0, dc + 1, 0), np.r_[np.array([""], dtype=object), t["dept"].cat.categories.to_numpy()]))
        names = ["hospital_id", "dept", "drg"]
    parts.append((gc[ok], t["drg"].cat.categories.to_numpy()))
    key = np.zeros(int(ok.sum()), np.int64)
    size = 1
    for codes, values in parts:
        key = key * (len(values) + 1) + codes
        size *= len(values) + 1
    code, uniq = key_codes(key, size)
    levels, rest = [], uniq
    for codes, values in reversed(parts):
        levels.append(np.asarray(values, dtype=object)[rest % (len(values) + 1)])
        rest = rest // (len(values) + 1)
    index = pd.MultiIndex.from_arrays(levels[::-1], names=names)
    pay, cost = t["payment_fen"].to_numpy()[ok], t["cost_fen"].to_numpy()[ok]
    k = len(uniq)
    out = pd.DataFrame({"cases": np.bincount(code, minlength=k).astype(np.int64), "payment_fen": _int_sums(code, pay, k),
                        "cost_fen": _int_sums(code, cost, k),
                        "losing_cases": np.bincount(code, weights=pay < cost, minlength=k).astype(np.int64)}, index=index)
    return out.sort_index()


def _monthly_sums(sub: pd.DataFrame, cfg: PaymentConfig):
    """Per (month, hospital_id) of a batch's cases of one year: cases and fen paid, and the exact points."""
    m = sub["month"].to_numpy(float)
    hc = sub["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    ok = np.isfinite(m) & (hc >= 0)
    key = hc[ok] * 13 + m[ok].astype(np.int64)
    code, uniq = pd.factorize(key)
    index = pd.MultiIndex.from_arrays([uniq % 13, sub["hospital_id"].cat.categories.to_numpy()[uniq // 13]],
                                      names=["month", "hospital_id"])
    sums = pd.DataFrame({"cases": np.bincount(code, minlength=len(uniq)).astype(np.int64),
                         "payment_fen": _int_sums(code, sub["payment_fen"].to_numpy()[ok], len(uniq))}, index=index)
    points = {}
    if cfg.method == "points":
        ex = exact_sums(sub["points"].to_numpy(float)[ok], code, {})
        points = {index[c]: v for c, v in ex.items()}
    return sums.sort_index(), points


def _int_sums(code: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Exact int64 sums by code: a float bincount where no partial sum can reach 2**53 (then every one is exact),
    else integer additions (fen: amounts past 2**53 would round)."""
    values = values.astype(np.int64)
    if not len(values) or max(int(values.max()), -int(values.min())) < (1 << 53) // len(values):  # float sums exact
        return np.rint(np.bincount(code, weights=values, minlength=k)).astype(np.int64)
    out = np.zeros(k, np.int64)
    np.add.at(out, code, values)
    return out


class Totals:
    """The sums of pass 3 over the batches so far (integer sums: any order gives the same; the first level and
    coefficient per hospital come from the earliest batch)."""

    def __init__(self, runs: int):
        self.settlement = [{} for _ in range(runs)]  # run -> year -> [sums frames]
        self.monthly: dict = {}
        self.points: dict = {}
        self.profit_loss: dict = {}
        self.paid: dict = {}
        self.cases = 0

    def add(self, part: ThirdPass) -> None:
        self.cases += 0 if part.cases is None else len(part.cases)
        for mine, theirs in zip(self.settlement, part.settlement):
            for i, s in theirs.items():
                _append(mine, i, s)
        for i, s in part.profit_loss.items():
            _append(self.profit_loss, i, s)
        for i, (s, pts) in part.monthly.items():
            _append(self.monthly, i, s)
            merge_sums(self.points.setdefault(i, {}), pts)
        for i, v in part.paid.items():
            self.paid[i] = self.paid.get(i, 0) + v


def _append(store: dict, key, frame: pd.DataFrame, every: int = 16) -> None:
    """Keep a list of partial sums per key, folded into one every ``every`` parts (memory stays bounded)."""
    parts = store.setdefault(key, [])
    parts.append(frame)
    if len(parts) >= every:
        store[key] = [_fold(parts)]


def _fold(parts: list) -> pd.DataFrame:
    both = pd.concat(parts)
    levels = list(range(both.index.nlevels))
    if "level" in both.columns:  # settlement sums: the first level, coefficient and quality factor, the rest summed
        g = both.groupby(level=levels, sort=True)
        first = g[["level", "coefficient", "quality_factor"]].first()
        summed = g[[c for c in both.columns if c not in first.columns]].sum(min_count=1)
        out = first.join(summed)[list(both.columns)]
        for c in out.columns:
            if c not in ("level", "coefficient", "quality_factor", "points"):
                out[c] = out[c].astype(np.int64)
        return out
    return both.groupby(level=levels, sort=True).sum()


def finish(plan: PayPlan, params: list, totals: Totals, first: FirstPass) -> dict:
    """The tables of :func:`drg.settlement.settle_years` from the passes' sums."""
    base = plan.runs[0]
    out = {"settlement": [], "parameters": [], "monthly": [], "drg_profit_loss": [], "scenarios": []}
    for i, y in enumerate(plan.years):
        settled = {}
        advances = None
        if i in totals.monthly:
            sums = _fold(totals.monthly[i]).astype(np.int64)
            points = None
            if base.cfg.method == "points":
                points = pd.Series([to_float(totals.points[i].get(k, 0)) for k in sums.index], index=sums.index)
            m = advances_table(sums, points, base.total_fen(y), base.cfg)
            out["monthly"].append(m.assign(year=y)[["year", *m.columns]])
            advances = m.groupby("hospital_id")["advance_fen"].sum()
        for r, run in enumerate(plan.runs):
            parts = totals.settlement[r].get(i)
            if not parts:
                continue
            s = _fold(parts)
            s.index.name = "hospital_id"
            settled[run.name] = settlement_table(s, run.cfg, advances if r == 0 else None)
        if base.name in settled:
            st = settled[base.name]
            out["settlement"].append(st.assign(year=y)[["year", *st.columns]])
        if i in totals.profit_loss:
            pl = profit_loss_table(_fold(totals.profit_loss[i]))
            out["drg_profit_loss"].append(pl.assign(year=y)[["year", *pl.columns]])
        if len(plan.runs) > 1 and settled:
            sc = scenario_table({run.name: settled[run.name] for run in plan.runs if run.name in settled})
            out["scenarios"].append(sc.assign(year=y)[["year", *sc.columns]])
        row = dict(params[0][i])
        row["paid"] = totals.paid.get(i, 0) / 100
        row["paid_share_of_budget"] = row["paid"] / row["budget"]
        row["unknown_level_hospitals"] = ",".join(sorted(first.unknown.get(y if y is not None else 0, set())))
        counts = first.per_year.reindex([y if y is not None else 0]).fillna(0)
        row = {"year": y, **row, "cases_cost_unusable": int(counts["cost_unusable"].iloc[0]),
               "cases_los_unusable": int(counts["los_unusable"].iloc[0])}
        if base.cfg.method == "rate" and base.cfg.rate_basis == "volume":
            row["volume_basis"] = "prior_year" if i > 0 else "this_year"
        out["parameters"].append(row)
    tables = {"settlement": pd.concat(out["settlement"], ignore_index=True) if out["settlement"] else pd.DataFrame(),
              "parameters": pd.DataFrame(out["parameters"])}
    for name in ("monthly", "drg_profit_loss", "scenarios"):
        if out[name]:
            tables[name] = pd.concat(out[name], ignore_index=True)
    return tables
