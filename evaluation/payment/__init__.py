"""DRG payment: base rate or point value from a budget, outlier classes, case payments in integer
fen, hospital settlement with surplus/deficit sharing, monthly advances and year-end settlement,
per-DRG profit and loss, what-if scenarios (methodology.md section 4).

Money is settled in integer fen (分). Every input case appears exactly once in the per-case
output; cases that are not grouped are paid by the configured fallback, never dropped.

Rules where the sheet is silent (the practice of Chinese point-method cities, stated here):

* **Point method, to the fen**: each case's exact share ``B · p_i / Σp`` (budget in fen) is
  floored and the fen left over go one each to the largest remainders (Hamilton's
  largest-remainder method); ties go to the smaller ``case_id``. The year's payments sum to the
  budget exactly, and the result does not depend on the order of the rows (``Σp`` is summed
  exactly with ``math.fsum``).
* **Rate method, budget balance** (default ``rate_basis="balance"``): every case's payment is
  ``a_i · r + b_i`` (``a_i`` the weight units it is paid at the base rate, ``b_i`` what it is
  paid regardless of the rate: high-cost add-ons, long stays, special reviews and not-grouped
  cases paid at cost), so ``r = (B − Σb) / Σa`` makes the total equal the budget *including* the
  outlier payments. ``rate_basis="volume"`` is the sheet's §4.1 literally: ``r = B / Σ K·RW·n̂``
  with ``n̂`` the prior period's counts × (1 + growth) (this period's when none is given); it
  overspends by the outlier payments, which the parameters table reports (spent vs budget).
  Case payments are rounded to the fen (halves up).
* **Cases without a usable cost** (missing, NaN, infinite, ≤ 0) are class ``no_cost`` whatever
  their length of stay: paid their DRG's standard, and left out of *both* sides of the balance
  (payment of costed cases minus their cost); their count is reported per hospital.
* **Deficit sharing is continuous**: the fund covers ``s_share · min(|Δ|, τ·A)``; the part of a
  deficit beyond ``τ·A`` is the hospital's own (超支自担), with no cliff at ``τ``.
* **Special review (特病单议)**: listed cases with a cost are paid at cost (rate method) or by
  cost-ratio points (point method), up to ``special_review_cap`` of a hospital's grouped cases in
  the period (list order decides which); the rest are paid by the ordinary rules and counted.
* **Fund and patients (医保基金 / 个人自付)**: the budget is total allowed spending (fund plus
  patients' share, §4.4); with a self-pay column the fund's part of each hospital's amount is
  ``A_h − self-pay``.
* **Monthly advances (月预结算) and year-end settlement (年终清算)**: each month a hospital is
  advanced ``advance_ratio`` of its provisional amount for that month's discharges (point method:
  a twelfth of the budget shared over the month's points; rate method: the month's payments);
  at year end it is due its final amount minus the advances.
* **Coefficients**: ``K_h`` = level coefficient × quality factor (option: a factor per hospital,
  e.g. from its evaluation); both are shown in the settlement.
"""


from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..common import EvaluationError
from . import classes as payment_classes
from .classes import CLASSES, Terms
from .config import (
    BUDGET_MAX_YUAN,
    BUDGET_MIN_YUAN,
    CONFIG_FIELDS,
    SUM_MAX_YUAN,
    PaymentConfig,
    check_budget,
    check_cost_total,
    check_field,
    usable_self_pay,
)
from .fen import FEN_MAX, allocate_fen, round_half_up, to_fen
from .settlement import (
    SETTLED_CLASSES,
    SETTLEMENT_SUMS,
    advances_table,
    drg_profit_loss,
    monthly_advances,
    profit_loss_sums,
    profit_loss_table,
    settle,
    settlement_sums,
    settlement_table,
    shared_amount,
)

# the package's names: its own and those of its modules that callers take from here (config, fen, settlement)
__all__ = [
    "BUDGET_MAX_YUAN", "BUDGET_MIN_YUAN", "CLASSES", "CONFIG_FIELDS", "FEN_MAX", "NO_YEAR", "SETTLED_CLASSES",
    "SETTLEMENT_SUMS", "SUM_MAX_YUAN", "PaymentConfig", "Period", "advances_table", "allocate_fen", "balanced_rate",
    "case_points", "check_budget", "check_cost_total", "check_field", "classify", "coefficients", "drg_profit_loss",
    "monthly_advances", "pooled_mean_cost", "profit_loss_sums", "profit_loss_table", "rate_terms", "round_half_up",
    "scenario_runs", "scenario_table", "scenarios", "settle", "settlement_sums", "settlement_table", "shared_amount",
    "simulate", "special_review_mask", "to_fen", "usable_self_pay",
]

