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
               "level", "discharge_date"]
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
