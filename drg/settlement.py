"""`drg pay`: settle every year of a grouped file under the payment rules (evaluation.payment).

Reads the columns payment needs, attaches hospital levels, computes the weights once, and runs
one settlement per year (rate or points) with the year's budget, the previous year's cases for the
sheet's volume basis, the special-review list, self-pay amounts and discharge months when the data
have them. Returns the tables the command writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PAY_COLUMNS = ["case_id", "hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year",
               "level", "discharge_date", "dept"]
from .contract import ALIASES

# the patients' share of a case (医保结算清单 exports; drg.contract renames them to self_pay on reading)
SELF_PAY_ALIASES = ALIASES["self_pay"]


def case_frame(data: pd.DataFrame, hospitals: pd.DataFrame | None) -> pd.DataFrame:
    """The evaluation frame of every case, with ``case_id``, ``level``, and ``self_pay``/``month`` when present."""
    from evaluation.common import attach_levels, prepare

    cases = attach_levels(prepare(data), hospitals)
    cases["case_id"] = data["case_id"] if "case_id" in data.columns else pd.Series(np.arange(len(data)), index=data.index)
    sp = next((c for c in SELF_PAY_ALIASES if c in data.columns), None)
    if sp is not None:
        v = pd.to_numeric(data[sp], errors="coerce").astype(float)
        cases["self_pay"] = v.where(np.isfinite(v) & (v >= 0), 0.0)  # an unusable self-pay counts as none
    if "discharge_date" in data.columns:
        cases["month"] = pd.to_datetime(data["discharge_date"], errors="coerce").dt.month.astype(float)
    return cases


def settle_years(cases: pd.DataFrame, weights: pd.DataFrame, budgets: dict, cfg, *, special_review=None,
                 variants: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Settle each year of ``cases`` with ``budgets[year]`` (or ``budgets[None]`` for all years).

    Returns the per-case table and ``{settlement, parameters, monthly, drg_profit_loss[, scenarios]}``."""
    from evaluation.common import EvaluationError
    from evaluation.payment import Period, drg_profit_loss, scenarios, simulate

    years = sorted(cases["year"].dropna().unique().astype(int)) if "year" in cases.columns else [None]
    parts: dict = {"cases": [], "settlement": [], "parameters": [], "monthly": [], "drg_profit_loss": [], "scenarios": []}
    prior = None
    for y in years:
        sub = cases if y is None else cases[cases["year"] == y]
        budget = budgets.get(y, budgets.get(None))
        if budget is None:
            raise EvaluationError(f"--budget has no amount for year {y}; give one for every year or a single amount")
        period = Period(budget=budget, prior=prior, special_review=special_review,
                        self_pay=sub["self_pay"].to_numpy() if "self_pay" in sub.columns else None,
                        month=sub["month"].to_numpy() if "month" in sub.columns else None)
        pc, st, par = simulate(sub, weights, period, cfg)
        monthly = par.pop("_monthly", None)
        tables = {"cases": pc, "settlement": st, "drg_profit_loss": drg_profit_loss(pc), "monthly": monthly}
        if variants:
            tables["scenarios"] = scenarios(sub, weights, period, cfg, variants)
        for name, t in tables.items():
            if t is not None:
                t.insert(0, "year", y)
                parts[name].append(t)
        row = {"year": y, **par, "cases_cost_unusable": int(sub["cost"].isna().sum()),
               "cases_los_unusable": int(sub["los"].isna().sum())}
        if cfg.method == "rate" and cfg.rate_basis == "volume":
            row["volume_basis"] = "prior_year" if prior is not None else "this_year"
        parts["parameters"].append(row)
        prior = sub
    per_case = pd.concat(parts.pop("cases"), ignore_index=True)
    out = {"settlement": pd.concat(parts["settlement"], ignore_index=True), "parameters": pd.DataFrame(parts["parameters"])}
    for name in ("monthly", "drg_profit_loss", "scenarios"):
        if parts[name]:
            out[name] = pd.concat(parts[name], ignore_index=True)
    return per_case, out


WORKBOOK_PROFIT_LOSS_ROWS = 10_000


def payment_workbook(tables: dict) -> dict:
    """The tables for payment.xlsx: all of them, except that the per-DRG profit and loss (hospitals ×
    DRGs × years: millions of cells at province scale, minutes to write) is the latest year's, the
    largest losses first, at most 10,000 rows; drg_profit_loss.parquet holds every row."""
    out = dict(tables)
    pl = tables.get("drg_profit_loss")
    if pl is not None and len(pl) > WORKBOOK_PROFIT_LOSS_ROWS:
        last = pl[pl["year"] == pl["year"].max()] if "year" in pl.columns and pl["year"].notna().any() else pl
        out["drg_profit_loss"] = last.sort_values(["balance_fen", "hospital_id", "drg"]).head(WORKBOOK_PROFIT_LOSS_ROWS)
    return out


