"""Department and doctor views (科室, 主诊医师): the hospital indicators and the mortality funnel for other units
of analysis, each compared with its own specialty across the region (a cardiologist with cardiologists)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import PERIODS
from .indicators import rank_within_groups, unit_indicators, benchmarks, risk_levels

VIEWS = {"dept": ["dept"], "doctor": ["doctor_id"], "hospital-dept": ["hospital_id", "dept"]}
MIN_CASES_UNIT = 30  # cases a department or doctor needs to be ranked (the sheet's minimum for a rate's denominator)


def own_hospital_expectation(inc: pd.DataFrame, iterations: int = 30, base: pd.Series | None = None) -> pd.Series:
    """Per case its expected death judged against its own hospital: the region's death rate of its DRG shifted
    on the log-odds scale by its hospital's own effect, ``expit(logit(p_drg) + theta_h)`` with ``theta_h`` solving
    sum(expected) = deaths over the hospital's cases (a fixed hospital effect in a logistic model, by Newton's
    method for all hospitals at once). A hospital's own excess is the hospital table's finding; a doctor is
    flagged for differing from the colleagues who share the hospital's patients, wards and coding (the
    within-hospital comparison of surgeon outcome reports). On the odds scale because a hospital's excess is
    not the same ratio of deaths in a low-risk and a high-risk DRG. ``base``: per case a patient-level death
    probability (``drg risk``) used instead of the DRG rate."""
    if base is not None:
        p = base.reindex(inc.index).astype(float).to_numpy()
        p = np.where(np.isfinite(p), p, inc["drg"].map(inc.groupby("drg", observed=True)["died"].mean()).astype(float))
    else:
        p = inc["drg"].map(inc.groupby("drg", observed=True)["died"].mean()).astype(float).to_numpy()
    p = np.clip(p, 1e-12, 1 - 1e-12)
    eta = np.log(p / (1 - p))
    h = inc["hospital_id"].cat.codes.to_numpy() if isinstance(inc["hospital_id"].dtype, pd.CategoricalDtype) \
        else pd.factorize(inc["hospital_id"])[0]
    h = h.astype(np.int64)
    n_h = int(h.max(initial=-1)) + 1
    deaths = np.bincount(h, weights=inc["died"].to_numpy(float), minlength=n_h)
    theta = np.zeros(n_h)
    for _ in range(iterations):
        q = 1 / (1 + np.exp(-(eta + theta[h])))
        f = np.bincount(h, weights=q, minlength=n_h) - deaths
        g = np.bincount(h, weights=q * (1 - q), minlength=n_h)
        step = np.where(g > 1e-12, f / np.maximum(g, 1e-12), 0.0)
        theta = np.clip(theta - step, -20, 20)
        if np.abs(step).max(initial=0) < 1e-10:
            break
    return pd.Series(1 / (1 + np.exp(-(eta + theta[h]))), index=inc.index)


def own_hospital_index(inc: pd.DataFrame, value: str, bench: dict) -> pd.Series:
    """Per doctor the mean of value / the region's DRG mean over their cases, divided by the same mean over the
    other doctors of their hospital (1 = like their colleagues); NaN without colleagues with a value."""
    b = inc["drg"].map(bench).astype(float)
    ok = inc[value].notna() & (b > 0)
    r = (inc[value] / b).where(ok, 0.0)
    n = ok.astype(float)
    h, d = inc["hospital_id"].astype(str), inc["doctor_id"].astype(str)
    s_h, n_h = r.groupby(h).transform("sum"), n.groupby(h).transform("sum")
    s_d, n_d = r.groupby(d).transform("sum"), n.groupby(d).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        others = (s_h - s_d) / (n_h - n_d).where(n_h - n_d > 0)
        own = s_d / n_d.where(n_d > 0)
    return (own / others).groupby(d).first()


POWER_Z = 0.8416212335729143  # 80% power


def detectable_ratio(expected, tau2, tests: int, fdr: float = 0.05) -> np.ndarray:
    """Per unit the smallest mortality ratio (O/E; the odds ratio where deaths are rare) its alarm would find with 80%
    power: exp((z* + 0.84) * sqrt(1 / E + tau2)), z* the larger of the 99.8% limit (3.09) and the two-sided
    Benjamini-Hochberg threshold of a lone discovery among ``tests`` units (p <= fdr / tests). With 1,400 doctors a
    doctor of 20 expected deaths needs about 3 times the deaths to be named: a "within" of a small unit is no
    finding, and this column says how large an effect it could have shown (the design-stage minimum detectable
    effect, e.g. Bloom 1995, "Minimum detectable effects", Evaluation Review 19:547)."""
    from . import distributions as dist

    z = max(3.090232306167813, float(dist.norm_isf(fdr / max(tests, 1) / 2)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.exp((z + POWER_Z) * np.sqrt(1 / expected + np.nan_to_num(tau2)))
    return np.where((expected > 0) & np.isfinite(r), r, np.nan)  # beyond any ratio: no number to show


def unit_view(cases: pd.DataFrame, weights: pd.DataFrame, by: str, *, overdispersion="additive", min_cases_risk: int = 1,
              external_levels: pd.DataFrame | None = None, min_cases: int = MIN_CASES_UNIT,
              expected_deaths: pd.Series | None = None) -> pd.DataFrame:
    """One row per unit of ``by`` (``dept``, ``doctor``, ``hospital-dept``): cases, DRG count, CMI, cost and time
    indices, low-risk mortality, observed and expected deaths (indirect standardisation by DRG) with O/E and the
    funnel flag against the unit's specialty (``peer_group`` = department; over-dispersion estimated among the
    units of that specialty), ranks within the specialty among units with ``min_cases`` cases, and ``status``.
    A doctor's expected deaths, cost and time index are judged against their own hospital
    (:func:`own_hospital_expectation`, :func:`own_hospital_index`; ``reference`` = own_hospital; the region-relative
    indices are kept as ``*_region``); departments against the region."""
    keys = VIEWS[by]
    missing = [k for k in keys if k not in cases.columns or cases[k].isna().all()]
    if missing:
        from .common import EvaluationError

        raise EvaluationError(f"--by {by} needs column {', '.join(missing)} (e.g. 出院科别 for dept, 主诊医师代码 for "
                              "doctor_id); map it with --columns if the file names it otherwise")
    inc = cases[cases["included"]].dropna(subset=keys)
    rw = dict(zip(weights["drg"], weights["rw"]))
    bench_cost, bench_los = benchmarks(cases)
    levels = risk_levels(cases, min_cases_risk=min_cases_risk, external=external_levels)
    t = unit_indicators(inc, keys, rw, bench_cost, bench_los, levels).reset_index()
    unit = inc[keys[0]].astype(str) if len(keys) == 1 else inc[keys[0]].astype(str) + "|" + inc[keys[1]].astype(str)
    first = inc.assign(_unit=unit.to_numpy()).groupby("_unit", observed=True)
    extra = [c for c in ("hospital_id", "dept") if c in inc.columns and c not in keys]
    t["_unit"] = t[keys[0]].astype(str) if len(keys) == 1 else t[keys[0]].astype(str) + "|" + t[keys[1]].astype(str)
    if extra:
        t = t.merge(first[extra].first().reset_index(), on="_unit", how="left")
    dept = t["dept"].astype(str) if "dept" in t.columns else pd.Series("all", index=t.index)
    peer = pd.Series(np.asarray(inc["dept"].astype(str) if "dept" in inc.columns else np.full(len(inc), "all")), index=inc.index)
    if by == "doctor" and "hospital_id" in inc.columns:
        expected = own_hospital_expectation(inc, base=expected_deaths)
    else:
        expected = None if expected_deaths is None else expected_deaths.reindex(inc.index)
    from .outcomes import standardized_mortality  # scipy: only where a view's funnel is drawn

    o = standardized_mortality(inc.assign(_unit=unit.to_numpy()), by="_unit", overdispersion=overdispersion, peer=peer,
                               expected_cases=expected)
    o = o[["_unit", "observed", "expected", "oe_ratio", "oe_low", "oe_high", "limit998_low", "limit998_high", "funnel_flag"]
          + (["z_score", "tau2"] if "z_score" in o.columns else [])]
    t = t.merge(o, on="_unit", how="left")
    t["peer_group"] = dept.to_numpy()
    if by == "doctor" and "hospital_id" in inc.columns:
        # a doctor's cost and time against the colleagues of their own hospital (region-relative: *_region)
        t["cost_index_region"], t["time_index_region"] = t["cost_index"], t["time_index"]
        t["cost_index"] = t["doctor_id"].astype(str).map(own_hospital_index(inc, "cost", bench_cost))
        t["time_index"] = t["doctor_id"].astype(str).map(own_hospital_index(inc, "los", bench_los))
    return finish_unit_view(t, keys, min_cases, by, expected_deaths is not None)


def finish_unit_view(t: pd.DataFrame, keys: list, min_cases: int, by: str, patient_model: bool) -> pd.DataFrame:
    """A view's table from its units' indicators and O/E (per case or from cells alike): status, the funnel flag with
    the false discovery rate over the view's units, the detectable ratio, ranks within the specialty, columns."""
    ok = t["cases"] >= min_cases
    t["status"] = np.where(ok, "ok", "too_few_cases")
    t["funnel_flag"] = t["funnel_flag"].where(ok, "too_few_cases")  # one or two deaths of a handful of cases are no alarm
    if "z_score" in t.columns:
        # a thousand doctors are a thousand tests: an alarm also needs a false discovery rate of at most 5% over the
        # view's judged units (Benjamini-Hochberg on the two-sided p of the random-effects z); else it is an alert
        from . import distributions as dist

        from .audit import benjamini_hochberg

        p = 2 * dist.norm_sf(np.abs(t["z_score"].to_numpy(float)))
        t["q_value"] = benjamini_hochberg(p, ok.to_numpy() & np.isfinite(p))
        alarm = t["funnel_flag"].isin(["alarm_high", "alarm_low"]) & ~(t["q_value"] <= 0.05)
        t.loc[alarm, "funnel_flag"] = t.loc[alarm, "funnel_flag"].str.replace("alarm", "alert")
        judged = ok.to_numpy() & np.isfinite(p)
        t["detectable_or"] = np.where(judged, detectable_ratio(t["expected"].to_numpy(float), t["tau2"].to_numpy(float),
                                                               int(judged.sum())), np.nan)
    t["reference"] = ("own_hospital" if by == "doctor" else "region") + ("/patient_model" if patient_model else "")
    t["rank_cost_index"] = rank_within_groups(t["cost_index"], t["peer_group"], ok, ascending=True)
    t["rank_time_index"] = rank_within_groups(t["time_index"], t["peer_group"], ok, ascending=True)
    t["rank_cmi"] = rank_within_groups(t["cmi"], t["peer_group"], ok, ascending=False)
    lead = keys + [c for c in ("hospital_id", "dept") if c in t.columns and c not in keys]
    region = [c for c in ("cost_index_region", "time_index_region") if c in t.columns]
    cols = lead + ["peer_group", "status", "cases", "drg_count", "total_weight", "cmi", "cost_index", "time_index",
                   "low_risk_mortality", "low_risk_cases", "observed", "expected", "oe_ratio", "oe_low", "oe_high",
                   "limit998_low", "limit998_high", "funnel_flag"] + [c for c in ("z_score", "tau2", "q_value", "detectable_or") if c in t.columns] + [
                   "rank_cmi", "rank_cost_index", "rank_time_index", "reference"] + region
    return t[cols].sort_values(keys, kind="stable").reset_index(drop=True)


