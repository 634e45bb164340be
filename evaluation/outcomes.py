"""Risk-adjusted mortality: expected deaths by indirect standardisation, O/E with exact Poisson
intervals, funnel-plot control limits (methodology.md section 5)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from . import distributions as dist
from .common import align
from .peers import leave_one_out_fit, peer_test, robust_fit, t_to_z

Z95, Z998 = 1.959964, 3.090232


def poisson_ci(observed, expected, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) CI of O/E with O Poisson and E fixed (section 5.2)."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    lo = np.where(o > 0, dist.chi2_ppf(alpha / 2, 2 * np.maximum(o, 1e-300)) / 2, 0.0)
    hi = dist.chi2_ppf(1 - alpha / 2, 2 * o + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, lo / e, np.nan), np.where(e > 0, hi / e, np.nan)


def poisson_funnel_limit(expected, p: float) -> np.ndarray:
    """Exact Poisson control limit for O/E at probability ``p``, interpolated (section 5.3)."""
    e = np.asarray(expected, dtype=float)
    out = np.full(e.shape, np.nan)
    ok = e > 0
    ee = e[ok]
    r = dist.poisson_ppf(p, ee)  # smallest r with F(r) >= p
    f_r = dist.poisson_cdf(r, ee)
    f_prev = np.where(r > 0, dist.poisson_cdf(r - 1, ee), 0.0)
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


def random_effects_tau2(observed, expected, trim: float = 0.1) -> tuple[float, float]:
    """(phi, tau2) of the additive random-effects funnel (Spiegelhalter 2005, "Funnel plots for comparing
    institutional performance", Stat Med 24:1185; the method of NHS SHMI and FunnelPlotR's default
    ``sr_method = "SHMI"``).

    ``z_h = sqrt(E_h) · log(O_h / E_h)`` (a unit with O = 0 counts as O = 0.5), winsorised at the
    ``trim`` and ``1 - trim`` quantiles; ``phi = mean(z_w^2)``; DerSimonian–Laird
    ``tau2 = max(0, (n·phi − (n − 1)) / (ΣE − ΣE²/ΣE))`` (the weights 1/s² are E on the log scale)."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    ok = e > 0
    n = int(ok.sum())
    if n < 2:
        return float("nan"), 0.0
    oo, ee = np.maximum(o[ok], 0.5), e[ok]
    z = np.sqrt(ee) * np.log(oo / ee)
    lo, hi = np.quantile(z, [trim, 1 - trim])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    if n * phi < n - 1:
        return phi, 0.0
    tau2 = max(0.0, (n * phi - (n - 1)) / (ee.sum() - (ee ** 2).sum() / ee.sum()))
    return phi, float(tau2)


OD_TEST_ALPHA = 0.05  # "auto": random-effects limits when the test of no over-dispersion rejects at this level


def log_oe(observed, expected) -> tuple[np.ndarray, np.ndarray]:
    """(log O/E, its variance 1/E) of units with E > 0 (NaN for the others), a unit with O = 0 counted as O = 0.5: the
    scale of the random-effects funnel (Spiegelhalter 2005)."""
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    pos = e > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pos, np.log(np.maximum(o, 0.5) / e), np.nan), 1.0 / np.where(pos, e, 1.0)


