"""Coding-quality and gaming surveillance: target areas per hospital and year, each compared with what its case
mix predicts and with its peers, and a ranked list of cases for chart review.

Arrays in, arrays out; :mod:`drg.audit` streams a grouped file into these arrays and writes the tables. The target
areas are registered objects (:mod:`evaluation.audit.areas`: definition, expectation, direction, words, review weight),
built from the per-case measures of :mod:`evaluation.audit.measures`; this module judges them per hospital-year.

The design is CMS's PEPPER (Program for Evaluating Payment Patterns Electronic Report): a hospital's rate in a
*target area* (a coding or admission pattern that DRG payment rewards) is set against the region and against
its peers. Beyond PEPPER's peer percentiles, every rate has an *expected* value from the hospital's own case
mix (indirect standardisation by ADRG, DRG or MDC within each year, and for MCC/CC capture a cross-fitted
patient-level model), and a random-effects test against it (the DerSimonian-Laird between-hospital variance
within each peer group and year, Spiegelhalter 2005, the same test as the mortality funnel): a hospital is
flagged only when it is outside what ordinary hospitals of its level differ by, at the 99.8% limit in the
area's gaming direction, on at least 11 cases (PEPPER's minimum), by a material amount (2 percentage points),
and with a false discovery rate within the area of at most 5% (Benjamini & Hochberg 1995; ``q_value``).

Target areas (the registry's, in its order; rate = numerator / denominator per hospital-year):

* ``mcc_cc_capture`` (高套: MCC/CC added): cases whose secondary diagnoses carry an MCC or CC valid for their
  principal diagnosis (the scheme's tables with exclusions, FORMAT.md 4.1), among cases of ADRGs the region's
  data split into more than one DRG. Expected: P(MCC/CC | principal diagnosis, principal procedure, ADRG,
  age, sex) from a logistic model cross-fitted by hospital (no hospital's cases inform its own expectation).
* ``secondary_diagnoses``: secondary diagnoses per case; expected: the ADRG's mean.
* ``principal_choice`` (高套 by choosing the principal diagnosis): cases with a secondary diagnosis whose
  cases, where it is the principal diagnosis, carry a higher mean weight than the chosen principal's. A
  hospital that picks the highest-paying principal has *fewer* such cases: flagged when low.
* ``short_stay_high_weight``: high-weight (RW >= 2) cases discharged alive, not transferred, whose stay is
  under a third of their DRG's mean; expected: the DRG's rate times the hospital's own ratio of such short stays
  in its other DRGs (a hospital whose stays are short everywhere is efficient, not gaming the high weights).
* ``readmission_15``, ``readmission_30``: stays discharged alive and not transferred after which the same
  patient is admitted again (any hospital) within 15 / 30 days in the same MDC; expected: the MDC's rate.
* ``split_admissions`` (分解住院): stays that follow a stay of the same patient at the same hospital in the
  same MDC, admitted 0-2 days after a discharge that was neither a death nor a transfer; expected: the MDC's
  rate.
* ``one_day_low_weight_medical`` (低标准入院): 0-1-day stays, not deaths or transfers, in medical DRGs (CHS-DRG
  ADRG codes with R-Z in second place) of weight under 0.5; expected: the DRG's rate.
* ``cmi_jump``: the severity index (sum of DRG weights / sum of the regional mean weights of cases with the same
  ADRG and principal diagnosis: the CMI with the diagnosis and treatment mix held fixed) against the
  hospital's own previous year; a rise that the case mix does not explain. Welch z with the between-hospital
  variance of the change.
* ``ungroupable``: cases not grouped (invalid or missing codes, QY); expected: the year's regional rate.
"""

from __future__ import annotations

import numpy as np

from .areas import BY_NAME, REGISTRY, AuditContext
from .measures import PAIR_CELLS, SMOOTHING, group_mean, stratum_year
from ..peers import Z_FLAG, peer_test

