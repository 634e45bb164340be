"""Relative weights (RW), homogeneity (CV) and reduction in variance (RIV): methodology.md section 2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import prepare


def trim_mask(costs: np.ndarray, method: str = "iqr", k_lo: float = 1.5, k_hi: float = 1.5, min_cases: int = 5,
              k_sd: float = 3.0, p_lo: float = 1.0, p_hi: float = 99.0) -> np.ndarray:
    """Which costs of one DRG are kept (section 2.2). ``method``: iqr, log_sd, percentile, mean_multiple, none."""
    n = len(costs)
    if method == "none" or n < min_cases:
        return np.ones(n, dtype=bool)
    if method == "iqr":
        q1, q3 = np.percentile(costs, [25, 75])
        iqr = q3 - q1
        return (costs >= q1 - k_lo * iqr) & (costs <= q3 + k_hi * iqr)
    if method == "log_sd":
        lc = np.log(costs)
        return np.abs(lc - lc.mean()) <= k_sd * lc.std(ddof=1)
    if method == "percentile":
        lo, hi = np.percentile(costs, [p_lo, p_hi])
        return (costs >= lo) & (costs <= hi)
    if method == "mean_multiple":
        m = costs.mean()
        return (costs >= 0.4 * m) & (costs <= 3 * m)
    raise ValueError(f"trim_method={method!r}: use iqr, log_sd, percentile, mean_multiple or none")


def _trimmed(cases: pd.DataFrame, **trim) -> pd.Series:
    """Per-case bool: kept by the per-DRG trimming (only cases with valid cost are candidates).

    The default IQR rule is vectorised over all DRGs at once (one sort, quartiles by position, numpy's
    linear interpolation); other rules go DRG by DRG through :func:`trim_mask`."""
    valid = (cases["included"] & cases["cost"].notna()).to_numpy()
    kept = np.zeros(len(cases), dtype=bool)
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return pd.Series(kept, index=cases.index)
    d = cases["drg"]
    key = d.cat.codes.to_numpy()[idx] if isinstance(d.dtype, pd.CategoricalDtype) else pd.factorize(d.to_numpy()[idx])[0]
    cost = cases["cost"].to_numpy(float)[idx]
    order = np.lexsort((cost, key))
    k, c = key[order], cost[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    n = np.diff(np.r_[starts, len(k)])
    keep = kept_sorted(c, starts, n, **trim)
    kept[idx[order]] = keep
    return pd.Series(kept, index=cases.index)


def kept_sorted(c: np.ndarray, starts: np.ndarray, n: np.ndarray, **trim) -> np.ndarray:
    """Which costs are kept, for costs ``c`` sorted within each DRG (DRG i at ``starts[i]``, ``n[i]`` costs).

    The default IQR rule works on all DRGs at once: quartiles by position with numpy's linear interpolation."""
    method = trim.get("method", "iqr")
    min_cases = trim.get("min_cases", 5)
    if method == "iqr":
        lo_f, hi_f = iqr_fences(c, starts, n, trim.get("k_lo", 1.5), trim.get("k_hi", 1.5))
        small = np.repeat(n < min_cases, n)
        return small | ((c >= np.repeat(lo_f, n)) & (c <= np.repeat(hi_f, n)))
    return np.concatenate([trim_mask(part, **trim) for part in np.split(c, starts[1:])])


def iqr_fences(c: np.ndarray, starts: np.ndarray, n: np.ndarray, k_lo: float = 1.5, k_hi: float = 1.5):
    """Per DRG the IQR fences (Q1 - k_lo IQR, Q3 + k_hi IQR) of sorted costs (quartiles by position, numpy's
    linear interpolation)."""
    def quantile(q):
        pos = starts + q * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, starts + n - 1)
        return c[lo] + (pos - lo) * (c[hi] - c[lo])

    q1, q3 = quantile(0.25), quantile(0.75)
    iqr = q3 - q1
    return q1 - k_lo * iqr, q3 + k_hi * iqr


