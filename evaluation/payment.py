"""DRG payment simulation: base rate or point value from a budget, outlier classes, case payments,
hospital settlement with surplus/deficit sharing, what-if scenarios (methodology.md section 4).

Every input case appears exactly once in the per-case output; cases that are not grouped are paid
by the configured fallback, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .common import EvaluationError, align

CLASSES = ("not_grouped", "no_weight", "long_stay", "no_cost", "high_cost", "low_cost", "normal")


@dataclass
class PaymentConfig:
    """Parameters of section 4 (defaults of the sheet); any field can come from a TOML file."""

    method: str = "points"  # "rate" or "points"
    coefficients: dict = field(default_factory=lambda: {"tertiary": 1.0, "secondary": 1.0, "primary": 1.0})
    los_max: int = 60
    k_lo: float = 0.4
    k_hi: float | None = None  # None: by base points (<=100: 3, <=300: 2, >300: 1.5)
    phi_hi: float = 1.0
    psi_long: float = 1.0
    low_pay: str = "proportional"  # or "item"
    fallback: str = "item"  # not grouped, rate method: "item" (pay cost) or "points" (100 c / c*, times v)
    growth: float = 0.0  # projected volume = observed x (1 + growth), rate method
    short_stay_days: int | None = None  # option: los <= this (not died, not transferred) is paid as low cost
    s_keep: float = 1.0
    s_share: float = 0.0
    tau: float = 0.10

    @classmethod
    def from_toml(cls, path: str) -> "PaymentConfig":
        import tomllib

        with open(path, "rb") as f:
            data = tomllib.load(f)
        data = data.get("payment", data)
        known = set(cls.__dataclass_fields__)
        bad = sorted(set(data) - known)
        if bad:
            raise EvaluationError(f"{path}: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        return cls(**data)


def k_hi_for(rw: np.ndarray, cfg: PaymentConfig) -> np.ndarray:
    if cfg.k_hi is not None:
        return np.full(len(rw), float(cfg.k_hi))
    pts = 100.0 * rw
    return np.where(pts <= 100, 3.0, np.where(pts <= 300, 2.0, 1.5))


def classify(cases: pd.DataFrame, rw: np.ndarray, mean_g: np.ndarray, cfg: PaymentConfig) -> np.ndarray:
    """One class per case (index into CLASSES), checked in the order of section 4.2."""
    cost = cases["cost"].to_numpy(float)
    los = cases["los"].to_numpy(float)
    k_hi = k_hi_for(rw, cfg)
    grouped = cases["included"].to_numpy(bool)
    has_w = grouped & np.isfinite(rw) & np.isfinite(mean_g) & (mean_g > 0)
    with np.errstate(invalid="ignore"):
        high = cost > k_hi * mean_g
        low = cost < cfg.k_lo * mean_g
    if cfg.short_stay_days is not None and "leaving_type" in cases.columns:
        lt = cases["leaving_type"].astype(str).to_numpy()
        short = (los <= cfg.short_stay_days) & (lt != "5") & (lt != "2")
        low = low | (short & ~high)
    conds = [~grouped, grouped & ~has_w, has_w & (los > cfg.los_max), has_w & np.isnan(cost), has_w & high, has_w & low]
    return np.select(conds, list(range(len(conds))), len(conds)).astype(np.int8)


def _coefficient(levels: pd.Series, cfg: PaymentConfig) -> np.ndarray:
    cat = levels.astype("category")
    k = np.array([float(cfg.coefficients.get(lv, 1.0)) for lv in cat.cat.categories] + [1.0])
    return k[cat.cat.codes.to_numpy()]


def simulate(cases: pd.DataFrame, weights: pd.DataFrame, budget: float, cfg: PaymentConfig | None = None,
             pooled_mean: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Pay every case of one settlement period; returns (per-case table, per-hospital table, parameters).

    ``cases``: :func:`evaluation.common.prepare` output with ``level``; ``weights``: ``drg, rw, mean_cost``
    (``mean_cost`` = the DRG mean used for the weight, the outlier reference); ``pooled_mean`` = c̄* of
    section 2.3 (default: from the weights table's trimmed counts).
    """
    cfg = cfg or PaymentConfig()
    if cfg.method not in ("rate", "points"):
        raise EvaluationError(f"method={cfg.method!r}: use rate or points")
    if not (np.isfinite(budget) and budget > 0):
        raise EvaluationError(f"budget {budget!r}: must be a positive, finite amount in yuan")
    if not weights["rw"].notna().any():
        raise EvaluationError("no DRG has a weight: no case has a usable total_cost (missing, NaN, infinite or <= 0) "
                              "and no published weights were given; fix the cost column or pass --weights CSV")
    rw_map = dict(zip(weights["drg"], weights["rw"].astype(float)))
    mean_map = dict(zip(weights["drg"], weights["mean_cost"].astype(float)))
    if pooled_mean is None:
        if "cases_trimmed" in weights.columns and weights["cases_trimmed"].sum() > 0:
            w = weights.dropna(subset=["mean_cost"])
            pooled_mean = float((w["mean_cost"] * w["cases_trimmed"]).sum() / w["cases_trimmed"].sum())
        else:
            pooled_mean = float(np.nanmean(weights["mean_cost"]))
    rw = cases["drg"].map(rw_map).astype(float).to_numpy()
    mean_g = cases["drg"].map(mean_map).astype(float).to_numpy()
    code = classify(cases, rw, mean_g, cfg)
    K = _coefficient(cases["level"], cfg)
    cost = cases["cost"].to_numpy(float)
    cost0 = np.nan_to_num(cost, nan=0.0)
    k_hi = k_hi_for(rw, cfg)
    P = 100.0 * rw
    params = {"method": cfg.method, "budget": float(budget), "pooled_mean": pooled_mean}
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratio = cost / mean_g
        if cfg.method == "points":
            pts = np.select(
                [(code == 6), (code == 3), (code == 4), (code == 5)],
                [P * K, P * K, P * K + (ratio - k_hi) * P, P * np.minimum(1.0, ratio)],
                100.0 * cost0 / pooled_mean,  # long stay, not grouped, no weight: cost-ratio points
            )
            pts = np.nan_to_num(pts, nan=0.0)
            total = pts.sum()
            if total <= 0:
                raise EvaluationError("no points to share the budget over (no grouped case with a weight and no cost)")
            # shares of the total first: budget / total can overflow when the points are tiny
            pay = budget * (pts / total)
            params["point_value"] = budget / total
            points = pts
        else:
            grouped = code >= CLASSES.index("long_stay")  # long stay, no cost, high, low, normal
            volume = float(np.nansum(np.where(grouped, K * rw, 0.0))) * (1.0 + cfg.growth)
            if volume <= 0:
                raise EvaluationError("no grouped case with a weight: the base rate is undefined")
            r = budget / volume
            S = rw * K * r
            low_pay = np.minimum(S, S * ratio) if cfg.low_pay == "proportional" else cost0
            # not grouped: at cost, or cost-ratio weight units (c / c*) at the base rate
            fallback = cost0 if cfg.fallback == "item" else cost0 / pooled_mean * r
            pay = np.select(
                [(code == 6), (code == 3), (code == 4), (code == 5), (code == 2)],
                [S, S, S + cfg.phi_hi * (cost - k_hi * mean_g), low_pay, cfg.psi_long * cost0],
                fallback,
            )
            pay = np.nan_to_num(pay, nan=0.0)
            params["base_rate"] = r
            points = np.full(len(cases), np.nan)
    # columns are handed over as they are (categoricals stay categoricals): no per-row string conversion
    per_case = pd.DataFrame({
        "case_id": cases["case_id"] if "case_id" in cases.columns else pd.Series(np.arange(len(cases)), index=cases.index),
        "hospital_id": cases["hospital_id"], "level": cases["level"].astype("category"), "drg": cases["drg"],
        "rw": rw, "coefficient": K, "payment_class": pd.Categorical.from_codes(code, CLASSES), "total_cost": cost, "points": points,
    }, index=cases.index).reset_index(drop=True)
    per_case["payment"] = pay  # full precision: rounding only when displayed (sheet section 0)
    return per_case, settle(per_case, cfg), params


