"""DIP: each case's points -- the group's score, the severity adjustment, the level coefficient and the cost
deviation rule (费用超高 / 费用超低病例)."""

from __future__ import annotations

import numpy as np

from .keys import age_tier, cci_tier, tier_tables
from .matching import Matcher

# -- points --------------------------------------------------------------------------------------------------------
DEVIATION = ("normal", "high", "low", "no_group")
DEVIATION_ZH = {"normal": "正常病例", "high": "费用超高病例", "low": "费用超低病例", "no_group": "未入组"}


def severity_adjustment(cat, group: np.ndarray, cci: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Each case's severity adjustment: the product of its CCI tier's and age tier's (1 where none is listed).
    ``cat``: a catalogue dict, or a :class:`Matcher` (its tables built once)."""
    tables = cat.tiers if isinstance(cat, Matcher) else tier_tables(cat)
    out = np.ones(len(group), float)
    for dim, values in (("cci", cci_tier(cci)), ("age", age_tier(age))):
        ok = (group >= 0) & (values >= 0)
        out[ok] *= tables[dim][group[ok], values[ok]]
    return out


def case_points(score: np.ndarray, mean: np.ndarray, cost: np.ndarray, adjustment: np.ndarray, coefficient: np.ndarray,
                high: float = 2.0, low: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(points, deviation class index into :data:`DEVIATION`) per case; ``score``/``mean`` NaN for a case in no
    group (0 points). A case without a usable cost is a normal case."""
    ratio = cost / mean
    cls = np.where(~np.isfinite(score), 3, np.where(ratio > high, 1, np.where(ratio < low, 2, 0)))
    base = np.where(cls == 1, score * (ratio - high + 1.0), np.where(cls == 2, score * ratio, score))
    points = np.where(cls == 3, 0.0, base * adjustment * coefficient)
    return points, cls.astype(np.int8)
