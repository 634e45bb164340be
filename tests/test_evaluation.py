"""Evaluation indicators: worked examples of the formula sheet, independent loops on random data, edge cases."""

from __future__ import annotations

import pytest

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation.common import attach_levels, prepare
from evaluation.indicators import discipline, hospital_indicators, risk_levels
from evaluation.outcomes import poisson_ci, poisson_funnel_limit, standardized_mortality
from evaluation.weights import compute_weights, reduction_in_variance


def frame(rows, **extra):
    """rows: (hospital, drg, cost, los, leaving_type)."""
    df = pd.DataFrame(rows, columns=["hospital_id", "drg", "total_cost", "los_days", "leaving_type"])
    df["status"] = "分组成功"
    for k, v in extra.items():
        df[k] = v
    return df


def test_worked_example_weights_2_6():
    a = [2000, 2200, 2500, 2600, 3000, 3100, 3300, 30000]
    b = [9000, 10000, 11000, 12000, 14000]
    df = frame([("H", "AA19", c, 5, "1") for c in a] + [("H", "BB19", c, 5, "1") for c in b])
    w = compute_weights(df).set_index("drg")
    assert w.loc["AA19", "cases_trimmed"] == 7 and w.loc["BB19", "cases_trimmed"] == 5
    assert round(w.loc["AA19", "mean_cost"], 2) == 2671.43 and w.loc["BB19", "mean_cost"] == 11200
    assert round(w.loc["AA19", "rw"], 4) == 0.4291 and round(w.loc["BB19", "rw"], 4) == 1.7992
    assert round(w.loc["AA19", "cv"], 4) == 0.1804 and round(w.loc["BB19", "cv"], 4) == 0.1717
    assert round(reduction_in_variance(df), 4) == 0.9291
    # the case-weighted mean RW over the trimmed cases is 1 exactly
    assert math.isclose((w["rw"] * w["cases_trimmed"]).sum() / w["cases_trimmed"].sum(), 1.0, rel_tol=1e-12)


def test_worked_example_indicators_3_6():
    rows = [("H1", "A", 3000, 5, "1"), ("H1", "A", 3400, 7, "1"), ("H1", "B", 12000, 9, "1"), ("H1", "B", 13000, 10, "1"),
            ("H1", "B", 14000, 11, "1"), ("H2", "A", 2200, 4, "1"), ("H2", "A", 2400, 5, "1"), ("H2", "A", 2600, 5, "1"),
            ("H2", "A", 2800, 6, "1"), ("H2", "B", 10000, 8, "1")]
    cases = attach_levels(prepare(frame(rows)), pd.DataFrame({"hospital_id": ["H1", "H2"], "level": ["三级", "二级"]}))
    w = pd.DataFrame({"drg": ["A", "B"], "rw": [0.43, 1.80]})
    h = hospital_indicators(cases, w).set_index("hospital_id")
    assert h.loc["H1", "drg_count"] == 2
    assert math.isclose(h.loc["H1", "total_weight"], 6.26) and math.isclose(h.loc["H1", "cmi"], 1.252)
    assert math.isclose(h.loc["H2", "cmi"], 0.704)
    assert round(h.loc["H1", "cost_index"], 4) == 1.1050 and round(h.loc["H2", "cost_index"], 4) == 0.8950
    assert round(h.loc["H1", "time_index"], 4) == 1.0816 and round(h.loc["H2", "time_index"], 4) == 0.9184
    assert h.loc["H1", "level"] == "tertiary" and pd.isna(h.loc["H1", "rank_cmi"])  # < 100 cases: reported, not ranked