def robust_tau2(observed, expected, trim: float = 0.1) -> tuple[float, float, np.ndarray]:
    """(phi, tau2, the units used): the between-unit variance of log O/E estimated without the outlying units
    (:func:`evaluation.peers.robust_fit` on ``y = log(max(O, 0.5) / E)``, ``s2 = 1/E``: Rosner's generalized ESD on
    the externally studentised residuals at 1%, then DerSimonian-Laird about the weighted mean of the units kept);
    ``phi`` is Spiegelhalter (2005)'s winsorised one over the units used (the over-dispersion test of
    :func:`overdispersion_p`). The funnel then judges each unit against the kept units other than itself
    (:func:`_funnel_by_group`).

    Why not Spiegelhalter's winsorised tau2 itself (:func:`random_effects_tau2`): it is not consistent. Winsorising at
    the 10th/90th percentiles keeps 68% of a normal's second moment, and the z-scores are taken about the target, not
    the group's centre; on the second simulator's 20 tertiary hospitals (issue scale, true tau2 0.0225) it gives
    0.0045-0.0064 and names ordinary hospitals 1.8 SD from the mean. With one or two outliers of ten it goes the other
    way (0.089), and the outlier passes. The robust fit gives 0.0158 (null world, all 20 kept) and 0.0144 (planted
    world, the outlier set aside) and names only the planted outlier."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    at = np.flatnonzero(e > 0)
    keep = np.zeros(len(e), bool)
    if len(at) < 2:
        return float("nan"), 0.0, e > 0
    y, s2 = log_oe(o[at], e[at])
    _, tau2, kept = robust_fit(y, s2, trim)
    keep[at[kept]] = True
    phi, _ = random_effects_tau2(o[keep], e[keep], trim)
    return phi, float(tau2), keep


def overdispersion_p(phi: float, n: int) -> float:
    """P-value of the test of no over-dispersion: n·phi against chi-squared with n − 1 degrees of freedom
    (Spiegelhalter 2005, section 6: under the Poisson model the z-scores are N(0, 1), so n·phi ~ chi²(n−1))."""
    if not (n > 1 and phi == phi):
        return float("nan")
    from .distributions import chi2_sf  # scipy.stats' bits without its 0.8 s import

    return float(chi2_sf(n * phi, n - 1))


def additive_limit(expected, z: float, tau2: float) -> np.ndarray:
    """O/E funnel limit ``exp(z · sqrt(1/E + tau2))`` (log scale, random effects); ``z`` < 0 for lower limits."""
    e = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, np.exp(z * np.sqrt(1.0 / e + tau2)), np.nan)


# Quadrature for the Poisson-log-normal mixture: P(O <= r) = ∫ P(Pois(E·e^(tau·z)) <= r) φ(z) dz over
# |z| <= 12 (beyond, the normal mass is 1e-33). The Poisson CDF falls from 1 to 0 within about 12 / sqrt(r + 1)
# of log(r + 1) on the log-rate scale: that window and the two stretches beside it get 64 Gauss-Legendre
# nodes each, so a sharp step (large E) and a slow slope (small E) are both integrated to ~1e-12.
_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_Z_MAX = 12.0


def _mixture_tail(r: np.ndarray, e: np.ndarray, tau, upper: bool = False) -> np.ndarray:
    """P(O <= r) (or P(O > r) with ``upper``) for O ~ Poisson(E·exp(U)), U ~ N(0, tau²) (median rate E,
    as on the log scale of 5.3); r >= 0 integers; ``tau`` one value or one per unit (0: Poisson)."""
    r = np.asarray(r, dtype=float)
    e = np.asarray(e, dtype=float)
    prob = dist.poisson_sf if upper else dist.poisson_cdf
    tau = np.broadcast_to(np.asarray(tau, dtype=float), e.shape)
    mixed = tau > 0
    total = np.asarray(prob(r, e), dtype=float).copy() if not mixed.all() else np.zeros(len(e))
    if not mixed.any():
        return total
    rr, ee, tt = r[mixed], e[mixed], tau[mixed]
    centre = np.log((rr + 1.0) / ee) / tt
    half = 12.0 / (tt * np.sqrt(rr + 1.0))
    cuts = [np.full(len(ee), -_Z_MAX), np.clip(centre - half, -_Z_MAX, _Z_MAX),
            np.clip(centre + half, -_Z_MAX, _Z_MAX), np.full(len(ee), _Z_MAX)]
    acc = np.zeros(len(ee))
    for a, b in itertools.pairwise(cuts):
        mid, rad = (a + b) / 2.0, (b - a) / 2.0
        z = mid[:, None] + rad[:, None] * _GL_X[None, :]
        acc += (prob(rr[:, None], ee[:, None] * np.exp(tt[:, None] * z)) * dist.norm_pdf(z)) @ _GL_W * rad
    total[mixed] = acc
    return total


_P_EDGE = 1e-15  # a limit at probability beyond this (few peers, Student's t of 1-2 df) is no limit: 0 or infinity


def mixture_funnel_limit(expected, p, tau2, upper_tail=None) -> np.ndarray:
    """Random-effects control limit of O/E at probability ``p``: the quantile of O ~ Poisson(E·exp(U)),
    U ~ N(0, tau²) (the additive model of Spiegelhalter 2005 for counts, computed by quadrature
    (:func:`_mixture_tail`) instead of the normal approximation on the log scale), interpolated as the
    exact Poisson limits of section 5.3. Equals :func:`poisson_funnel_limit` at tau² = 0 and tends to
    :func:`additive_limit` as E grows; at small E the normal approximation is too narrow below (E = 37,
    tau = 0.1: 0.555 against 0.470) and flags small units by chance. ``p`` and ``tau2``: one value or one per
    unit. ``upper_tail``: ``1 - p`` computed without rounding (an upper limit read with Student's t of few degrees of
    freedom sits at 1 - 1e-13, where differences of CDF values near 1 keep three digits): the search and the
    interpolation then run on the survival function."""
    e = np.asarray(expected, dtype=float)
    p = np.broadcast_to(np.asarray(p, dtype=float), e.shape)
    q = 1.0 - p if upper_tail is None else np.broadcast_to(np.asarray(upper_tail, dtype=float), e.shape)
    t2 = np.broadcast_to(np.asarray(tau2, dtype=float), e.shape)
    out = np.full(e.shape, np.nan)
    pois = (e > 0) & ~(t2 > 0)
    if pois.any():
        out[pois] = poisson_funnel_limit(e[pois], p[pois])
    ok = (e > 0) & (t2 > 0)
    out[ok & (q <= _P_EDGE)] = np.inf
    out[ok & (p <= _P_EDGE)] = 0.0
    ok &= (p > _P_EDGE) & (q > _P_EDGE)
    if not ok.any():
        return out
    ee, tau, pp, qq = e[ok], np.sqrt(t2[ok]), p[ok], q[ok]
    upper = pp > 0.5  # searched on P(O > r) <= q: the upper limits' probabilities are tiny tails, not CDFs near 1

    def tail(r):  # each unit's own side only: P(O > r) for an upper limit, P(O <= r) for a lower one
        out_ = np.empty(len(ee))
        for side in (True, False):
            at_ = upper == side
            if at_.any():
                out_[at_] = _mixture_tail(r[at_], ee[at_], tau[at_], upper=side)
        return out_

    def reached_at(r):
        t = tail(r)
        return np.where(upper, t <= qq, t >= pp)

    lo = np.zeros(len(ee))
    sds = np.maximum(6.0, np.abs(dist.norm_isf(np.minimum(pp, qq))) + 2.0)
    hi = np.ceil(ee * np.exp(sds * np.sqrt(1.0 / ee + tau ** 2)) + 20.0)
    while (lo < hi).any():  # smallest r with F(r) >= p, by bisection over integers
        mid = np.floor((lo + hi) / 2)
        reached = reached_at(mid)
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid + 1)
    t_r = tail(lo)
    t_prev = np.where(lo > 0, tail(np.maximum(lo - 1, 0)), np.where(upper, 1.0, 0.0))  # S(-1) = 1, F(-1) = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # (F(r) - p) / (F(r) - F(r-1)), on the upper side as (q - S(r)) / (S(r-1) - S(r))
        a = np.where(upper, (qq - t_r) / (t_prev - t_r), (t_r - pp) / (t_r - t_prev))
    out[ok] = (lo - a) / ee
    return out


def mixture_z(observed, expected, tau2) -> np.ndarray:
    """The unit's standard normal score under the random-effects model: Φ⁻¹(P(O' <= O)) with O' from the
    mixture of :func:`mixture_funnel_limit`; above Φ⁻¹(0.999) = 3.09 exactly when O/E is above the
    plotted upper 99.8% limit, below -3.09 exactly when it is under the lower one. ``tau2``: one value or one per
    unit."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    out = np.full(e.shape, np.nan)
    ok = e > 0
    tau = np.sqrt(np.maximum(np.broadcast_to(np.asarray(tau2, dtype=float), e.shape)[ok], 0.0))
    cdf, sf = _mixture_tail(o[ok], e[ok], tau), _mixture_tail(o[ok], e[ok], tau, upper=True)
    # from the nearer tail, so neither end loses its digits to 1 - tiny
    out[ok] = np.where(cdf < 0.5, dist.norm_ppf(cdf), dist.norm_isf(sf))
    return out


