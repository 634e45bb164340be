"""Tables of :func:`evaluation.api.evaluate` from the sufficient statistics of :class:`evaluation.cells.CaseCells`:
every indicator of the formula sheet is a ratio of sums over cases, so the sums over a cell's cases give the same
numbers (to rounding: the tests hold them to 1e-12 of the per-case evaluation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import CaseCells
from ..common import PERIODS
from ..indicators import add_coverage, levels_from_counts, rank_hospitals
from ..views import period_trends
from ..weights import iqr_fences, kept_sorted, weights_table


# -- per-DRG statistics -----------------------------------------------------------------------------
def _moments(x: np.ndarray) -> tuple[int, float, float, float, float]:
    """(n, sum, mean, sum of squares about the mean, sample SD) of x, each summed once: the bits of ``np.mean`` and
    ``np.std(ddof=1)`` (both divide NumPy's pairwise sum by n, and square the deviations from that mean)."""
    n = len(x)
    if n == 0:
        return 0, 0.0, np.nan, 0.0, np.nan
    total = x.sum()
    mean = total / n
    ss = ((x - mean) ** 2).sum()
    return n, float(total), float(mean), float(ss), float(np.sqrt(ss / (n - 1))) if n > 1 else np.nan


def _order_statistics(c: np.ndarray) -> np.ndarray:
    """``c`` partitioned so that the positions the quartiles read (:func:`evaluation.weights.iqr_fences`: floor(q (n-1))
    and the next) hold the values of the sorted array: a linear-time selection instead of a sort."""
    last = len(c) - 1
    at = {p for q in (0.25, 0.75) for lo in [int(np.floor(q * last))] for p in (lo, min(lo + 1, last))}
    return np.partition(c, sorted(at))


def _riv(parts: list) -> float:
    """1 - SSW/SST from per-DRG (n, sum, SS about the DRG mean): SST = SSW + sum n_g (mean_g - mean)^2."""
    parts = [p for p in parts if p[0] > 0]
    if not parts:
        return float("nan")
    n = np.array([p[0] for p in parts], dtype=float)
    s = np.array([p[1] for p in parts])
    ssw = float(sum(p[2] for p in parts))
    grand = s.sum() / n.sum()
    sst = ssw + float((n * (s / n - grand) ** 2).sum())
    return float("nan") if sst == 0 else 1.0 - ssw / sst


def _one_drg(g: str, cost: np.ndarray, los: np.ndarray, trim_method: str, min_cases_trim: int) -> tuple:
    """One DRG's row of :func:`drg_statistics` and the moments of its kept and all costs and stays."""
    vc = ~np.isnan(cost)
    c, lc = cost[vc], los[vc]  # in input order, as the per-case sums run
    if trim_method == "iqr":  # the fences need four order statistics only
        if len(c) >= min_cases_trim:
            lo, hi = iqr_fences(_order_statistics(c), np.array([0]), np.array([len(c)]))
            kept = (c >= lo[0]) & (c <= hi[0])
        else:
            kept = np.ones(len(c), dtype=bool)
    else:  # the other rules are applied to the sorted costs, as the per-case trimming does
        order = np.argsort(c, kind="stable")
        c, lc = c[order], lc[order]
        kept = kept_sorted(c, np.array([0]), np.array([len(c)]), method=trim_method, min_cases=min_cases_trim) \
            if len(c) else np.zeros(0, dtype=bool)
    ck, lk = c[kept], lc[kept]
    lk = lk[~np.isnan(lk)]
    kept_m, all_m, lk_m, lall_m = _moments(ck), _moments(c), _moments(lk), _moments(los[~np.isnan(los)])
    row = {"drg": g, "cases": len(cost), "cases_cost": int(vc.sum()), "cases_trimmed": int(kept.sum()),
           "mean_cost": kept_m[2], "mean_cost_all": all_m[2], "mean_los": lall_m[2], "cost_sd": kept_m[4],
           "los_sd_trimmed": lk_m[4], "los_mean_trimmed": lk_m[2], "cost_var_all": all_m[4] ** 2, "los_var_all": lall_m[4] ** 2}
    return row, kept_m, all_m, lk_m, lall_m


def drg_statistics(cc: CaseCells, trim_method: str = "iqr", min_cases_trim: int = 5) -> tuple[pd.DataFrame, float, dict]:
    """(per-DRG statistics for :func:`evaluation.weights.weights_table`, the pooled trimmed mean cost, the four RIVs).

    The DRGs are worked on a few threads at a time (NumPy's sorts and sums release the GIL) and their results
    added up in DRG order, so the bits do not depend on the threads."""
    import concurrent.futures
    import os

    rows, kept_sum, kept_n = [], 0.0, 0
    riv = {"riv_cost_trimmed": [], "riv_cost_all": [], "riv_los_trimmed": [], "riv_los_all": []}

    def work(g):
        return _one_drg(g, *cc.drg_values(g), trim_method, min_cases_trim)

    with concurrent.futures.ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        for row, kept_m, all_m, lk_m, lall_m in pool.map(work, cc.costs.names()):
            rows.append(row)
            kept_sum += kept_m[1]
            kept_n += kept_m[0]
            for name, m in (("riv_cost_trimmed", kept_m), ("riv_cost_all", all_m), ("riv_los_trimmed", lk_m),
                            ("riv_los_all", lall_m)):
                riv[name].append((m[0], m[1], m[3]))
    stats = pd.DataFrame(rows, columns=["drg", "cases", "cases_cost", "cases_trimmed", "mean_cost", "mean_cost_all", "mean_los",
                                        "cost_sd", "los_sd_trimmed", "los_mean_trimmed", "cost_var_all",
                                        "los_var_all"]).set_index("drg")
    for c in ("cases", "cases_cost", "cases_trimmed"):
        stats[c] = stats[c].astype(np.int64)
    return stats, (kept_sum / kept_n if kept_n else np.nan), {k: _riv(v) for k, v in riv.items()}


def quality_table(cc: CaseCells, weights: pd.DataFrame, rivs: dict) -> pd.DataFrame:
    """:func:`evaluation.weights.grouping_quality` from the cells."""
    hom = weights["homogeneous"].fillna(False)
    rows = [("grouping_rate", cc.included / cc.rows if cc.rows else np.nan), ("riv_cost_trimmed", rivs["riv_cost_trimmed"]),
            ("riv_cost_all", rivs["riv_cost_all"]), ("riv_los_trimmed", rivs["riv_los_trimmed"]),
            ("riv_los_all", rivs["riv_los_all"]),
            ("homogeneous_drg_share", float(hom.mean()) if len(weights) else np.nan),
            ("homogeneous_case_share", float(weights.loc[hom, "cases"].sum() / weights["cases"].sum())
             if weights["cases"].sum() else np.nan),
            ("cases_cost_unusable", cc.cost_unusable), ("cases_los_unusable", cc.los_unusable)]
    return pd.DataFrame(rows, columns=["metric", "value"])


# -- indicators of units from cells -----------------------------------------------------------------
def benchmarks_cells(cells: pd.DataFrame) -> tuple[dict, dict]:
    """Per-DRG mean cost and LOS over included cases with valid values (:func:`evaluation.indicators.benchmarks`)."""
    g = cells.groupby("drg", observed=True)[["cost_n", "cost_sum", "los_n", "los_sum"]].sum()
    c, lo = g[g["cost_n"] > 0], g[g["los_n"] > 0]
    return (c["cost_sum"] / c["cost_n"]).to_dict(), (lo["los_sum"] / lo["los_n"]).to_dict()


def unit_cells(cells: pd.DataFrame, key: list, rw: dict, bench_cost: dict, bench_los: dict, levels: pd.DataFrame,
               high_weight: float = 2.0, loo_cost: np.ndarray | None = None, loo_los: np.ndarray | None = None,
               ratio_var: tuple | None = None) -> pd.DataFrame:
    """:func:`evaluation.indicators.unit_indicators` from cells: sums of cases, weights and cost / benchmark
    ratios per group of ``key`` (a cell's cost ratio sum is its cost sum over the DRG benchmark)."""
    n = cells["n"].to_numpy(float)
    w = cells["drg"].map(rw).astype(float).to_numpy()
    has_w = ~np.isnan(w)
    x = cells[key].copy()
    x["n"] = cells["n"].to_numpy()
    x["nw"] = np.where(has_w, n, 0.0)
    x["tw"] = n * w
    x["high"] = np.where(w >= high_weight, n, 0.0)
    bc = cells["drg"].map(bench_cost).astype(float).to_numpy() if loo_cost is None else loo_cost
    okc = (cells["cost_n"].to_numpy() > 0) & (bc > 0)
    x["c_num"] = np.where(okc, cells["cost_sum"].to_numpy(float) / np.where(okc, bc, 1.0), 0.0)
    x["c_den"] = np.where(okc, cells["cost_n"].to_numpy(float), 0.0)
    bl = cells["drg"].map(bench_los).astype(float).to_numpy() if loo_los is None else loo_los
    okl = (cells["los_n"].to_numpy() > 0) & (bl > 0)
    x["l_num"] = np.where(okl, cells["los_sum"].to_numpy(float) / np.where(okl, bl, 1.0), 0.0)
    x["l_den"] = np.where(okl, cells["los_n"].to_numpy(float), 0.0)
    if ratio_var is not None:  # the indices' sampling variances (evaluation.indicators._index_variance)
        x["c_var"] = x["c_den"] * cells["drg"].map(ratio_var[0]).astype(float).fillna(0.0).to_numpy()
        x["l_var"] = x["l_den"] * cells["drg"].map(ratio_var[1]).astype(float).fillna(0.0).to_numpy()
    lv = dict(zip(levels["drg"], levels["risk_level"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)))
    risk = cells["drg"].map(lv).astype(float).to_numpy()
    died = cells["died"].to_numpy(float)
    for lvl, name in ((1, "low_risk"), (2, "midlow_risk")):
        x[f"{name}_n"] = np.where(risk == lvl, n, 0.0)
        x[f"{name}_d"] = np.where(risk == lvl, died, 0.0)
    g = x.groupby(key, sort=True, observed=True)
    s = g.sum(numeric_only=True)
    out = pd.DataFrame({"cases": s["n"].astype(np.int64)})
    # distinct DRGs with a case per group: (group, DRG) pairs counted on integer codes (the groups in s's order)
    unit, drg = g.ngroup().to_numpy(np.int64), cells["drg"].cat.codes.to_numpy().astype(np.int64)
    has = (unit >= 0) & (drg >= 0) & (n >= 1)
    width = len(cells["drg"].cat.categories)
    pairs = pd.unique(unit[has] * width + drg[has])  # hashed: np.unique sorts
    out["drg_count"] = np.bincount(pairs // width, minlength=len(out)).astype(np.int64)
    out["cases_weighted"] = s["nw"].round().astype(np.int64)
    out["no_weight"] = out["cases"] - out["cases_weighted"]
    out["total_weight"] = s["tw"]  # NaN weights skipped, as a sum over cases skips them
    cw = out["cases_weighted"].where(out["cases_weighted"] > 0)
    out["cmi"] = out["total_weight"] / cw
    out["high_weight_share"] = s["high"] / cw
    out["cost_index"] = (s["c_num"] / s["c_den"]).where(s["c_den"] > 0)
    out["time_index"] = (s["l_num"] / s["l_den"]).where(s["l_den"] > 0)
    if ratio_var is not None:
        out["cost_index_var"] = (s["c_var"] / s["c_den"] ** 2).where(s["c_den"] > 0)
        out["time_index_var"] = (s["l_var"] / s["l_den"] ** 2).where(s["l_den"] > 0)
    for name in ("low_risk", "midlow_risk"):
        out[f"{name}_cases"] = s[f"{name}_n"].round().astype(np.int64)
        out[f"{name}_mortality"] = s[f"{name}_d"] / out[f"{name}_cases"].where(out[f"{name}_cases"] > 0)
    return out


def _leave_one_out(cells: pd.DataFrame, count: str, total: str, min_cases: int = 1) -> np.ndarray:
    """Per cell its DRG's mean of a value over the other hospitals: (S_g - s_hg) / (N_g - n_hg), NaN where fewer
    than ``min_cases`` other cases remain (:func:`evaluation.outcomes.leave_one_out_rate`)."""
    own = cells.groupby(["hospital_id", "drg"], sort=False, observed=True)[[count, total]].transform("sum")
    tot = cells.groupby("drg", sort=False, observed=True)[[count, total]].transform("sum")
    rest = (tot[count] - own[count]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest >= min_cases, (tot[total] - own[total]).to_numpy(float) / rest, np.nan)


def mortality_cells(cells: pd.DataFrame, groups: pd.Series, overdispersion="auto", leave_one_out: bool = False,
                    patient_model: bool = False) -> pd.DataFrame:
    """:func:`evaluation.outcomes.standardized_mortality` per hospital from cells (``groups``: each hospital's peer group);
    ``patient_model``: the expected deaths are the sums of a patient-level model's (cells with :data:`EXPECTED_STATS`),
    cases without one dropped."""
    from ..outcomes import overdispersion_method  # scipy: only where the funnel is drawn

    method = overdispersion_method(overdispersion)
    if patient_model:
        n = cells["n"].to_numpy(float)
        x = pd.DataFrame({"hospital_id": cells["hospital_id"], "cases": cells["n"], "dropped": n - cells["e_n"].to_numpy(float),
                          "observed": cells["e_died"].to_numpy(float), "expected": cells["e_sum"].to_numpy(float)})
        return _mortality_table(x, groups, method, "patient_model")
    if leave_one_out:
        p = _leave_one_out(cells, "n", "died")
    else:
        d = cells.groupby("drg", sort=False, observed=True)[["n", "died"]].transform("sum")
        p = d["died"].to_numpy(float) / d["n"].to_numpy(float)
    has = ~np.isnan(p)
    n = cells["n"].to_numpy(float)
    x = pd.DataFrame({"hospital_id": cells["hospital_id"], "cases": cells["n"], "dropped": np.where(has, 0.0, n),
                      "observed": np.where(has, cells["died"].to_numpy(float), 0.0), "expected": np.where(has, n * p, 0.0)})
    return _mortality_table(x, groups, method, "leave_one_out" if leave_one_out else "pooled")


def _mortality_table(x: pd.DataFrame, groups: pd.Series | None, method, reference: str) -> pd.DataFrame:
    """Per hospital O, E, O/E and the funnel from per-cell cases, dropped cases, observed and expected deaths."""
    from ..outcomes import observed_expected

    s = x.groupby("hospital_id", sort=True, observed=True).sum()
    out = pd.DataFrame({"cases": s["cases"].astype(np.int64), "dropped_cases": s["dropped"].round().astype(np.int64),
                        "observed": s["observed"].round().astype(np.int64), "expected": s["expected"]})
    g = groups.reindex(out.index).astype(object).fillna("all") if groups is not None else None
    out = observed_expected(out, g, method)
    out["reference"] = reference
    out.index.name = "hospital_id"
    return out.reset_index()


def discipline_cells(cells: pd.DataFrame, by: str, rw: dict, bench_cost: dict, bench_los: dict,
                     levels: pd.DataFrame) -> pd.DataFrame:
    """:func:`evaluation.indicators.discipline` (hospital x MDC or x ADRG) from cells."""
    out = unit_cells(cells, ["hospital_id", by], rw, bench_cost, bench_los, levels)
    add_coverage(out, cells, cells, by)
    w = cells["drg"].map(rw).astype(float).to_numpy()
    ok = ~np.isnan(w)
    n = cells["n"].to_numpy(float)
    ref = pd.DataFrame({by: cells[by], "tw": np.where(ok, n * w, 0.0), "nw": np.where(ok, n, 0.0)}).groupby(by, observed=True).sum()
    ref_cmi = (ref["tw"] / ref["nw"]).where(ref["nw"] > 0)
    out["relative_cmi"] = out["cmi"] / ref_cmi.reindex(out.index.get_level_values(by)).to_numpy()
    out = out.reset_index()
    keep = ["hospital_id", by, "cases", "drg_count", "drg_coverage"] + (["adrg_count", "adrg_coverage"] if by == "mdc" else []) + [
        "total_weight", "cmi", "relative_cmi", "cost_index", "time_index", "low_risk_mortality", "low_risk_cases"]
    return out[keep]


def period_cells(cells: pd.DataFrame, period: str, rw: dict, bench_cost: dict, bench_los: dict) -> pd.DataFrame:
    """:func:`evaluation.views.period_view` from cells keyed by ``_period``."""
    levels = levels_from_counts(cells.groupby("drg", observed=True).agg(cases=("n", "sum"), deaths=("died", "sum")))
    c = cells[cells["_period"].notna()].assign(_period=lambda d: d["_period"].astype(np.int64))
    t = unit_cells(c, ["hospital_id", "_period"], rw, bench_cost, bench_los, levels)
    t["deaths"] = c.groupby(["hospital_id", "_period"], observed=True)["died"].sum().reindex(t.index).fillna(0).astype(np.int64)
    t["mortality"] = t["deaths"] / t["cases"]
    return period_trends(t, PERIODS[period])


def evaluate_cells(cc: CaseCells, *, weights: pd.DataFrame | None = None, by: str = "hospital", peer: str = "level",
                   hospitals: pd.DataFrame | None = None, trim_method: str = "iqr", drg_names: dict | None = None,
                   overdispersion="auto", min_cases_rank: int = 100, min_cases_risk: int = 30,
                   risk_levels_table: pd.DataFrame | None = None, leave_one_out: bool = False) -> dict:
    """The tables of :func:`evaluation.api.evaluate` (same names, columns and rules) from :class:`CaseCells`.

    ``by``: hospital, hospital-mdc or hospital-adrg (the department and doctor views and per-case expected
    deaths of a risk model need the cases themselves: :func:`evaluation.api.evaluate`)."""
    from ..api import every_hospital, with_every_hospital
    from ..common import EvaluationError

    if by not in ("hospital", "hospital-mdc", "hospital-adrg"):
        raise EvaluationError(f"--by {by!r}: the streamed evaluation makes hospital, hospital-mdc and hospital-adrg tables")
    cells = cc.cells()
    stats, pooled, rivs = drg_statistics(cc, trim_method)
    w = weights_table(stats, pooled, supplied=weights, drg_names=drg_names)
    rw = dict(zip(w["drg"], w["rw"]))
    bench_cost, bench_los = benchmarks_cells(cells)
    per_drg = cells.groupby("drg", observed=True).agg(cases=("n", "sum"), deaths=("died", "sum"))
    levels = levels_from_counts(per_drg, min_cases_risk=min_cases_risk, external=risk_levels_table)
    loo = {}
    if leave_one_out:
        loo = {"loo_cost": _leave_one_out(cells, "cost_n", "cost_sum"), "loo_los": _leave_one_out(cells, "los_n", "los_sum")}
    from ..indicators import drg_ratio_variance

    ratio_var = (drg_ratio_variance(stats["cost_var_all"], bench_cost), drg_ratio_variance(stats["los_var_all"], bench_los))
    unit = unit_cells(cells, ["hospital_id"], rw, bench_cost, bench_los, levels, ratio_var=ratio_var, **loo)
    unit.index = pd.Index(unit.index.astype(object), name="hospital_id")
    first = pd.DataFrame.from_dict(cc.first_all, orient="index", columns=["level", "kind"])
    hospital = rank_hospitals(unit, first, peer=peer, hospitals=hospitals, min_cases_rank=min_cases_rank,
                              overdispersion=overdispersion,
                              leave_one_out=leave_one_out)
    fi = pd.DataFrame.from_dict(cc.first_included, orient="index", columns=["level", "kind"])
    groups = fi["level"] if peer == "level" else fi["level"] + "/" + fi["kind"] if peer == "level-kind" \
        else pd.Series("all", index=fi.index, dtype=object)
    if peer not in ("level", "level-kind", "none"):
        raise EvaluationError(f"--peer {peer!r}: use level (default), level-kind or none")
    out = {"weights": w, "quality": quality_table(cc, w, rivs), "hospital": hospital,
           "outcomes": mortality_cells(cells, groups, overdispersion, leave_one_out, patient_model=cc.expected),
           "risk_levels": levels}
    ids = every_hospital(list(cc.first_all), hospitals, cc.levels)
    first_level = {h: v[0] for h, v in cc.first_all.items()}
    out["hospital"] = with_every_hospital(out["hospital"], ids, first_level, hospitals, min_cases_rank)
    lv = out["hospital"].set_index("hospital_id")["level"]
    out["outcomes"] = with_every_hospital(out["outcomes"], ids, first_level, hospitals, min_cases_rank)
    out["outcomes"].insert(2, "level", out["outcomes"]["hospital_id"].map(lv))
    if by != "hospital":
        key = by.split("-")[1]
        out[f"discipline_{key}"] = discipline_cells(cells, key, rw, bench_cost, bench_los, levels)
    if cc.period:
        if not cc.dated:
            raise EvaluationError("--period needs discharge_date (出院日期) to place each case in its period; map it with "
                                  "--columns if the file names it otherwise")
        out[f"hospital_{cc.period}"] = period_cells(cells, cc.period, rw, bench_cost, bench_los)
    return out


def baseline_weights_cells(by_year: dict, before: int) -> tuple[pd.DataFrame, list]:
    """:func:`evaluation.weights.baseline_weights` from per-year cells: the weights of the years before ``before``
    (all years when none precedes it), and those years."""
    years = sorted(by_year)
    base = [y for y in years if y < before] or years
    total = CaseCells()
    for y in base:
        total.merge(by_year[y])
    stats, pooled, _ = drg_statistics(total)
    return weights_table(stats, pooled), base


def _category_text(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(each category as str, object array; the codes) of a categorical column (code -1, missing, reads None)."""
    cats = np.array([str(v) for v in col.cat.categories] + [None], dtype=object)
    codes = col.cat.codes.to_numpy()
    return cats, np.where(codes >= 0, codes, len(cats) - 1)


PANEL_COLUMNS = ["hospital_id", "year", "cases", "drg_count", "cmi", "cases_no_weight", "surgical_share", "level2_surgery",
                 "level2_share", "grade_source"]


def support_panel_cells(by_year: dict, weights: pd.DataFrame, hospital_ids, specialty_mdcs: dict | None = None,
                        level2: dict | None = None) -> pd.DataFrame:
    """:func:`evaluation.support.hospital_year_panel` from per-year cells: level-2+ surgery by the DRG-partition proxy,
    or ``level2`` ({(hospital_id, year): cases}: :func:`evaluation.support.level2_counts` of each batch, summed)."""
    ids = set(map(str, hospital_ids))
    parts = []
    for y in sorted(by_year):
        c = by_year[y].cells()
        # text per category, then per cell by its code: the cells' columns are categoricals of few values
        hosp, h = _category_text(c["hospital_id"])
        drgs, d = _category_text(c["drg"])
        keep = np.flatnonzero(np.isin(hosp, list(ids))[h])
        parts.append(pd.DataFrame({"hospital_id": hosp[h[keep]], "year": y, "drg": drgs[d[keep]],
                                   "n": c["n"].to_numpy()[keep]}))
    cols = PANEL_COLUMNS + (["specialty_cases"] if specialty_mdcs else [])
    if not parts or not sum(len(p) for p in parts):
        return pd.DataFrame(columns=cols)
    c = pd.concat(parts, ignore_index=True)
    rw = dict(zip(weights["drg"].astype(str), weights["rw"].astype(float)))
    w = c["drg"].map(rw).astype(float).to_numpy()
    n = c["n"].to_numpy(float)
    surgical = c["drg"].str[1:2].between("A", "J").to_numpy()
    x = pd.DataFrame({"hospital_id": c["hospital_id"], "year": c["year"].astype(int), "n": c["n"],
                      "nw": np.where(np.isnan(w), 0.0, n), "tw": np.where(np.isnan(w), 0.0, n * w),
                      "nnw": np.where(np.isnan(w), n, 0.0), "surg": np.where(surgical, n, 0.0)})
    if specialty_mdcs:
        letters = {str(h): set("".join(v)) for h, v in specialty_mdcs.items()}
        pairs = c["hospital_id"].str.cat(c["drg"].str[:1], sep="\t")
        own = pairs.isin({f"{h}\t{m}" for h, ms in letters.items() for m in ms}).to_numpy()
        x["spec"] = np.where(own, n, 0.0)
    s = x.groupby(["hospital_id", "year"], sort=True).sum()
    out = pd.DataFrame({"cases": s["n"].astype(np.int64),
                        "drg_count": c.groupby(["hospital_id", "year"])["drg"].nunique().reindex(s.index).astype(np.int64),
                        "cmi": (s["tw"] / s["nw"]).where(s["nw"] > 0), "cases_no_weight": s["nnw"].round().astype(np.int64),
                        "surgical_share": s["surg"] / s["n"], "level2_surgery": s["surg"].round().astype(np.int64)})
    if level2 is not None:  # from the principal procedures' grades (a table), not the proxy
        out["level2_surgery"] = np.array([level2.get((h, int(y)), 0) for h, y in out.index], dtype=np.int64)
    out["level2_share"] = out["level2_surgery"] / out["cases"]
    out["grade_source"] = "proxy" if level2 is None else "table"
    if specialty_mdcs:
        out["specialty_cases"] = s["spec"].round().astype(np.int64)
    return out.reset_index()[cols]