TREND_COLUMNS = ("cases", "cmi", "cost_index", "time_index", "mortality")


def period_view(cases: pd.DataFrame, weights: pd.DataFrame, period: str) -> pd.DataFrame:
    """Per hospital and period of the discharge date (month, quarter or year): cases, CMI, cost and time indices,
    deaths and mortality, and each against the previous period (环比, ``*_vs_previous``) and the same period a
    year before (同比, ``*_vs_last_year``) as relative changes (0.05 = 5% higher); NaN where that period has no
    cases. The DRG weights and benchmarks are those of the whole evaluation, so periods compare like with like."""
    from .common import EvaluationError

    if period not in PERIODS:
        raise EvaluationError(f"--period {period!r}: use month, quarter or year")
    if "discharge_date" not in cases.columns or cases["discharge_date"].isna().all():
        raise EvaluationError("--period needs discharge_date (出院日期) to place each case in its period; map it with --columns "
                              "if the file names it otherwise")
    per_year = PERIODS[period]
    d = cases["discharge_date"]
    index = (d.dt.year * per_year + (d.dt.month - 1) * per_year // 12).astype("Int64")
    inc = cases[cases["included"]].assign(_period=index[cases["included"]]).dropna(subset=["_period"])
    inc["_period"] = inc["_period"].astype(np.int64)
    rw = dict(zip(weights["drg"], weights["rw"]))
    bench_cost, bench_los = benchmarks(cases)
    levels = risk_levels(cases)
    t = unit_indicators(inc, ["hospital_id", "_period"], rw, bench_cost, bench_los, levels)
    g = inc.groupby(["hospital_id", "_period"], observed=True)["died"]
    t["deaths"] = g.sum().reindex(t.index).fillna(0).astype(np.int64)
    t["mortality"] = t["deaths"] / t["cases"]
    return period_trends(t, per_year)


def period_trends(t: pd.DataFrame, per_year: int) -> pd.DataFrame:
    """The period table from per hospital and period indicators (index ``hospital_id, _period``): 环比 and 同比
    columns and the period's name; shared with the streamed evaluation."""
    t = t.reset_index()
    key = t.set_index(["hospital_id", "_period"])
    for col in TREND_COLUMNS:
        for name, lag in (("previous", 1), ("last_year", per_year)):
            before = key[col].reindex(pd.MultiIndex.from_arrays([t["hospital_id"], t["_period"] - lag])).to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                t[f"{col}_vs_{name}"] = np.where(before > 0, t[col].to_numpy(float) / before - 1, np.nan)
    y, k = np.divmod(t["_period"].to_numpy(), per_year)
    t.insert(1, "period", [str(a) if per_year == 1 else f"{a}Q{b + 1}" if per_year == 4 else f"{a}-{b + 1:02d}"
                           for a, b in zip(y, k)])
    cols = ["hospital_id", "period", *TREND_COLUMNS[:-1], "deaths", "mortality"] + [
        f"{c}_vs_{n}" for c in TREND_COLUMNS for n in ("previous", "last_year")]
    return t.sort_values(["hospital_id", "_period"], kind="stable")[cols].reset_index(drop=True)
