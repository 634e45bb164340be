"""The funnels' judgments on a world `drg synth` did not make (tests/second_world.py; issue 40, points 1 and 2): with
the default options the planted quality outliers are found and no more than one ordinary hospital is named, in the
planted world and in the null world; and one or two extreme hospitals in a small peer group no longer inflate the
between-hospital variance until a doubled mortality passes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CASES, need_shared

sys.path.insert(0, str(Path(__file__).parent))
import second_world  # noqa: E402


def _alarms(table) -> set:
    t = table.set_index("hospital_id")
    return set(t.index[t["funnel_flag"].astype(str).str.startswith("alarm")])


@pytest.fixture(scope="module", params=[True, False], ids=["planted", "null"])
def world(request):
    """The issue's shape: 20 tertiary and 100 secondary hospitals over four years (640,000 stays). Ten tertiary
    hospitals are too few to judge one by: with nine peers a hospital of OR 2.0 among ordinary ones of sd 0.15 is
    beyond 99.8% about half the time by any calibrated test (Student's t of 8 df; tests/second_world.py's seed 11
    has one at z 3.19 and one secondary at 3.02)."""
    need_shared()
    return second_world.make_world(CASES / "chs-drg-1.1.parquet", seed=11, planted=request.param, tertiary=20,
                                   secondary=100, years=(2021, 2022, 2023, 2024))


@pytest.mark.slow
def test_default_funnel_finds_the_planted_and_names_no_ordinary_hospital(world):
    from evaluation.api import evaluate

    tables = evaluate(world.cases, hospitals=second_world.hospitals_table(world))  # the defaults
    out = tables["outcomes"]
    alarms = _alarms(out)
    assert set(world.outliers) <= alarms, (world.outliers, alarms)
    assert len(alarms & set(world.ordinary)) <= 1, alarms
    assert set(out["od_method"]) <= {"additive", "none"} and out["od_test_p"].notna().all()
    # the Poisson limits name ordinary hospitals of a region that varies more than chance: the default must not
    plain = _alarms(evaluate(world.cases, hospitals=second_world.hospitals_table(world), overdispersion="none")["outcomes"])
    assert len(plain & set(world.ordinary)) >= len(alarms & set(world.ordinary))


@pytest.mark.slow
def test_patient_level_expectations_clear_the_sicker_hospitals(world):
    """With each case's true death risk from its coded comorbidity as the expectation (what `drg risk` estimates),
    the case-mix-only hospitals are not flagged and the outliers still are."""
    from evaluation.common import prepare
    from evaluation.outcomes import standardized_mortality

    c = world.cases
    base = c.groupby("drg")["leaving_type"].apply(lambda s: (s == "5").mean())
    # a patient-level expectation: the DRG rate moved by the case's coded comorbidity (calibrated to the region)
    p0 = c["drg"].map(base).clip(1e-4, 0.9).to_numpy()
    n_sdx = c["dx"].map(lambda d: min(max(len(d) - 1, 0), 6)).to_numpy(float)
    logit = np.log(p0 / (1 - p0)) + 0.25 * (n_sdx - n_sdx.mean())
    p = 1 / (1 + np.exp(-logit))
    p *= (c["leaving_type"] == "5").sum() / p.sum()
    cases = prepare(c)
    out = standardized_mortality(cases, overdispersion="auto", peer=c["level"],
                                 expected_cases=__import__("pandas").Series(p, index=cases.index))
    alarms = _alarms(out)
    assert set(world.outliers) <= alarms and not (alarms & set(world.casemix_only)), alarms
    assert len(alarms & set(world.ordinary)) <= 1, alarms


def _small_groups(rng, groups: int, size: int, outliers: int, sd: float, ratio: float = 2.0):
    """``groups`` peer groups of ``size`` hospitals (E 300-3,000, log-uniform): ordinary ones with log O/E ~ N(0, sd),
    the first ``outliers`` of each group at ``ratio`` times the regional risk. Returns (observed, expected, group,
    planted) per hospital."""
    n = groups * size
    e = np.exp(rng.uniform(np.log(300), np.log(3000), n))
    u = rng.normal(0.0, sd, n)
    planted = np.tile(np.arange(size) < outliers, groups)
    u[planted] = np.log(ratio)
    return rng.poisson(e * np.exp(u)).astype(float), e, np.repeat(np.arange(groups), size), planted


@pytest.mark.slow
@pytest.mark.parametrize("outliers", [1, 2])
def test_an_outlier_in_a_small_peer_group_is_not_hidden_by_the_variance_it_makes(outliers):
    """Issue 40, point 2, both ways, over 150 peer groups of ten hospitals (ordinary spread sd 0.1): one or two of OR
    2.0 in each. The plain DerSimonian-Laird tau2 takes them in and lets them pass (under half of single outliers
    found, a tenth of pairs); with the outliers set aside (Rosner's ESD) and each hospital judged against the others,
    85% of single outliers and 60% of pairs are (two of ten mask each other: the t of 7-8 df is what ten hospitals
    can tell), while ordinary hospitals are flagged at most about twice as often as the 99.8% limits allow (0.002 x
    10 = 0.02 a group; the outlier step itself sets an ordinary hospital aside in 1-3% of groups; measured on 1,500
    null groups: 0.045 a group at sd 0.1, 0.049 at 0.15): at most 0.07 a group here, with outliers and without."""
    import pandas as pd

    from evaluation.outcomes import observed_expected

    rng = np.random.default_rng(40 + outliers)
    o, e, g, planted = _small_groups(rng, 150, 10, outliers, 0.1)
    t = observed_expected(pd.DataFrame({"observed": o, "expected": e}), pd.Series(g), "additive")
    found = t["funnel_flag"].eq("alarm_high").to_numpy()[planted].mean()
    assert found >= {1: 0.85, 2: 0.6}[outliers], found
    assert (t["funnel_flag"].str.startswith("alarm").to_numpy() & ~planted).sum() / 150 <= 0.07
    # the plain estimate on the same groups (centred at the weighted mean, all units in): the outliers pass
    naive_found = 0
    for k in range(150):
        at = g == k
        y, w = np.log(o[at] / e[at]), e[at]
        c = (w * y).sum() / w.sum()
        tau2 = max(0.0, ((w * (y - c) ** 2).sum() - 9) / (w.sum() - (w * w).sum() / w.sum()))
        naive_found += ((y - c) / np.sqrt(1 / w + tau2) > 3.090232)[planted[at]].sum()
    assert naive_found / planted.sum() < {1: 0.5, 2: 0.1}[outliers], naive_found / planted.sum()
    # the null: the same groups without outliers
    o, e, g, planted = _small_groups(rng, 150, 10, 0, 0.1)
    t = observed_expected(pd.DataFrame({"observed": o, "expected": e}), pd.Series(g), "additive")
    assert t["funnel_flag"].str.startswith("alarm").sum() / 150 <= 0.07


def test_leave_one_out_fits_and_the_outlier_step_equal_slow_references():
    """evaluation.peers against their definitions written out: each unit's centre and DerSimonian-Laird tau2 from the
    other kept units one at a time; Rosner's generalized ESD by its steps (remove the largest externally studentised
    residual, compare with Student's t at 1 - alpha / 2m with m - 2 df, outliers the first k removed, k the last step
    over); Student's t read on the normal scale by its tail probability."""
    from scipy import stats

    from evaluation.peers import leave_one_out_fit, robust_fit, t_to_z

    def dl(y, s2):
        w = 1 / s2
        c = (w * y).sum() / w.sum()
        q = (w * (y - c) ** 2).sum()
        den = w.sum() - (w * w).sum() / w.sum()
        t2 = max(0.0, (q - (len(y) - 1)) / den) if den > 0 else 0.0
        return c, t2, (w.sum() + t2 * (w * w).sum()) / w.sum() ** 2

    rng = np.random.default_rng(7)
    for n in (3, 4, 9, 30):
        for _ in range(5):
            y = rng.normal(0, 0.2, n) + np.where(rng.random(n) < 0.15, rng.normal(0, 2, n), 0)
            s2 = rng.uniform(0.001, 0.05, n)
            keep = rng.random(n) < 0.8
            keep[:3] = True
            c, t2, vc, df = leave_one_out_fit(y, s2, keep)
            for j in range(n):
                others = keep & (np.arange(n) != j)
                rc, rt2, rvc = dl(y[others], s2[others])
                assert np.allclose([c[j], t2[j], vc[j], df[j]], [rc, rt2, rvc, others.sum() - 1], rtol=1e-9, atol=1e-12)
            for alpha in (0.01, 0.05):
                active, removed, k = list(range(n)), [], 0
                for step in range(n - max(3, int(np.ceil(n / 2)))):
                    r = []
                    for j in active:
                        rest = [i for i in active if i != j]
                        rc, rt2, rvc = dl(y[rest], s2[rest])
                        r.append(abs(y[j] - rc) / np.sqrt(s2[j] + rt2 + rvc))
                    j = active[int(np.argmax(r))]
                    m = len(active)
                    if max(r) > stats.t.isf(alpha / (2 * m), m - 2):
                        k = step + 1
                    removed.append(j)
                    active.remove(j)
                want = np.ones(n, bool)
                want[removed[:k]] = False
                got_c, got_t2, got_keep = robust_fit(y, s2, alpha=alpha)
                assert (got_keep == want).all(), (n, alpha)
                assert np.allclose([got_c, got_t2], dl(y[want], s2[want])[:2], rtol=1e-9, atol=1e-12)
    r = np.array([-5.0, -1.0, 0.0, 2.5, 4.0])
    for df in (1.0, 4.0, 30.0):
        want = np.sign(r) * stats.norm.isf(stats.t.sf(np.abs(r), df))
        assert np.allclose(t_to_z(r, df), want, rtol=1e-9)
    assert np.array_equal(t_to_z(r, np.inf), r)


