"""Hospital service indicators (capacity, efficiency, safety), discipline tables and quadrants:
methodology.md sections 3 and 7."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import align, peer_key, prepare


def risk_levels(cases: pd.DataFrame, *, min_cases_risk: int = 1, external: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-DRG mortality and risk level 0-4 (section 3.3), one row per DRG of the reference cases.

    Regional levels: from the DRGs with at least ``min_cases_risk`` cases (a DRG with fewer gets no
    level: ``level_source = "too_few_cases"``; one region's handful of cases would otherwise decide,
    by a single death, whether a DRG counts as low risk). ``external``: a fixed list (``drg,
    risk_level``), as the national tertiary-hospital assessment publishes, used instead of regional
    levels (``level_source = "external"``; a DRG missing from it has no level). ``min_cases`` and
    ``level_source`` state the choice in the table."""
    inc = cases[cases["included"]]
    g = inc.groupby("drg", observed=True)
    return levels_from_counts(pd.DataFrame({"cases": g.size(), "deaths": g["died"].sum()}), min_cases_risk=min_cases_risk,
                              external=external)


def levels_from_counts(t: pd.DataFrame, *, min_cases_risk: int = 1, external: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`risk_levels` from per-DRG ``cases`` and ``deaths`` (index ``drg``)."""
    t = t.copy()
    t["mortality"] = t["deaths"] / t["cases"]
    level = pd.Series(pd.NA, index=t.index, dtype="Int64")
    mu = sd = np.nan
    if external is not None:
        ext = external.assign(drg=external["drg"].astype(str))
        lv = pd.to_numeric(ext["risk_level"], errors="coerce")
        given = dict(zip(ext["drg"], lv))
        level = pd.Series([given.get(str(d), np.nan) for d in t.index], index=t.index).astype("Float64").astype("Int64")
        source = np.where(level.notna(), "external", "not_in_list")
    else:
        enough = (t["cases"] >= min_cases_risk).to_numpy()
        pos = enough & (t["deaths"] > 0).to_numpy()
        x = np.log(t.loc[pos, "mortality"])
        mu = x.mean() if len(x) else np.nan
        sd = x.std(ddof=1) if len(x) > 1 else np.nan
        level[enough] = 0
        if len(x):
            lv = np.where(x < mu - sd, 1, np.where(x < mu, 2, np.where(x < mu + sd, 3, 4)))
            if np.isnan(sd):  # a single DRG with deaths: no spread; it sits at the mean
                lv = np.full(len(x), 3)
            level[pos] = lv
        source = np.where(enough, "regional", "too_few_cases")
    t["risk_level"] = level
    t["level_source"] = source
    t["min_cases"] = min_cases_risk if external is None else pd.NA
    t.attrs.update(mu=mu, sigma=sd)
    t.index.name = "drg"
    return t.reset_index()


def _rates(inc: pd.DataFrame, levels: pd.DataFrame, key: list, level: int) -> tuple[pd.Series, pd.Series]:
    lv = dict(zip(levels["drg"], levels["risk_level"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)))
    m = inc["drg"].map(lv).astype(float) == level
    sub = inc[m]
    n = sub.groupby(key, observed=True).size()
    d = sub.groupby(key, observed=True)["died"].sum()
    return n, d


def unit_indicators(inc: pd.DataFrame, key: list, rw: dict, bench_cost: dict, bench_los: dict,
                     levels: pd.DataFrame, min_cases_drgcount: int = 1, high_weight: float = 2.0,
                     loo_cost: pd.Series | None = None, loo_los: pd.Series | None = None) -> pd.DataFrame:
    """Capacity, efficiency and safety indicators for the groups ``key`` of the included cases."""
    w = inc["drg"].map(rw).astype(float)
    x = inc.assign(_w=w, _has_w=w.notna(), _high=(w >= high_weight))
    g = x.groupby(key, sort=True, observed=True)
    out = pd.DataFrame({"cases": g.size()})
    cell = x.groupby(key + ["drg"], observed=True).size()
    out["drg_count"] = align((cell >= min_cases_drgcount).groupby(level=list(range(len(key))), observed=True).sum(), out.index, 0).astype(np.int64)
    out["cases_weighted"] = g["_has_w"].sum().astype(np.int64)
    out["no_weight"] = out["cases"] - out["cases_weighted"]
    out["total_weight"] = g["_w"].sum(min_count=0)
    out["cmi"] = out["total_weight"] / out["cases_weighted"].where(out["cases_weighted"] > 0)
    out["high_weight_share"] = g["_high"].sum() / out["cases_weighted"].where(out["cases_weighted"] > 0)
    bc = inc["drg"].map(bench_cost).astype(float) if loo_cost is None else loo_cost
    okc = inc["cost"].notna() & (bc > 0)
    ratio_c = (inc["cost"] / bc)[okc]
    out["cost_index"] = align(ratio_c.groupby([inc.loc[okc, k] for k in key], observed=True).mean(), out.index)
    out["cost_index_var"] = _index_variance(inc, "cost", okc, bench_cost, key, out.index)
    bl = inc["drg"].map(bench_los).astype(float) if loo_los is None else loo_los
    okl = inc["los"].notna() & (bl > 0)
    ratio_l = (inc["los"] / bl)[okl]
    out["time_index"] = align(ratio_l.groupby([inc.loc[okl, k] for k in key], observed=True).mean(), out.index)
    out["time_index_var"] = _index_variance(inc, "los", okl, bench_los, key, out.index)
    for lvl, name in ((1, "low_risk"), (2, "midlow_risk")):
        n, d = _rates(inc, levels, key, lvl)
        out[f"{name}_cases"] = align(n, out.index, 0).astype(np.int64)
        deaths = align(d, out.index, 0)
        out[f"{name}_mortality"] = deaths / out[f"{name}_cases"].where(out[f"{name}_cases"] > 0)
    return out


def drg_ratio_variance(var: pd.Series, bench: dict) -> dict:
    """Per DRG the variance of its cases' value / the DRG's benchmark (the sample variance over the squared mean);
    a DRG of one case takes the median of the others (its own variance is unknown)."""
    v = var / var.index.map(bench).astype(float).to_numpy() ** 2
    return v.fillna(v.median()).to_dict()


def _index_variance(inc: pd.DataFrame, value: str, ok: pd.Series, bench: dict, key: list, index) -> pd.Series:
    """The sampling variance of a unit's cost or time index (the mean of its cases' value / benchmark): the sum of
    its cases' per-DRG ratio variances (:func:`drg_ratio_variance`) over the squared number of cases."""
    valid = inc[inc[value].notna()]
    v = drg_ratio_variance(valid.groupby("drg", observed=True)[value].var(), bench)
    per = inc.loc[ok, "drg"].map(v).astype(float)
    g = per.groupby([inc.loc[ok, k] for k in key], observed=True)
    return align(g.sum() / g.size().astype(float) ** 2, index)


