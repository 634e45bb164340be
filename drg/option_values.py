"""Option values as users write them: whole numbers and amounts within bounds, codes, budgets in yuan (per year),
what-if scenarios, years, level coefficients, outcomes -- each refused in one line that says what to write."""

from __future__ import annotations

import argparse

from .parser import UsageError, in_chinese

def whole(lo: int, hi: int):
    """An argparse type: a whole number from ``lo`` to ``hi`` (thousands separators allowed), else one line."""

    def parse(text: str) -> int:
        try:
            v = int(str(text).strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} 不是整数(应为 {lo:,} 到 {hi:,})" if in_chinese() else
                                             f"{text!r} is not a whole number (from {lo:,} to {hi:,})") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text} 超出 {lo:,} 到 {hi:,} 的范围" if in_chinese() else
                                             f"{text} is outside {lo:,} to {hi:,}")
        return v

    return parse


def amount(lo: float, hi: float, *, above: bool = False):
    """An argparse type: a finite number from ``lo`` (or above it) to ``hi``, else one line."""
    import math

    def parse(text: str) -> float:
        try:
            v = float(str(text).strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} 不是数字" if in_chinese() else f"{text!r} is not a number") from None
        if not (math.isfinite(v) and (v > lo if above else v >= lo) and v <= hi):
            raise argparse.ArgumentTypeError(
                f"{text} 超出范围(应{'大于' if above else '不小于'} {lo:g} 且不大于 {hi:g})" if in_chinese() else
                f"{text} is outside {'above ' if above else ''}{lo:g} to {hi:g}")
        return v

    return parse


BATCH = whole(100, 100_000_000)  # rows per batch: below 100 the per-batch overhead dominates (1 row: minutes for 20k)
SEED = whole(0, 2**32 - 1)
THREADS = whole(1, 1024)
MEASURE = whole(-1_000_000, 1_000_000)  # explain's ages, weights, stays: as read from files (negatives are warned about)


def parse_codes(text):
    if text is None:
        return []
    return [c for c in text.replace(";", "|").replace(",", "|").split("|") if c != ""]


def _yuan(text: str) -> float:
    """A yuan amount as users write it: 1.2e9, 1200000000, 30,000,000 or 30_000_000 (thousands separators
    are dropped; a Chinese comma too)."""
    import re

    t = text.strip().replace("，", ",")
    if "," in t and not re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", t):
        raise ValueError(text)
    return float(t.replace(",", "").replace("_", ""))


def parse_budgets(text: str) -> dict:
    """--budget 1.2e9 (every year) or 2019=1.1e9,2020=1.2e9; each amount checked against the money bounds of
    :func:`evaluation.payment.check_budget`."""
    from evaluation.common import EvaluationError
    from evaluation.payment import check_budget

    how = "not an amount; write yuan, e.g. 1.2e9, or per year, e.g. 2019=1.1e9,2020=1.2e9"
    try:
        if "=" in text:
            import re

            parts = [p for p in re.split(r"[;；,，]\s*(?=\d+\s*=)", text) if p.strip()]  # 2019=30,000,000,2020=...
            out = {}
            for part in parts:
                k, v = part.split("=", 1)
                out[int(k)] = _yuan(v)
        else:
            out = {None: _yuan(text)}
    except ValueError:
        raise UsageError(f"--budget {text!r}: {how}") from None
    try:
        return {y: check_budget(b, "--budget" if y is None else f"--budget {y}") for y, b in out.items()}
    except EvaluationError as e:
        raise UsageError(str(e)) from None


def parse_scenario(text: str, base):
    """NAME:key=value,... (budget=, method=, k_lo=, k_hi=, los_max=, growth=, coefficient.LEVEL=): every value
    read as its field's kind and the whole rule set checked as ``--config`` is (PaymentConfig.check)."""
    import dataclasses

    from evaluation.common import EvaluationError
    from evaluation.payment import CONFIG_FIELDS, check_budget

    name, _, body = text.partition(":")
    if not name.strip() or not body:
        raise UsageError(f"--scenario {text!r}: no name or no change; write NAME:key=value,..., e.g. tight:budget=9e8 or k3:k_hi=3")
    budget, changes = None, {}
    scalar = sorted(k for k, spec in CONFIG_FIELDS.items() if spec[0] != "factors")
    try:
        for part in body.split(","):
            key, _, val = part.partition("=")
            key, val = key.strip(), val.strip()
            if key == "budget":
                budget = check_budget(_yuan(val) if val else val, f"--scenario {name} budget")
            elif key.startswith("coefficient."):
                coeffs = dict(changes.get("coefficients", base.coefficients))
                coeffs[key.split(".", 1)[1]] = float(val)
                changes["coefficients"] = coeffs
            elif key in scalar:
                kind = CONFIG_FIELDS[key][0]
                changes[key] = val if kind == "choice" else (int(val) if kind == "int" else float(val))
            else:
                raise UsageError(f"--scenario {text!r}: unknown key {key!r}; use budget, coefficient.LEVEL or one of "
                                 f"{', '.join(scalar)}")
        dataclasses.replace(base, **changes).check()
    except ValueError as e:
        if isinstance(e, (UsageError,)):
            raise
        why = str(e) if isinstance(e, EvaluationError) else f"a value is not a number ({e}); write e.g. tight:k_lo=0.5"
        raise UsageError(f"--scenario {text!r}: {why}") from None
    return name, (budget, changes)


def parse_years(text: str) -> list[int]:
    try:
        if "-" in text:
            lo, hi = (int(x) for x in text.split("-", 1))
            years = list(range(lo, hi + 1))
        else:
            years = [int(y) for y in text.split(",")]
    except ValueError:
        raise UsageError(f"--years {text!r}: write a range such as 2018-2021 or a list such as 2019,2020") from None
    if not years or len(years) > 30:
        raise UsageError(f"--years {text!r}: give between 1 and 30 years, e.g. 2018-2021")
    if not all(1900 <= y <= 2200 for y in years):
        raise UsageError(f"--years {text!r}: years from 1900 to 2200; write e.g. 2018-2021")
    return years


def parse_coefficients(text: str) -> dict:
    """三级=1.0,二级=0.9 -> {level: coefficient}."""
    out = {}
    for part in [p for p in text.replace("，", ",").split(",") if p.strip()]:
        k, eq, v = part.partition("=")
        try:
            value = float(v)
        except ValueError:
            value = float("nan")
        if not eq or not k.strip() or not 0 < value <= 100:
            raise UsageError(f"--coefficients {text!r}: write level=coefficient pairs, e.g. 三级=1.0,二级=0.9")
        out[k.strip()] = value
    return out


def parse_outcomes(text: str) -> list[str]:
    wanted = [o.strip() for o in text.split(",") if o.strip()]
    bad = [o for o in wanted if o not in ("death", "los", "cost")]
    if bad or not wanted:
        raise UsageError(f"--outcomes {text!r}: choose from death, los, cost (comma-separated), e.g. death,los")
    return list(dict.fromkeys(wanted))
