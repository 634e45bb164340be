"""Risk-adjusted mortality: expected deaths by indirect standardisation, O/E with exact Poisson
intervals, funnel-plot control limits (methodology.md section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .common import align

Z95, Z998 = 1.959964, 3.090232


def poisson_ci(observed, expected, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) CI of O/E with O Poisson and E fixed (section 5.2)."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, lo / e, np.nan), np.where(e > 0, hi / e, np.nan)


def poisson_funnel_limit(expected, p: float) -> np.ndarray:
    """Exact Poisson control limit for O/E at probability ``p``, interpolated (section 5.3)."""
    e = np.asarray(expected, dtype=float)
    out = np.full(e.shape, np.nan)
    ok = e > 0
    ee = e[ok]
    r = stats.poisson.ppf(p, ee)  # smallest r with F(r) >= p
    f_r = stats.poisson.cdf(r, ee)
    f_prev = np.where(r > 0, stats.poisson.cdf(r - 1, ee), 0.0)
    a = (f_r - p) / (f_r - f_prev)
    out[ok] = (r - a) / ee
    return out


def overdispersion_phi(observed, expected) -> float:
    """Multiplicative over-dispersion factor of O/E around 1 (section 5.3, Spiegelhalter 2005).

    ``z_h = (O_h/E_h - 1) / sqrt(1/E_h)`` over units with ``E_h > 0``, winsorised at their
    10th/90th percentiles; ``phi = mean(z^2)``. ``nan`` without any unit."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = e > 0
    if not ok.any():
        return float("nan")
    z = (o[ok] / e[ok] - 1.0) * np.sqrt(e[ok])
    lo, hi = np.percentile(z, [10, 90])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


def widen(limit, phi: float):
    """A control limit of O/E with its half-width (distance from the target 1) times sqrt(phi)
    when ``phi > 1``; never below 0."""
    limit = np.asarray(limit, dtype=float)
    if not (phi > 1):
        return limit
    return np.maximum(1.0 + (limit - 1.0) * np.sqrt(phi), 0.0)


def standardized_mortality(cases: pd.DataFrame, *, reference: pd.DataFrame | None = None, by: str = "hospital_id",
                           min_cases_ref: int = 1, exclude_transfers: bool = False, overdispersion: bool = False) -> pd.DataFrame:
    """O, E, O/E, exact 95% CI and funnel limits/flags per unit (sections 5.1-5.3).

    ``funnel_flag``: ``alarm_high`` above the upper 99.8% limit, ``alert_high`` between the upper 95%
    and 99.8% limits, ``alert_low``/``alarm_low`` symmetrically, ``within`` otherwise, ``no_expected``
    when E = 0. With ``overdispersion`` the limits are widened by ``sqrt(phi)`` when the units vary
    more than Poisson chance allows (``phi`` > 1, column ``phi``): with tens of thousands of cases per
    hospital, small real differences in case mix otherwise put most large hospitals outside the funnel.
    """
    ref = cases if reference is None else reference
    inc = cases[cases["included"]]
    ref_inc = ref[ref["included"]]
    if exclude_transfers:
        inc = inc[inc["leaving_type"] != "2"]
        ref_inc = ref_inc[ref_inc["leaving_type"] != "2"]
    g = ref_inc.groupby("drg", observed=True)
    n_ref = g.size()
    p = (g["died"].sum() / n_ref)[n_ref >= min_cases_ref]
    pg = inc["drg"].map(p).astype(float)
    has = pg.notna()
    grp = inc.groupby(by, observed=True)
    out = pd.DataFrame({"cases": grp.size()})
    out["dropped_cases"] = align((~has).groupby(inc[by], observed=True).sum(), out.index, 0).astype(np.int64)
    out["observed"] = align(inc.loc[has, "died"].groupby(inc.loc[has, by]).sum(), out.index, 0).astype(np.int64)
    out["expected"] = align(pg[has].groupby(inc.loc[has, by], observed=True).sum(), out.index, 0.0)
    e = out["expected"].to_numpy()
    o = out["observed"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["oe_ratio"] = np.where(e > 0, o / e, np.nan)
    out["oe_low"], out["oe_high"] = poisson_ci(o, e)
    phi = overdispersion_phi(o, e) if overdispersion else 1.0
    out["limit95_low"] = widen(poisson_funnel_limit(e, 0.025), phi)
    out["limit95_high"] = widen(poisson_funnel_limit(e, 0.975), phi)
    out["limit998_low"] = widen(poisson_funnel_limit(e, 0.001), phi)
    out["limit998_high"] = widen(poisson_funnel_limit(e, 0.999), phi)
    if overdispersion:
        out["phi"] = phi
    r = out["oe_ratio"]
    out["funnel_flag"] = np.select(
        [e <= 0, r > out["limit998_high"], r > out["limit95_high"], r < out["limit998_low"], r < out["limit95_low"]],
        ["no_expected", "alarm_high", "alert_high", "alarm_low", "alert_low"], "within")
    out.index.name = by
    return out.reset_index()


def funnel_curve(max_expected: float, points: int = 200, phi: float = 1.0) -> pd.DataFrame:
    """Control limits of the O/E funnel for E from near 0 to ``max_expected`` (for charts);
    ``phi`` > 1 widens them as :func:`standardized_mortality` does."""
    e = np.linspace(max(max_expected / points, 0.05), max(max_expected, 0.1) * 1.05, points)
    return pd.DataFrame({"expected": e, **{name: widen(poisson_funnel_limit(e, p), phi) for name, p in
                         (("limit95_low", 0.025), ("limit95_high", 0.975), ("limit998_low", 0.001), ("limit998_high", 0.999))}})
