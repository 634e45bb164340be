"""Counterpart-support DiD (methodology 6.7): the planted effect is found, a program without an effect
gets none, staggered starts are handled (Callaway-Sant'Anna), a planted pre-trend is caught, and no number
is given against peers that another program supports."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.support import NEVER, evaluate_support, group_time_cells

WEIGHTS = pd.DataFrame({"drg": ["GA1", "GB1"], "rw": [1.0, 2.0]})  # GA1: surgical partition; both weights known


def _region(effects: dict, never: int, seed: int = 7, n_per_year: int = 400, pretrend: float = 0.0):
    """Townships of one level and kind: ``effects`` = {program: (recipients, CMI gain, start years)}, plus
    ``never`` townships no program supports. CMI = 1 + share of the weight-2 DRG. A recipient's share rises
    by the gain from the year after its own start; ``pretrend`` adds a yearly drift of recipients only."""
    rng = np.random.default_rng(seed)
    hospitals, pairs, rows = [], [], []
    groups = [(prog, n, gain, starts) for prog, (n, gain, starts) in effects.items()] + [(None, never, 0.0, [NEVER])]
    k = 0
    for prog, n, gain, starts in groups:
        for i in range(n):
            hid = f"T{k:03d}"
            k += 1
            start = starts[i % len(starts)]
            hospitals.append((hid, "primary", "township"))
            if prog:
                pairs.append(("S001", hid, prog, start))
            base = rng.uniform(0.25, 0.45)
            for year in range(2016, 2023):
                share = (base + 0.01 * (year - 2016) + (gain if prog and year > start else 0.0)
                         + (pretrend * (year - 2016) if prog else 0.0) + rng.normal(0, 0.01))
                heavy = rng.random(n_per_year) < share
                rows += [(hid, year, "GB1" if h else "GA1") for h in heavy]
    cases = pd.DataFrame(rows, columns=["hospital_id", "year", "drg"])
    cases["included"] = True
    return (cases, pd.DataFrame(hospitals, columns=["hospital_id", "level", "kind"]),
            pd.DataFrame(pairs, columns=["supporter_id", "recipient_id", "program", "start_year"]))


def _cmi_row(did_table, program):
    return did_table[(did_table["program"] == program) & (did_table["indicator"] == "cmi")].iloc[0]


def _support(cases, hospitals, pairs, **kw):
    return evaluate_support(cases, hospitals, pairs, WEIGHTS, start=2019, indicators=("cmi",), draws=999, **kw)


def test_planted_gain_found_and_a_program_without_effect_gets_none():
    """Over 20 synthetic regions with staggered starts: the 95% CI holds the planted gain and excludes 0 for
    the program with an effect, and excludes 0 for the program without one no more often than chance
    allows (P(>= 4 of 20) is 1.6% at the nominal 5%)."""
    covered = found = false_effects = 0
    for seed in range(20):
        cases, hospitals, pairs = _region({"pairing": (12, 0.15, [2018, 2020]), "alliance": (12, 0.0, [2019, 2021])},
                                          never=14, seed=seed, n_per_year=200)
        _, did_table, _, _ = _support(cases, hospitals, pairs)
        gain, null = _cmi_row(did_table, "pairing"), _cmi_row(did_table, "alliance")
        assert gain["status"] == null["status"] == "ok"
        assert gain["estimator"] == "Callaway-Sant'Anna" and "Webb" in gain["inference"]  # 26 clusters < 30
        # the recipients of the program with an effect are never the other program's controls: as peers
        # they would give the alliance a large false negative effect in every region
        assert gain["control_hospitals"] == null["control_hospitals"] == 14
        assert gain["cohorts"] == "2018:6, 2020:6"
        covered += gain["ci_low"] <= 0.15 <= gain["ci_high"]
        found += gain["ci_low"] > 0
        false_effects += not (null["ci_low"] <= 0 <= null["ci_high"])
    assert found == 20 and covered >= 17, (found, covered)
    assert false_effects <= 3, false_effects


def test_staggered_starts_where_two_way_fixed_effects_is_biased():
    """Effects that grow with time since the start (0.05 a year) and staggered starts: plain TWFE compares
    late starters with early ones already treated and is biased; the group-time estimator recovers the
    planted average effect over the post-start cells, within its CI."""
    rng = np.random.default_rng(3)
    rows, starts = [], {}
    for k in range(40):
        hid, start = f"H{k:02d}", (2018, 2020, NEVER)[k % 3]
        if start != NEVER:
            starts[hid] = start
        base = rng.uniform(0.8, 1.2)
        for year in range(2015, 2024):
            effect = 0.05 * (year - start) if year > start else 0.0
            rows.append((hid, year, base + 0.02 * (year - 2015) + effect + rng.normal(0, 0.005)))
    panel = pd.DataFrame(rows, columns=["hospital_id", "year", "y"])
    from evaluation.support import staggered_did

    start = pd.Series(starts)
    controls = pd.Series(NEVER, index=sorted(set(panel["hospital_id"]) - set(starts)), dtype=float)
    res, event = staggered_did(panel, "y", start, controls, draws=999)
    post = [(g, t) for g in start for t in range(g + 1, 2024)]
    planted = np.mean([0.05 * (t - g) for g, t in post])
    assert res["ci_low"] <= planted <= res["ci_high"] and abs(res["did"] - planted) < 0.01
    # each event time's estimate is the planted dynamic effect
    for r in event[event["event_time"] > 0].itertuples():
        assert abs(r.estimate - 0.05 * r.event_time) < 0.01
    # plain TWFE on the same panel (treated_h * post_ht) is far off
    p = panel[~panel.apply(lambda r: starts.get(r.hospital_id) == r.year, axis=1)].copy()
    p["d"] = [float(r.year > starts.get(r.hospital_id, NEVER)) for r in p.itertuples()]
    X = np.column_stack([p["d"], pd.get_dummies(p["hospital_id"]).to_numpy(float), pd.get_dummies(p["year"]).to_numpy(float)[:, 1:]])
    twfe = np.linalg.lstsq(X, p["y"].to_numpy(), rcond=None)[0][0]
    assert abs(twfe - planted) > 3 * abs(res["did"] - planted) and abs(twfe - planted) > 0.03


def test_pretrend_caught_and_not_invented():
    """Recipients drifting up before their start: the event-study leads are non-zero and the joint test
    rejects; without a drift, the test rejects no more often than chance over 20 regions."""
    cases, hospitals, pairs = _region({"pairing": (12, 0.0, [2020, 2021])}, never=14, seed=1, pretrend=0.02)
    _, did_table, _, event = _support(cases, hospitals, pairs)
    row = _cmi_row(did_table, "pairing")
    assert row["pretrend_leads"] >= 2 and row["pretrend_p"] < 0.01
    leads = event[(event["phase"] == "lead")]
    assert (leads["estimate"] < 0).all()  # before the start the recipients were lower relative to the base year
    rejected = 0
    for seed in range(20):
        cases, hospitals, pairs = _region({"pairing": (12, 0.1, [2020, 2021])}, never=14, seed=seed, n_per_year=200)
        _, did_table, _, _ = _support(cases, hospitals, pairs)
        rejected += _cmi_row(did_table, "pairing")["pretrend_p"] < 0.05
    assert rejected <= 3, rejected


def test_no_number_when_every_peer_is_supported():
    cases, hospitals, pairs = _region({"pairing": (8, 0.15, [2019]), "alliance": (20, 0.0, [2019])}, never=0)
    _, did_table, _, _ = _support(cases, hospitals, pairs)
    assert set(did_table["status"]) == {"no valid comparison group"}
    assert did_table["did"].isna().all() and did_table["ci_low"].isna().all()


def test_not_yet_supported_recipients_as_controls():
    """Every township is supported, but at different times: with never-supported controls there is no
    number; with not-yet-supported ones (the later starters before their start) the planted gain is found."""
    cases, hospitals, pairs = _region({"pairing": (16, 0.15, [2018, 2021])}, never=0, seed=3)
    _, never, _, _ = _support(cases, hospitals, pairs)
    assert _cmi_row(never, "pairing")["status"] == "no valid comparison group"
    _, later, _, event = _support(cases, hospitals, pairs, control_group="not_yet")
    row = _cmi_row(later, "pairing")
    assert row["status"] == "ok" and row["ci_low"] <= 0.15 <= row["ci_high"] and row["ci_low"] > 0
    assert row["control_hospitals"] == 8  # the 2021 starters, before 2021
    assert set(event.loc[event["phase"] == "post", "event_time"]) == {1, 2}  # 2019, 2020 of the 2018 cohort


def test_a_recipient_of_two_programs_is_left_out_of_both():
    """A township that both programs support carries both effects: it is neither program's treated unit nor a
    control, and counted."""
    cases, hospitals, pairs = _region({"pairing": (6, 0.15, [2019]), "alliance": (6, 0.0, [2019])}, never=8)
    both = pairs[pairs["program"] == "pairing"].iloc[:2].assign(program="alliance")
    _, did_table, _, _ = _support(cases, hospitals, pd.concat([pairs, both], ignore_index=True))
    assert _cmi_row(did_table, "pairing")["excluded_other_program"] == 2
    assert _cmi_row(did_table, "pairing")["treated_hospitals"] == 4
    assert _cmi_row(did_table, "alliance")["treated_hospitals"] == 6


def test_recipients_unknown_to_the_hospitals_table_get_no_number():
    cases, hospitals, pairs = _region({"pairing": (6, 0.15, [2019])}, never=8)
    stray = pd.DataFrame({"supporter_id": ["S001"], "recipient_id": ["NOT_A_HOSPITAL"], "program": ["stray"], "start_year": [2019]})
    _, did_table, _, _ = _support(cases, hospitals, pd.concat([pairs, stray], ignore_index=True))
    row = _cmi_row(did_table, "stray")
    assert row["status"] == "recipients not in the hospitals table" and np.isnan(row["did"])
    assert _cmi_row(did_table, "pairing")["status"] == "ok"


def test_support_after_the_data_is_not_support():
    """A program that starts after the last data year supports nobody yet: its townships are controls."""
    cases, hospitals, pairs = _region({"pairing": (8, 0.15, [2019]), "later": (6, 0.0, [2030])}, never=0)
    _, did_table, _, _ = _support(cases, hospitals, pairs)
    row = _cmi_row(did_table, "pairing")
    assert row["status"] == "ok" and row["control_hospitals"] == 6
    assert _cmi_row(did_table, "later")["status"] == "no recipient with data before and after the start"


def test_frozen_baseline_weights():
    """CMI over time uses weights from the years before the first start: a DRG whose cost rises later does not
    move any hospital's CMI (methodology 6.4)."""
    from evaluation.common import prepare
    from evaluation.weights import baseline_weights, compute_weights

    rng = np.random.default_rng(0)
    n = 4000
    raw = pd.DataFrame({"hospital_id": "T1", "year": rng.choice([2017, 2018, 2019, 2020], n), "drg": rng.choice(["GA1", "GR1"], n),
                        "status": "分组成功"})
    later = np.where((raw["year"] >= 2019) & (raw["drg"] == "GA1"), 2.0, 1.0)  # GA1 costs twice as much from 2019
    raw["total_cost"] = np.where(raw["drg"] == "GA1", 10000.0, 2000.0) * later * rng.uniform(0.9, 1.1, n)
    cases = prepare(raw)
    w, years = baseline_weights(cases, 2019)
    assert years == [2017, 2018]
    pd.testing.assert_frame_equal(w, compute_weights(cases[cases["year"] < 2019]))
    pooled = compute_weights(cases)
    assert abs(w.set_index("drg").loc["GA1", "rw"] / w.set_index("drg").loc["GR1", "rw"] - 5.0) < 0.1
    assert pooled.set_index("drg").loc["GA1", "rw"] / pooled.set_index("drg").loc["GR1", "rw"] > 7