def trimmed_cases(cases: pd.DataFrame, *, trim_method: str = "iqr", k_lo: float = 1.5, k_hi: float = 1.5,
                  min_cases_trim: int = 5) -> pd.Series:
    """Per-case bool: kept by the section 2.2 trimming of its DRG."""
    return _trimmed(cases, method=trim_method, k_lo=k_lo, k_hi=k_hi, min_cases=min_cases_trim)


def compute_weights(data: pd.DataFrame, *, trim_method: str = "iqr", k_lo: float = 1.5, k_hi: float = 1.5,
                    min_cases_trim: int = 5, min_cases_weight: int = 5, supplied: pd.DataFrame | None = None,
                    drg_names: dict | None = None, kept: pd.Series | None = None) -> pd.DataFrame:
    """Per-DRG weights table.

    Parameters
    ----------
    data : DataFrame
        Grouped cases (``drg``, ``hospital_id``, ``total_cost``, ``los_days``, ``status``...), or the
        output of :func:`evaluation.common.prepare`.
    trim_method, k_lo, k_hi, min_cases_trim :
        Outlier trimming per DRG (section 2.2; default IQR fences 1.5, DRGs with fewer than 5 cases untrimmed).
    min_cases_weight : int
        Trimmed cases needed for a DRG's own weight (section 2.3).
    supplied : DataFrame, optional
        Published weights (columns ``drg, weight``): they replace the computed RW where given.
    kept : Series of bool, optional
        The trimming mask from :func:`trimmed_cases`, when the caller has it already.

    Returns
    -------
    DataFrame with ``drg, cases, cases_cost, cases_trimmed, mean_cost, mean_cost_all, mean_los, rw, cv,
    cv_los, homogeneous, weight_status``; ``RW = trimmed DRG mean / pooled trimmed mean``.
    """
    cases = data if "included" in data.columns else prepare(data)
    inc = cases[cases["included"]]
    if kept is None:
        kept = trimmed_cases(cases, trim_method=trim_method, k_lo=k_lo, k_hi=k_hi, min_cases_trim=min_cases_trim)
    t = cases[kept]
    g_all = inc.groupby("drg", sort=True, observed=True)
    out = pd.DataFrame({"cases": g_all.size()})
    # every per-DRG column is grouped over the included cases' DRG categories, so all align with
    # out.index without a reindex across categoricals (which fails when a subset is empty)
    out["cases_cost"] = g_all["cost"].count().astype(np.int64)
    tg = t.groupby(t["drg"].cat.set_categories(list(out.index)), observed=False)
    out["cases_trimmed"] = tg.size().to_numpy().astype(np.int64)
    out["mean_cost"] = tg["cost"].mean().to_numpy()
    out["mean_cost_all"] = g_all["cost"].mean()
    out["mean_los"] = g_all["los"].mean()
    pooled = t["cost"].mean() if len(t) else np.nan
    out["cost_sd"] = tg["cost"].std(ddof=1).to_numpy()
    tl = tg["los"]  # std and mean skip missing LOS
    out["los_sd_trimmed"], out["los_mean_trimmed"] = tl.std(ddof=1).to_numpy(), tl.mean().to_numpy()
    return weights_table(out, pooled, min_cases_weight=min_cases_weight, supplied=supplied, drg_names=drg_names)


