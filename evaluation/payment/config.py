"""drg pay's rules and limits: :class:`PaymentConfig` (every field checked where it is set or read from TOML) and the
money bounds that keep every amount in int64 fen (methodology.md section 4)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..common import EvaluationError, read_toml

# Money bounds. Amounts are int64 fen (at most 9.2e18); these bounds keep every per-case amount and every sum
# of them far inside that range, so no conversion or sum can wrap around.
BUDGET_MIN_YUAN = 1.0
BUDGET_MAX_YUAN = 1e13  # ten trillion yuan a year: above any region's DRG fund
# a case's total cost above evaluation.common.COST_MAX_YUAN (1e12) is not a usable cost, like NaN or infinity
SUM_MAX_YUAN = 4e16  # the costs or payments of a period together (4e18 fen, under int64's 9.2e18)


def usable_self_pay(v) -> np.ndarray:
    """Self-pay amounts, an unusable one (missing, NaN, infinite, negative or above a case's cost bound) as 0."""
    from ..common import COST_MAX_YUAN, within

    return within(np.asarray(v, dtype=float), 0.0, COST_MAX_YUAN, fill=0.0)


def check_budget(value, where: str = "budget") -> float:
    """``value`` as a budget in yuan, or :class:`EvaluationError` naming it: a finite number between
    :data:`BUDGET_MIN_YUAN` and :data:`BUDGET_MAX_YUAN`."""
    try:
        b = float(value)
    except (TypeError, ValueError):
        b = float("nan")
    if isinstance(value, bool) or not (BUDGET_MIN_YUAN <= b <= BUDGET_MAX_YUAN):
        raise EvaluationError(f"{where} {value!r}: a budget must be a number of yuan between {BUDGET_MIN_YUAN:g} and "
                              f"{BUDGET_MAX_YUAN:g}; write e.g. 1.2e9")
    return b


def check_cost_total(cost: np.ndarray, total: float | None = None) -> None:
    """:class:`EvaluationError` when the usable costs of a period (``cost``: NaN where unusable; or their ``total``)
    sum past :data:`SUM_MAX_YUAN`: beyond it a sum of costs in fen could overflow int64."""
    t = float(np.nansum(cost)) if total is None else total
    if not t <= SUM_MAX_YUAN:
        raise EvaluationError(f"the costs total {t:,.0f} yuan, more than the {SUM_MAX_YUAN:g} yuan that sums in integer "
                              "fen hold; check the total_cost column (its unit is yuan)")


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# every PaymentConfig field: (kind, low, high) for numbers (inclusive; low exclusive when kind ends in ">"),
# the allowed words for text, "factors" for {id: factor}; None allowed where the default is None
CONFIG_FIELDS = {
    "method": ("choice", ("rate", "points")),
    "coefficients": ("factors", 0.0, 100.0),
    "quality_factors": ("factors", 0.0, 100.0),
    "los_max": ("int", 1, 3650),
    "k_lo": ("number>", 0.0, 1.0),
    "k_hi": ("number>", 1.0, 1000.0),
    "phi_hi": ("number", 0.0, 10.0),
    "psi_long": ("number", 0.0, 10.0),
    "low_pay": ("choice", ("proportional", "item")),
    "fallback": ("choice", ("item", "points")),
    "rate_basis": ("choice", ("balance", "volume")),
    "growth": ("number>", -1.0, 100.0),
    "short_stay_days": ("int", 0, 3650),
    "special_review_cap": ("number", 0.0, 1.0),
    "advance_ratio": ("number", 0.0, 1.0),
    "s_keep": ("number", 0.0, 1.0),
    "s_share": ("number", 0.0, 1.0),
    "tau": ("number", 0.0, 1.0),
}
_NONE_ALLOWED = {"k_hi", "short_stay_days"}


def check_field(name: str, value) -> None:
    """:class:`EvaluationError` naming ``name`` and the values allowed when ``value`` is not one of them."""
    spec = CONFIG_FIELDS[name]
    kind = spec[0]
    if value is None and name in _NONE_ALLOWED:
        return
    if kind == "choice":
        if value not in spec[1]:
            raise EvaluationError(f"{name}={value!r}: not allowed; use one of {', '.join(spec[1])}")
        return
    if kind == "factors":
        if not isinstance(value, dict):
            raise EvaluationError(f"{name}={value!r}: not a table; write name = factor lines, e.g. {name} = {{tertiary = 1.1}}")
        for k, v in value.items():
            if not str(k).strip():
                raise EvaluationError(f"{name}: an entry has a blank name; give every entry a level or hospital id")
            if not (_finite_number(v) and spec[1] < v <= spec[2]):
                raise EvaluationError(f"{name}.{k}={v!r}: out of range; write a number above {spec[1]:g} and at most {spec[2]:g}")
        return
    lo, hi = spec[1], spec[2]
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        if not ok:
            raise EvaluationError(f"{name}={value!r}: out of range; write a whole number from {lo} to {hi}")
        return
    above = kind.endswith(">")
    ok = _finite_number(value) and (lo < value if above else lo <= value) and value <= hi
    if not ok:
        raise EvaluationError(f"{name}={value!r}: out of range; write a number {'above' if above else 'from'} {lo:g} "
                              f"{'and at most' if above else 'to'} {hi:g}")


@dataclass
class PaymentConfig:
    """Parameters of section 4 (defaults of the sheet); any field can come from a TOML file."""

    method: str = "points"  # "rate" or "points"
    coefficients: dict = field(default_factory=lambda: {"tertiary": 1.0, "secondary": 1.0, "primary": 1.0})
    quality_factors: dict = field(default_factory=dict)  # hospital_id -> factor on K_h (option)
    los_max: int = 60
    k_lo: float = 0.4
    k_hi: float | None = None  # None: by base points (<=100: 3, <=300: 2, >300: 1.5)
    phi_hi: float = 1.0
    psi_long: float = 1.0
    low_pay: str = "proportional"  # or "item"
    fallback: str = "item"  # not grouped, rate method: "item" (pay cost) or "points" (100 c / c*, times v)
    rate_basis: str = "balance"  # rate method: "balance" (payments incl. outliers = budget) or "volume" (sheet 4.1)
    growth: float = 0.0  # rate_basis="volume": projected volume = counts x (1 + growth)
    short_stay_days: int | None = None  # option: los <= this (not died, not transferred) is paid as low cost
    special_review_cap: float = 0.05  # share of a hospital's grouped cases that special review may take
    advance_ratio: float = 0.9  # monthly advance = this x the month's provisional amount
    s_keep: float = 1.0
    s_share: float = 0.0
    tau: float = 0.10

    @classmethod
    def from_toml(cls, path: str) -> "PaymentConfig":
        data = read_toml(path, "--config", "[payment] k_lo = 0.4")
        data = data.get("payment", data)
        if not isinstance(data, dict):
            raise EvaluationError(f"{path}: [payment] must be a table of key = value lines")
        known = set(cls.__dataclass_fields__)
        bad = sorted(map(str, set(data) - known))
        if bad:
            raise EvaluationError(f"{path}: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        return cls(**data)

    def check(self) -> None:
        """Every field against its type, range or allowed words (:data:`CONFIG_FIELDS`), whatever set it: the defaults,
        ``--config`` TOML, a ``--quality-factors`` CSV, ``--method``/``--rate-basis`` or a ``--scenario``."""
        for name in CONFIG_FIELDS:
            check_field(name, getattr(self, name))