# The outlier step of the audit's peer tests (evaluation.peers.robust_fit) sets aside units at Rosner's 5%, bolder than
# the funnels' 1%: an audit flag must also pass the false-discovery step and the resource evidence, and what the step
# is for here is keeping gaming hospitals from widening their own limits (the second simulator's later-year upcoder,
# O/E 1.21 among 100 hospital-years with two sicker hospitals, is found at 5%, missed at 1%: z 3.04)
AUDIT_OUTLIER_ALPHA = 0.05

# the target areas are registered objects (evaluation.audit.areas): their names, directions and needs
AREAS = tuple(a.name for a in REGISTRY)
LOW_AREAS = tuple(a.name for a in REGISTRY if a.direction == "low")  # the gaming direction is a low rate
PATIENT_AREAS = tuple(a.name for a in REGISTRY if a.patient)
# Z_FLAG (evaluation.peers): the one-sided 99.9% point, outside the 99.8% funnel limit on the gaming side
MIN_DENOMINATOR = 30  # a hospital-year with fewer cases in an area is shown, not judged
# and none is flagged on fewer than 11 observed (or, for a low rate, expected) cases: PEPPER's cell-size rule.
# With ~10 areas x hundreds of small hospital-years, one or two chance cases against an expectation near zero
# would otherwise pass any significance level somewhere
MIN_COUNT = 11
# ten areas x every hospital-year of a region are thousands of tests: a flag also needs a false discovery
# rate (Benjamini-Hochberg, within the area over its hospital-years) of at most 5%, so that a region where
# nobody games gets no flag at all with 95% probability, whatever its number of hospitals
FDR = 0.05
# and a material difference from the expectation (each area's ``min_excess``): a flag names a hospital, and at millions
# of cases a trivial excess is significant (rate areas: 2 percentage points; diagnoses per case: 0.1; the CMI index: 0.02)
# coded severity (an area's ``resource``: MCC/CC, diagnoses per case) is flagged as over-coding only with evidence that
# the codes came without the resource use such severity brings (:func:`resource_gradient`): one-sided 1%, applied to
# hospital-years the coding test has already found high
Z_EVIDENCE = 2.326


# -- hospital-year statistics -------------------------------------------------------------------------------

def unit_sums(unit, den, num, expected, variance, n_units: int) -> tuple:
    """Per unit over its ``den`` cases: cases, observed (sum of num), expected and its variance (sums;
    ``variance`` None: Bernoulli, p(1-p) of the expected)."""
    den = np.asarray(den, bool) & (np.asarray(unit) >= 0)
    u = np.asarray(unit, np.int64)[den]
    n = np.bincount(u, minlength=n_units).astype(float)
    o = np.bincount(u, weights=np.asarray(num)[den].astype(float), minlength=n_units)
    ev = np.nan_to_num(np.asarray(expected, float)[den])
    e = np.bincount(u, weights=ev, minlength=n_units)
    v = np.bincount(u, weights=ev * (1 - ev) if variance is None else np.nan_to_num(np.asarray(variance, float)[den]),
                    minlength=n_units)
    return n, o, e, v


def count_tail_z(o, mean, var, low: bool) -> np.ndarray:
    """The normal score of an observed count ``o`` in its gaming direction under a gamma distribution with
    the count's ``mean`` and ``var`` (moment-matched, with a half-unit continuity correction): right-skewed
    like a small Poisson or binomial count, normal for large ones. High: isf(P(O >= o)); low: ppf(P(O <= o))."""
    from .. import distributions as prob

    mean = np.maximum(np.asarray(mean, float), 1e-12)
    var = np.maximum(np.asarray(var, float), 1e-12)
    shape, scale = mean ** 2 / var, var / mean
    if low:
        return prob.norm_ppf(np.clip(prob.gamma_cdf(np.asarray(o, float) + 0.5, shape, scale=scale), 1e-300, 1))
    return prob.norm_isf(np.clip(prob.gamma_sf(np.maximum(np.asarray(o, float) - 0.5, 0), shape, scale=scale), 1e-300, 1))