def test_worked_example_risk_levels_3_6():
    rates = {"D0": 0, "D1": 1, "D2": 4, "D3": 10, "D4": 30, "D5": 120}  # deaths per 1000
    rows = []
    for g, d in rates.items():
        rows += [("H", g, 1000, 5, "5" if i < d else "1") for i in range(1000)]
    lv = risk_levels(prepare(frame(rows))).set_index("drg")["risk_level"].to_dict()
    assert lv == {"D0": 0, "D1": 1, "D2": 2, "D3": 2, "D4": 3, "D5": 4}
    # a hospital with 800 cases in the 0.001 DRG and 1 death: low-risk mortality 0.125%
    test = [("X", "D1", 1000, 5, "5" if i == 0 else "1") for i in range(800)]
    cases = attach_levels(prepare(frame(test)), None)
    ref = attach_levels(prepare(frame(rows)), None)
    h = hospital_indicators(cases, pd.DataFrame({"drg": list(rates), "rw": 1.0}), reference=ref)
    assert math.isclose(h.loc[0, "low_risk_mortality"], 0.00125)


def test_worked_example_outcomes_5_4():
    lo, hi = poisson_ci([25], [17])
    assert (round(lo[0], 3), round(hi[0], 3)) == (0.952, 2.171)
    assert round(poisson_funnel_limit([17.0], 0.025)[0], 4) == 0.5245
    assert round(poisson_funnel_limit([17.0], 0.975)[0], 4) == 1.4720
    assert round(poisson_funnel_limit([17.0], 0.001)[0], 4) == 0.3079
    assert round(poisson_funnel_limit([17.0], 0.999)[0], 4) == 1.8023
    ref = []
    for g, p in (("A", 0.01), ("B", 0.05), ("C", 0.20)):
        ref += [("R", g, 1000, 5, "5" if i < p * 1000 else "1") for i in range(1000)]
    hosp = [("H", "A", 1000, 5, "1")] * 200 + [("H", "B", 1000, 5, "1")] * 100 + [("H", "C", 1000, 5, "1")] * 50
    hosp = [r if i >= 25 else r[:4] + ("5",) for i, r in enumerate(hosp)]
    out = standardized_mortality(prepare(frame(hosp)), reference=prepare(frame(ref))).iloc[0]
    assert out["observed"] == 25 and math.isclose(out["expected"], 17.0)
    assert round(out["oe_ratio"], 3) == 1.471 and out["funnel_flag"] == "within"


