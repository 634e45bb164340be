"""Peer-group tests with a robust between-unit variance, shared by the audit's target areas and the cost and time
index funnels: each unit's estimate against its peers' centre, with random effects estimated without the units the
test would flag."""

from __future__ import annotations

import numpy as np

Z_FLAG = 3.090232306167813  # the 99.8% limit (two-sided), one-sided 99.9%


def qn_scale(x) -> float:
    """Rousseeuw & Croux (1993, "Alternatives to the median absolute deviation", JASA 88:1273) Qn: 2.2219 times the
    k-th smallest of the |x_i - x_j| (i < j), k = C(h, 2), h = n // 2 + 1: the standard deviation of normal data, with
    a 50% breakdown point like the MAD's but 82% efficiency instead of 37% (so the start of the robust rounds does not
    cut ordinary units' tails). O(n^2) time and memory: fine for the hundreds of units of a peer group."""
    x = np.sort(np.asarray(x, float)[np.isfinite(x)])
    n = len(x)
    if n < 2:
        return float("nan")
    h = n // 2 + 1
    k = h * (h - 1) // 2
    d = np.concatenate([x[i + 1:] - x[i] for i in range(n - 1)])
    return float(2.2219 * np.partition(d, k - 1)[k - 1])


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


def peer_test(y, s2, groups, judged, neutral: float = 0.0, trim: float = 0.1) -> tuple:
    """Per unit the standardised difference of its estimate ``y`` (variance ``s2``) from its peer group's,
    with random effects: per group of ``groups``, over its ``judged`` units, the centre and tau2 of :func:`_dl_tau2`,
    estimated without the units it would flag: the first cut comes from a robust scale of the standardised residuals
    (Rousseeuw & Croux's Qn, :func:`qn_scale`), then the units beyond the 99.8% limits (|z| > 3.09) are
    left out and the plain estimate (no winsorising: the outliers are out) repeated until the set kept stops changing
    (at least half the units; winsorising the kept units again would cut ordinary hospitals' tails twice; the approach of
    :func:`evaluation.outcomes.robust_tau2`: Ohlssen, Sharples & Spiegelhalter 2007). Two gaming hospitals of ten
    otherwise widen their own limits until they pass. A group of fewer than three units gets centre ``neutral``
    and no tau2. Returns (z, centre, tau2) per unit."""
    z, centre, tau2 = np.full(len(y), np.nan), np.full(len(y), np.nan), np.zeros(len(y))
    ok_all = np.isfinite(y) & np.isfinite(s2) & (s2 > 0)
    for g in np.unique(groups):
        at = np.flatnonzero((groups == g) & ok_all)
        fit = at[judged[at]]
        c, t2 = neutral, 0.0
        if len(fit) >= 3:
            c, t2 = _dl_tau2(y[fit], s2[fit], trim)
            w = 1 / s2[fit]
            scale = qn_scale((y[fit] - np.median(y[fit])) / np.sqrt(s2[fit]))
            denom = w.sum() - (w * w).sum() / w.sum()
            if denom > 0:  # the robust start: it only chooses the units of the first re-estimate
                t2 = max(0.0, (len(fit) * scale ** 2 - (len(fit) - 1)) / denom)
            keep = None  # the first round always re-estimates, on the units the robust start keeps
            for _ in range(10):
                inside = np.abs(y[fit] - c) / np.sqrt(s2[fit] + t2) <= Z_FLAG
                if inside.sum() < max(3, int(np.ceil(len(fit) / 2))) or (keep is not None and (inside == keep).all()):
                    break
                keep = inside
                c, t2 = _dl_tau2(y[fit][keep], s2[fit][keep], 0.0)  # the outliers are out: no second robustification
        centre[at], tau2[at] = c, t2
        z[at] = (y[at] - c) / np.sqrt(s2[at] + t2)
    return z, centre, tau2