def benjamini_hochberg(p, eligible) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of the ``eligible`` tests (NaN for the others)."""
    q = np.full(len(p), np.nan)
    at = np.flatnonzero(eligible)
    if not len(at):
        return q
    order = at[np.argsort(p[at], kind="stable")]
    m = len(order)
    ranked = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return q


def percentiles(rate, groups, ok) -> tuple[np.ndarray, dict]:
    """Each unit's percentile (0-100, mid-rank) among the ``ok`` units of its group, and per group the 10th,
    50th and 90th percentiles of their rates."""
    pct = np.full(len(rate), np.nan)
    dist = {}
    for g in np.unique(groups):
        at = np.flatnonzero((groups == g) & ok & np.isfinite(rate))
        if not len(at):
            dist[g] = (np.nan, np.nan, np.nan)
            continue
        r = rate[at]
        s = np.sort(r)
        below = np.searchsorted(s, r, "left")
        equal = np.searchsorted(s, r, "right") - below
        pct[at] = 100.0 * (below + 0.5 * equal) / len(r)
        dist[g] = tuple(np.percentile(r, [10, 50, 90]))
    return pct, dist


def excess_share(o, e, n=None) -> np.ndarray:
    """The share of a unit's observed count beyond its expectation: of the observed count when ``n`` is
    None, else of the unit's cases not expected to count (``n - e``): the propensity of an MCC/CC being
    added to a case that would not have one."""
    excess = np.maximum(o - e, 0)
    base = o if n is None else n - e
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.where(base > 0, excess / base, 0.0), 0, 1)


def _mix_and_gain(out: dict, a: dict, w: np.ndarray, n_adrg: int, n_codes: int) -> None:
    """Per case the CMI jump's case-mix expectation (``mix_weight``) and what its coding may have added to its payment
    (``weight_gain``)."""
    ok, adrg = a["ok"], a["adrg"]
    adrg0, pdx0 = np.maximum(adrg, 0), np.maximum(a["pdx"], 0)
    # ADRG mean weight (all years): the CMI jump's case-mix expectation
    # the CMI jump's case-mix expectation: per case the regional mean weight (all years) of the cases with its ADRG
    # and principal diagnosis (its ADRG's where that pair has fewer than 10 cases): the diagnosis and treatment
    # mix, leaving only the severity split -- what coding moves -- unexplained
    e_adrg = group_mean(adrg0, w, ok & (adrg >= 0), n_adrg)
    pair = adrg0.astype(np.int64) * (n_codes + 1) + pdx0
    uniq, inv = np.unique(pair, return_inverse=True)
    use = ok & (adrg >= 0) & (a["pdx"] >= 0) & np.isfinite(w)
    cnt = np.bincount(inv[use], minlength=len(uniq))
    with np.errstate(divide="ignore", invalid="ignore"):
        e_pair = np.bincount(inv[use], weights=w[use], minlength=len(uniq)) / cnt
    e = np.where(use & (cnt[inv] >= 10), e_pair[inv], e_adrg[adrg0])
    out["mix_weight"] = np.where(ok & (adrg >= 0), e, np.nan)
    # what a case's coding may have added to its payment: its weight over that of its ADRG's cases without an
    # MCC/CC (the split it would be in without one)
    plain = group_mean(adrg0, w, ok & (adrg >= 0) & ~a["mcc_cc"], n_adrg)
    out["weight_gain"] = np.maximum(np.where(ok & (adrg >= 0), w - plain[adrg0], np.nan), 0)




def case_areas(a: dict, adrg_words: list, hospital_words: list, *, folds: int = 5, seed: int = 0,
               supplied_rw=None, dx_words: list | None = None) -> dict:
    """Per case and target area: (denominator mask, numerator value, expected value, its variance), and the per-case
    quantities the review list explains itself with (``p_capture``, ``split_first``, ``weight``...): each registered
    area's own (:mod:`evaluation.audit.areas`) from the quantities they share (:class:`AuditContext`).

    ``a``: the arrays of :class:`evaluation.audit.cases.AuditCases` (hosp, year, ok, drg, adrg, mdc, los, cost, age, sex,
    leaving, admit, discharge, patient, mcc_cc, n_sdx, pdx, sdx, sdx_offsets, ppx)."""
    ctx = AuditContext(a, adrg_words, hospital_words, folds, seed, supplied_rw, dx_words)
    ok = a["ok"]
    out: dict = {"weight": ctx.w, "mcc_cc": a["mcc_cc"], "n_sdx": a["n_sdx"], "stratum": stratum_year(ctx.adrg0, ctx.year)}
    # the resource use that coded severity is checked against: log cost, else log LOS (NaN where neither is known)
    cost_ok = np.isfinite(a["cost"]) & (a["cost"] > 0)
    los_ok = np.isfinite(a["los"]) & (a["los"] >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["resource"] = (np.where(cost_ok & ok, np.log(a["cost"]), np.nan) if cost_ok.any()
                           else np.where(los_ok & ok, np.log1p(a["los"]), np.nan))
    for area in REGISTRY:
        if area.cases is not None:
            out.update(area.cases(ctx))
    _mix_and_gain(out, a, ctx.w, ctx.n_adrg, ctx.n_codes)
    return out


def weight_at_stake(areas: dict, area: str) -> np.ndarray:
    """Per case the weight a review could recover in ``area`` (the area's ``stake``: a coding area's weight gain over
    the ADRG's cases without MCC/CC; a low-value admission's whole weight)."""
    return BY_NAME[area].stake(areas)


def gradient_sums(severity, resource, stratum, unit, den, n_units: int, cap: int = 8, m: float = SMOOTHING) -> tuple:
    """The per-unit sums :func:`gradient_slope` fits the resource gradient from (see :func:`resource_gradient`):
    (cases, sum g, sum r, sum g^2, sum g r, sum r^2)."""
    den = np.asarray(den, bool) & np.isfinite(resource) & (np.asarray(unit) >= 0)
    x = np.minimum(np.asarray(severity, np.int64)[den], cap)
    st, r, u = np.asarray(stratum, np.int64)[den], np.asarray(resource, float)[den], np.asarray(unit, np.int64)[den]
    s_inv = np.unique(st, return_inverse=True)[1]
    c_inv = np.unique(st * (cap + 1) + x, return_inverse=True)[1]
    mean_s = np.bincount(s_inv, weights=r) / np.bincount(s_inv)
    n_c = np.bincount(c_inv).astype(float)
    mean_c = np.bincount(c_inv, weights=r) / n_c
    return unit_gradient_sums(u, r - mean_s[s_inv], (n_c / (n_c + m))[c_inv] * (mean_c[c_inv] - mean_s[s_inv]), n_units)


def unit_gradient_sums(u, rr, g, n_units: int) -> tuple:
    """Per unit (cases, sum g, sum r, sum g^2, sum g r, sum r^2) of cases with unit ``u``."""
    n = np.bincount(u, minlength=n_units).astype(float)
    return (n, np.bincount(u, g, n_units), np.bincount(u, rr, n_units), np.bincount(u, g * g, n_units),
            np.bincount(u, g * rr, n_units), np.bincount(u, rr * rr, n_units))


def gradient_slope(n, sg, sr, sgg, sgr, srr) -> tuple:
    """(slope, variance) per unit from :func:`gradient_sums` (NaN where the unit's severity does not vary)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gbar, rbar = sg / n, sr / n
        s_gg, s_gr, s_rr = sgg - n * gbar ** 2, sgr - n * gbar * rbar, srr - n * rbar ** 2
        beta = np.where((n >= 3) & (s_gg > 1e-12), s_gr / s_gg, np.nan)
        resid = np.maximum(s_rr - beta * s_gr, 0) / np.maximum(n - 2, 1)
        var = resid / s_gg
    return beta, np.where(np.isfinite(beta), var, np.nan)


def resource_gradient(severity, resource, stratum, unit, den, n_units: int, cap: int = 8, m: float = SMOOTHING) -> tuple:
    """Per unit: how much of the region's resource gradient over coded severity its own cases carry, and its variance.

    Coding-intensity evidence (Silverman & Skinner 2004, "Medicare upcoding and hospital ownership", J Health Econ
    23:369; Dafny 2005, "How do hospitals respond to price changes?", AER 95:1525): coded severity that rises without
    the resource use that severity brings. Per case, ``resource`` (log cost, else log LOS) less its stratum's
    (ADRG x year) regional mean is ``r``; ``g`` is what its coded ``severity`` predicts: the regional mean of its
    (stratum, severity) cell less the stratum's, shrunk toward 0 by ``m`` pseudo-cases. Within each unit, the slope
    of ``r`` on ``g`` with the unit's own intercept (its price and efficiency level cancel) is 1 where its coded
    severity costs what such severity costs in the region, as it does for patients who are simply sicker, and falls
    toward 0 as codes are added to cases that are no sicker. Returns (slope, variance) per unit (NaN where the unit's
    severity does not vary)."""
    return gradient_slope(*gradient_sums(severity, resource, stratum, unit, den, n_units, cap, m))


def hospital_flags(areas: dict, hosp, year, hospital_level: np.ndarray, *, min_den: int = MIN_DENOMINATOR,
                   patient_known: bool = True) -> tuple[dict, dict]:
    """One row per hospital x year x target area (as column arrays), and per area the per-unit sums the
    review list uses, from the per-case areas of :func:`case_areas` (the per-unit sums go to :func:`judge`).
    ``hospital_level``: per hospital code its peer group (level)."""
    years = np.unique(year)
    y_idx = np.searchsorted(years, year)
    n_units = len(hospital_level) * len(years)
    unit = np.where(np.asarray(hosp) >= 0, np.asarray(hosp, np.int64) * len(years) + y_idx, -1)  # -1: no hospital id
    sums, gradients = {}, {}
    for ar in REGISTRY:
        if ar.cases is None or ar.name not in areas or (ar.patient and not patient_known):
            continue
        sums[ar.name] = unit_sums(unit, *areas[ar.name], n_units)
        if ar.control and ar.control in areas:
            sums[ar.control] = unit_sums(unit, *areas[ar.control], n_units)
        if ar.resource and ar.resource in areas and np.isfinite(areas.get("resource", [np.nan])).any():
            gradients[ar.name] = gradient_sums(areas[ar.resource], areas["resource"], areas["stratum"], unit,
                                               areas[ar.name][0], n_units)
    cmi = cmi_sums(areas["weight"], areas["mix_weight"], unit, n_units) if "weight" in areas else None
    cols, stats_ = judge(sums, gradients, cmi, years, hospital_level, min_den=min_den)
    stats_["unit"] = unit
    return cols, stats_


def judge(sums: dict, gradients: dict, cmi: tuple | None, years, hospital_level, *,
          min_den: int = MIN_DENOMINATOR) -> tuple[dict, dict]:
    """The flags of every hospital-year (unit ``hospital code x len(years) + year index``) and area from per-unit sums:
    ``sums`` {area: (cases, observed, expected, variance)} (a control area's too), ``gradients`` {area: the sums of
    :func:`gradient_sums`}, ``cmi`` the sums of :func:`cmi_sums` (None: no CMI row). Returns (rows as column arrays,
    {"sums": per area (cases, observed, expected, final flag), "n_units"})."""
    from .. import distributions as prob

    n_units = len(hospital_level) * len(years)
    u_h, u_y = np.divmod(np.arange(n_units), len(years))
    groups = np.array([f"{hospital_level[h]}/{years[t]}" for h, t in zip(u_h, u_y)], dtype=object)  # peers in a year
    # the O/E test's peer groups: a level over all years (expected rates are per year already, and five tertiary
    # hospitals a year are too few to estimate a between-hospital variance from)
    levels = np.asarray(hospital_level, dtype=object)[u_h]
    prev = np.where(u_y > 0, np.arange(n_units) - 1, -1)
    prev = np.where((prev >= 0) & (years[np.maximum(u_y - 1, 0)] == years[u_y] - 1), prev, -1)
    rows, final = [], {}
    for ar in REGISTRY:
        area = ar.name
        if area not in sums:
            continue
        n, o, e, v = sums[area]
        if ar.control and ar.control in sums:
            # a hospital whose stays are short in every DRG is not gaming the high-weight ones: its expectation is the
            # DRGs' regional rates times its own O/E of short stays in the other DRGs (one pseudo-case each side)
            _, oc, ec, _ = sums[ar.control]
            k = (oc + 1) / (ec + 1)
            e, v = e * k, v * k
        judged = n >= min_den
        low = ar.direction == "low"
        with np.errstate(divide="ignore", invalid="ignore"):
            # on the O/E scale: the peer group's typical O/E (robust) and between-hospital variance
            _, centre, tau2, _ = peer_test(o / e, v / e ** 2, levels, judged & (e > 0), neutral=1.0,
                                           alpha=AUDIT_OUTLIER_ALPHA)
            # the case mix's expectation at a typical hospital of the peer group
            e, v = centre * e, centre * v + tau2 * e ** 2
            z = count_tail_z(o, e, v, low)
        z = np.where(n > 0, z, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate, exp_rate = o / n, e / n
            material = (exp_rate - rate if low else rate - exp_rate) >= ar.min_excess
        flag = judged & material & ((z < -Z_FLAG) & (e >= MIN_COUNT) if low else (z > Z_FLAG) & (o >= MIN_COUNT))
        p = prob.norm_cdf(z) if low else prob.norm_sf(z)
        row = _area_rows(area, n, o, e, rate, exp_rate, z, p, tau2, flag, judged, groups, prev, "low" if low else "high")
        if ar.resource:
            row["evidence"][:] = "not_available"
        if area in gradients:
            beta, var = gradient_slope(*gradients[area])
            zr, cr, _, _ = peer_test(beta, var, levels, judged & np.isfinite(beta), neutral=1.0, alpha=AUDIT_OUTLIER_ALPHA)
            with np.errstate(divide="ignore", invalid="ignore"):
                row["resource_ratio"], row["resource_z"] = beta / cr, zr
            unsupported = zr < -Z_EVIDENCE
            # high coding with the resources to match is a sicker population, not a flag; without cost or LOS to judge
            # by, the flag stands in neutral words ("higher than expected: sample for review")
            row["evidence"] = np.where(np.isfinite(zr), np.where(unsupported, "unsupported", "supported"), "not_available")
            row["flag"] = flag = flag & (unsupported | ~np.isfinite(zr))
        final[area] = (n, o, e, flag)
        rows.append(row)
    if cmi is not None:
        rows.append(_cmi_rows(cmi, n_units, groups, prev, min_den))
    for r in rows:  # the false discovery rate within each area, over its hospital-years (Benjamini-Hochberg)
        eligible = (r["status"] == "ok") & np.isfinite(r["p_value"])
        if BY_NAME[r["target_area"][0]].direction != "low" and BY_NAME[r["target_area"][0]].cases is not None:
            eligible &= r["numerator"] >= MIN_COUNT
        r["q_value"] = benjamini_hochberg(r["p_value"], eligible)
        r["flag"] = r["flag"] & (r["q_value"] <= FDR)
        area = r["target_area"][0]
        if area in final and len(r["flag"]) == len(final[area][3]):  # the review list follows the final flags only
            final[area] = (*final[area][:3], np.asarray(r["flag"], bool))
    cols = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    keep = cols["denominator"] > 0
    cols = {k: v[keep] for k, v in cols.items()}
    cols["hospital"], cols["year_index"] = np.divmod(cols.pop("unit"), len(years))
    cols["year"] = np.asarray(years)[cols.pop("year_index")]
    return cols, {"sums": final, "n_units": n_units}


def cmi_sums(w, e, unit, n_units: int) -> tuple:
    """Per unit over cases with a weight and a case-mix expectation: (cases, sum w, sum e, sum w^2, sum w e, sum e^2)."""
    m = np.isfinite(w) & np.isfinite(e) & (np.asarray(unit) >= 0)
    n, se, sw, see, sew, sww = unit_gradient_sums(np.asarray(unit)[m], w[m], e[m], n_units)
    return n, sw, se, sww, sew, see


def _no_evidence(n: int) -> dict:
    """The resource-evidence columns of a row that has none (:func:`resource_gradient` fills them for coding areas)."""
    return {"resource_ratio": np.full(n, np.nan), "resource_z": np.full(n, np.nan), "evidence": np.full(n, "none", dtype=object)}


def _area_rows(area, n, o, e, rate, exp_rate, z, p, tau2, flag, judged, groups, prev, direction) -> dict:
    pct, dist = percentiles(rate, groups, judged)
    d = np.array([dist.get(g, (np.nan,) * 3) for g in groups]).reshape(len(groups), 3)
    prev_rate = np.where(prev >= 0, rate[np.maximum(prev, 0)], np.nan)
    prev_rate = np.where((prev >= 0) & (n[np.maximum(prev, 0)] > 0), prev_rate, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        oe = np.where(e > 0, o / e, np.nan)
    return {"unit": np.arange(len(n)), "target_area": np.full(len(n), area, dtype=object),
            "direction": np.full(len(n), direction, dtype=object), "numerator": o, "denominator": n, "rate": rate,
            "expected_rate": exp_rate, "observed": o, "expected": e, "oe_ratio": oe, "z_score": z, "p_value": p,
            "tau2": tau2, "peer_p10": d[:, 0], "peer_median": d[:, 1], "peer_p90": d[:, 2], "percentile": pct,
            "previous_rate": prev_rate, "change": rate - prev_rate,
            "status": np.where(judged, "ok", "too_few_cases").astype(object), "flag": flag, **_no_evidence(len(n))}


def _cmi_rows(cmi: tuple, n_units, groups, prev, min_den) -> dict:
    """The within-ADRG severity index per hospital-year and its change from the previous year (Welch z, with
    the DerSimonian-Laird between-hospital variance of the change within each peer group and year)."""
    n, sw, se, sww, swe, see = cmi
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(se > 0, sw / se, np.nan)
        var = np.maximum(sww - 2 * index * swe + index ** 2 * see, 0) / se ** 2 * n / np.maximum(n - 1, 1)
    pv = np.maximum(prev, 0)
    has_prev = (prev >= 0) & (n[pv] >= min_den) & (n >= min_den)
    delta = np.where(has_prev, index - index[pv], np.nan)
    v = np.where(has_prev, var + var[pv], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z, _, tau2, _ = peer_test(delta, v, groups, has_prev, alpha=AUDIT_OUTLIER_ALPHA)
    from .. import distributions as prob

    flag = has_prev & (z > Z_FLAG) & (delta >= BY_NAME["cmi_jump"].min_excess)
    pct, dist = percentiles(delta, groups, has_prev)
    d = np.array([dist.get(g, (np.nan,) * 3) for g in groups]).reshape(len(groups), 3)
    prev_index = np.where(prev >= 0, index[pv], np.nan)
    return {"unit": np.arange(n_units), "target_area": np.full(n_units, "cmi_jump", dtype=object),
            "direction": np.full(n_units, "high", dtype=object), "numerator": sw, "denominator": n, "rate": index,
            "expected_rate": prev_index, "observed": sw, "expected": se, "oe_ratio": index, "z_score": z,
            "p_value": prob.norm_sf(z), "tau2": tau2, "peer_p10": d[:, 0], "peer_median": d[:, 1],
            "peer_p90": d[:, 2], "percentile": pct, "previous_rate": prev_index, "change": delta,
            "status": np.where(has_prev, "ok", np.where(n >= min_den, "no_previous_year", "too_few_cases")).astype(object),
            "flag": flag, **_no_evidence(n_units)}


def split_probability(cell, unit, q) -> np.ndarray:
    """Per possible split pair (its ``cell`` of pair features, -1 for no pair) the probability that it is a split,
    not a natural readmission: the local false discovery rate of Efron (2001, "Empirical Bayes analysis of a
    microarray experiment", JASA 96:1151) with the null distribution known.

    The natural pairs' feature distribution ``f0`` is the pairs' at hospital-years within expectation (``q`` = 0);
    a hospital-year with excess share ``q`` (its flagged excess (O - E) / O) mixes ``(1 - q) f0 + q fs``; the splits'
    distribution ``fs`` is what the flagged hospital-years' pairs hold beyond their natural share (moments, half a
    pair per cell of smoothing). P(split | cell, unit) = q fs / ((1 - q) f0 + q fs): a pair for the same principal
    diagnosis right after a routine discharge scores high, a planned chemotherapy cycle or a different diagnosis
    two days later low. Zero at hospital-years within expectation."""
    cell = np.asarray(cell, np.int64)
    has = (cell >= 0) & (np.asarray(unit) >= 0)
    u = np.asarray(unit, np.int64)[has]
    qu = np.asarray(q, float)[u]
    c = cell[has]
    out = np.zeros(len(cell))
    if not (qu > 0).any():
        return out
    f0 = np.bincount(c[qu == 0], minlength=PAIR_CELLS) + 0.5
    f0 /= f0.sum()
    flagged = qu > 0
    n1 = np.bincount(c[flagged], minlength=PAIR_CELLS).astype(float)
    natural = (1 - qu[flagged]).sum() * f0  # pairs of the flagged hospital-years expected to be natural, per cell
    fs = np.maximum(n1 - natural, 0) + 0.5
    fs /= fs.sum()
    p = qu * fs[c] / (qu * fs[c] + (1 - qu) * f0[c])
    out[np.flatnonzero(has)] = np.where(qu > 0, p, 0.0)
    return out


REVIEW_AREAS = tuple(a.name for a in REGISTRY if a.stake is not None)  # the areas of the chart-review list
SCORED_AREAS = REVIEW_AREAS + ("split_admissions",)


def review_scores(areas: dict, stats_: dict) -> dict:
    """Per case and review area the probability that the case is one of its hospital-year's excess cases,
    for hospital-years flagged in the area (zero elsewhere: the chart review follows the hospital signal).

    MCC/CC: with the hospital-year's propensity ``q = (O - E) / (N - E)`` of adding an MCC/CC to a case that
    would have none and the model's ``p`` for the case, P(added | coded) = q(1-p) / (q(1-p) + p) (Bayes).
    Split admissions: each pair from its own features (:func:`split_probability`). Other areas: the hospital-year's
    excess share ``(O - E) / O`` of its counted cases."""
    unit = stats_["unit"]
    has_unit = unit >= 0
    unit = np.maximum(unit, 0)
    out = {}
    for area in SCORED_AREAS:
        if area not in stats_["sums"]:
            continue
        n, o, e, flag = stats_["sums"][area]
        den, num = areas[area][:2]
        counted = den & (np.asarray(num) > 0) & has_unit
        if area == "mcc_cc_capture":
            q = np.where(flag, excess_share(o, e, n), 0.0)[unit]
            p = np.clip(areas["p_capture"], 1e-6, 1 - 1e-6)
            s = np.where(counted, q * (1 - p) / (q * (1 - p) + p), 0.0)
        elif area == "split_admissions" and "pair_cell" in areas:
            s = np.where(counted, split_probability(areas["pair_cell"], np.where(has_unit, unit, -1),
                                                    np.where(flag, excess_share(o, e), 0.0)), 0.0)
        else:
            s = np.where(counted, np.where(flag, excess_share(o, e), 0.0)[unit], 0.0)
        out[area] = np.nan_to_num(s)
    return out