def naive_indicators(df: pd.DataFrame, rw: dict):
    """Plain loops over cases, straight from the sheet (sections 3.1-3.3, 5.1)."""
    inc = [r for r in df.itertuples() if r.drg not in ("", "0000") and r.status == "分组成功"]
    cost_sum, cost_n, los_sum, los_n, n_g, d_g = {}, {}, {}, {}, {}, {}
    for r in inc:
        n_g[r.drg] = n_g.get(r.drg, 0) + 1
        d_g[r.drg] = d_g.get(r.drg, 0) + (r.leaving_type == "5")
        if r.total_cost is not None and not (isinstance(r.total_cost, float) and math.isnan(r.total_cost)) and r.total_cost > 0:
            cost_sum[r.drg] = cost_sum.get(r.drg, 0.0) + r.total_cost
            cost_n[r.drg] = cost_n.get(r.drg, 0) + 1
        if not math.isnan(r.los_days) and r.los_days >= 0:
            los_sum[r.drg] = los_sum.get(r.drg, 0.0) + r.los_days
            los_n[r.drg] = los_n.get(r.drg, 0) + 1
    bc = {g: cost_sum[g] / cost_n[g] for g in cost_sum}
    bl = {g: los_sum[g] / los_n[g] for g in los_sum}
    xs = {g: math.log(d_g[g] / n_g[g]) for g in n_g if d_g[g] > 0}
    vals = list(xs.values())
    mu = sum(vals) / len(vals) if vals else float("nan")
    sd = math.sqrt(sum((v - mu) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else float("nan")
    level = {}
    for g in n_g:
        if d_g[g] == 0:
            level[g] = 0
        elif math.isnan(sd):
            level[g] = 3
        else:
            x = xs[g]
            level[g] = 1 if x < mu - sd else 2 if x < mu else 3 if x < mu + sd else 4
    p = {g: d_g[g] / n_g[g] for g in n_g}
    out = {}
    for h in sorted({r.hospital_id for r in inc}):
        rows = [r for r in inc if r.hospital_id == h]
        w = [rw[r.drg] for r in rows if not math.isnan(rw.get(r.drg, float("nan")))]
        cr = [r.total_cost / bc[r.drg] for r in rows if r.drg in bc and r.total_cost == r.total_cost and r.total_cost > 0]
        lr = [r.los_days / bl[r.drg] for r in rows if r.drg in bl and bl[r.drg] > 0 and r.los_days == r.los_days and r.los_days >= 0]
        low = [r for r in rows if level[r.drg] == 1]
        out[h] = {
            "cases": len(rows), "drg_count": len({r.drg for r in rows}),
            "cmi": sum(w) / len(w) if w else float("nan"),
            "cost_index": sum(cr) / len(cr) if cr else float("nan"),
            "time_index": sum(lr) / len(lr) if lr else float("nan"),
            "low_risk_mortality": sum(r.leaving_type == "5" for r in low) / len(low) if low else float("nan"),
            "observed": sum(r.leaving_type == "5" for r in rows), "expected": sum(p[r.drg] for r in rows),
        }
    return out


def close(a, b):
    if isinstance(a, float) and math.isnan(a) or (b is None) or (isinstance(b, float) and math.isnan(b)):
        return (isinstance(a, float) and math.isnan(a)) and (b is None or (isinstance(b, float) and math.isnan(b)))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["H1", "H2", "H3"]), st.sampled_from(["A11", "A13", "B19", "C15", "0000"]),
                          st.one_of(st.none(), st.floats(-10, 50000, allow_nan=False)), st.one_of(st.just(float("nan")), st.integers(0, 60)),
                          st.sampled_from(["1", "1", "5", "2", "3"])), min_size=1, max_size=120))
def test_indicators_equal_plain_loops(rows):
    df = frame(rows)
    df["los_days"] = df["los_days"].astype(float)
    df.loc[df["drg"] == "0000", "status"] = "无法入组"
    cases = attach_levels(prepare(df), None)
    rw = {"A11": 1.7, "A13": 1.2, "B19": 0.6, "C15": float("nan")}
    w = pd.DataFrame({"drg": list(rw), "rw": list(rw.values())})
    want = naive_indicators(df.assign(total_cost=df["total_cost"].astype(float)), rw)
    got = hospital_indicators(cases, w).set_index("hospital_id")
    oe = standardized_mortality(cases).set_index("hospital_id")
    assert sorted(got.index) == sorted(want)
    for h, exp in want.items():
        for k in ("cases", "drg_count", "cmi", "cost_index", "time_index", "low_risk_mortality"):
            assert close(float(got.loc[h, k]), exp[k]), (h, k, got.loc[h, k], exp[k])
        assert oe.loc[h, "observed"] == exp["observed"]
        assert close(float(oe.loc[h, "expected"]), exp["expected"])


def test_edge_cases_have_defined_output():
    rows = [("H1", "A11", 1000, 3, "1"), ("H2", "B19", 0, 2, "1"), ("H2", "B19", None, 2, "1"), ("H2", "B19", 500, 4, "1"),
            ("H3", "C15", None, None, "5")]
    df = frame(rows)
    cases = attach_levels(prepare(df), None)
    w = compute_weights(cases).set_index("drg")
    assert w.loc["A11", "weight_status"] == "unstable_small_n" and np.isnan(w.loc["A11", "cv"])  # one case
    assert w.loc["C15", "weight_status"] == "no_reference" and np.isnan(w.loc["C15", "rw"])  # no valid cost
    h = hospital_indicators(cases, w.reset_index()).set_index("hospital_id")
    assert h.loc["H2", "drg_count"] == 1 and math.isclose(h.loc["H2", "cost_index"], 1.0)  # zero/missing cost left out
    assert np.isnan(h.loc["H3", "cmi"]) and np.isnan(h.loc["H3", "cost_index"]) and h.loc["H3", "no_weight"] == 1
    o = standardized_mortality(cases).set_index("hospital_id")
    assert o.loc["H1", "observed"] == 0 and o.loc["H1", "funnel_flag"] == "no_expected"
    d = discipline(cases, w.reset_index(), by="mdc")
    assert len(d) == 3 and d["drg_coverage"].notna().all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.one_of(st.none(), st.floats(1, 1e6))), min_size=1, max_size=300),
       st.sampled_from(["iqr", "log_sd", "mean_multiple", "none"]))
