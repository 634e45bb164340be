"""The tables of ``drg risk``: per hospital (and hospital × year) observed and patient-level expected deaths
with the funnel of ``drg evaluate`` (same columns and flags), LOS and cost observed/expected ratios, and
the model report (discrimination and calibration of the held-out predictions, by risk decile)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..api import with_every_hospital
from ..common import attach_levels, peer_key
from ..outcomes import overdispersion_method, observed_expected
from . import amount_metrics, death_metrics, decile_table, feature_names


def _peer_groups(ids: pd.Index, hospitals: pd.DataFrame | None, peer: str) -> tuple[pd.Series, pd.Series]:
    """(level, peer group) per hospital id, as ``drg evaluate`` forms them."""
    h = attach_levels(pd.DataFrame({"hospital_id": ids.astype(str)}, index=ids), hospitals)
    return h["level"].astype(object), peer_key(h, peer).astype(object)


def _one_table(sums: pd.DataFrame, outcomes: list, hospitals, overdispersion, peer: str) -> pd.DataFrame:
    """One row per unit of ``sums`` (indexed by hospital id): the death O/E funnel and the LOS/cost ratios."""
    ids = sums.index.astype(str)
    level, groups = _peer_groups(pd.Index(ids), hospitals, peer)
    out = pd.DataFrame({"hospital_id": ids, "level": level.to_numpy(), "cases": sums["cases"].to_numpy(np.int64)})
    if "death" in outcomes:
        out["dropped_cases"] = sums["death_dropped"].to_numpy(np.int64)
        out["observed"] = sums["death_observed"].to_numpy().round().astype(np.int64)
        out["expected"] = sums["death_expected"].to_numpy()
        out = observed_expected(out, groups.to_numpy(), overdispersion_method(overdispersion))
        out["reference"] = "patient_model"
    for o in ("los", "cost"):
        if o in outcomes:
            obs, exp = sums[f"{o}_observed"].to_numpy(), sums[f"{o}_expected"].to_numpy()
            out[f"{o}_observed"], out[f"{o}_expected"] = obs, exp
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{o}_oe_ratio"] = np.where(exp > 0, obs / exp, np.nan)
    return out


def hospital_tables(per: pd.DataFrame, hospitals: pd.DataFrame | None, outcomes: list, *, overdispersion="auto",
                    peer: str = "level", min_cases: int = 100) -> dict:
    """``hospital`` (all years) and ``hospital_year`` from the per hospital × year sums of ``drg risk``.

    The hospital table has a row for every hospital of the input and of ``hospitals`` with ``status``
    (ok / too_few_cases / no_cases) as in ``drg evaluate``; the funnel's over-dispersion (option
    ``overdispersion``, as ``evaluate``) is estimated within each peer group (and year)."""
    total = per.groupby(level="hospital_id", sort=True).sum()
    table = _one_table(total, outcomes, hospitals, overdispersion, peer)
    stub = pd.DataFrame({"hospital_id": table["hospital_id"], "level": table["level"]})
    ids = sorted(set(table["hospital_id"]) | (set(hospitals["hospital_id"].astype(str)) if hospitals is not None else set()))
    table = with_every_hospital(table, ids, stub, hospitals, min_cases)
    years = []
    for year, part in per.groupby(level="year", sort=True):
        t = _one_table(part.droplevel("year"), outcomes, hospitals, overdispersion, peer)
        t.insert(1, "year", year)
        years.append(t)
    by_year = pd.concat(years, ignore_index=True) if years else table.iloc[:0]
    return {"hospital": table, "hospital_year": by_year}


def model_tables(held: dict, outcomes: list, sample: dict, cases: int, folds: int, folds_by: str, steps: dict,
                 skipped: dict | None = None) -> dict:
    """``model``: one row per outcome with the discrimination and calibration of the cross-fitted (held-out)
    predictions, the region's calibration step, cases and features; ``calibration``: observed vs expected
    (after the region's calibration step) by decile of predicted risk."""
    from . import calibrate

    rows, deciles = [], []
    n_features = len(feature_names())
    for o in outcomes:
        y, p = held[o], held[f"p_{o}"]
        ok = ~np.isnan(y) & ~np.isnan(p)
        y, p = y[ok], p[ok]
        m = death_metrics(y, p) if o == "death" else amount_metrics(y, p)
        rows.append({"outcome": o, "status": "ok", "cases": int(cases), "evaluated_cases": len(y),
                     "fitted_cases": int(np.sum(~np.isnan(sample[o]))), "features": n_features, "folds": folds,
                     "folds_by": folds_by, **m, "region_calibration": steps[o]})
        if len(y):
            d = decile_table(y, calibrate(o, p, steps[o]))
            deciles.append(pd.DataFrame({"outcome": o, **d}))
    for o, why in (skipped or {}).items():  # an outcome without enough events says so instead of a number
        rows.append({"outcome": o, "status": "too_few_events", "cases": int(cases), "note": why})
    cal = pd.concat(deciles, ignore_index=True) if deciles else pd.DataFrame(columns=["outcome", "decile", "cases", "observed_sum", "expected_sum"])
    with np.errstate(divide="ignore", invalid="ignore"):
        cal["oe_ratio"] = np.where(cal["expected_sum"] > 0, cal["observed_sum"] / cal["expected_sum"], np.nan)
    return {"model": pd.DataFrame(rows), "calibration": cal}
