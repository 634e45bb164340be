"""Peer-group tests with a robust between-unit variance, shared by the mortality funnel, the audit's target areas and
the cost and time index funnels: outliers set aside (Rosner's generalized ESD), then each unit's estimate against the
other units' centre and random-effects spread, read with the uncertainty of a spread estimated on few peers."""

from __future__ import annotations

import numpy as np

Z_FLAG = 3.090232306167813  # the 99.8% limit (two-sided), one-sided 99.9%


def _winsorised_second_moment(trim: float) -> float:
    """E[Z_w^2] of a standard normal Z winsorised at its ``trim`` and ``1 - trim`` quantiles."""
    from . import distributions as prob

    if trim <= 0:
        return 1.0
    c = float(prob.norm_isf(trim))
    return float((1 - 2 * trim) - 2 * c * prob.norm_pdf(c) + 2 * trim * c * c)


def _dl_tau2(y, s2, trim: float) -> tuple[float, float]:
    """(centre, tau2): the weighted mean of ``y`` winsorised at the ``trim`` quantiles and the DerSimonian-Laird
    between-unit variance on the winsorised standardised residuals (Spiegelhalter 2005's robust estimate)."""
    lo, hi = np.quantile(y, [trim, 1 - trim])
    w = 1 / s2
    c = float((w * np.clip(y, lo, hi)).sum() / w.sum())
    r = (y - c) / np.sqrt(s2)
    rlo, rhi = np.quantile(r, [trim, 1 - trim])
    # the winsorised squares over their expectation under the normal (0.679 at 10%): a winsorised variance is
    # consistent only with this factor (Wilcox 2012, "Introduction to robust estimation", 3.3); without it tau2 is a
    # third too small where hospitals truly differ, and ordinary hospitals in the tails are named
    q = float((np.clip(r, rlo, rhi) ** 2).sum()) / _winsorised_second_moment(trim)
    denom = w.sum() - (w * w).sum() / w.sum()
    return c, (max(0.0, (q - (len(y) - 1)) / denom) if denom > 0 else 0.0)


OUTLIER_ALPHA = 0.01  # the chance that the outlier step leaves any unit of an ordinary group out of its tau2