def payment_config(config: str | None, method: str | None = None, rate_basis: str | None = None):
    """The payment rules: ``--config`` TOML ([payment]) or the defaults, with ``--method`` / ``--rate-basis``
    applied; one line naming the problem when the file is missing or a value is wrong."""
    import os

    from evaluation.common import EvaluationError
    from evaluation.payment import PaymentConfig

    from .io import InputError

    if config and not os.path.exists(config):
        raise InputError(f"--config {config}: no such file; check the path")
    try:
        cfg = PaymentConfig.from_toml(config) if config else PaymentConfig()
        if method:
            cfg.method = method
        if rate_basis:
            cfg.rate_basis = rate_basis
        cfg.check()
    except (EvaluationError, TypeError, ValueError) as e:
        raise InputError(f"--config {config}: {e}") from None
    return cfg


def case_payment_estimate(drg: str, status_ok: bool, *, weights: str, point_value: float | None = None,
                          base_rate: float | None = None, cost: float | None = None, los: int | None = None,
                          leaving_type: str | None = None, coefficient: float = 1.0, config: str | None = None,
                          lang: str = "zh") -> str:
    """`drg explain --weights ... --point-value|--base-rate`: what one case would be paid under the payment rules
    (evaluation.payment: its class by section 4.2 -- normal, high or low cost against the DRG's mean cost when the
    weights file has ``mean_cost``, long stay, not grouped, no weight -- then points x point value, or units x
    base rate plus the yuan paid at cost), in words."""
    from evaluation.common import prepare
    from evaluation.payment import CLASSES, case_points, classify, rate_terms, round_half_up

    from .io import InputError
    from .tables import supplied_weights

    if (point_value is None) == (base_rate is None):
        raise InputError("--weights needs one of --point-value (yuan per point) or --base-rate (yuan per weight unit)")
    t = supplied_weights(weights)
    t.columns = [str(c).strip().lower() for c in t.columns]
    rw_of = dict(zip(t["drg"].astype(str), pd.to_numeric(t["weight" if "weight" in t.columns else "rw"], errors="coerce")))
    mean_of = dict(zip(t["drg"].astype(str), pd.to_numeric(t["mean_cost"], errors="coerce"))) if "mean_cost" in t.columns else {}
    cfg = payment_config(config, "points" if point_value is not None else "rate")
    case = prepare(pd.DataFrame({"hospital_id": ["explain"], "drg": [drg if status_ok else ""], "total_cost": [cost],
                                 "los_days": [los], "leaving_type": [leaving_type or "1"]}))
    rw = np.array([rw_of.get(drg, np.nan)], float)
    mean_g = np.array([mean_of.get(drg, np.nan)], float)
    if not np.isfinite(mean_g[0]) and np.isfinite(rw[0]):
        mean_g = np.array([np.inf])  # no mean cost: the cost-ratio classes cannot apply
    code = classify(case, rw, mean_g, cfg)
    K = np.array([coefficient], float)
    cost_arr = case["cost"].to_numpy(float)
    pooled = float(np.nanmedian(list(mean_of.values()))) if mean_of else np.nan
    zh = lang == "zh"
    cls = CLASSES[int(code[0])]
    if point_value is not None:
        pts = float(case_points(code, np.nan_to_num(rw), K, cost_arr, mean_g, pooled, cfg)[0])
        yuan = float(round_half_up(np.array([pts * point_value * 100]))[0]) / 100
        how = (f"{pts:.2f} 点 × 点值 ¥{point_value:g}" if zh else f"{pts:.2f} points x point value ¥{point_value:g}")
    else:
        a, b = rate_terms(code, np.nan_to_num(rw), K, cost_arr, mean_g, pooled, cfg)
        yuan = float(round_half_up(np.array([(a[0] * base_rate + b[0]) * 100]))[0]) / 100
        how = (f"{a[0]:.4f} 权重单位 × 费率 ¥{base_rate:g} + ¥{b[0]:,.2f}" if zh else
               f"{a[0]:.4f} weight units x base rate ¥{base_rate:g} + ¥{b[0]:,.2f}")
    w = f"{rw[0]:.4f}" if np.isfinite(rw[0]) else ("无" if zh else "none")
    if zh:
        return f"支付估算: DRG {drg or '-'}（权重 {w}，医院系数 {coefficient:g}，{CLASS_ZH.get(cls, cls)}）本病例预计支付 ¥{yuan:,.2f} = {how}"
    return f"payment estimate: DRG {drg or '-'} (weight {w}, coefficient {coefficient:g}, {cls}) this case would be paid ¥{yuan:,.2f} = {how}"


CLASS_ZH = {"not_grouped": "未入组，按项目付费", "special_review": "特病单议", "no_weight": "无权重", "no_cost": "无费用，按标准付费",
            "long_stay": "长住院", "high_cost": "高倍率病例", "low_cost": "低倍率病例", "normal": "正常病例"}