def benchmarks(cases: pd.DataFrame) -> tuple[dict, dict]:
    """Regional per-DRG mean cost and LOS over included cases with valid values (untrimmed, section 3.2)."""
    inc = cases[cases["included"]]
    return (inc.dropna(subset=["cost"]).groupby("drg", observed=True)["cost"].mean().to_dict(),
            inc.dropna(subset=["los"]).groupby("drg", observed=True)["los"].mean().to_dict())


def rank_within_groups(values: pd.Series, groups: pd.Series, eligible: pd.Series, ascending: bool) -> pd.Series:
    """Rank 1 = best within each group, among eligible rows only (ties share the lower rank). Values are compared
    to 12 significant digits: two hospitals whose CMIs are equal in exact arithmetic tie whatever order their
    cases were summed in (a streamed and a per-case sum differ in the 16th digit)."""
    v = values.where(eligible & values.notna())
    a = v.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (11 - np.floor(np.log10(np.abs(np.where(a == 0, 1.0, a)))))
        v = pd.Series(np.where(np.isfinite(scale), np.round(a * scale) / scale, a), index=v.index)
    return v.groupby(groups, observed=True).rank(method="min", ascending=ascending).astype("Int64")


def quadrant(x: pd.Series, y: pd.Series, x_star: pd.Series) -> pd.Series:
    """Section 3.5: I high difficulty + efficient, II high + costly, III low + costly, IV low + efficient."""
    q = np.where(x >= x_star, np.where(y <= 1, "I", "II"), np.where(y > 1, "III", "IV"))
    return pd.Series(np.where(x.isna() | y.isna(), None, q), index=x.index, dtype="object")


