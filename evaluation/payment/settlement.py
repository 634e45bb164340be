"""Settlement (methodology.md section 4.3-4.5): each hospital's amount, balance and shared part from its cases, the
monthly advances and year-end due, the profit and loss per hospital and DRG -- as sums a batch adds up and the tables
made from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..common import align
from .classes import REGISTRY
from .config import PaymentConfig
from .fen import allocate_fen, round_half_up

SETTLED_CLASSES = tuple(c.name for c in REGISTRY if c.settled)

def shared_amount(balance_fen: np.ndarray, allowed_fen: np.ndarray, cfg: PaymentConfig) -> np.ndarray:
    """Fen kept by the hospital (surplus: ``s_keep·Δ``) or covered by the fund (deficit:
    ``s_share·min(|Δ|, τ·A)``): continuous in the deficit; the part beyond ``τ·A`` is the hospital's own."""
    d = balance_fen.astype(float)
    covered = cfg.s_share * np.minimum(np.abs(d), cfg.tau * np.maximum(allowed_fen.astype(float), 0.0))
    return round_half_up(np.where(d >= 0, cfg.s_keep * d, covered))


def settle(per_case: pd.DataFrame, cfg: PaymentConfig | None = None, advances: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per hospital, in integer fen (``*_fen``) and yuan: cases by class, points, coefficients, amount
    paid (= the sum of its cases to the fen), the balance over cases with a usable cost, its sharing,
    the fund's and the patients' parts, advances and what is due at year end."""
    adv = None if advances is None else advances.groupby("hospital_id", observed=True)["advance_fen"].sum()
    return settlement_table(settlement_sums(per_case), cfg, adv)


SETTLEMENT_SUMS = ["cases", "payment_fen", *[f"cases_{c}" for c in SETTLED_CLASSES], "cases_cost_unusable", "special_review_over_cap",
                   "payment_costed_fen", "actual_cost_fen"]  # integer sums per hospital (and self_pay_fen)


def settlement_sums(pc: pd.DataFrame) -> pd.DataFrame:
    """Per hospital of a per-case table: the first level, coefficient and quality factor, the points and the
    integer sums of :data:`SETTLEMENT_SUMS` (``self_pay_fen`` too when the cases have it)."""
    h = pc["hospital_id"]
    g = pc.groupby(h, sort=True, observed=True)
    costed = pc["cost_usable"].to_numpy(bool)
    out = pd.DataFrame({"level": g["level"].first(), "coefficient": g["coefficient"].first(),
                        "quality_factor": g["quality_factor"].first(), "cases": g.size(),
                        "points": g["points"].sum(min_count=1), "payment_fen": g["payment_fen"].sum()})
    for c in SETTLED_CLASSES:
        out[f"cases_{c}"] = align((pc["payment_class"] == c).groupby(h, observed=True).sum(), out.index, 0).astype(np.int64)
    out["cases_cost_unusable"] = align((~pc["cost_usable"]).groupby(h, observed=True).sum(), out.index, 0).astype(np.int64)
    out["special_review_over_cap"] = align(pc["special_review_over_cap"].groupby(h, observed=True).sum(), out.index, 0).astype(np.int64)
    costed_pay = pd.Series(np.where(costed, pc["payment_fen"].to_numpy(), 0), index=pc.index)
    out["payment_costed_fen"] = align(costed_pay.groupby(h, observed=True).sum(), out.index, 0).astype(np.int64)
    out["actual_cost_fen"] = align(pc["cost_fen"].groupby(h, observed=True).sum(), out.index, 0).astype(np.int64)
    if "self_pay_fen" in pc.columns:
        out["self_pay_fen"] = g["self_pay_fen"].sum()
    return out


def settlement_table(sums: pd.DataFrame, cfg: PaymentConfig | None = None, advances: pd.Series | None = None) -> pd.DataFrame:
    """:func:`settle` from per-hospital sums (:func:`settlement_sums`, or the same summed batch by batch) and each
    hospital's advances in fen."""
    cfg = cfg or PaymentConfig()
    out = sums.copy()
    self_pay = out.pop("self_pay_fen") if "self_pay_fen" in out.columns else None
    out["balance_fen"] = out["payment_costed_fen"] - out["actual_cost_fen"]
    out["shared_fen"] = shared_amount(out["balance_fen"].to_numpy(), out["payment_costed_fen"].to_numpy(), cfg)
    if self_pay is not None:
        out["self_pay_fen"] = self_pay
        out["fund_payment_fen"] = out["payment_fen"] - out["self_pay_fen"]
    if advances is not None:
        out["advances_fen"] = align(advances, out.index, 0).astype(np.int64)
        out["year_end_due_fen"] = out["payment_fen"] - out["advances_fen"]
    for c in [c for c in out.columns if c.endswith("_fen")]:  # the same amounts in yuan, for reading
        out[c[: -len("_fen")]] = out[c] / 100.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out["balance_rate"] = out["balance_fen"] / out["payment_costed_fen"].where(out["payment_costed_fen"] != 0)
    out["high_low_share"] = (out["cases_high_cost"] + out["cases_low_cost"]) / out["cases"]
    out.index.name = "hospital_id"
    return out.reset_index()


def monthly_advances(per_case: pd.DataFrame, budget_fen: int, cfg: PaymentConfig) -> pd.DataFrame:
    """Per hospital and discharge month: the provisional amount and the advance paid (月预结算).

    Point method: each month a twelfth of the budget is shared over that month's points (largest
    remainder, as for the year; each hospital's points summed exactly); rate method: the month's payments
    are the provisional amount. Cases without a month are left to the year-end settlement."""
    from ..exact import exact_sums, to_float

    pc = per_case[np.isfinite(per_case["month"].to_numpy(float))]
    pc = pc[pc["hospital_id"].notna().to_numpy()]
    h = pc["hospital_id"].astype(str).to_numpy()
    sums = pd.DataFrame({"month": pc["month"].to_numpy(float).astype(np.int64), "hospital_id": h, "cases": 1,
                         "payment_fen": pc["payment_fen"].to_numpy()}).groupby(["month", "hospital_id"], sort=True).sum()
    points = None
    if cfg.method == "points":
        key, uniq = pd.factorize(pd.MultiIndex.from_arrays([pc["month"].to_numpy(float).astype(np.int64), h]))
        ex = exact_sums(pc["points"].to_numpy(float), key, {})
        points = pd.Series([to_float(ex.get(i, 0)) for i in range(len(uniq))], index=uniq).reindex(sums.index)
    return advances_table(sums, points, budget_fen, cfg)


def advances_table(sums: pd.DataFrame, points: pd.Series | None, budget_fen: int, cfg: PaymentConfig) -> pd.DataFrame:
    """:func:`monthly_advances` from its sums per (month, hospital_id), sorted: ``cases`` and ``payment_fen``, and
    for the point method each hospital's points that month."""
    rows = []
    for m in sums.index.get_level_values(0).unique():
        sub = sums.loc[m]
        if cfg.method == "points":
            pts = points.loc[m].to_numpy(float)
            prov = allocate_fen(budget_fen // 12, pts, sub.index.astype(str)) if pts.sum() > 0 else np.zeros(len(pts), np.int64)
        else:
            prov = sub["payment_fen"].to_numpy(np.int64)
        adv = round_half_up(cfg.advance_ratio * prov.astype(float))
        rows.append(pd.DataFrame({"month": int(m), "hospital_id": sub.index.to_numpy(), "cases": sub["cases"].to_numpy(np.int64),
                                  "provisional_fen": np.asarray(prov, np.int64), "advance_fen": adv}))
    cols = ["month", "hospital_id", "cases", "provisional_fen", "advance_fen"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    out["provisional"] = out["provisional_fen"] / 100.0
    out["advance"] = out["advance_fen"] / 100.0
    return out


def drg_profit_loss(per_case: pd.DataFrame) -> pd.DataFrame:
    """Per hospital × department × DRG (× DRG alone without a ``dept`` column) over cases with a usable cost:
    cases, payment, cost, balance (fen and yuan), mean balance per case, share of cases paid less than they
    cost — the table hospitals ask for first. Per hospital the balances add up to its settlement balance to
    the fen (a case without a department is under dept "")."""
    return profit_loss_table(profit_loss_sums(per_case))


def profit_loss_sums(per_case: pd.DataFrame) -> pd.DataFrame:
    """The integer sums of :func:`drg_profit_loss` per hospital[, dept] and DRG: cases, payment_fen, cost_fen,
    losing_cases."""
    pc = per_case[per_case["cost_usable"].to_numpy(bool)]
    pc = pc.assign(_loss=(pc["payment_fen"] < pc["cost_fen"]).astype(np.int64))
    keys = ["hospital_id", "drg"]
    if "dept" in pc.columns:
        dept = pc["dept"].astype(object).where(pc["dept"].notna(), "")
        pc = pc.assign(dept=dept.astype(str))
        keys = ["hospital_id", "dept", "drg"]
    g = pc.groupby(keys, sort=True, observed=True)
    return pd.DataFrame({"cases": g.size(), "payment_fen": g["payment_fen"].sum(), "cost_fen": g["cost_fen"].sum(),
                         "losing_cases": g["_loss"].sum()})


def profit_loss_table(sums: pd.DataFrame) -> pd.DataFrame:
    """:func:`drg_profit_loss` from its sums (indexed by the keys)."""
    out = sums.copy()
    out["balance_fen"] = out["payment_fen"] - out["cost_fen"]
    for c in ("payment", "cost", "balance"):
        out[c] = out[f"{c}_fen"] / 100.0
    out["mean_balance"] = out["balance"] / out["cases"]
    out["loss_share"] = out["losing_cases"] / out["cases"]
    return out.reset_index()
