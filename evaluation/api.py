"""One call for the whole evaluation: weights, grouping quality, hospital indicators, outcomes, discipline."""

from __future__ import annotations

import pandas as pd

from .common import attach_levels, prepare
from .indicators import discipline, hospital_indicators, risk_levels
from .outcomes import standardized_mortality
from .weights import compute_weights, grouping_quality, trimmed_cases

EVAL_COLUMNS = ["hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year", "level"]


def evaluate(data: pd.DataFrame, *, hospitals: pd.DataFrame | None = None, weights: pd.DataFrame | None = None,
             by: str = "hospital", peer: str = "level", years=None, levels=None, trim_method: str = "iqr",
             drg_names: dict | None = None, overdispersion: bool = False) -> dict:
    """Evaluate grouped cases; returns ``{table name: DataFrame}`` with English column names.

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
    overdispersion : bool
        Widen the mortality funnel by the over-dispersion factor (methodology 5.3).
    """
    if by not in ("hospital", "hospital-mdc", "hospital-adrg"):
        raise ValueError(f"--by {by!r}: use hospital, hospital-mdc or hospital-adrg")
    cases = attach_levels(prepare(data), hospitals)
    if years is not None and "year" in cases.columns:
        cases = cases[cases["year"].isin(list(years))]
    if levels is not None:
        cases = cases[cases["level"].isin(list(levels))]
    kept = trimmed_cases(cases, trim_method=trim_method)  # shared by the weights and the RIV
    w = compute_weights(cases, trim_method=trim_method, supplied=weights, drg_names=drg_names, kept=kept)
    out = {
        "weights": w,
        "quality": grouping_quality(cases, w, kept=kept),
        "hospital": hospital_indicators(cases, w, peer=peer, hospitals=hospitals),
        "outcomes": standardized_mortality(cases, overdispersion=overdispersion),
        "risk_levels": risk_levels(cases),
    }
    lv = out["hospital"].set_index("hospital_id")["level"]
    out["outcomes"].insert(1, "level", out["outcomes"]["hospital_id"].map(lv))
    if by == "hospital-mdc":
        out["discipline_mdc"] = discipline(cases, w, by="mdc")
    elif by == "hospital-adrg":
        out["discipline_adrg"] = discipline(cases, w, by="adrg")
    return out
