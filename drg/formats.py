"""How a number is shown, by what it means: one place that the report's tables (:mod:`drg.report`) and every
workbook (:mod:`drg.excel`) ask, so a count is ``2,420`` and not ``2420.0000``, a mean number of diagnoses is
``4.65`` and not ``464.91%``, a CMI ratio is ``1.0015`` and not ``100.15%``, money is ``1,234,567.89``.

A column's kind comes from its canonical (English) name, a Chinese header being read back to it first; a table
whose one column holds values of several kinds (the audit's ``rate`` is a share for most target areas, a mean per
case for secondary diagnoses and a ratio for the CMI jump) gives its kind per row (:func:`row_kinds`).
"""

from __future__ import annotations

import functools
import re

from evaluation.audit.areas import REGISTRY as AUDIT_AREAS

# kind -> (Excel number format, Python format of a finite float)
FORMATS = {
    "count": ("#,##0", "{:,.0f}"),
    "money": ("#,##0.00", "{:,.2f}"),
    "rate": ("0.00%", None),  # shown as 100 * v with two decimals and %
    "ratio": ("0.0000", "{:.4f}"),
    "mean": ("#,##0.00", "{:,.2f}"),
    "plain": ("0", None),  # years, months, ranks, deciles: as written, never 2,021
    "number": ("#,##0.0000", None),
}

# columns whose name alone does not say it (or says it wrongly)
KINDS = {
    "base_rate": "money", "point_value": "money", "rw": "ratio", "cv": "ratio", "cv_los": "ratio", "cmi": "ratio",
    "relative_cmi": "ratio", "oe_ratio": "ratio", "oe_low": "ratio", "oe_high": "ratio", "phi": "ratio", "tau2": "ratio", "peer_centre": "ratio",
    "z_score": "ratio", "detectable_or": "ratio", "cost_index_z": "ratio", "time_index_z": "ratio",
    "resource_ratio": "ratio", "resource_z": "ratio", "p_value": "ratio", "q_value": "ratio", "pretrend_p": "ratio",
    "did": "ratio", "se": "ratio",
    "ci_low": "ratio", "ci_high": "ratio", "c_statistic": "ratio", "brier": "ratio", "calibration_slope": "ratio",
    "calibration_intercept": "ratio", "r2": "ratio", "probability": "ratio", "score": "mean", "weight_at_stake": "mean",
    "total_weight": "mean", "weight": "ratio", "los_mean": "mean", "mean_los": "mean", "expected": "mean",
    "observed": "count", "deaths": "count", "expected_deaths": "mean", "expected_los": "mean", "change": "ratio",
    "limit95_low": "ratio", "limit95_high": "ratio", "limit998_low": "ratio", "limit998_high": "ratio",
    "percentile": "rate", "paid_share_of_budget": "rate", "advance_ratio": "rate", "homogeneity": "ratio",
    "residents": "count", "episodes": "count", "numerator": "count", "denominator": "count",
    "value": "number",
}
PLAIN = {"year", "month", "quarter", "decile", "event_time", "folds", "bootstrap_draws", "pretrend_leads", "start_year",
         "cohort", "min_cases", "gap_days"}
RATE_WORDS = {"share", "rate", "mortality", "coverage", "pct"}
MONEY_WORDS = {"cost", "payment", "yuan", "balance", "shared", "advance", "advances", "due", "provisional", "pay",
               "fund", "budget", "paid", "amount", "spend", "spending", "price"}
COUNT_WORDS = {"cases", "count", "n", "transfers", "hospitals", "recipients", "controls", "drgs", "fen", "losing"}

# the audit's target areas whose measure is not a share of cases
AUDIT_AREA_KINDS = {a.name: a.kind for a in AUDIT_AREAS if a.kind != "rate"}  # each registered area's kind of number
AUDIT_MIXED = ("rate", "expected_rate", "area_rate", "area_expected_rate", "peer_p10", "peer_median", "peer_p90", "previous_rate", "change")


@functools.lru_cache(maxsize=4096)
def canonical(col) -> str:
    """The English name of a column whose header may be Chinese (read back through the tables' labels)."""
    from evaluation.words import INVERSE_LABELS

    name = str(col)
    if name in INVERSE_LABELS:
        return INVERSE_LABELS[name]
    from evaluation.words import AUDIT_LABELS

    inverse = {zh: en for en, zh in AUDIT_LABELS.items()}
    return inverse.get(name, name)


@functools.lru_cache(maxsize=4096)
def kind(col, integer: bool = False) -> str:
    """The kind of column ``col`` (``integer``: its values are whole numbers of an integer type)."""
    name = canonical(col).lower()
    if name in KINDS:
        return KINDS[name]
    if name in PLAIN or name.endswith("_year") or name.startswith("rank"):
        return "plain"
    words = set(re.split(r"[_()\s]+", name))
    if name.endswith("_fen") or words & COUNT_WORDS or name.startswith("cases") or name.endswith("_cases"):
        return "count"
    if "index" in words or "ratio" in words:
        return "ratio"
    if words & RATE_WORDS:
        return "rate"
    if words & MONEY_WORDS:
        return "money"
    if "mean" in words or "per" in words or "avg" in words:
        return "mean"
    return "count" if integer else "number"


def excel_format(col, integer: bool = False) -> str | None:
    k = kind(col, integer)
    return None if k == "plain" else FORMATS[k][0]


def text(v, k: str) -> str:
    """A finite number ``v`` of kind ``k`` as the report shows it."""
    f = float(v)
    if k == "plain":
        return f"{f:.0f}" if f.is_integer() else f"{f:g}"
    if k == "rate":
        return f"{100 * f:.2f}%"
    if k == "number":
        return f"{f:,.2f}" if abs(f) >= 1000 else f"{f:.4f}"
    return FORMATS[k][1].format(f)


def row_kinds(df) -> dict | None:
    """{column: kind per row} for the columns of ``df`` whose kind changes from row to row (the audit's measures),
    else None."""
    area_col = next((c for c in df.columns if canonical(c) == "target_area"), None)
    if area_col is None:
        return None
    from evaluation.words import AREA_TEXT

    ids = {names[0]: k for lang in AREA_TEXT for k, names in AREA_TEXT[lang].items()} | {k: k for k in AREA_TEXT["zh"]}
    areas = df[area_col].astype(object).map(lambda v: ids.get(v, v) if isinstance(v, str) else v)
    per_row = [AUDIT_AREA_KINDS.get(a, "rate") for a in areas]
    out = {c: per_row for c in df.columns if canonical(c) in AUDIT_MIXED}
    return out or None

