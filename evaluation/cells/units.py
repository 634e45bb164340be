"""The department and doctor views (:mod:`evaluation.views`) from cells: per hospital x DRG x unit the counts and sums
of :class:`evaluation.cells.CaseCells` (``unit="dept"`` or ``"doctor_id"``), built batch by batch, so a view's memory
follows its cells -- about one per doctor and DRG -- not the cases. Each quantity is the per-case one summed by cell:
a unit's cost index sums cost / DRG benchmark over its cases (a cell's cost sum over its DRG's benchmark); a doctor's
own-hospital expectation solves the same hospital effects, over cells weighted by their cases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import unit_cells
from ..views import VIEWS, finish_unit_view

UNITS = {"dept": "dept", "doctor": "doctor_id", "hospital-dept": "dept"}  # each view's unit column in the cells


def _drg_rate(cells: pd.DataFrame) -> np.ndarray:
    """Per cell its DRG's death rate over the view's cells (the reference of :func:`evaluation.views.unit_view`)."""
    d = cells.groupby("drg", sort=False, observed=True)[["n", "died"]].transform("sum")
    return d["died"].to_numpy(float) / d["n"].to_numpy(float)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _solve(eta: np.ndarray, h: np.ndarray, n: np.ndarray, died: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Per hospital code the effect theta_h with sum over its cells of ``n * expit(eta + theta_h)`` = its deaths."""
    n_h = int(h.max(initial=-1)) + 1
    deaths = np.bincount(h, weights=died, minlength=n_h)
    theta = np.zeros(n_h)
    for _ in range(iterations):
        q = 1 / (1 + np.exp(-(eta + theta[h])))
        f = np.bincount(h, weights=n * q, minlength=n_h) - deaths
        g = np.bincount(h, weights=n * q * (1 - q), minlength=n_h)
        step = np.where(g > 1e-12, f / np.maximum(g, 1e-12), 0.0)
        theta = np.clip(theta - step, -20, 20)
        if np.abs(step).max(initial=0) < 1e-10:
            break
    return theta