def test_vectorised_trimming_equals_per_drg_rule(rows, method):
    from evaluation.weights import _trimmed, trim_mask

    df = pd.DataFrame(rows, columns=["drg", "cost"]).assign(included=True)
    df["cost"] = df["cost"].astype(float)
    got = _trimmed(df, method=method, k_lo=1.5, k_hi=1.5, min_cases=5)
    want = pd.Series(False, index=df.index)
    for _, sub in df.dropna(subset=["cost"]).groupby("drg"):
        want[sub.index] = trim_mask(sub["cost"].to_numpy(), method=method, min_cases=5)
    assert (got == want).all()


def _percentile(values, q):
    """Linear interpolation between order statistics (the usual definition), by hand."""
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = math.floor(k)
    return s[lo] if lo + 1 >= len(s) else s[lo] + (s[lo + 1] - s[lo]) * (k - lo)


def test_overdispersion_widens_the_funnel_and_keeps_the_planted_outlier():
    """Planted: 40 hospitals whose true mortality varies (log-normal, sd 0.2) beyond Poisson chance,
    and one (H00) at twice the regional risk. Poisson limits flag many ordinary hospitals; the
    over-dispersed funnel (section 5.3) flags the planted one only."""
    rng = np.random.default_rng(7)
    n, p = 5000, 0.05
    rows = []
    for h in range(40):
        mult = 2.0 if h == 0 else float(np.exp(rng.normal(0, 0.2)))
        deaths = int(rng.poisson(n * p * mult))
        rows += [(f"H{h:02d}", "A", 1000, 5, "5")] * deaths + [(f"H{h:02d}", "A", 1000, 5, "1")] * (n - deaths)
    cases = prepare(frame(rows))
    plain = standardized_mortality(cases).set_index("hospital_id")
    wide = standardized_mortality(cases, overdispersion="multiplicative").set_index("hospital_id")
    alarms = lambda t: set(t.index[t["funnel_flag"].str.startswith("alarm")])  # noqa: E731
    assert "H00" in alarms(plain) and len(alarms(plain) - {"H00"}) >= 5
    assert alarms(wide) == {"H00"}
    # phi by hand: z = (O/E - 1)/sqrt(1/E), winsorised at the 10th/90th percentiles, mean of squares
    z = [(r.observed / r.expected - 1) / math.sqrt(1 / r.expected) for r in plain.itertuples()]
    lo, hi = _percentile(z, 0.10), _percentile(z, 0.90)
    phi = sum(min(max(v, lo), hi) ** 2 for v in z) / len(z)
    assert phi > 1 and math.isclose(wide["phi"].iloc[0], phi, rel_tol=1e-9)
    for col in ("limit95_high", "limit998_high", "limit95_low", "limit998_low"):
        want = np.maximum(1 + (plain[col] - 1) * math.sqrt(phi), 0)
        assert np.allclose(wide[col], want)