# the classes are registered objects (evaluation.payment.classes); drg pay gives a case without a year this one
NO_YEAR = CLASSES.index("no_year")

# -- classes and case payments -----------------------------------------------------------------------

def classify(cases: pd.DataFrame, rw: np.ndarray, mean_g: np.ndarray, cfg: PaymentConfig,
             special: np.ndarray | None = None) -> np.ndarray:
    """One class per case (index into CLASSES, :func:`evaluation.payment.classes.classify`), checked in the order of
    section 4.2; a case without a usable cost is ``no_cost`` before any cost- or stay-based class (it has nothing to
    pay at cost)."""
    lt = cases["leaving_type"].astype(str).to_numpy() if "leaving_type" in cases.columns else None
    return payment_classes.classify(Terms(cases["cost"].to_numpy(float), cases["los"].to_numpy(float),
                                          cases["included"].to_numpy(bool), rw, mean_g, cfg,
                                          np.zeros(len(cases), dtype=bool) if special is None else special, lt))


def coefficients(cases: pd.DataFrame, cfg: PaymentConfig) -> tuple[np.ndarray, np.ndarray]:
    """(level coefficient, quality factor) per case; K_h = their product."""
    cat = cases["level"].astype("category")
    k = np.array([float(cfg.coefficients.get(lv, 1.0)) for lv in cat.cat.categories] + [1.0])
    level_k = k[cat.cat.codes.to_numpy()]
    if not cfg.quality_factors:
        return level_k, np.ones(len(cases))
    hid = cases["hospital_id"].astype("category")
    q = np.array([float(cfg.quality_factors.get(str(h), 1.0)) for h in hid.cat.categories] + [1.0])
    return level_k, q[hid.cat.codes.to_numpy()]


def special_review_mask(cases: pd.DataFrame, listed: pd.Series | None, cfg: PaymentConfig) -> tuple[np.ndarray, np.ndarray]:
    """(accepted, over the cap): listed grouped cases with a cost, at most ``special_review_cap`` of each
    hospital's grouped cases, in the list's order (its position), then case_id."""
    n = len(cases)
    if listed is None or not len(listed):
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    order = {str(c): i for i, c in enumerate(listed)}
    pos = cases["case_id"].astype(str).map(order).to_numpy(dtype=float)
    eligible = ~np.isnan(pos) & cases["included"].to_numpy(bool) & np.isfinite(cases["cost"].to_numpy(float))
    accepted = np.zeros(n, dtype=bool)
    if eligible.any():
        grouped = cases["included"].groupby(cases["hospital_id"], observed=True).sum()
        cap = {h: math.floor(cfg.special_review_cap * g + 1e-9) for h, g in grouped.items()}
        sub = pd.DataFrame({"h": cases["hospital_id"].to_numpy()[eligible], "pos": pos[eligible],
                            "cid": cases["case_id"].astype(str).to_numpy()[eligible], "i": np.flatnonzero(eligible)})
        sub = sub.sort_values(["pos", "cid"], kind="stable")
        rank = sub.groupby("h", observed=True).cumcount().to_numpy()
        ok = rank < sub["h"].map(cap).to_numpy()
        accepted[sub["i"].to_numpy()[ok]] = True
    return accepted, eligible & ~accepted


@dataclass
class Period:
    """What :func:`simulate` needs besides the cases of the period."""

    budget: float
    prior: pd.DataFrame | None = None  # the previous period's cases (rate_basis="volume")
    special_review: pd.Series | None = None  # case ids, in priority order
    self_pay: np.ndarray | None = None  # per case, yuan
    month: np.ndarray | None = None  # per case, 1..12 (monthly advances)


