"""Tiered care and counterpart support: worked examples, independent computations, planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.common import attach_levels, prepare
from evaluation.support import did
from evaluation.tiered_care import county_rates, hospital_referrals_and_revenue, region_indicators

HOSP = pd.DataFrame({"hospital_id": ["K1", "C1", "P1", "T1", "S1", "X1"], "level": ["secondary", "tertiary", "primary", "tertiary", "secondary", "secondary"],
                     "county": ["K", "City", "K", "City", "K", "City"], "kind": "general"})


def cases_of(rows):
    """rows: (hospital_id, residence_county, drg, leaving_type, year, total, drug, consumables, exam)."""
    df = pd.DataFrame(rows, columns=["hospital_id", "residence_county", "drg", "leaving_type", "year", "total_cost",
                                     "drug_cost", "consumables_cost", "exam_cost"])
    df["status"] = "分组成功"
    c = attach_levels(prepare(df), HOSP)
    c["residence_county"] = df["residence_county"]
    return df, c


def test_worked_example_6_8_county_rates():
    rows = [("K1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 850 + [("C1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 100
    rows += [("OUT", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 50 + [("K1", None, "ES35", "1", 2024, 1, 0, 0, 0)] * 20
    _, c = cases_of(rows)
    r = county_rates(c, HOSP).set_index("county").loc["K"]
    assert r["residents"] == 1000 and math.isclose(r["in_county_rate"], 0.85) and math.isclose(r["in_region_rate"], 0.95)
    assert r["missing_residence"] == 20 and not r["in_county_rate_met"]
    assert math.isclose(r["in_county_rate_gap"], -0.05)


def test_in_region_rate_is_not_measurable_from_the_regions_own_hospitals_only():
    """Data that hold only the region's hospitals cannot see residents treated elsewhere: no "100%, met"."""
    rows = [("K1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 90 + [("C1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 10
    _, c = cases_of(rows)
    r = county_rates(c, HOSP).set_index("county").loc["K"]
    assert np.isnan(r["in_region_rate"]) and r["in_region_status"].startswith("not_measurable")
    assert r["in_region_rate_met"] is None or pd.isna(r["in_region_rate_met"])
    assert math.isclose(r["in_county_rate"], 0.9)  # the in-county rate is measurable from the same data
    _, c = cases_of(rows + [("OUT", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 5)
    r = county_rates(c, HOSP).set_index("county").loc["K"]
    assert r["in_region_status"] == "ok" and math.isclose(r["in_region_rate"], 100 / 105)


def test_worked_example_6_8_shares_and_referrals():
    rows = [("T1", "City", "ES35", "1", 2024, 20000, 6000, 4000, 3000)]
    rows += [("T1", "City", "ES35", "5", 2024, 1, 0, 0, 0)] * 100 + [("T1", "City", "ES35", "3", 2024, 1, 0, 0, 0)] * 150
    rows += [("T1", "City", "ES35", "1", 2024, 1, 0, 0, 0)] * (10000 - 1 - 250)
    df, c = cases_of(rows)
    h = hospital_referrals_and_revenue(c, df.assign(total_cost=[20000] + [None] * (len(df) - 1)), HOSP).set_index("hospital_id")
    assert h.loc["T1", "down"] == 150 and math.isclose(h.loc["T1", "down_rate"], 150 / 9900)
    assert math.isclose(h.loc["T1", "service_share_narrow"], 0.35) and math.isclose(h.loc["T1", "service_share_broad"], 0.50)
    rows = [("T1", "City", "ES35", "1", 2024, 1, 0, 0, 0)] * 40 + [("S1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 45
    rows += [("P1", "K", "ES35", "1", 2024, 1, 0, 0, 0)] * 5
    _, c = cases_of(rows)
    w = pd.DataFrame({"drg": ["ES35"], "rw": [0.5]})
    r = region_indicators(c, HOSP, w).iloc[0]
    assert math.isclose(r["primary_share"], 5 / 90) and math.isclose(r["basic_care_tertiary_share"], 40 / 90)
    assert math.isclose(r["tertiary_basic_care_share"], 1.0)


def test_worked_example_6_8_did():
    panel = pd.DataFrame({"hospital_id": ["T", "T", "C", "C"], "year": [2018, 2020, 2018, 2020], "y": [0.05, 0.12, 0.04, 0.06]})
    r = did(panel, {"T"}, "y", 2019)
    assert math.isclose(r["simple_did"], 0.05) and math.isclose(r["did"], 0.05)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["K1", "C1", "P1", "T1", "OUT"]), st.sampled_from(["K", "City", None]),
                          st.sampled_from(["1", "3", "5", "2"]), st.sampled_from([2020, 2021])), min_size=1, max_size=150))
def test_rates_equal_plain_counts(rows):
    full = [(h, r, "ES35", lt, y, 100, 10, 10, 10) for h, r, lt, y in rows]
    df, c = cases_of(full)
    got = county_rates(c, HOSP).set_index(["county", "year"])
    hc = dict(zip(HOSP["hospital_id"], HOSP["county"]))
    outside_seen = any(x[0] not in hc for x in full if x[1] is not None)  # else in-region is not measurable
    for (county, year), row in got.iterrows():
        mine = [x for x in full if x[1] == county and x[4] == year]
        assert row["residents"] == len(mine)
        assert row["in_county"] == sum(hc.get(x[0]) == county for x in mine)
        if outside_seen:
            assert row["in_region"] == sum(x[0] in hc for x in mine) and row["in_region_status"] == "ok"
        else:
            assert np.isnan(row["in_region_rate"]) and row["in_region_status"].startswith("not_measurable")
            assert row["in_region_rate_met"] is None or pd.isna(row["in_region_rate_met"])
    ref = hospital_referrals_and_revenue(c, df, HOSP).set_index(["hospital_id", "year"])
    for (hid, year), row in ref.iterrows():
        mine = [x for x in full if x[0] == hid and x[4] == year]
        alive = sum(x[3] != "5" for x in mine)
        assert row["alive"] == alive and row["down"] == sum(x[3] == "3" for x in mine)
        assert (np.isnan(row["down_rate"]) and alive == 0) or math.isclose(row["down_rate"], row["down"] / alive)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["K1", "C1", "P1", "T1", "S1"]), st.sampled_from(["ES35", "ES31", "FB19", "0000"]),
                          st.sampled_from([2020, 2021]), st.one_of(st.none(), st.floats(1, 1e5)), st.floats(0, 1), st.floats(0, 1)),
                min_size=1, max_size=120))