def test_a_region_without_over_dispersion_keeps_the_exact_poisson_limits():
    """auto: where hospitals vary no more than chance allows, the test does not reject and the limits are Poisson's."""
    from evaluation.outcomes import standardized_mortality
    from test_evaluation import _funnel_frame

    rng = np.random.default_rng(3)
    e = list(np.round(np.exp(rng.uniform(np.log(50), np.log(800), 40))))
    cases = _funnel_frame([int(rng.poisson(x)) for x in e], e)
    t = standardized_mortality(cases, overdispersion="auto")
    assert (t["od_method"] == "none").all() and (t["tau2"] == 0).all() and (t["od_test_p"] > 0.05).all()
    plain = standardized_mortality(cases, overdispersion="none")
    assert np.allclose(t["limit998_high"], plain["limit998_high"])


def test_the_review_list_follows_the_final_flags_not_the_ones_the_false_discovery_step_removed():
    """Issue 40, point 4: 200 hospitals whose MCC/CC capture is exactly as expected and one 3.5 standard deviations
    above: beyond the 99.8% limit (z 3.2 > 3.09) but not after the Benjamini-Hochberg step over 200 hospital-years
    (q 0.14). It is not flagged, so none of its cases is put on the review list; 6 standard deviations above it is,
    and they are."""
    from evaluation.audit import hospital_flags, review_scores

    def run(excess_sd):
        h, n, p = 200, 400, 0.3
        hosp = np.repeat(np.arange(h), n)
        num = np.zeros(h * n)
        extra = int(round(excess_sd * np.sqrt(n * p * (1 - p))))
        for k in range(h):
            num[k * n: k * n + int(n * p) + (extra if k == 0 else 0)] = 1.0
        areas = {"mcc_cc_capture": (np.ones(h * n, bool), num, np.full(h * n, p), np.full(h * n, p * (1 - p))),
                 "p_capture": np.full(h * n, p)}
        cols, stats_ = hospital_flags(areas, hosp, np.full(h * n, 2022), np.array(["secondary"] * h, dtype=object))
        flag = bool(np.asarray(cols["flag"])[(np.asarray(cols["hospital"]) == 0) & (cols["target_area"] == "mcc_cc_capture")][0])
        probs = review_scores(areas, stats_)["mcc_cc_capture"]
        return flag, float(np.asarray(probs)[hosp == 0].max())

    flag, top = run(3.5)
    assert not flag and top == 0.0, (flag, top)
    flag, top = run(6.0)
    assert flag and top > 0.0, (flag, top)