LIMITS = (("limit95_low", 0.025, -Z95), ("limit95_high", 0.975, Z95), ("limit998_low", 0.001, -Z998),
          ("limit998_high", 0.999, Z998))


def funnel_limits(expected, method: str | None = None, phi: float = 1.0, tau2: float = 0.0, exact: bool = True) -> dict:
    """The four control limits of O/E at each E: exact Poisson (clipped at 0: an O/E is never negative),
    widened multiplicatively by sqrt(phi), or the additive random-effects limits when tau2 > 0 (exact
    mixture quantiles, :func:`mixture_funnel_limit`; ``exact=False``: the normal approximation on the
    log scale of SHMI / FunnelPlotR, :func:`additive_limit`)."""
    e = np.asarray(expected, dtype=float)
    if method == "additive" and tau2 > 0:
        if exact:
            return {name: np.maximum(mixture_funnel_limit(e, p, tau2), 0.0) for name, p, _ in LIMITS}
        return {name: additive_limit(e, z, tau2) for name, _, z in LIMITS}
    f = phi if method == "multiplicative" else 1.0
    return {name: np.maximum(widen(poisson_funnel_limit(e, p), f), 0.0) for name, p, _ in LIMITS}


def overdispersion_method(overdispersion) -> str | None:
    if overdispersion in (False, None, "none"):
        return None
    if overdispersion in (True, "additive"):
        return "additive"
    if overdispersion in ("multiplicative", "auto"):
        return overdispersion
    raise ValueError(f"overdispersion={overdispersion!r}: use auto (default), additive, multiplicative or none")