def simulate(cases: pd.DataFrame, weights: pd.DataFrame, budget: float | Period, cfg: PaymentConfig | None = None,
             pooled_mean: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Pay every case of one settlement period; returns (per-case table, per-hospital table, parameters).

    ``cases``: :func:`evaluation.common.prepare` output with ``level``; ``weights``: ``drg, rw, mean_cost``
    (``mean_cost`` = the DRG mean used for the weight, the outlier reference); ``budget``: yuan, or a
    :class:`Period` with the options; ``pooled_mean`` = c̄* of section 2.3 (default: from the weights
    table's trimmed counts). Per-case ``payment_fen`` (int64) is the settled amount; ``payment`` is the
    same in yuan.
    """
    period = budget if isinstance(budget, Period) else Period(budget=budget)
    cfg = cfg or PaymentConfig()
    cfg.check()
    B = check_budget(period.budget)
    check_cost_total(cases["cost"].to_numpy(float))
    if not weights["rw"].notna().any():
        raise EvaluationError("no DRG has a weight: no case has a usable total_cost (missing, NaN, infinite or <= 0) "
                              "and no published weights were given; fix the cost column or pass --weights CSV")
    rw_map = dict(zip(weights["drg"], weights["rw"].astype(float)))
    mean_map = dict(zip(weights["drg"], weights["mean_cost"].astype(float)))
    if pooled_mean is None:
        pooled_mean = pooled_mean_cost(weights)
    rw = cases["drg"].map(rw_map).astype(float).to_numpy()
    mean_g = cases["drg"].map(mean_map).astype(float).to_numpy()
    special, over_cap = special_review_mask(cases, period.special_review, cfg)
    code = classify(cases, rw, mean_g, cfg, special)
    level_k, quality = coefficients(cases, cfg)
    K = level_k * quality
    cost = cases["cost"].to_numpy(float)
    budget_fen = int(round(B * 100))
    params = {"method": cfg.method, "budget": budget_fen / 100, "pooled_mean": pooled_mean}
    if cfg.method == "points":
        points = case_points(code, rw, K, cost, mean_g, pooled_mean, cfg)
        if not math.fsum(points) > 0:
            raise EvaluationError("no points to share the budget over (no grouped case with a weight and no cost)")
        keys = cases["case_id"].to_numpy() if "case_id" in cases.columns else np.arange(len(cases))
        pay_fen = allocate_fen(budget_fen, points, keys)
        params["point_value"] = B / math.fsum(points)
    else:
        a, b = rate_terms(code, rw, K, cost, mean_g, pooled_mean, cfg)
        if cfg.rate_basis == "balance":
            r = balanced_rate(B, a, b)
            # the payments a·r + b sum to the budget: shared to the fen by largest remainders, as points are
            keys = cases["case_id"].to_numpy() if "case_id" in cases.columns else np.arange(len(cases))
            pay_fen = allocate_fen(budget_fen, a * r + b, keys)
        else:
            r = B / _volume(period.prior if period.prior is not None else cases, rw_map, cfg)
            if not np.isfinite(r):
                raise EvaluationError("no grouped case with a weight: the base rate is undefined (weight units sum to ~0)")
            pay_fen = to_fen(a * r + b)
        params["base_rate"] = r
        params["rate_basis"] = cfg.rate_basis
        points = np.full(len(cases), np.nan)
    params["paid"] = int(pay_fen.sum()) / 100
    params["paid_share_of_budget"] = params["paid"] / params["budget"]
    unknown = sorted(map(str, pd.unique(cases.loc[(cases["level"] == "unknown").to_numpy(bool), "hospital_id"].dropna())))
    params["unknown_level_hospitals"] = ",".join(unknown)
    # columns are handed over as they are (categoricals stay categoricals): no per-row string conversion
    per_case = pd.DataFrame({
        "case_id": cases["case_id"] if "case_id" in cases.columns else pd.Series(np.arange(len(cases)), index=cases.index),
        "hospital_id": cases["hospital_id"], "level": cases["level"].astype("category"), "drg": cases["drg"],
        "rw": rw, "coefficient": level_k, "quality_factor": quality,
        "payment_class": pd.Categorical.from_codes(code, CLASSES), "total_cost": cost, "points": points,
    }, index=cases.index).reset_index(drop=True)
    per_case["payment_fen"] = pay_fen
    per_case["payment"] = pay_fen / 100.0
    per_case["cost_fen"] = to_fen(cost)  # 0 for a case without a usable cost
    per_case["cost_usable"] = np.isfinite(cost)
    per_case["special_review_over_cap"] = over_cap
    if "dept" in cases.columns:  # the department view of the profit and loss
        per_case["dept"] = cases["dept"].to_numpy()
    if period.self_pay is not None:
        per_case["self_pay_fen"] = to_fen(usable_self_pay(period.self_pay))
        per_case["fund_payment_fen"] = pay_fen - per_case["self_pay_fen"].to_numpy()
    if period.month is not None:
        per_case["month"] = np.asarray(period.month, dtype=float)
    advances = monthly_advances(per_case, budget_fen, cfg) if period.month is not None else None
    st = settle(per_case, cfg, advances)
    return per_case, st, params if advances is None else {**params, "_monthly": advances}


def pooled_mean_cost(weights: pd.DataFrame) -> float:
    if "cases_trimmed" in weights.columns and weights["cases_trimmed"].sum() > 0:
        w = weights.dropna(subset=["mean_cost"])
        return float((w["mean_cost"] * w["cases_trimmed"]).sum() / w["cases_trimmed"].sum())
    m = weights["mean_cost"].dropna()
    return float(m.mean()) if len(m) else float("nan")


def _terms(rw, K, cost, mean_g, pooled_mean, cfg) -> Terms:
    n = len(rw)
    return Terms(cost, np.full(n, np.nan), np.ones(n, bool), rw, mean_g, cfg, np.zeros(n, bool), K=K, pooled=pooled_mean)


def case_points(code, rw, K, cost, mean_g, pooled_mean, cfg) -> np.ndarray:
    """Points of section 4.4 per case (0 where a cost-ratio case has no cost): each class's
    (:mod:`evaluation.payment.classes`)."""
    return payment_classes.case_points(code, _terms(rw, K, cost, mean_g, pooled_mean, cfg))


def rate_terms(code, rw, K, cost, mean_g, pooled_mean, cfg) -> tuple[np.ndarray, np.ndarray]:
    """Each case's payment is ``a·r + b`` (rate method, section 4.3): ``a`` weight units at the base
    rate ``r``, ``b`` yuan paid whatever the rate (each class's: :mod:`evaluation.payment.classes`)."""
    return payment_classes.rate_terms(code, _terms(rw, K, cost, mean_g, pooled_mean, cfg))


def balanced_rate(B: float, a: np.ndarray, b: np.ndarray) -> float:
    """The base rate at which the period's payments ``Σ(a·r + b)`` equal the budget."""
    units, fixed = math.fsum(a), math.fsum(b)
    if not units > 0:
        raise EvaluationError("no grouped case with a weight: the base rate is undefined")
    if fixed >= B:
        raise EvaluationError(f"the budget ({B:,.2f}) does not cover the payments made at cost ({fixed:,.2f}: "
                              "high-cost add-ons, long stays, special reviews, not-grouped cases); raise the budget "
                              "or use rate_basis = \"volume\"")
    r = (B - fixed) / units
    if not np.isfinite(r):  # weight units so small (e.g. a subnormal cost ratio) that the rate overflows
        raise EvaluationError("no grouped case with a weight: the base rate is undefined (weight units sum to ~0)")
    return r


def _volume(cases: pd.DataFrame, rw_map: dict, cfg: PaymentConfig) -> float:
    """Σ K·RW over a period's grouped cases with a weight, × (1 + growth) (section 4.1)."""
    rw = cases["drg"].map(rw_map).astype(float).to_numpy()
    level_k, quality = coefficients(cases, cfg)
    grouped = cases["included"].to_numpy(bool) & np.isfinite(rw)
    v = math.fsum((level_k * quality * rw)[grouped]) * (1.0 + cfg.growth)
    if not v > 0:
        raise EvaluationError("no grouped case with a weight: the base rate is undefined")
    return v


def scenarios(cases: pd.DataFrame, weights: pd.DataFrame, budget: float | Period, base: PaymentConfig,
              variants: dict) -> pd.DataFrame:
    """Per hospital payment and balance under the base and each variant ({name: (budget, {field: value})}), side by side."""
    period = budget if isinstance(budget, Period) else Period(budget=budget)
    return scenario_table({name: simulate(cases, weights, replace(p, month=None), cfg)[1]
                           for name, (p, cfg) in scenario_runs(period, base, variants).items()})


def scenario_runs(period, base: PaymentConfig, variants: dict) -> dict:
    """{name: (period or budget, rules)}: the base and each variant ({name: (budget or None, {field: value})})."""
    runs = {"base": (period, base)}
    for name, (b, changes) in variants.items():
        runs[name] = ((replace(period, budget=b) if isinstance(period, Period) else b) if b is not None else period,
                      replace(base, **changes))
    return runs


def scenario_table(settlements: dict) -> pd.DataFrame:
    """The scenarios table from each run's settlement ({name: settlement table}, the base first)."""
    table = None
    for name, s in settlements.items():
        s = s.set_index("hospital_id")[["payment", "balance"]].add_suffix(f"_{name}")
        table = s if table is None else table.join(s, how="outer")
    for name in settlements:
        if name != "base":
            table[f"payment_change_{name}"] = table[f"payment_{name}"] - table["payment_base"]
    return table.reset_index()