def own_hospital_expectation_cells(cells: pd.DataFrame, iterations: int = 30) -> np.ndarray:
    """Per cell its expected deaths judged against its own hospital (:func:`evaluation.views.own_hospital_expectation`):
    ``n * expit(logit(p_drg) + theta_h)``, ``theta_h`` solving sum(expected) = deaths over the hospital's cells by
    Newton's method (the per-case sums, a cell's cases sharing their DRG's rate)."""
    n = cells["n"].to_numpy(float)
    eta = _logit(_drg_rate(cells))
    h = cells["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    theta = _solve(eta, h, n, cells["died"].to_numpy(float), iterations)
    return n / (1 + np.exp(-(eta + theta[h])))


def newton_start(cells: pd.DataFrame) -> tuple[pd.Series, dict]:
    """(per hospital a starting effect, per DRG its death rate over the view) for a doctor view adjusted by a patient-level
    model: the cells' solution with each cell's mean probability (the model's, the DRG rate for a case without one)."""
    n = cells["n"].to_numpy(float)
    rate = _drg_rate(cells)
    mean_p = (cells["e_sum"].to_numpy(float) + (n - cells["e_n"].to_numpy(float)) * rate) / n
    h = cells["hospital_id"].cat.codes.to_numpy().astype(np.int64)
    theta = _solve(_logit(mean_p), h, n, cells["died"].to_numpy(float))
    names = [str(c) for c in cells["hospital_id"].cat.categories]
    drgs = cells["drg"].astype(str).to_numpy()
    return pd.Series(theta, index=names[: len(theta)]), dict(zip(drgs, rate))


def newton_step(cells: pd.DataFrame, theta: pd.Series) -> tuple[pd.Series, float]:
    """One Newton step of the hospital effects from the view's cells summed at ``theta`` (:data:`NEWTON_STATS`):
    (the new effects, the largest step)."""
    s = cells.assign(h=cells["hospital_id"].astype(str)).groupby("h")[["q_sum", "qq_sum", "died"]].sum()
    f, g = s["q_sum"] - s["died"], s["qq_sum"]
    step = pd.Series(np.where(g > 1e-12, f / np.maximum(g, 1e-12), 0.0), index=s.index).reindex(theta.index).fillna(0.0)
    return (theta - step).clip(-20, 20), float(step.abs().max()) if len(step) else 0.0


def own_hospital_index_cells(cells: pd.DataFrame, value: str, bench: dict, first_hospital: pd.Series) -> pd.Series:
    """Per doctor the mean of value / the region's DRG mean over their cases, divided by the same mean over the other
    doctors of their (first) hospital (:func:`evaluation.views.own_hospital_index`)."""
    b = cells["drg"].map(bench).astype(float).to_numpy()
    ok = (cells[f"{value}_n"].to_numpy() > 0) & (b > 0)
    r = np.where(ok, cells[f"{value}_sum"].to_numpy(float) / np.where(ok, b, 1.0), 0.0)
    m = np.where(ok, cells[f"{value}_n"].to_numpy(float), 0.0)
    x = pd.DataFrame({"h": cells["hospital_id"].astype(str).to_numpy(), "d": cells["doctor_id"].astype(str).to_numpy(),
                      "r": r, "m": m})
    by_h, by_d = x.groupby("h")[["r", "m"]].sum(), x.groupby("d")[["r", "m"]].sum()
    h1 = first_hospital.reindex(by_d.index).astype(str)
    s_h = by_h["r"].reindex(h1).to_numpy()
    n_h = by_h["m"].reindex(h1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = n_h - by_d["m"].to_numpy()
        others = np.where(rest > 0, (s_h - by_d["r"].to_numpy()) / rest, np.nan)
        own = np.where(by_d["m"].to_numpy() > 0, by_d["r"].to_numpy() / by_d["m"].to_numpy(), np.nan)
    return pd.Series(own / others, index=by_d.index)


def _aligned(newton: pd.DataFrame, cells: pd.DataFrame, keys: list) -> np.ndarray:
    """The expected deaths (``q_sum``) of the Newton pass's cells, in the order of the view's cells (the same cells)."""
    at = ["hospital_id", "drg", "mdc", "adrg", keys[-1]]
    label = lambda f: pd.MultiIndex.from_arrays([f[k].astype(str) for k in at])  # noqa: E731
    return pd.Series(newton["q_sum"].to_numpy(), index=label(newton)).reindex(label(cells)).to_numpy()


def _labels(frame: pd.DataFrame, keys: list) -> np.ndarray:
    """One text label per row of the view's keys (hospital and department joined by a separator no id holds)."""
    out = frame[keys[0]].astype(str).to_numpy(dtype=object)
    for k in keys[1:]:
        out = out + "\x1f" + frame[k].astype(str).to_numpy(dtype=object)
    return out


def unit_view_cells(cells: pd.DataFrame, unit_first: dict, has_dept: bool, weights: pd.DataFrame, by: str,
                    bench_cost: dict, bench_los: dict, levels: pd.DataFrame, *, overdispersion="additive",
                    min_cases: int = 30, newton: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`evaluation.views.unit_view` from a view's cells (``cells`` of ``CaseCells(unit=...)``; ``unit_first``: each
    unit's (hospital, department) at its first case; the benchmarks and risk levels those of every included case).
    Cells with :data:`~evaluation.cells.EXPECTED_STATS` carry a patient-level model's expected deaths; a doctor view
    adjusted by one takes its cells at the solved hospital effects (``newton``: their ``q_sum``)."""
    from ..outcomes import observed_expected, overdispersion_method  # scipy: only where a view's funnel is drawn

    keys = VIEWS[by]
    unit = keys[-1]
    rw = dict(zip(weights["drg"], weights["rw"]))
    t = unit_cells(cells, keys, rw, bench_cost, bench_los, levels).reset_index()
    for k in keys:
        t[k] = t[k].astype(object)
    first = pd.DataFrame.from_dict(unit_first, orient="index", columns=["hospital_id", "dept"])
    extra = [c for c in ("hospital_id", "dept") if c not in keys and (c == "hospital_id" or has_dept)]
    for c in extra:
        t[c] = t[unit].map(first[c])
    dept = t["dept"].astype(str) if "dept" in t.columns else pd.Series("all", index=t.index)
    n = cells["n"].to_numpy(float)
    patient_model = "e_n" in cells.columns
    dropped, observed = np.zeros(len(n)), cells["died"].to_numpy(float)
    if by == "doctor":  # every case expected (the DRG rate where the model has none), against its own hospital
        e = own_hospital_expectation_cells(cells) if newton is None else _aligned(newton, cells, keys)
    elif patient_model:  # cases without the model's expectation are dropped
        e, dropped, observed = cells["e_sum"].to_numpy(float), n - cells["e_n"].to_numpy(float), cells["e_died"].to_numpy(float)
    else:
        e = n * _drg_rate(cells)
    s = pd.DataFrame({"cases": n, "dropped_cases": dropped, "observed": observed, "expected": e}).groupby(
        _labels(cells, keys), sort=True).sum()
    o = pd.DataFrame({"cases": s["cases"].astype(np.int64), "dropped_cases": s["dropped_cases"].round().astype(np.int64),
                      "observed": s["observed"].round().astype(np.int64), "expected": s["expected"]})
    label = _labels(t, keys)
    groups = pd.Series(dept.to_numpy(), index=label).groupby(level=0).first()
    o = observed_expected(o, groups.reindex(o.index), overdispersion_method(overdispersion)).reindex(label)
    for c in ("observed", "expected", "oe_ratio", "oe_low", "oe_high", "limit998_low", "limit998_high", "funnel_flag",
              "z_score", "tau2"):
        if c in o.columns:
            t[c] = o[c].to_numpy()
    t["peer_group"] = dept.to_numpy()
    if by == "doctor" and "hospital_id" in t.columns:
        # a doctor's cost and time against the colleagues of their own hospital (region-relative: *_region)
        t["cost_index_region"], t["time_index_region"] = t["cost_index"], t["time_index"]
        h1 = first["hospital_id"]
        t["cost_index"] = t["doctor_id"].astype(str).map(own_hospital_index_cells(cells, "cost", bench_cost, h1))
        t["time_index"] = t["doctor_id"].astype(str).map(own_hospital_index_cells(cells, "los", bench_los, h1))
    return finish_unit_view(t, keys, min_cases, by, patient_model)


def view_table(cc, vc, tables: dict, by: str, overdispersion=None, newton: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``by`` view's table from the evaluation's cells ``cc`` (benchmarks over every included case), the view's cells
    ``vc`` (:class:`evaluation.cells.CaseCells` with ``unit``) and the evaluation's weights and risk levels."""
    from ..coded import known
    from ..common import EvaluationError
    from .tables import benchmarks_cells

    if not any(known(u) for u in vc.units):
        raise EvaluationError(f"--by {by} needs column {', '.join([vc.unit])} (e.g. 出院科别 for dept, 主诊医师代码 for "
                              "doctor_id); map it with --columns if the file names it otherwise")
    bench_cost, bench_los = benchmarks_cells(cc.cells())
    return unit_view_cells(vc.cells(), vc.unit_first, vc.has_dept, tables["weights"], by, bench_cost, bench_los,
                           tables["risk_levels"], overdispersion=overdispersion or "additive", newton=newton)