def _t_probability(p: float, df) -> tuple[np.ndarray, np.ndarray]:
    """(probability, 1 - probability without rounding) at which a limit is drawn so that a unit judged with Student's
    t (``df``; infinite: normal) is outside it exactly when its score is beyond the normal quantile of ``p``
    (:func:`evaluation.peers.t_to_z`)."""
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df) & (df > 0)
    x = dist.t_ppf(p, np.where(finite, df, 1.0))
    return np.where(finite, dist.norm_cdf(x), p), np.where(finite, dist.norm_sf(x), 1.0 - p)


def _funnel_by_group(o: np.ndarray, e: np.ndarray, groups: np.ndarray, method: str | None):
    """Per unit: the four limits, phi, tau2 and the random-effects z, each peer group's over-dispersion
    estimated from its own units. With random effects each unit is judged against the others of its group
    (outliers set aside, :func:`robust_tau2`; its own tau2 from the others, :func:`evaluation.peers.leave_one_out_fit`),
    its score read with Student's t of the spread's degrees of freedom (:func:`evaluation.peers.t_to_z`) and its limits
    drawn where that score crosses 1.96 and 3.09 (:func:`_t_probability`)."""
    phis, tau2s, z = np.ones(len(e)), np.zeros(len(e)), np.full(len(e), np.nan)
    centres = np.ones(len(e))
    pvals, used = np.full(len(e), np.nan), np.empty(len(e), dtype=object)
    limits = {name: np.full(len(e), np.nan) for name, _, _ in LIMITS}
    for _, pos in pd.Series(np.arange(len(e)), index=groups).groupby(level=0):
        at = pos.to_numpy()
        phi, tau2, how = 1.0, np.zeros(len(at)), method
        df, centre, spread = np.full(len(at), np.inf), np.ones(len(at)), np.zeros(len(at))
        if method == "multiplicative":
            phi = overdispersion_phi(o[at], e[at])
        elif method in ("additive", "auto"):
            phi, tau2_group, kept = robust_tau2(o[at], e[at])
            pvals[at] = overdispersion_p(phi, int(kept.sum()))
            if method == "auto":  # random effects only where the group is over-dispersed
                how = "additive" if tau2_group > 0 and pvals[at][0] < OD_TEST_ALPHA else "none"
            if how == "additive" and kept.sum() >= 3:
                c, tau2, var_c, df = leave_one_out_fit(*log_oe(o[at], e[at]), kept)
                df = np.where(tau2 > 0, df, np.inf)  # no spread estimated: Poisson's, known
                centre, spread = np.exp(c), tau2 + var_c
            elif how == "additive":
                tau2 = spread = np.full(len(at), tau2_group)
            z[at] = t_to_z(mixture_z(o[at], e[at] * centre, spread), df)
        phis[at], tau2s[at], centres[at], used[at] = phi, tau2, centre, how or "none"
        if how == "additive":
            for name, p, _ in LIMITS:
                prob, tail = _t_probability(p, df)
                limit = mixture_funnel_limit(e[at] * centre, prob, spread, upper_tail=tail) * centre
                limits[name][at] = np.maximum(limit, 0.0)
        else:
            for name, limit in funnel_limits(e[at], how, phi, 0.0).items():
                limits[name][at] = limit
    return limits, phis, tau2s, centres, z, pvals, used