def _naive_cells(panel: pd.DataFrame, start: dict, until: dict):
    """ATT(g, t) straight from the definition, one cell at a time with plain dictionaries."""
    y = {(r.hospital_id, r.year): r.y for r in panel.itertuples() if not np.isnan(r.y)}
    years = sorted(set(panel["year"]))
    out = {}
    for g in sorted(set(start.values())):
        b = g - 1
        if b not in years:
            continue
        for t in years:
            if t in (g, b):
                continue
            dt = [y[h, t] - y[h, b] for h, s in start.items() if s == g and (h, t) in y and (h, b) in y]
            dc = [y[h, t] - y[h, b] for h, u in until.items()
                  if u > max(t, b) and start.get(h) != g and (h, t) in y and (h, b) in y]
            if dt and dc:
                out[g, t] = (sum(dt) / len(dt) - sum(dc) / len(dc), len(dt), len(dc))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(2016, 2021), st.floats(-5, 5) | st.just(float("nan"))),
                min_size=1, max_size=60),
       st.lists(st.sampled_from([2017, 2018, 2019, 2020, NEVER]), min_size=8, max_size=8))
def test_group_time_cells_equal_the_definition(obs, starts):
    """Random unbalanced panels with gaps, NaNs and not-yet-treated controls: every cell equals the naive
    computation, and each cell's influence sums to zero over the hospitals (a centred linear statistic)."""
    panel = pd.DataFrame(obs, columns=["h", "year", "y"]).drop_duplicates(["h", "year"])
    panel["hospital_id"] = "H" + panel["h"].astype(str)
    ids = [f"H{i}" for i in range(8)]
    start = {h: s for h, s in zip(ids, starts) if s != NEVER}
    until = {h: (s if s != NEVER else NEVER) for h, s in zip(ids, starts)}  # not-yet-treated controls too
    Y = panel.pivot_table(index="hospital_id", columns="year", values="y", aggfunc="first", dropna=False)
    Y = Y.reindex(index=ids, columns=sorted(set(panel["year"])))
    cells, infl, _, _ = group_time_cells(Y, pd.Series(start, dtype=float), pd.Series(until, dtype=float))
    naive = _naive_cells(panel, start, until)
    assert {(int(r.cohort), int(r.year)) for r in cells.itertuples()} == set(naive)
    for r in cells.itertuples():
        att, nt, nc = naive[int(r.cohort), int(r.year)]
        assert np.isclose(r.att, att, atol=1e-12) and (r.treated, r.controls) == (nt, nc)
    assert np.allclose(infl.sum(axis=0), 0.0, atol=1e-9)


def test_level2_surgery_from_a_procedure_grade_table():
    """With grades, level-2+ surgery counts principal procedures of grade >= 2; without, the DRG proxy, labelled."""
    from evaluation.support import hospital_year_panel

    weights = pd.DataFrame({"drg": ["GA1", "GR1"], "rw": [1.0, 0.6]})  # GR1: medical partition (not surgery in the proxy)
    cases = pd.DataFrame({"hospital_id": ["T1"] * 4, "year": [2019] * 4, "drg": ["GA1", "GA1", "GR1", "GR1"], "included": True})
    grade = pd.Series([1.0, 3.0, 2.0, np.nan], index=cases.index)
    with_table = hospital_year_panel(cases, weights, {"T1"}, principal_grade=grade).iloc[0]
    assert with_table["level2_surgery"] == 2 and with_table["level2_share"] == 0.5 and with_table["grade_source"] == "table"
    proxy = hospital_year_panel(cases, weights, {"T1"}).iloc[0]
    assert proxy["level2_surgery"] == 2 and proxy["grade_source"] == "proxy"
    assert proxy["level2_share"] == proxy["surgical_share"] == 0.5  # a share of cases, not 1.0 everywhere