def leave_one_out_fit(y, s2, keep) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per unit (centre, tau2, the centre's variance, degrees of freedom) from the ``keep`` units other than itself:
    DerSimonian & Laird's (1986) fixed-effect-weighted centre and tau2, all units' fits at once from the sums; the
    centre's variance under random effects ``(W + tau2 * W2) / W^2``; the degrees of freedom of the spread's estimate,
    ``m - 1`` for ``m`` reference units. A unit outside ``keep`` is judged against all of ``keep``."""
    y, s2 = np.asarray(y, float), np.asarray(s2, float)
    keep = np.asarray(keep, bool)
    yk = np.where(keep, y, 0.0)  # units outside keep weigh nothing (and their NaNs reach no sum)
    w = np.where(keep, 1 / np.where(keep, s2, 1.0), 0.0)
    wy, wyy = w * yk, w * yk * yk
    W, W2, S, S2 = w.sum() - w, (w * w).sum() - w * w, wy.sum() - wy, wyy.sum() - wyy
    m = keep.sum() - keep
    with np.errstate(divide="ignore", invalid="ignore"):
        c = S / W
        denom = W - W2 / W
        t2 = np.where(denom > 0, np.maximum(0.0, (S2 - S * S / W - (m - 1)) / denom), 0.0)
        var_c = (W + t2 * W2) / (W * W)
    return c, t2, var_c, (m - 1).astype(float)


def t_to_z(r, df) -> np.ndarray:
    """The standard normal score with the tail probability of Student's t at ``r`` with ``df`` degrees of freedom
    (``df`` infinite: ``r`` itself): a unit's residual from a spread estimated on few peers is read with the
    uncertainty of that estimate (the prediction interval of Higgins, Thompson & Spiegelhalter 2009, "A re-evaluation
    of random-effects meta-analysis", JRSS A 172:137), then set on the scale of the 95% and 99.8% limits."""
    from . import distributions as prob

    r, df = np.broadcast_arrays(np.asarray(r, float), np.asarray(df, float))
    finite = np.isfinite(df) & (df > 0)
    with np.errstate(invalid="ignore"):
        tail = prob.t_sf(np.abs(np.where(finite, r, 0.0)), np.where(finite, df, 1.0))
        z = np.sign(r) * prob.norm_isf(np.asarray(tail, float))
    return np.where(finite, z, r)


def _deleted_residuals(y, s2) -> np.ndarray:
    """Each unit's externally studentised residual (Viechtbauer & Cheung 2010, "Outlier and influence diagnostics for
    meta-analysis", Res Synth Methods 1:112, ``rstudent``): its difference from the centre of the others over the
    difference's standard deviation, centre and tau2 fitted without it (:func:`leave_one_out_fit`)."""
    c, t2, var_c, _ = leave_one_out_fit(y, s2, np.ones(len(y), bool))
    return (y - c) / np.sqrt(s2 + t2 + var_c)


def robust_fit(y, s2, trim: float = 0.1, alpha: float = OUTLIER_ALPHA) -> tuple[float, float, np.ndarray]:
    """(centre, tau2, the units kept) of one peer group's estimates ``y`` (variances ``s2``), estimated without the
    units a funnel exists to find.

    Which units to leave out is Rosner's generalized extreme studentized deviate procedure (1983, "Percentage points
    for a generalized ESD many-outlier procedure", Technometrics 25:165) on the random-effects model: at each step the
    unit with the largest externally studentised residual (:func:`_deleted_residuals`: centre and tau2 from the
    others, so one large outlier cannot hide behind the tau2 it inflates) is set aside, up to half the units (three
    kept); the outliers are the first k set aside, k the last step whose residual exceeds Student's t at
    ``1 - alpha / (2m)`` with m - 2 degrees of freedom (m units in at that step: the largest of m, Bonferroni; an
    ordinary group loses any unit with probability about ``alpha``). Then DerSimonian & Laird's centre and tau2
    (1986; unwinsorised: the outliers are out) come from the units kept.

    Leaving the outlying units out of the null distribution is Ohlssen, Sharples & Spiegelhalter's (2007, "A
    hierarchical modelling framework for identifying unusual performance in health care providers", JRSS A 170:865)
    and Jones & Spiegelhalter's "in-control" units (2011, Stat Med 30:2289). Each unit's own 99.8% limit as the rule,
    as this function once had, fails small groups: among 20 ordinary hospitals the two most extreme are often 3.5
    standard deviations of the other 18 (the second simulator's null world, its most extreme drawn at +2.6 SD), the
    rule drops them and tau2 halves; the largest of n has its own critical value, and the order of Rosner's steps
    still takes out two outliers of ten that mask each other. Fewer than three units: the winsorised estimate of
    :func:`_dl_tau2` on all."""
    from .distributions import t_isf  # scipy.stats' bits without its 0.8 s import

    y, s2 = np.asarray(y, float), np.asarray(s2, float)
    n = len(y)
    keep = np.ones(n, bool)
    if n == 0:
        return float("nan"), 0.0, keep
    if n < 3:
        c, t2 = _dl_tau2(y, s2, trim)
        return c, t2, keep
    active = np.arange(n)
    removed, k = [], 0
    for step in range(n - max(3, int(np.ceil(n / 2)))):
        r = np.abs(_deleted_residuals(y[active], s2[active]))
        j = int(np.argmax(r))
        m = len(active)
        if r[j] > t_isf(alpha / (2 * m), m - 2):
            k = step + 1
        removed.append(active[j])
        active = np.delete(active, j)
    keep[removed[:k]] = False
    c, t2 = _dl_tau2(y[keep], s2[keep], 0.0)
    return c, t2, keep


def peer_test(y, s2, groups, judged, neutral: float = 0.0, trim: float = 0.1, alpha: float = OUTLIER_ALPHA) -> tuple:
    """Per unit the standardised difference of its estimate ``y`` (variance ``s2``) from its peers: per group of
    ``groups``, the outliers among its ``judged`` units set aside (:func:`robust_fit`; two gaming hospitals of ten
    otherwise widen their own limits until they pass), each unit is judged against the others kept
    (:func:`leave_one_out_fit`: no unit hides behind the spread it adds), its residual read with the uncertainty of a
    spread estimated on few peers (:func:`t_to_z`). A group of fewer than three judged units gets centre ``neutral``
    and no tau2. Returns (z, centre, tau2, df) per unit: the centre, tau2 and degrees of freedom each unit is judged
    against (df infinite where there is no tau2 to estimate)."""
    n = len(y)
    centre, tau2, var_c, df = np.full(n, np.nan), np.zeros(n), np.zeros(n), np.full(n, np.inf)
    ok_all = np.isfinite(y) & np.isfinite(s2) & (s2 > 0)
    for g in np.unique(groups):
        at = np.flatnonzero((groups == g) & ok_all)
        fit = at[judged[at]]
        if len(fit) >= 3:
            _, _, kept = robust_fit(y[fit], s2[fit], trim, alpha)
            keep = np.zeros(n, bool)
            keep[fit[kept]] = True
            centre[at], tau2[at], var_c[at], df[at] = leave_one_out_fit(y[at], s2[at], keep[at])
            df[at] = np.where(tau2[at] > 0, df[at], np.inf)  # no spread estimated: the sampling variance is known
        else:
            centre[at] = neutral
    with np.errstate(divide="ignore", invalid="ignore"):
        z = t_to_z((y - centre) / np.sqrt(s2 + tau2 + var_c), df)
    return z, centre, tau2, df
