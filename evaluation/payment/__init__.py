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
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..common import EvaluationError, align, read_toml
from ..exact import exact_sums, fen_shares, split_exact
from . import classes as payment_classes
from .classes import CLASSES, REGISTRY, Terms

# the classes are registered objects (evaluation.payment.classes); drg pay gives a case without a year this one
NO_YEAR = CLASSES.index("no_year")
# the classes of settled cases (a ``no_year`` case is listed in the per-case table, paid 0, in no year's settlement)
SETTLED_CLASSES = tuple(c.name for c in REGISTRY if c.settled)

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


# -- integer fen ---------------------------------------------------------------------------------------

FEN_MAX = 2 ** 62  # any one amount in fen, checked before conversion: sums of a few of them still fit int64


def to_fen(yuan) -> np.ndarray:
    """Yuan -> integer fen, rounded half up; NaN -> 0. An amount whose fen would not fit (beyond ±2**62 fen, i.e.
    an absurd rate or cost that got past the bounds) is :class:`EvaluationError` naming it, never a wrapped-around
    int64."""
    fen = np.nan_to_num(np.asarray(yuan, dtype=float), nan=0.0, posinf=np.inf, neginf=-np.inf) * 100.0
    bad = ~(np.abs(fen) < FEN_MAX)
    if bad.any():
        v = float(np.asarray(yuan, dtype=float).ravel()[np.flatnonzero(bad.ravel())[0]])
        raise EvaluationError(f"an amount of {v:g} yuan is beyond what integer fen hold; check the budget, the "
                              "base rate's basis and the costs (a case costs at most 1e12 yuan)")
    return round_half_up(fen)


def allocate_fen(total_fen: int, shares: np.ndarray, keys) -> np.ndarray:
    """Split ``total_fen`` (an integer) over items in proportion to ``shares`` (>= 0): largest-remainder
    method (Hamilton), remainders compared in units of 2**-32 fen, ties to the smaller key. Sums to ``total_fen``
    exactly; independent of the items' order. The shares' sum is exact (:func:`evaluation.exact.exact_sums`) and
    each quotient is computed in double-double arithmetic (:func:`evaluation.exact.fen_shares`), so the fen go
    where exact arithmetic puts them."""
    shares = np.asarray(shares, dtype=float)
    n = len(shares)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    exact = exact_sums(shares, np.zeros(n, np.int64), {}).get(0, 0) if np.isfinite(shares).all() else 0
    if not exact > 0:
        raise EvaluationError("nothing to share the budget over (every share is 0)")
    s_hi, s_lo = split_exact(exact)
    base, rem = fen_shares(shares, s_hi, s_lo, float(total_fen))
    left = int(total_fen - int(base.sum()))
    while left < 0:  # a quotient within ~1e-18 of a whole number floored one too high (never in practice)
        i = int(np.argmin(np.where(base > 0, rem, np.iinfo(np.int64).max)))
        base[i] -= 1
        rem[i] += 1 << 32
        left += 1
    if left >= n:  # the same, the other way
        base += left // n
        left %= n
    if left:
        base[_largest(rem, keys, left)] += 1
    return base


def _largest(rem: np.ndarray, keys, k: int) -> np.ndarray:
    """Indices of the ``k`` largest remainders; among equal remainders the smaller keys first."""
    n = len(rem)
    t = np.partition(rem, n - k)[n - k]  # the k-th largest value
    above = np.flatnonzero(rem > t)
    tied = np.flatnonzero(rem == t)
    need = k - len(above)
    if need < len(tied):
        tied_keys = np.asarray(keys, dtype=object)[tied].astype(str)
        tied = tied[np.argsort(tied_keys, kind="stable")][:need]
    return np.concatenate([above, tied])


def round_half_up(x) -> np.ndarray:
    """Whole numbers (int64), halves rounded up."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)


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


# -- settlement ----------------------------------------------------------------------------------------

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
