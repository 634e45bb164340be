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

from ..cells.keys import month_index, sorted_categorical
from ..cells import CaseCells, CodedBatch, levels_of
from ..coded import numbers, text_codes, years
from ..common import EvaluationError
from ..exact import exact_sums, merge_sums, split_exact, to_float
from . import (
    CLASSES,
    NO_YEAR,
    PaymentConfig,
    balanced_rate,
    pooled_mean_cost,
    case_points,
    check_budget,
    check_cost_total,
    classify,
    rate_terms,
    to_fen,
    usable_self_pay,
)
from .remainders import in_sorted, shares_fen
from .totals import coded_profit_loss_sums, coded_settlement_sums, monthly_sums



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
    from ..cells.tables import drg_statistics
    from ..weights import weights_table

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


def price(cb: CodedBatch, t: pa.Table, rows: np.ndarray, year: np.ndarray, plan: PayPlan, run: Run) -> Priced:
    """Class, coefficients and points (point method) or rate terms ``a·r + b`` of each case, as :func:`simulate`."""
    cfg = run.cfg
    rw = np.array([plan.rw.get(v, np.nan) for v in cb.drgs] + [np.nan])[cb.g]
    mean_g = np.array([plan.mean.get(v, np.nan) for v in cb.drgs] + [np.nan])[cb.g]
    lt = pd.Categorical.from_codes(cb.lt, [v if v is not None else "None" for v in cb.lts]) if cb.lts is not None \
        else pd.Categorical([""] * len(rows))
    cases = pd.DataFrame({"cost": cb.cost, "los": cb.los, "included": cb.included, "leaving_type": lt}, copy=False)
    special, over = in_sorted(rows, run.accepted), in_sorted(rows, run.over_cap)
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


def caseexact_shares(p: "Priced", run: Run, n_years: int, year: np.ndarray) -> np.ndarray:
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


# -- pass 3 -----------------------------------------------------------------------------------------------
def payments_fen(p: Priced, run: Run, years: list) -> np.ndarray:
    """Each case's settled amount in fen (cases without a settled year: 0)."""
    settled = p.year >= 0
    y = np.where(settled, p.year, 0)
    n = len(years)
    if shares_budget(run.cfg):
        pay = shares_fen(caseexact_shares(p, run, n, y), y, p.rows, run, years)
    else:
        pay = to_fen(p.a * np.array([run.rate.get(i, 0.0) for i in range(n)])[y] + p.b)
    return np.where(settled, pay, 0)


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
                    monthly[int(i)] = monthly_sums(sub, run.cfg)
        settlement.append(per_year)
        if r == 0:
            cases = table
    return ThirdPass(cases, settlement, monthly, profit_loss, paid)