def settle(per_case: pd.DataFrame, cfg: PaymentConfig | None = None) -> pd.DataFrame:
    """Per hospital: cases by class, points, allowed amount A_h, actual cost C_h, surplus/deficit and its sharing."""
    cfg = cfg or PaymentConfig()
    g = per_case.groupby("hospital_id", sort=True, observed=True)
    out = pd.DataFrame({"level": g["level"].first(), "cases": g.size(), "points": g["points"].sum(min_count=1),
                        "payment": g["payment"].sum(), "actual_cost": g["total_cost"].sum(min_count=0)})
    for c in CLASSES:
        out[f"cases_{c}"] = align((per_case["payment_class"] == c).groupby(per_case["hospital_id"], observed=True).sum(), out.index, 0).astype(np.int64)
    out["balance"] = out["payment"] - out["actual_cost"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["balance_rate"] = out["balance"] / out["payment"]
    d = out["balance"].to_numpy()
    a = out["payment"].to_numpy()
    shared = np.where(d >= 0, cfg.s_keep * d, np.where(np.abs(d) <= cfg.tau * a, cfg.s_share * np.abs(d), 0.0))
    out["shared"] = shared  # kept by the hospital (surplus) or covered by the fund (deficit)
    out["high_low_share"] = (out["cases_high_cost"] + out["cases_low_cost"]) / out["cases"]
    out.index.name = "hospital_id"
    return out.reset_index()


def scenarios(cases: pd.DataFrame, weights: pd.DataFrame, budget: float, base: PaymentConfig, variants: dict) -> pd.DataFrame:
    """Per hospital payment and balance under the base and each variant ({name: (budget, {field: value})}), side by side."""
    runs = {"base": (budget, base)}
    for name, (b, changes) in variants.items():
        runs[name] = (b if b is not None else budget, replace(base, **changes))
    table = None
    for name, (b, cfg) in runs.items():
        _, s, _ = simulate(cases, weights, b, cfg)
        s = s.set_index("hospital_id")[["payment", "balance"]].add_suffix(f"_{name}")
        table = s if table is None else table.join(s, how="outer")
    for name in runs:
        if name != "base":
            table[f"payment_change_{name}"] = table[f"payment_{name}"] - table["payment_base"]
    return table.reset_index()
