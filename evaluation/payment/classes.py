"""The payment classes of a case (methodology sections 4.2-4.4), registered by name like the grouper's rule atoms.

Each :class:`PaymentClass` says which cases it takes (classes are tried in :data:`REGISTRY` order; the first that
takes a case is its class, ``normal`` takes the rest), what it pays under the point method (points) and the rate
method (``a`` weight units at the base rate plus ``b`` yuan whatever the rate), its words in the tables and in
``drg explain``, and how a synthetic world produces such cases (``plant``; ``tests/test_payment_classes.py`` checks
that each plant makes its class). :func:`classify`, :func:`case_points` and :func:`rate_terms` -- used by the per-case
settlement, drg pay's streamed passes and the one-case estimate alike -- and the tables' words read the registry, so
a new class is one entry here plus its plant.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass
class Terms:
    """What the classes' rules read, per case: usable cost (NaN where not) and stay, whether it was grouped and has a
    weight, its weight ``rw``, coefficient ``K``, DRG mean cost, the pooled mean cost, the high-cost multiple ``k_hi``,
    the run's :class:`~evaluation.payment.PaymentConfig`, whether it is an accepted special review, and its leaving
    type (text, or None)."""

    cost: np.ndarray
    los: np.ndarray
    grouped: np.ndarray
    rw: np.ndarray
    mean_g: np.ndarray
    cfg: object
    special: np.ndarray
    leaving_type: np.ndarray | None = None
    K: np.ndarray | None = None
    pooled: float = float("nan")

    def __post_init__(self):
        self.k_hi = k_hi_for(self.rw, self.cfg)
        self.has_w = self.grouped & np.isfinite(self.rw) & np.isfinite(self.mean_g) & (self.mean_g > 0)
        self.costed = np.isfinite(self.cost)
        self.cost0 = np.nan_to_num(self.cost, nan=0.0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            self.ratio = self.cost / self.mean_g
            self.high = self.cost > self.k_hi * self.mean_g
            self.low = self.cost < self.cfg.k_lo * self.mean_g
        if self.cfg.short_stay_days is not None and self.leaving_type is not None:
            short = (self.los <= self.cfg.short_stay_days) & (self.leaving_type != "5") & (self.leaving_type != "2")
            self.low = self.low | (short & ~self.high)

    # what the classes pay, shared by several of them
    def standard_points(self) -> np.ndarray:
        return 100.0 * self.rw * self.K

    def cost_points(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return 100.0 * self.cost0 / self.pooled

    def units(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return self.rw * self.K

    def fallback(self) -> tuple:
        """A case paid by the fallback (not grouped, no weight): cost-ratio points, or at cost."""
        zero = np.zeros(len(self.cost))
        if self.cfg.fallback == "points":
            with np.errstate(invalid="ignore", divide="ignore"):
                return self.cost0 / self.pooled, zero
        return zero, self.cost0


def k_hi_for(rw: np.ndarray, cfg) -> np.ndarray:
    """The high-cost multiple per case: the configured one, else by weight (3 up to 100 points, 2 up to 300, 1.5)."""
    if cfg.k_hi is not None:
        return np.full(len(rw), float(cfg.k_hi))
    pts = 100.0 * rw
    return np.where(pts <= 100, 3.0, np.where(pts <= 300, 2.0, 1.5))


def _high_points(t: Terms) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return t.standard_points() + (t.ratio - t.k_hi) * (100.0 * t.rw)


def _low_points(t: Terms) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return 100.0 * t.rw * np.minimum(1.0, t.ratio)


def _low_rate(t: Terms) -> tuple:
    if t.cfg.low_pay == "proportional":
        with np.errstate(invalid="ignore"):
            return t.units() * np.minimum(1.0, t.ratio), np.zeros(len(t.cost))
    return np.zeros(len(t.cost)), t.cost0


def _high_rate(t: Terms) -> tuple:
    with np.errstate(invalid="ignore"):
        return t.units(), t.cfg.phi_hi * (t.cost - t.k_hi * t.mean_g)


@dataclasses.dataclass(frozen=True)
class PaymentClass:
    """One payment class: ``takes(terms)`` the cases it takes (None: every case no earlier class took), ``points`` and
    ``rate`` what it pays, ``zh`` / ``en`` its value in the tables, ``cases_zh`` the header of its case count,
    ``explain_zh`` / ``explain_en`` how ``drg explain`` names it, ``plant`` how a synthetic world makes such cases (a
    key of ``tests/test_payment_classes.py``'s plants), ``settled`` whether its cases are in a year's settlement."""

    name: str
    takes: Callable | None
    points: Callable
    rate: Callable
    zh: str
    en: str
    cases_zh: str
    explain_zh: str
    explain_en: str
    plant: str
    settled: bool = True


REGISTRY = (
    PaymentClass("not_grouped", lambda t: ~t.grouped, Terms.cost_points, Terms.fallback, "未入组", "not grouped", "未入组病例数",
                 "未入组，按项目付费", "not grouped: paid by the fallback", "ungroupable"),
    PaymentClass("special_review", lambda t: t.grouped & t.special & t.costed, Terms.cost_points,
                 lambda t: (np.zeros(len(t.cost)), t.cost0), "特病单议", "special review", "特病单议病例数", "特病单议",
                 "special review: paid at cost", "special_review_list"),
    PaymentClass("no_weight", lambda t: t.grouped & ~t.has_w, Terms.cost_points, Terms.fallback, "无权重", "no weight",
                 "无权重病例数", "无权重", "no weight: paid by the fallback", "unpriced_drg"),
    PaymentClass("no_cost", lambda t: t.has_w & ~t.costed, Terms.standard_points,
                 lambda t: (t.units(), np.zeros(len(t.cost))), "无有效费用", "no usable cost", "无费用病例数",
                 "无费用，按标准付费", "no usable cost: paid the DRG's standard", "blank_cost"),
    PaymentClass("long_stay", lambda t: t.has_w & (t.los > t.cfg.los_max), Terms.cost_points,
                 lambda t: (np.zeros(len(t.cost)), t.cfg.psi_long * t.cost0), "长住院", "long stay", "长住院病例数", "长住院",
                 "long stay", "long_stay"),
    PaymentClass("high_cost", lambda t: t.has_w & t.high, _high_points, _high_rate, "高倍率", "high cost", "高倍率病例数",
                 "高倍率病例", "high-cost case", "cost_tail"),
    PaymentClass("low_cost", lambda t: t.has_w & t.low, _low_points, _low_rate, "低倍率", "low cost", "低倍率病例数", "低倍率病例",
                 "low-cost case", "cost_tail"),
    PaymentClass("normal", None, Terms.standard_points, lambda t: (t.units(), np.zeros(len(t.cost))), "正常", "normal",
                 "正常病例数", "正常病例", "normal case", "ordinary"),
    # listed in the per-case table, paid 0, in no year's settlement (drg pay assigns it; no rule takes a case)
    PaymentClass("no_year", lambda t: np.zeros(len(t.cost), bool), lambda t: np.zeros(len(t.cost)),
                 lambda t: (np.zeros(len(t.cost)), np.zeros(len(t.cost))), "无年度未结算", "no year", "无年度病例数",
                 "无年度，未结算", "no year: not settled", "blank_year", settled=False),
)
BY_NAME = {c.name: c for c in REGISTRY}
CLASSES = tuple(c.name for c in REGISTRY)
_RULED = [i for i, c in enumerate(REGISTRY) if c.takes is not None and c.settled]
_DEFAULT = next(i for i, c in enumerate(REGISTRY) if c.takes is None)


def classify(t: Terms) -> np.ndarray:
    """One class per case (index into :data:`CLASSES`): the first class in order that takes it, else ``normal``."""
    return np.select([REGISTRY[i].takes(t) for i in _RULED], _RULED, _DEFAULT).astype(np.int8)


def case_points(code: np.ndarray, t: Terms) -> np.ndarray:
    """Points per case (section 4.4; 0 where a cost-ratio case has no cost)."""
    pts = np.select([code == i for i in range(len(REGISTRY))], [c.points(t) for c in REGISTRY], 0.0)
    return np.nan_to_num(pts, nan=0.0, posinf=0.0, neginf=0.0)


def rate_terms(code: np.ndarray, t: Terms) -> tuple[np.ndarray, np.ndarray]:
    """Each case's payment is ``a·r + b`` (rate method, section 4.3): ``a`` weight units at the base rate ``r``,
    ``b`` yuan paid whatever the rate."""
    terms = [c.rate(t) for c in REGISTRY]
    at = [code == i for i in range(len(REGISTRY))]
    a = np.select(at, [x[0] for x in terms], 0.0)
    b = np.select(at, [x[1] for x in terms], 0.0)
    return np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=0.0)
