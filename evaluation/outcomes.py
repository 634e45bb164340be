"""Risk-adjusted mortality: expected deaths by indirect standardisation, O/E with exact Poisson
intervals, funnel-plot control limits (methodology.md section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

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


def standardized_mortality(cases: pd.DataFrame, *, reference: pd.DataFrame | None = None, by: str = "hospital_id",
                           min_cases_ref: int = 1, exclude_transfers: bool = False) -> pd.DataFrame:
    """O, E, O/E, exact 95% CI and funnel limits/flags per unit (sections 5.1-5.3).

    ``funnel_flag``: ``alarm_high`` above the upper 99.8% limit, ``alert_high`` between the upper 95%
    and 99.8% limits, ``alert_low``/``alarm_low`` symmetrically, ``within`` otherwise, ``no_expected``
    when E = 0.
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
    out["dropped_cases"] = (~has).groupby(inc[by], observed=True).sum().reindex(out.index).fillna(0).astype(np.int64)
    out["observed"] = inc.loc[has, "died"].groupby(inc.loc[has, by]).sum().reindex(out.index).fillna(0).astype(np.int64)
    out["expected"] = pg[has].groupby(inc.loc[has, by], observed=True).sum().reindex(out.index).fillna(0.0)
    e = out["expected"].to_numpy()
    o = out["observed"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["oe_ratio"] = np.where(e > 0, o / e, np.nan)
    out["oe_low"], out["oe_high"] = poisson_ci(o, e)
    out["limit95_low"] = poisson_funnel_limit(e, 0.025)
    out["limit95_high"] = poisson_funnel_limit(e, 0.975)
    out["limit998_low"] = poisson_funnel_limit(e, 0.001)
    out["limit998_high"] = poisson_funnel_limit(e, 0.999)
    r = out["oe_ratio"]
    out["funnel_flag"] = np.select(
        [e <= 0, r > out["limit998_high"], r > out["limit95_high"], r < out["limit998_low"], r < out["limit95_low"]],
        ["no_expected", "alarm_high", "alert_high", "alarm_low", "alert_low"], "within")
    out.index.name = by
    return out.reset_index()


def funnel_curve(max_expected: float, points: int = 200) -> pd.DataFrame:
    """Control limits of the O/E funnel for E from near 0 to ``max_expected`` (for charts)."""
    e = np.linspace(max(max_expected / points, 0.05), max(max_expected, 0.1) * 1.05, points)
    return pd.DataFrame({"expected": e, "limit95_low": poisson_funnel_limit(e, 0.025), "limit95_high": poisson_funnel_limit(e, 0.975),
                         "limit998_low": poisson_funnel_limit(e, 0.001), "limit998_high": poisson_funnel_limit(e, 0.999)})