def test_region_and_revenue_indicators_equal_plain_sums(rows):
    full = [(h, "K", g, "1", y, tot, None if tot is None else tot * a * 0.3, None if tot is None else tot * b * 0.3,
             None if tot is None else tot * 0.1) for h, g, y, tot, a, b in rows]
    df, c = cases_of(full)
    c.loc[df["drg"] == "0000", "included"] = False
    w = pd.DataFrame({"drg": ["ES35", "ES31", "FB19"], "rw": [0.5, 0.9, 2.0]})  # basic care: ES35 only (R-Z and RW < 0.8)
    lv = dict(zip(HOSP["hospital_id"], HOSP["level"]))
    reg = region_indicators(c, HOSP, w).set_index("year")
    for y, r in reg.iterrows():
        mine = [x for x in full if x[4] == y]
        assert r["episodes"] == len(mine) and r["primary_episodes"] == sum(lv[x[0]] == "primary" for x in mine)
        basic = [x for x in mine if x[2] == "ES35"]
        if basic:
            assert math.isclose(r["basic_care_tertiary_share"], sum(lv[x[0]] == "tertiary" for x in basic) / len(basic))
    rev = hospital_referrals_and_revenue(c, df, HOSP).set_index(["hospital_id", "year"])
    for (hid, y), r in rev.iterrows():
        mine = [x for x in full if x[0] == hid and x[4] == y and x[5] is not None and x[5] > 0]
        tot = sum(x[5] for x in mine)
        if tot > 0:
            narrow = sum(x[5] - x[6] - x[7] - x[8] for x in mine) / tot
            broad = sum(x[5] - x[6] - x[7] for x in mine) / tot
            assert math.isclose(r["service_share_narrow"], narrow, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(r["service_share_broad"], broad, rel_tol=1e-9, abs_tol=1e-12)
        else:
            assert np.isnan(r["service_share_broad"])