def _funnel_frame(o, e):
    """Cases of one DRG (death risk 1%) giving each hospital the observed deaths ``o`` and expected ``e``: per
    hospital ``o`` deaths, then its other cases (built with np.repeat: millions of rows, not Python tuples)."""
    n = [int(round(eh / 0.01)) for eh in e]
    hospital = pd.Categorical.from_codes(np.repeat(np.arange(len(n)), n), [f"H{h:02d}" for h in range(len(n))])
    leaving = pd.Categorical.from_codes(np.concatenate([np.repeat([1, 0], [oh, nh - oh]) for oh, nh in zip(o, n)]), ["1", "5"])
    df = pd.DataFrame({"hospital_id": hospital, "drg": "A", "total_cost": 1000, "los_days": 5, "leaving_type": leaving})
    df["status"] = "分组成功"
    return prepare(df)


def test_random_effects_funnel_equals_the_published_method_on_its_example():
    """FunnelPlotR's example (observed 100, 150, 180, 80, 120, 225 against expected 108, 112, 165, 95,
    100, 220), by its published SHMI-method formulas written out here: z = sqrt(E)·log(O/E),
    winsorised at the 10th/90th percentiles, phi = mean z², DerSimonian-Laird tau² =
    (n·phi − (n−1)) / (ΣE − ΣE²/ΣE), limits exp(±z_p·sqrt(1/E + tau²))."""
    from evaluation.outcomes import random_effects_tau2

    o = [100, 150, 180, 80, 120, 225]
    e = [108.0, 112.0, 165.0, 95.0, 100.0, 220.0]
    z = [math.sqrt(ei) * math.log(oi / ei) for oi, ei in zip(o, e)]
    lo, hi = _percentile(z, 0.10), _percentile(z, 0.90)
    phi = sum(min(max(v, lo), hi) ** 2 for v in z) / len(z)
    n = len(z)
    tau2 = max(0.0, (n * phi - (n - 1)) / (sum(e) - sum(x * x for x in e) / sum(e)))
    got_phi, got_tau2 = random_effects_tau2(o, e)
    assert math.isclose(got_phi, phi, rel_tol=1e-12) and math.isclose(got_tau2, tau2, rel_tol=1e-12) and tau2 > 0
    from evaluation.outcomes import funnel_limits

    approx = funnel_limits(np.array(e), "additive", got_phi, got_tau2, exact=False)
    exact = funnel_limits(np.array(e), "additive", got_phi, got_tau2)
    for col, zp in (("limit95_low", -1.959964), ("limit95_high", 1.959964), ("limit998_low", -3.090232),
                    ("limit998_high", 3.090232)):
        assert np.allclose(approx[col], [math.exp(zp * math.sqrt(1 / ei + tau2)) for ei in e], rtol=1e-12), col
        # the exact mixture quantiles we draw and flag with are near the log-scale approximation at these E
        # (within 10%; the lower ones further out: the count distribution is skewed, as exact Poisson is)
        assert np.allclose(exact[col], approx[col], rtol=0.1), col
        assert (exact[col] <= approx[col]).all() if col.endswith("low") else True
    # through the outcome table (E comes from the pooled regional rate): the table's phi is the published one; its
    # tau2 is each hospital's from the other five (none is an outlier), DerSimonian-Laird about their weighted mean:
    # Spiegelhalter's winsorised tau2 is inconsistent (a third too small where hospitals truly differ, see
    # evaluation.outcomes.robust_tau2), and a hospital is judged against its peers, not against itself
    t = standardized_mortality(_funnel_frame(o, e), overdispersion="additive").set_index("hospital_id")
    ot, et = t["observed"].to_numpy(float), t["expected"].to_numpy(float)
    assert math.isclose(t["phi"].iloc[0], random_effects_tau2(ot, et)[0], rel_tol=1e-12)
    for j in range(len(ot)):
        y = [math.log(ot[i] / et[i]) for i in range(len(ot)) if i != j]
        w = [et[i] for i in range(len(ot)) if i != j]
        c = sum(wi * yi for wi, yi in zip(w, y)) / sum(w)
        q = sum(wi * (yi - c) ** 2 for wi, yi in zip(w, y))
        want = max(0.0, (q - (len(y) - 1)) / (sum(w) - sum(wi * wi for wi in w) / sum(w)))
        assert math.isclose(t["tau2"].iloc[j], want, rel_tol=1e-9), (j, t["tau2"].iloc[j], want)
        assert math.isclose(t["peer_centre"].iloc[j], math.exp(c), rel_tol=1e-9)
    for r in t.itertuples():
        assert (r.funnel_flag == "alarm_high") == (r.z_score > 3.090232) == (r.oe_ratio > r.limit998_high)
        assert (r.funnel_flag in ("alarm_high", "alert_high")) == (r.z_score > 1.959964) == (r.oe_ratio > r.limit95_high)
        assert (r.funnel_flag in ("alarm_low", "alert_low")) == (r.z_score < -1.959964) == (r.oe_ratio < r.limit95_low)