def hospital_indicators(cases: pd.DataFrame, weights: pd.DataFrame, *, peer: str = "level", reference: pd.DataFrame | None = None,
                        min_cases_rank: int = 100, min_rate_denominator: int = 30, min_peer_hospitals: int = 3,
                        min_cases_risk: int = 1, hospitals: pd.DataFrame | None = None,
                        external_levels: pd.DataFrame | None = None, leave_one_out: bool = False,
                        overdispersion="auto") -> pd.DataFrame:
    """One row per hospital: cases, DRG count, total weight, CMI, cost/time indices, low/mid-low risk
    mortality, quadrants and ranks within the peer group (sections 3.1-3.3, 3.5, 7).

    ``cases`` is :func:`evaluation.common.prepare` output with ``level``/``kind``; ``reference``
    (default: the same cases) sets the DRG benchmarks and risk levels; ``leave_one_out`` takes each
    hospital's cost and time benchmarks from the other hospitals only (column ``reference``).
    """
    ref = cases if reference is None else reference
    rw = dict(zip(weights["drg"], weights["rw"]))
    bench_cost, bench_los = benchmarks(ref)
    levels = risk_levels(ref, min_cases_risk=min_cases_risk, external=external_levels)
    inc = cases[cases["included"]].copy()
    loo = {}
    if leave_one_out:  # each hospital's DRG benchmarks from the other hospitals only
        from .outcomes import leave_one_out_rate

        ref_inc = ref[ref["included"]]
        loo = {"loo_cost": leave_one_out_rate(inc, ref_inc, "hospital_id", "cost"),
               "loo_los": leave_one_out_rate(inc, ref_inc, "hospital_id", "los")}
    out = unit_indicators(inc, ["hospital_id"], rw, bench_cost, bench_los, levels, **loo)
    first = cases.groupby("hospital_id", observed=True)[["level", "kind"]].first()
    return rank_hospitals(out, first, peer=peer, hospitals=hospitals, min_cases_rank=min_cases_rank,
                          min_rate_denominator=min_rate_denominator, min_peer_hospitals=min_peer_hospitals,
                          leave_one_out=leave_one_out, overdispersion=overdispersion)


def rank_hospitals(out: pd.DataFrame, first: pd.DataFrame, *, peer: str = "level", hospitals: pd.DataFrame | None = None,
                   min_cases_rank: int = 100, min_rate_denominator: int = 30, min_peer_hospitals: int = 3,
                   leave_one_out: bool = False, overdispersion="auto") -> pd.DataFrame:
    """The hospital table from per-hospital indicators (index ``hospital_id``) and each hospital's ``level`` and
    ``kind`` (``first``): peer groups, quadrants, ranks (1 = the highest CMI, the lowest cost and time indices, the
    lowest low-risk mortality), the cost and time indices' funnels (:func:`evaluation.outcomes.index_funnel`) and
    names; shared with the streamed evaluation."""
    from .outcomes import index_funnel

    out = out.join(first)
    out["peer_group"] = peer_key(out, peer)
    # quadrant split line: peer case-weighted CMI
    pg = out.groupby("peer_group", observed=True)
    x_star = (pg["total_weight"].transform("sum") / pg["cases_weighted"].transform("sum"))
    out["quadrant_cost"] = quadrant(out["cmi"], out["cost_index"], x_star)
    out["quadrant_time"] = quadrant(out["cmi"], out["time_index"], x_star)
    big = out["cases"] >= min_cases_rank
    n_peer = big.groupby(out["peer_group"], observed=True).transform("sum")
    eligible = big & (n_peer >= min_peer_hospitals) & (out["level"] != "unknown")
    out["ranked"] = eligible
    out["rank_cmi"] = rank_within_groups(out["cmi"], out["peer_group"], eligible, ascending=False)
    out["rank_cost_index"] = rank_within_groups(out["cost_index"], out["peer_group"], eligible, ascending=True)
    out["rank_time_index"] = rank_within_groups(out["time_index"], out["peer_group"], eligible, ascending=True)
    out["rank_low_risk_mortality"] = rank_within_groups(out["low_risk_mortality"], out["peer_group"],
                                           eligible & (out["low_risk_cases"] >= min_rate_denominator), ascending=True)
    for name in ("cost_index", "time_index"):  # a judgment, not only a rank: the funnel of each index among peers
        if f"{name}_var" in out.columns:
            z, flag, _ = index_funnel(out[name], out[f"{name}_var"], out["peer_group"].astype(str), big, overdispersion)
            out[f"{name}_z"], out[f"{name}_flag"] = z, flag
    if hospitals is not None and "name" in hospitals.columns:
        names = dict(zip(hospitals["hospital_id"].astype(str), hospitals["name"]))
        out.insert(0, "name", [names.get(str(h), "") for h in out.index])
    out.index.name = "hospital_id"
    cols = ["hospital_id", "name", "level", "kind", "peer_group", "cases", "drg_count", "total_weight", "cmi", "cost_index",
            "cost_index_z", "cost_index_flag", "time_index", "time_index_z", "time_index_flag", "low_risk_mortality",
            "midlow_risk_mortality", "low_risk_cases", "midlow_risk_cases",
            "high_weight_share", "cases_weighted", "no_weight", "quadrant_cost", "quadrant_time", "ranked", "rank_cmi",
            "rank_cost_index", "rank_time_index", "rank_low_risk_mortality"]
    out = out.reset_index()
    out = out[[c for c in cols if c in out.columns]]
    out["reference"] = "leave_one_out" if leave_one_out else "pooled"  # of the cost and time indices
    return out


