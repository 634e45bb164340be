"""drg pay's tables from its third pass: per batch the settlement, profit-and-loss and monthly sums on the codes of
its per-case table (:func:`coded_settlement_sums` ...), added up in input order (:class:`Totals`), and the finish that
turns them into the tables of :func:`drg.settlement.settle_years` (:func:`finish`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cells.keys import first_rows
from ..common import key_codes
from ..exact import exact_sums, merge_sums, to_float
from . import (
    CLASSES,
    SETTLED_CLASSES,
    PaymentConfig,
    advances_table,
    profit_loss_table,
    scenario_table,
    settlement_table,
)

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
                        "payment_fen": int_sums(hc, pay, k)[present]},
                       index=pd.Index(t["hospital_id"].cat.categories.to_numpy()[present], name="hospital_id"))
    code = t["payment_class"].cat.codes.to_numpy().astype(np.int64)[ok]
    by_class = np.bincount(hc * len(CLASSES) + code, minlength=k * len(CLASSES)).reshape(k, len(CLASSES))[present]
    for j, c in enumerate(SETTLED_CLASSES):
        out[f"cases_{c}"] = by_class[:, j].astype(np.int64)
    out["cases_cost_unusable"] = np.bincount(hc, weights=~costed, minlength=k)[present].astype(np.int64)
    out["special_review_over_cap"] = np.bincount(hc, weights=t["special_review_over_cap"].to_numpy(bool)[ok],
                                                 minlength=k)[present].astype(np.int64)
    out["payment_costed_fen"] = int_sums(hc, np.where(costed, pay, 0), k)[present]
    out["actual_cost_fen"] = int_sums(hc, t["cost_fen"].to_numpy()[ok], k)[present]
    if "self_pay_fen" in t.columns:
        out["self_pay_fen"] = int_sums(hc, t["self_pay_fen"].to_numpy()[ok], k)[present]
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
    out = pd.DataFrame({"cases": np.bincount(code, minlength=k).astype(np.int64), "payment_fen": int_sums(code, pay, k),
                        "cost_fen": int_sums(code, cost, k),
                        "losing_cases": np.bincount(code, weights=pay < cost, minlength=k).astype(np.int64)}, index=index)
    return out.sort_index()


def monthly_sums(sub: pd.DataFrame, cfg: PaymentConfig):
    """Per (month, hospital_id) of a batch's cases of one year: cases and fen paid, and the exact points."""
    m = sub["month"].to_numpy(float)
    hc = sub["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    ok = np.isfinite(m) & (hc >= 0)
    key = hc[ok] * 13 + m[ok].astype(np.int64)
    code, uniq = pd.factorize(key)
    index = pd.MultiIndex.from_arrays([uniq % 13, sub["hospital_id"].cat.categories.to_numpy()[uniq // 13]],
                                      names=["month", "hospital_id"])
    sums = pd.DataFrame({"cases": np.bincount(code, minlength=len(uniq)).astype(np.int64),
                         "payment_fen": int_sums(code, sub["payment_fen"].to_numpy()[ok], len(uniq))}, index=index)
    points = {}
    if cfg.method == "points":
        ex = exact_sums(sub["points"].to_numpy(float)[ok], code, {})
        points = {index[c]: v for c, v in ex.items()}
    return sums.sort_index(), points


def int_sums(code: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
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

    def add(self, part) -> None:
        """A batch's :class:`evaluation.payment.batches.ThirdPass`, in input order."""
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


def finish(plan, params: list, totals: "Totals", first) -> dict:
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