def test_the_review_list_holds_only_cases_of_flagged_hospital_years(tmp_path):
    """Issue 40, point 4: the chart-review list follows the final flags (after the false-discovery step): in the null
    world of the second simulator every listed case belongs to a flagged hospital-year (none listed when none is)."""

    from drg.audit import audit_to

    need_shared()
    w = second_world.make_world(CASES / "chs-drg-1.1.parquet", seed=5, planted=False, cases_tertiary=3000,
                                cases_secondary=1000)
    c = w.cases.assign(px=[[] for _ in range(len(w.cases))])
    c.to_parquet(tmp_path / "null.parquet")
    second_world.hospitals_table(w)[["hospital_id", "level"]].to_csv(tmp_path / "h.csv", index=False)
    tables = audit_to(str(tmp_path / "null.parquet"), str(tmp_path / "audit"), hospitals=str(tmp_path / "h.csv"),
                      lang="en")
    flags, review = tables["hospital_flags"], tables["review_cases"]
    flagged = set(zip(flags.loc[flags["flag"].astype(bool), "hospital_id"], flags.loc[flags["flag"].astype(bool), "year"]))
    assert len(flagged) <= 2  # a null world: at most a chance flag or two among its hospital-year-areas
    if not flagged:
        assert len(review) == 0
    else:
        year = c.set_index("case_id")["year"]
        listed = set(zip(review["hospital_id"], review["case_id"].map(year)))
        assert listed <= flagged, listed - flagged