def _mixture_cdf_by_quadrature(r: int, e: float, tau: float) -> float:
    """P(O <= r), O ~ Poisson(E·exp(U)), U ~ N(0, tau²), by adaptive numerical integration over U."""
    from scipy import integrate, stats

    f = lambda u: stats.poisson.cdf(r, e * math.exp(u)) * stats.norm.pdf(u, 0, tau)  # noqa: E731
    return integrate.quad(f, -10 * tau, 10 * tau, epsabs=1e-13, limit=200)[0]


@settings(max_examples=25, deadline=None)
@given(st.floats(0.5, 3000), st.floats(0.01, 0.6), st.sampled_from([0.001, 0.025, 0.975, 0.999]))
def test_random_effects_limits_are_the_mixture_quantiles(e, tau, p):
    """Each plotted limit is the interpolated p-quantile of the Poisson-log-normal mixture (checked with the
    mixture's CDF by adaptive quadrature); at tau = 0 the exact Poisson limit; at large E the log-scale
    formula of SHMI / FunnelPlotR."""
    from evaluation.outcomes import (
        additive_limit,
        mixture_funnel_limit,
        poisson_funnel_limit,
    )

    lim = float(mixture_funnel_limit(np.array([e]), p, tau * tau)[0])
    r = math.ceil(lim * e - 1e-9)  # the count whose interpolation step holds the limit
    f_r, f_prev = _mixture_cdf_by_quadrature(r, e, tau), (_mixture_cdf_by_quadrature(r - 1, e, tau) if r > 0 else 0.0)
    assert f_r >= p - 1e-7 and (f_prev < p + 1e-7)
    # the interpolation divides by one count's probability (1e-4 in the far tail): CDF errors of 1e-8 move
    # the limit by 1e-4 of itself, far below anything a flag could notice
    assert math.isclose(lim, (r - (f_r - p) / (f_r - f_prev)) / e, rel_tol=1e-3, abs_tol=1e-6)
    assert np.allclose(mixture_funnel_limit(np.array([e]), p, 0.0), poisson_funnel_limit(np.array([e]), p))
    big = np.array([1e5])
    z = stats.norm.ppf(p)
    assert np.allclose(mixture_funnel_limit(big, p, tau * tau), additive_limit(big, z, tau * tau), rtol=0.01)