def observed_expected(out: pd.DataFrame, groups: pd.Series | None, method: str | None) -> pd.DataFrame:
    """``out`` (one row per unit with ``observed`` and ``expected``) with O/E, its exact 95% CI, the funnel
    limits at each unit's E (over-dispersion estimated within each group of ``groups``, column
    ``peer_group``) and ``funnel_flag`` (see :func:`standardized_mortality`)."""
    out = out.copy()
    e = out["expected"].to_numpy(dtype=float)
    o = out["observed"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["oe_ratio"] = np.where(e > 0, o / e, np.nan)
    out["oe_low"], out["oe_high"] = poisson_ci(o, e)
    if groups is not None:
        out["peer_group"] = np.asarray(groups)
    limits, phis, tau2s, centres, z, pvals, used = _funnel_by_group(
        o, e, np.asarray(groups) if groups is not None else np.full(len(e), "all"), method)
    for name, limit in limits.items():
        out[name] = limit
    if method:
        out["od_method"] = used if method == "auto" else method  # auto: what each peer group got
        out["phi"] = phis
    if method in ("additive", "auto"):
        out["od_test_p"] = pvals
        out["tau2"] = tau2s
        out["peer_centre"] = centres  # the O/E the random-effects limits are centred on (1 without them)
        out["z_score"] = z
    r = out["oe_ratio"]
    out["funnel_flag"] = np.select(
        [e <= 0, r > out["limit998_high"], r > out["limit95_high"], r < out["limit998_low"], r < out["limit95_low"]],
        ["no_expected", "alarm_high", "alert_high", "alarm_low", "alert_low"], "within")
    return out


def standardized_mortality(cases: pd.DataFrame, *, reference: pd.DataFrame | None = None, by: str = "hospital_id",
                           min_cases_ref: int = 1, exclude_transfers: bool = False, overdispersion=False,
                           leave_one_out: bool = False, peer: pd.Series | None = None,
                           expected_cases: pd.Series | None = None) -> pd.DataFrame:
    """O, E, O/E, exact 95% CI and funnel limits/flags per unit (sections 5.1-5.3).

    ``funnel_flag`` compares O/E with the funnel limits at the unit's E (the limits that are plotted):
    ``alarm_high`` above the upper 99.8% limit, ``alert_high`` between the upper 95% and 99.8% limits,
    ``alert_low``/``alarm_low`` symmetrically, ``within`` otherwise, ``no_expected`` when E = 0.
    ``oe_low``/``oe_high`` are the exact Poisson 95% CI of the unit's own O/E: they ignore
    between-unit variation, so with over-dispersion a CI may exclude 1 while the unit is within the funnel.

    ``overdispersion``: ``False`` (exact Poisson limits), ``"additive"`` (or ``True``; the field's
    standard: random-effects limits with the DerSimonian–Laird tau2 of :func:`random_effects_tau2`,
    drawn as exact quantiles of the Poisson-log-normal mixture (:func:`mixture_funnel_limit`); columns
    ``phi``, ``tau2``, ``z_score`` (:func:`mixture_z`: beyond ±3.09 exactly when outside the 99.8%
    limits); Poisson limits when tau2 = 0)
    or ``"multiplicative"`` (limits widened by sqrt(phi), section 5.3 of the sheet: the widening shrinks
    with E, so at a province-sized year large ordinary hospitals are still flagged).

    ``peer``: per case, its unit's peer group (e.g. the hospital level); phi and tau2 are estimated
    within each peer group (column ``peer_group``), the expected deaths still from the whole reference.

    ``leave_one_out``: each unit's expected deaths use DRG rates of the other units only
    (:func:`leave_one_out_rate`); column ``reference`` says which reference was used.

    ``expected_cases``: per case (index of ``cases``) a patient-level death probability (``drg risk``'s
    cross-fitted model) used instead of the DRG rates; cases without one count as dropped.
    """
    method = overdispersion_method(overdispersion)
    ref = cases if reference is None else reference
    inc = cases[cases["included"]]
    ref_inc = ref[ref["included"]]
    if exclude_transfers:
        inc = inc[inc["leaving_type"] != "2"]
        ref_inc = ref_inc[ref_inc["leaving_type"] != "2"]
    g = ref_inc.groupby("drg", observed=True)
    n_ref = g.size()
    if expected_cases is not None:
        pg = expected_cases.reindex(inc.index).astype(float)
    elif leave_one_out:
        pg = leave_one_out_rate(inc, ref_inc, by, "died", min_cases_ref)
    else:
        p = (g["died"].sum() / n_ref)[n_ref >= min_cases_ref]
        pg = inc["drg"].map(p).astype(float)
    has = pg.notna()
    grp = inc.groupby(by, observed=True)
    out = pd.DataFrame({"cases": grp.size()})
    out["dropped_cases"] = align((~has).groupby(inc[by], observed=True).sum(), out.index, 0).astype(np.int64)
    out["observed"] = align(inc.loc[has, "died"].groupby(inc.loc[has, by]).sum(), out.index, 0).astype(np.int64)
    out["expected"] = align(pg[has].groupby(inc.loc[has, by], observed=True).sum(), out.index, 0.0)
    # over-dispersion is estimated among the units that are compared with each other (the peer group):
    # pooled over levels, a hundred small townships' Poisson noise swamps the spread of the large hospitals
    groups = (peer.groupby(inc[by], observed=True).first().reindex(out.index).astype(object).fillna("all")
              if peer is not None else None)
    out = observed_expected(out, groups, method)
    out["reference"] = "patient_model" if expected_cases is not None else "leave_one_out" if leave_one_out else "pooled"
    out.index.name = by
    return out.reset_index()


def leave_one_out_rate(inc: pd.DataFrame, ref_inc: pd.DataFrame, by: str, column: str, min_cases: int = 1) -> pd.Series:
    """Per case, the mean of ``column`` in its DRG over the reference cases of the *other* units:
    ``(S_g − s_hg) / (N_g − n_hg)`` (NaN where fewer than ``min_cases`` other cases remain). A dominant
    hospital is then judged against everybody else, not pulled toward its own level."""
    v = ref_inc[column].astype(float)
    ok = v.notna()
    tot = pd.DataFrame({"n": ok.groupby(ref_inc["drg"], observed=True).sum(), "s": v.groupby(ref_inc["drg"], observed=True).sum()})
    own_v = inc[column].astype(float)
    own_ok = own_v.notna()
    keys = [inc[by], inc["drg"]]
    own = pd.DataFrame({"n": own_ok.groupby(keys, observed=True).sum(), "s": own_v.groupby(keys, observed=True).sum()})
    own = own.join(tot.add_suffix("_all"), on="drg")
    rest = own["n_all"] - own["n"]
    rate = ((own["s_all"] - own["s"]) / rest).where(rest >= min_cases)
    idx = pd.MultiIndex.from_arrays([inc[by].astype(object), inc["drg"].astype(object)])
    rate.index = pd.MultiIndex.from_arrays([rate.index.get_level_values(0).astype(object),
                                            rate.index.get_level_values(1).astype(object)])
    return pd.Series(rate.reindex(idx).to_numpy(dtype=float), index=inc.index)


def funnel_curve(max_expected: float, points: int = 200, method: str | None = None, phi: float = 1.0,
                 tau2: float = 0.0) -> pd.DataFrame:
    """Control limits of the O/E funnel for E from near 0 to ``max_expected`` (for charts), drawn with
    the same method as :func:`standardized_mortality` used for the flags."""
    e = np.linspace(max(max_expected / points, 0.05), max(max_expected, 0.1) * 1.05, points)
    return pd.DataFrame({"expected": e, **funnel_limits(e, method, phi, tau2)})


def index_funnel(index, variance, groups, judged, overdispersion="auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, flag, tau2) per unit of a ratio index (the cost or time index: 1 = the region's level for the unit's DRG mix)
    against its peer group, on the log scale, the way the mortality funnel judges O/E (Spiegelhalter 2005).

    ``variance``: the index's sampling variance (the sum of its cases' per-DRG variances of cost / benchmark over the
    squared number of cases). Per group of ``groups`` the centre and the between-unit variance tau2 are estimated from
    its ``judged`` units, outliers set aside, each unit against the others (:func:`evaluation.peers.peer_test`); ``auto`` uses
    tau2 where the group's test of no over-dispersion rejects at 5%, ``additive`` (and ``multiplicative``) always,
    ``none`` never. Flags: ``alarm_high`` / ``alarm_low`` beyond the 99.8% limits, ``alert_*`` beyond the 95% limits,
    ``within``; ``too_few_cases`` where the unit has no index or variance. Hospitals' costs differ by more than
    chance for reasons of price and practice, so an index is named only when it is outside what its peers differ by."""
    method = overdispersion_method(overdispersion)
    idx, var = np.asarray(index, float), np.asarray(variance, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(idx > 0, np.log(idx), np.nan)
        s2 = np.where(idx > 0, var / idx ** 2, np.nan)
    groups = np.asarray(groups, dtype=object)
    judged = np.asarray(judged, bool) & np.isfinite(y) & (s2 > 0)
    z, centre, tau2, _ = peer_test(y, s2, groups, judged)
    for g in np.unique(groups):
        at = groups == g
        fit = at & judged & (np.abs(np.nan_to_num(z)) <= Z998)
        n = int(fit.sum())
        phi = float(((y[fit] - centre[fit]) ** 2 / s2[fit]).mean()) if n else float("nan")
        over = n > 2 and overdispersion_p(phi, n) < OD_TEST_ALPHA
        if method is None or (method == "auto" and not over):  # no spread between hospitals: sampling variance only
            tau2[at] = 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                z[at] = (y[at] - centre[at]) / np.sqrt(s2[at])
    flag = np.select([~np.isfinite(z), z > Z998, z < -Z998, z > Z95, z < -Z95],
                     ["too_few_cases", "alarm_high", "alarm_low", "alert_high", "alert_low"], "within").astype(object)
    return z, flag, tau2