@pytest.fixture(scope="module", params=[True, False], ids=["planted", "null"])
def costly(request):
    need_shared()
    return second_world.make_world(CASES / "chs-drg-1.1.parquet", seed=11, planted=request.param, games=True)


@pytest.mark.slow
def test_cost_and_time_indices_are_judged_by_default(costly):
    """Issue 40, point 6: the cost and time indices get a funnel among peers (random effects where hospitals differ by
    more than chance): the hospital whose costs and stays run 1.3 times its peers' is named, at most one ordinary
    hospital is (their log cost levels are N(0, 0.05): 3.09 standard deviations happen), and the ranks say which
    way they run."""
    from evaluation.api import evaluate
    from evaluation.words import LABELS

    w = costly
    t = evaluate(w.cases, hospitals=second_world.hospitals_table(w))["hospital"].set_index("hospital_id")
    for name in ("cost_index", "time_index"):
        alarms = set(t.index[t[f"{name}_flag"].astype(str).str.startswith("alarm")])
        assert set(w.cost_outliers) <= alarms, (name, alarms)
        assert len(alarms & set(w.ordinary)) <= 1, (name, alarms & set(w.ordinary))
        assert np.isfinite(t.loc[t["cases"] >= 100, f"{name}_z"]).all()
    assert "1=费用最低" in LABELS["rank_cost_index"] and "1=住院日最短" in LABELS["rank_time_index"]
    ranked = t[t["ranked"].astype(bool) & (t["level"] == "secondary")]
    assert ranked.loc[ranked["rank_cost_index"] == 1, "cost_index"].iloc[0] == ranked["cost_index"].min()


@pytest.mark.slow
def test_doctor_and_department_funnels_name_no_ordinary_hospital_and_say_what_they_could_detect(costly):
    """Issue 40, points 1 and 7 on the doctor (about 1,600 doctors) and department views: their alarms (after the
    false-discovery step) fall in at most one ordinary hospital, and each unit states the smallest death ratio its
    test could find (80% power at its expected deaths, given the number of units tested): larger for smaller units,
    and the size a planted OR of 2.0-2.5 is visible at only for large units."""
    from scipy import stats

    from evaluation.api import evaluate

    w = costly
    for by in ("doctor", "dept"):
        t = evaluate(w.cases, hospitals=second_world.hospitals_table(w), by=by)[by]
        alarms = t[t["funnel_flag"].astype(str).str.startswith("alarm")]
        assert alarms["hospital_id"].isin(w.ordinary).sum() <= 1, alarms[["hospital_id", by == "doctor" and "doctor_id" or "dept"]]
        judged = t[(t["status"] == "ok") & (t["expected"] > 0)]
        d = judged["detectable_or"].to_numpy(float)
        assert np.isfinite(d).all() and (d > 1).all()
        m = int((judged["z_score"].notna()).sum())
        z = max(3.090232306167813, stats.norm.isf(0.025 / m))
        want = np.exp((z + stats.norm.isf(0.2)) * np.sqrt(1 / judged["expected"] + judged["tau2"].fillna(0)))
        assert np.allclose(d, want, rtol=1e-9)
        small, large = judged["expected"].idxmin(), judged["expected"].idxmax()
        assert judged.loc[small, "detectable_or"] > judged.loc[large, "detectable_or"]