def discipline(cases: pd.DataFrame, weights: pd.DataFrame, *, by: str = "mdc", reference: pd.DataFrame | None = None,
               min_cases_risk: int = 1, external_levels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hospital x MDC (or x ADRG) table: cases, DRG/ADRG counts and coverage, CMI, cost and time
    indices, relative CMI, low-risk mortality (section 3.4)."""
    if by not in ("mdc", "adrg"):
        raise ValueError(f"by={by!r}: use mdc or adrg")
    ref = cases if reference is None else reference
    rw = dict(zip(weights["drg"], weights["rw"]))
    bench_cost, bench_los = benchmarks(ref)
    levels = risk_levels(ref, min_cases_risk=min_cases_risk, external=external_levels)
    inc = cases[cases["included"]]
    out = unit_indicators(inc, ["hospital_id", by], rw, bench_cost, bench_los, levels)
    ref_inc = ref[ref["included"]]
    add_coverage(out, inc, ref_inc, by)
    rw_ref = ref_inc["drg"].map(rw).astype(float)
    ref_cmi = rw_ref.groupby(ref_inc[by], observed=True).mean()
    out["relative_cmi"] = out["cmi"] / ref_cmi.reindex(out.index.get_level_values(by)).to_numpy()
    out = out.reset_index()
    keep = ["hospital_id", by, "cases", "drg_count", "drg_coverage"] + (["adrg_count", "adrg_coverage"] if by == "mdc" else []) + [
        "total_weight", "cmi", "relative_cmi", "cost_index", "time_index", "low_risk_mortality", "low_risk_cases"]
    return out[keep]


def add_coverage(out: pd.DataFrame, units: pd.DataFrame, reference: pd.DataFrame, by: str) -> None:
    """DRG (and for MDCs ADRG) counts and coverage of each hospital x ``by`` of ``out``: the share of the DRGs
    (ADRGs) of that MDC/ADRG present in the reference. ``units`` and ``reference``: cases or cells (the distinct
    codes are the same)."""
    drg_universe = reference.groupby(by, observed=True)["drg"].nunique()
    has_drg = units.groupby(["hospital_id", by], observed=True)["drg"].nunique()
    out["drg_coverage"] = (has_drg / drg_universe.reindex(has_drg.index.get_level_values(by)).to_numpy()).reindex(out.index)
    if by == "mdc":
        adrg_universe = reference.groupby("mdc", observed=True)["adrg"].nunique()
        has_adrg = units.groupby(["hospital_id", "mdc"], observed=True)["adrg"].nunique()
        out["adrg_count"] = has_adrg.reindex(out.index)
        out["adrg_coverage"] = (has_adrg / adrg_universe.reindex(has_adrg.index.get_level_values("mdc")).to_numpy()).reindex(out.index)


def evaluate_cases(data: pd.DataFrame, hospitals: pd.DataFrame | None = None):
    """prepare() + levels: the frame every indicator function takes."""
    from .common import attach_levels

    cases = data if "included" in data.columns else prepare(data)
    return attach_levels(cases, hospitals)
