"""One call for the whole evaluation: weights, grouping quality, hospital indicators, outcomes, discipline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import attach_levels, normalize_level, peer_key, prepare
from .indicators import discipline, hospital_indicators, risk_levels
from .outcomes import standardized_mortality
from .weights import compute_weights, grouping_quality, trimmed_cases

MIN_CASES_RISK = 30
EVAL_COLUMNS = ["hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year", "level"]
# read only for the views that use them (a date column costs seconds per 10M rows to parse)
VIEW_COLUMNS = {"dept": ["dept"], "doctor": ["dept", "doctor_id"], "hospital-dept": ["dept"], "period": ["discharge_date"]}


def evaluate(data: pd.DataFrame, *, hospitals: pd.DataFrame | None = None, weights: pd.DataFrame | None = None,
             by: str = "hospital", peer: str = "level", years=None, levels=None, trim_method: str = "iqr",
             drg_names: dict | None = None, overdispersion="auto", min_cases_rank: int = 100,
             min_cases_risk: int = MIN_CASES_RISK, risk_levels_table: pd.DataFrame | None = None,
             leave_one_out: bool = False, expected_deaths: pd.Series | None = None, period: str | None = None) -> dict:
    """Evaluate grouped cases; returns ``{table name: DataFrame}`` with English column names.

    The hospital and outcome tables have a row for every hospital of the input (also one with only
    ungroupable records) and of ``hospitals``, with ``status``: ``ok``, ``too_few_cases`` (fewer
    than ``min_cases_rank`` scored cases: shown, not ranked) or ``no_cases`` (indicators empty).

    Parameters
    ----------
    data : DataFrame
        Output of ``drg group`` / :func:`grouper.group` with ``hospital_id`` and cost columns.
    hospitals : DataFrame, optional
        ``hospital_id, level[, kind, name]`` (levels tertiary/secondary/primary or 三级/二级/一级).
    weights : DataFrame, optional
        Published weights ``drg, weight`` used instead of computed ones where given.
    by : {"hospital", "hospital-mdc", "hospital-adrg"}
    peer : {"level", "level-kind", "none"}
    years, levels : optional subsets (the reference population is the subset itself).
    min_cases_risk : int, default 30
        Cases a DRG needs in the region before it gets a regional mortality risk level (the formula sheet's
        "raise to 30 for small regions", and the usual minimum for a stable rate: with fewer, one death
        moves a DRG between levels). ``risk_levels_table`` (``drg, risk_level``) replaces regional levels.
    leave_one_out : bool
        Judge each hospital against the others only: O/E expected deaths and the cost and time indices
        use DRG benchmarks without the hospital's own cases (a dominant hospital is otherwise pulled
        toward 1); every table says which ``reference`` was used.
    overdispersion : "auto" (default: random-effects limits in each peer group whose hospitals vary more than chance
        allows, by the test of :func:`evaluation.outcomes.overdispersion_p`), "additive" (or True), "multiplicative",
        or False / "none" (exact Poisson limits)
        Over-dispersed mortality funnel: additive random effects (Spiegelhalter 2005) or the sheet's
        multiplicative widening (5.3); see :func:`evaluation.outcomes.standardized_mortality`.
    period : {"month", "quarter", "year"}, optional
        Also a table per hospital and period of the discharge date (``hospital_month`` ...) with changes against
        the previous period and the same period a year before.
    expected_deaths : Series, optional
        Per case (index of ``data``) the patient-level death probability of ``drg risk``: the outcomes
        table then uses it as expected deaths instead of the DRG rates (``reference`` = patient_model).
    """
    from .views import VIEWS

    if by not in ("hospital", "hospital-mdc", "hospital-adrg", *VIEWS):
        raise ValueError(f"--by {by!r}: use hospital, hospital-mdc, hospital-adrg, dept, doctor or hospital-dept")
    cases = _cases_of(data, hospitals, period, years, levels)
    kept = trimmed_cases(cases, trim_method=trim_method)  # shared by the weights and the RIV
    w = compute_weights(cases, trim_method=trim_method, supplied=weights, drg_names=drg_names, kept=kept)
    out = {
        "weights": w,
        "quality": grouping_quality(cases, w, kept=kept),
        "hospital": hospital_indicators(cases, w, peer=peer, hospitals=hospitals, min_cases_risk=min_cases_risk,
                                        min_cases_rank=min_cases_rank,
                                        external_levels=risk_levels_table, leave_one_out=leave_one_out,
                                        overdispersion=overdispersion),
        "outcomes": standardized_mortality(cases, overdispersion=overdispersion, leave_one_out=leave_one_out,
                                           peer=peer_key(cases, peer),
                                           expected_cases=None if expected_deaths is None else expected_deaths.reindex(cases.index)),
        "risk_levels": risk_levels(cases, min_cases_risk=min_cases_risk, external=risk_levels_table),
    }
    ids = every_hospital(cases, hospitals, levels)
    out["hospital"] = with_every_hospital(out["hospital"], ids, cases, hospitals, min_cases_rank)
    lv = out["hospital"].set_index("hospital_id")["level"]
    out["outcomes"] = with_every_hospital(out["outcomes"], ids, cases, hospitals, min_cases_rank)
    out["outcomes"].insert(2, "level", out["outcomes"]["hospital_id"].map(lv))
    out.update(_view_tables(cases, w, by, period, overdispersion, min_cases_risk, risk_levels_table, expected_deaths))
    return out


def _cases_of(data: pd.DataFrame, hospitals, period, years, levels) -> pd.DataFrame:
    """The evaluation frame (:func:`evaluation.common.prepare`) with the hospitals' levels, the period view's clock, and
    only the ``years`` and ``levels`` asked for."""
    cases = attach_levels(prepare(data), hospitals)
    if period and "discharge_date" in data.columns:  # the period view's clock
        cases["discharge_date"] = pd.to_datetime(data["discharge_date"], errors="coerce")
    if years is not None and "year" in cases.columns:
        cases = cases[cases["year"].isin(list(years))]
    if levels is not None:
        cases = cases[cases["level"].isin(list(levels))]
    return cases


def _view_tables(cases, w, by, period, overdispersion, min_cases_risk, risk_levels_table, expected_deaths) -> dict:
    """The tables ``by`` and ``period`` add: discipline (学科) by MDC or ADRG, per hospital and period, or per
    department / doctor (named for its unit: dept, doctor, hospital_dept)."""
    from .views import VIEWS, period_view, unit_view

    out = {}
    if by == "hospital-mdc":
        out["discipline_mdc"] = discipline(cases, w, by="mdc", min_cases_risk=min_cases_risk, external_levels=risk_levels_table)
    elif by == "hospital-adrg":
        out["discipline_adrg"] = discipline(cases, w, by="adrg", min_cases_risk=min_cases_risk, external_levels=risk_levels_table)
    if period:  # per hospital and month / quarter / year, with 环比 and 同比
        out[f"hospital_{period}"] = period_view(cases, w, period)
    if by in VIEWS:
        out[by.replace("-", "_")] = unit_view(cases, w, by, overdispersion=overdispersion or "additive",
                                              min_cases_risk=min_cases_risk, external_levels=risk_levels_table,
                                              expected_deaths=None if expected_deaths is None else expected_deaths.reindex(cases.index))
    return out


def every_hospital(cases, hospitals: pd.DataFrame | None, levels=None) -> list[str]:
    """Hospital ids of the (filtered) input (case frame or ids), and of the hospitals table at the chosen levels; a
    blank id is no hospital (its cases are not included: :mod:`evaluation.coded`)."""
    from .coded import known

    ids = set(map(str, pd.unique(cases["hospital_id"].dropna()))) if isinstance(cases, pd.DataFrame) else set(map(str, cases))
    ids = {i for i in ids if known(i)}
    if hospitals is not None:
        h = hospitals.assign(level=normalize_level(hospitals["level"]))
        if levels is not None:
            h = h[h["level"].isin(list(levels))]
        ids |= set(h["hospital_id"].astype(str))
    return sorted(ids)


# counts of the per-hospital tables: 0 for a hospital without cases (indicators stay empty)
COUNT_COLUMNS = ("cases", "observed", "drg_count", "cases_weighted", "no_weight", "low_risk_cases", "midlow_risk_cases",
                 "dropped_cases")


def with_every_hospital(table: pd.DataFrame, ids: list[str], cases, hospitals: pd.DataFrame | None,
                        min_cases: int) -> pd.DataFrame:
    """``table`` (one row per hospital) with a row for each of ``ids``; missing hospitals get 0 cases
    and empty indicators (their level from ``cases``: the case frame, or {hospital id: level}); a ``status``
    column says which rows can be read as indicators."""
    t = table.assign(hospital_id=table["hospital_id"].astype(str))
    have = set(t["hospital_id"])
    missing = [i for i in ids if i not in have]
    if missing:
        lv = {}
        if isinstance(cases, dict):  # each hospital's first level, from the streamed evaluation
            lv = dict(cases)
        elif "level" in cases.columns:  # per hospital, not per case: the input has millions of rows
            first = cases.groupby("hospital_id", observed=True)["level"].first()
            lv = dict(zip(map(str, first.index), first.to_numpy()))
        if hospitals is not None:
            lv.update(zip(hospitals["hospital_id"].astype(str), normalize_level(hospitals["level"])))
        add = pd.DataFrame({"hospital_id": missing})
        if "level" in t.columns:
            add["level"] = [lv.get(i, "unknown") for i in missing]
        if "name" in t.columns and hospitals is not None and "name" in hospitals.columns:
            names = dict(zip(hospitals["hospital_id"].astype(str), hospitals["name"]))
            add["name"] = [names.get(i, "") for i in missing]
        for c in COUNT_COLUMNS:
            if c in t.columns:
                add[c] = 0
        if "ranked" in t.columns:
            add["ranked"] = False
        if "funnel_flag" in t.columns:
            add["funnel_flag"] = "no_expected"
        t = pd.concat([t, add], ignore_index=True)
        for c in COUNT_COLUMNS:
            if c in t.columns:
                t[c] = t[c].astype(np.int64)
    t = t.sort_values("hospital_id", kind="stable").reset_index(drop=True)
    status = np.where(t["cases"] == 0, "no_cases", np.where(t["cases"] < min_cases, "too_few_cases", "ok"))
    t.insert(1, "status", status)
    return t