def weights_table(out: pd.DataFrame, pooled: float, *, min_cases_weight: int = 5, supplied: pd.DataFrame | None = None,
                  drg_names: dict | None = None) -> pd.DataFrame:
    """The weights table from per-DRG statistics (index ``drg``: ``cases, cases_cost, cases_trimmed, mean_cost,
    mean_cost_all, mean_los, cost_sd, los_sd_trimmed, los_mean_trimmed``) and the pooled trimmed mean cost;
    shared by :func:`compute_weights` and the streamed evaluation (:mod:`evaluation.cells.tables`)."""
    out = out.drop(columns=[c for c in ("cost_var_all", "los_var_all") if c in out.columns])  # the cost funnels' only
    out["rw"] = out["mean_cost"] / pooled
    out["weight_status"] = np.where(out["cases_trimmed"] >= min_cases_weight, "ok",
                                    np.where(out["cases_trimmed"] >= 1, "unstable_small_n", "no_reference"))
    if supplied is not None:
        sup = supplied.copy()
        sup.columns = [str(c).strip().lower() for c in sup.columns]
        col = "weight" if "weight" in sup.columns else "rw"
        sw = dict(zip(sup["drg"].astype(str), pd.to_numeric(sup[col], errors="coerce")))
        has = out.index.to_series().map(lambda g: g in sw and pd.notna(sw[g]))
        out.loc[has, "rw"] = [sw[g] for g in out.index[has]]
        out.loc[has, "weight_status"] = "supplied"
    out.loc[out["weight_status"] == "no_reference", "rw"] = np.nan
    out["cv"] = out.pop("cost_sd") / out["mean_cost"]
    out["cv_los"] = out.pop("los_sd_trimmed") / out.pop("los_mean_trimmed")
    out["homogeneous"] = out["cv"] < 1
    if drg_names:
        out.insert(0, "drg_name", [drg_names.get(g, "") for g in out.index])
    out.index.name = "drg"
    return out.reset_index()


def reduction_in_variance(data: pd.DataFrame, *, value: str = "cost", trimmed: bool = True, kept: pd.Series | None = None,
                          **trim) -> float:
    """RIV = 1 - SSW/SST over included cases with a valid value (section 2.5); NaN if SST = 0.
    ``kept`` is a precomputed trimming mask (saves recomputing it)."""
    cases = data if "included" in data.columns else prepare(data)
    mask = cases["included"] & cases[value].notna()
    if trimmed:
        mask &= kept if kept is not None else _trimmed(cases, **trim)
    sub = cases.loc[mask, ["drg", value]]
    if len(sub) == 0:
        return float("nan")
    y = sub[value].to_numpy(float)
    sst = float(((y - y.mean()) ** 2).sum())
    means = sub.groupby("drg", observed=True)[value].transform("mean").to_numpy(float)
    ssw = float(((y - means) ** 2).sum())
    return float("nan") if sst == 0 else 1.0 - ssw / sst


def grouping_quality(data: pd.DataFrame, weights: pd.DataFrame, kept: pd.Series | None = None, **trim) -> pd.DataFrame:
    """Summary rows: grouping rate, RIV of cost and LOS before/after trimming, homogeneous shares."""
    cases = data if "included" in data.columns else prepare(data)
    w = weights
    hom = w["homogeneous"].fillna(False)
    if kept is None:
        kept = _trimmed(cases, **trim)
    rows = [
        ("grouping_rate", float(cases["included"].mean()) if len(cases) else np.nan),
        ("riv_cost_trimmed", reduction_in_variance(cases, value="cost", trimmed=True, kept=kept)),
        ("riv_cost_all", reduction_in_variance(cases, value="cost", trimmed=False)),
        ("riv_los_trimmed", reduction_in_variance(cases, value="los", trimmed=True, kept=kept)),
        ("riv_los_all", reduction_in_variance(cases, value="los", trimmed=False)),
        ("homogeneous_drg_share", float(hom.mean()) if len(w) else np.nan),
        ("homogeneous_case_share", float(w.loc[hom, "cases"].sum() / w["cases"].sum()) if w["cases"].sum() else np.nan),
        # missing, NaN, infinite or non-positive costs (negative LOS) are left out of every sum above
        ("cases_cost_unusable", int(cases["cost"].isna().sum())),
        ("cases_los_unusable", int(cases["los"].isna().sum())),
    ]
    return pd.DataFrame(rows, columns=["metric", "value"])


def baseline_weights(cases: pd.DataFrame, before: int) -> tuple[pd.DataFrame, list]:
    """DRG weights from the baseline years (those before ``before``: the first support start, or the year
    after the first data year), frozen for every later year (methodology 6.4 and 6.7: indicators compared
    over time move with the case mix, not with weight drift). All years when none precedes ``before``.
    Returns the weights and the baseline years."""
    years = sorted(int(y) for y in cases["year"].dropna().unique())
    base = [y for y in years if y < before] or years
    return compute_weights(cases[cases["year"].isin(base)]), base