@pytest.mark.slow
def test_random_effects_funnel_flags_the_planted_outlier_and_few_ordinary_hospitals():
    """Ten synthetic provinces of 40 hospitals (E 200-3,000 deaths, log-uniform): 39 ordinary ones whose
    true mortality varies (log-normal, sd 0.1, spread over the normal quantiles of 39 equal steps) and one
    (H00) at 1.6 times the regional risk. Over the 390 ordinary hospitals, Poisson limits raise over a
    hundred false alarms and the multiplicative widening (which shrinks with E) over ten; the
    random-effects funnel raises at most 4 (about 1%), and all three find every planted outlier."""
    from scipy import stats

    false_alarms = {False: 0, "multiplicative": 0, "additive": 0}
    for seed in range(10):
        rng = np.random.default_rng(seed)
        e = list(np.round(np.exp(rng.uniform(np.log(200), np.log(3000), 40))))
        effects = [1.6] + list(rng.permutation(np.exp(0.1 * stats.norm.ppf((np.arange(39) + 0.5) / 39))))
        cases = _funnel_frame([int(rng.poisson(ei * m)) for ei, m in zip(e, effects)], e)
        for method in false_alarms:
            t = standardized_mortality(cases, overdispersion=method).set_index("hospital_id")
            alarms = set(t.index[t["funnel_flag"].str.startswith("alarm")])
            assert "H00" in alarms, (seed, method)
            false_alarms[method] += len(alarms - {"H00"})
    assert false_alarms[False] >= 100 and false_alarms["multiplicative"] >= 10, false_alarms
    assert false_alarms["additive"] <= 4, false_alarms


def test_funnel_lower_limits_are_never_negative():
    from evaluation.outcomes import funnel_curve, funnel_limits

    e = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 100.0])
    for method in (None, "multiplicative", "additive"):
        lim = funnel_limits(e, method, phi=4.0, tau2=0.05)
        assert all((v >= 0).all() for v in lim.values()), method
    assert (funnel_curve(50.0)[["limit95_low", "limit998_low"]] >= 0).all().all()


def test_every_hospital_gets_a_row_with_a_status():
    """A hospital with only ungroupable records, one with a handful of cases and one known only from the
    hospitals table appear in the hospital and outcome tables, with a status and no made-up indicators."""
    from evaluation.api import evaluate

    rows = [("H1", "A", 1000, 5, "1")] * 150 + [("H1", "A", 1000, 5, "5")] * 5 + [("H2", "A", 900, 4, "1")] * 20
    rows += [("H3", "0000", 800, 3, "1")] * 10
    data = frame(rows)
    data.loc[data["hospital_id"] == "H3", "status"] = "无法入组"
    hospitals = pd.DataFrame({"hospital_id": ["H1", "H2", "H3", "H4"], "level": ["tertiary", "secondary", "secondary", "primary"]})
    tables = evaluate(data, hospitals=hospitals)
    for name in ("hospital", "outcomes"):
        t = tables[name].set_index("hospital_id")
        assert list(t.index) == ["H1", "H2", "H3", "H4"], name
        assert t.loc["H1", "status"] == "ok" and t.loc["H2", "status"] == "too_few_cases"
        assert t.loc["H3", "status"] == t.loc["H4", "status"] == "no_cases" and t.loc["H3", "cases"] == 0
    h = tables["hospital"].set_index("hospital_id")
    assert pd.isna(h.loc["H3", "cmi"]) and pd.isna(h.loc["H4", "cost_index"]) and h.loc["H4", "level"] == "primary"
    o = tables["outcomes"].set_index("hospital_id")
    assert o.loc["H3", "funnel_flag"] == "no_expected" and pd.isna(o.loc["H3", "oe_ratio"])


def test_risk_levels_need_enough_cases_or_come_from_a_list():
    """A DRG with 5 cases and 1 death gets no regional level at the default minimum (it would be decided
    by one death); an external list decides levels when given, and the table says which rule was used."""
    from evaluation.api import evaluate

    rows = []
    for g, n, d in (("A", 400, 1), ("B", 400, 8), ("C", 400, 40), ("D", 5, 1), ("E", 400, 2)):
        rows += [("H1", g, 1000, 5, "5")] * d + [("H1", g, 1000, 5, "1")] * (n - d)
    data = frame(rows)
    rl = evaluate(data)["risk_levels"].set_index("drg")
    assert rl.loc["D", "level_source"] == "too_few_cases" and pd.isna(rl.loc["D", "risk_level"])
    assert (rl.drop(index="D")["level_source"] == "regional").all() and (rl["min_cases"] == 30).all()
    assert rl.loc["D", "risk_level"] is pd.NA
    low = evaluate(data, min_cases_risk=1)["risk_levels"].set_index("drg")
    assert low.loc["D", "level_source"] == "regional" and pd.notna(low.loc["D", "risk_level"])
    ext = pd.DataFrame({"drg": ["A", "B", "D"], "risk_level": [1, 2, 1]})
    tables = evaluate(data, risk_levels_table=ext)
    e = tables["risk_levels"].set_index("drg")
    assert e.loc["D", "risk_level"] == 1 and e.loc["D", "level_source"] == "external"
    assert pd.isna(e.loc["C", "risk_level"]) and e.loc["C", "level_source"] == "not_in_list"
    h = tables["hospital"].iloc[0]
    assert h["low_risk_cases"] == 405 and math.isclose(h["low_risk_mortality"], 2 / 405)


def test_leave_one_out_reference_for_a_dominant_hospital():
    """H1 has most of the region's cases: pooled benchmarks pull it toward 1; leave-one-out compares it with
    the others only (worked by hand), and the tables say which reference they used."""
    from evaluation.api import evaluate

    rows = [("H1", "A", 3000, 10, "5")] * 50 + [("H1", "A", 3000, 10, "1")] * 450
    rows += [("H2", "A", 1000, 5, "5")] * 5 + [("H2", "A", 1000, 5, "1")] * 95
    rows += [("H3", "A", 2000, 5, "1")] * 100
    data = frame(rows)
    pooled = evaluate(data, min_cases_risk=1)
    loo = evaluate(data, min_cases_risk=1, leave_one_out=True)
    po, lo = (t["outcomes"].set_index("hospital_id") for t in (pooled, loo))
    assert math.isclose(po.loc["H1", "oe_ratio"], 50 / (500 * 55 / 700))
    assert math.isclose(lo.loc["H1", "oe_ratio"], 50 / (500 * 5 / 200))  # the others: 5 deaths in 200 cases
    assert math.isclose(lo.loc["H2", "oe_ratio"], 5 / (100 * 50 / 600))
    ph, lh = (t["hospital"].set_index("hospital_id") for t in (pooled, loo))
    assert math.isclose(lh.loc["H1", "cost_index"], 3000 / 1500) and math.isclose(lh.loc["H1", "time_index"], 10 / 5)
    assert math.isclose(ph.loc["H1", "cost_index"], 3000 / (1_800_000 / 700))
    assert (lo["reference"] == "leave_one_out").all() and (ph["reference"] == "pooled").all()


def test_far_upper_limits_are_computed_on_the_survival_side():
    """A hospital judged with Student's t of few degrees of freedom has its 99.8% limit at probability 1 - 1e-13
    (t of 4 df at 0.999 is 7.17 on the normal scale); there differences of CDF values near 1 keep three digits and
    two inputs equal to 1e-16 gave limits 1e-4 apart (a streamed run against a per-case one). On the survival side
    they agree to the last digits, and the limit is the one the exact tail puts there."""
    from evaluation import distributions as dist
    from evaluation.outcomes import _mixture_tail, mixture_funnel_limit

    x = 7.17
    p, q = dist.norm_cdf(x), dist.norm_sf(x)
    e = np.array([0.278409, 1.063492, 2.098485, 30.0])
    a = mixture_funnel_limit(e, p, 0.5, upper_tail=q)
    b = mixture_funnel_limit(e * (1 + 2e-16), p, 0.5, upper_tail=q)
    assert np.allclose(a, b, rtol=1e-12)
    r = np.floor(a * e)  # the limit's count lies where the exact upper tail crosses q
    assert (_mixture_tail(r, e, np.sqrt(0.5), upper=True) >= q).all()
    assert (_mixture_tail(r + 1, e, np.sqrt(0.5), upper=True) <= q).all()
