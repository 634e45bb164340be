"""Tiered care and counterpart support: worked examples, independent computations, planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.common import attach_levels, prepare
from evaluation.support import NEVER, _two_period_did, staggered_did
from evaluation.tiered_care import (
    county_rates,
    hospital_referrals_and_revenue,
    region_indicators,
)

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
    start = pd.Series({"T": 2019})
    assert math.isclose(_two_period_did(panel, "y", start, {"C"}), 0.05)
    # one cohort, one year before and one after: the group-time effect is the same +5 points
    r, event = staggered_did(panel, "y", start, pd.Series({"C": NEVER}), draws=99)
    assert math.isclose(r["did"], 0.05) and r["treated_hospitals"] == r["control_hospitals"] == 1
    assert event["event_time"].tolist() == [1]


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


def _transfer_rows(receivers):
    """A tertiary hospital T1: 10 000 discharges (methodology 6.8): 100 deaths, 150 type 3, 300 type 2 with
    the given receivers, the rest home."""
    rows = [("T1", "City", "ES35", "5", 2024, 1, 0, 0, 0)] * 100 + [("T1", "City", "ES35", "3", 2024, 1, 0, 0, 0)] * 150
    rows += [("T1", "City", "ES35", "2", 2024, 1, 0, 0, 0)] * len(receivers)
    rows += [("T1", "City", "ES35", "1", 2024, 1, 0, 0, 0)] * (10000 - 250 - len(receivers))
    df, c = cases_of(rows)
    df["receiving_institution"] = [None] * 250 + list(receivers) + [None] * (len(df) - 250 - len(receivers))
    return df, c


def test_worked_example_6_8_type2_transfers_matched_to_their_receiver():
    """300 type-2 transfers: 120 to a lower level (by code and by exact name), 150 to a tertiary hospital, 30
    unmatched (blank, an unknown code): DownRate = (150 + 120) / 9 900."""
    hosp = HOSP.assign(name=["县医院", "市中心医院", "乡镇卫生院", "市人民医院", "县二院", "市二院"])
    receivers = ["K1"] * 60 + ["乡镇卫生院"] * 40 + [" S1 "] * 20 + ["C1"] * 100 + ["市中心医院"] * 50 + [None] * 20 + ["ZZ999"] * 10
    df, c = _transfer_rows(receivers)
    h = hospital_referrals_and_revenue(c, df, hosp).set_index("hospital_id").loc["T1"]
    assert (h["transfers"], h["transfer_down"], h["transfer_up"], h["transfer_unknown_level"]) == (300, 120, 0, 30)
    assert h["down"] == 270 and math.isclose(h["down_rate"], 270 / 9900) and math.isclose(h["transfer_unmatched_share"], 0.1)
    assert h["transfer_match"] == "receiving_institution"
    # without the receiver column the same transfers are all of unknown level: only type 3 counts as down
    h = hospital_referrals_and_revenue(c, df.drop(columns=["receiving_institution"]), hosp).set_index("hospital_id").loc["T1"]
    assert h["down"] == 150 and h["transfer_unknown_level"] == 300 and h["transfer_match"] == "none"


def test_transfers_matched_by_patient_and_dates():
    """No receiver column: a type-2 discharge is matched to the same patient's admission at another hospital
    on the same or the next day; a readmission ten days later, or one at the same hospital, is no transfer."""
    from evaluation.tiered_care import transfer_receivers

    raw = pd.DataFrame({
        "hospital_id": ["C1", "K1", "C1", "P1", "S1", "S1", "S1", "T1", "K1"],
        "patient_id": ["a", "a", "b", "b", "c", "c", None, "d", "d"],
        "leaving_type": ["2", "1", "2", "1", "2", "1", "2", "2", "1"],
        "admit_date": ["2024-01-01", "2024-01-05", "2024-02-01", "2024-02-20", "2024-03-01", "2024-03-06", "2024-03-01",
                       "2024-04-01", "2024-04-04"],
        "discharge_date": ["2024-01-05", "2024-01-09", "2024-02-08", "2024-02-25", "2024-03-06", "2024-03-09", "2024-03-05",
                           "2024-04-03", "2024-04-09"],
    })
    got, how = transfer_receivers(raw, HOSP)
    assert how == "patient_id+dates"
    assert got.iloc[0] == "K1"  # admitted elsewhere on the day of discharge
    assert pd.isna(got.iloc[2])  # the next admission 12 days later: a readmission, not a transfer
    assert pd.isna(got.iloc[4])  # same hospital
    assert pd.isna(got.iloc[6])  # no patient id
    assert got.iloc[7] == "K1"  # admitted the next day
    assert got.notna().sum() == 2  # rows that are no type-2 transfer never get a receiver


def test_revenue_target_checked_on_its_own_definition(tmp_path):
    """The preset 50% target was set on the broad share; a city whose 35% target is on the narrow (national
    assessment) share is checked on the narrow one; each table says which, the targets table in words."""
    from evaluation.tiered_care import load_targets, targets_table

    rows = [("T1", "City", "ES35", "1", 2024, 20000, 6000, 4000, 3000)]  # narrow 35%, broad 50%
    df, c = cases_of(rows)
    h = hospital_referrals_and_revenue(c, df, HOSP).iloc[0]
    assert h["service_share_definition"] == "broad" and h["service_share_met"] and math.isclose(h["service_share_gap"], 0.0)
    toml = tmp_path / "t.toml"
    toml.write_text('[targets]\nservice_share = {op = ">=", value = 0.4, definition = "narrow"}\n', encoding="utf-8")
    t = load_targets(str(toml))
    h = hospital_referrals_and_revenue(c, df, HOSP, t).iloc[0]
    assert h["service_share_definition"] == "narrow" and not h["service_share_met"] and math.isclose(h["service_share_gap"], -0.05)
    table = targets_table(t, "zh").set_index("indicator")
    assert table.loc["service_share", "definition"] == "narrow" and "窄口径" in table.loc["service_share", "definition_text"]
    assert "narrow" in targets_table(t, "en").set_index("indicator").loc["service_share", "definition_text"]
    toml.write_text('[targets]\nservice_share = {value = 0.4, definition = "wide"}\n', encoding="utf-8")
    import pytest

    from evaluation.common import EvaluationError

    with pytest.raises(EvaluationError, match="narrow or broad"):
        load_targets(str(toml))


def test_a_bad_targets_file_is_one_clear_error(tmp_path):
    """Malformed TOML, a non-table, a word for a number, an unknown operator: each an EvaluationError naming
    the file (one line at the command), never a traceback; good entries are read."""
    import pytest

    from evaluation.common import EvaluationError
    from evaluation.tiered_care import load_targets

    f = tmp_path / "t.toml"
    for text in ("not toml [[", "targets = 5", '[targets]\nin_county_rate = "high"',
                 '[targets]\nin_county_rate = {op = "~", value = 0.9}', "[targets]\nnot_a_target = 1"):
        f.write_text(text, encoding="utf-8")
        with pytest.raises(EvaluationError, match=str(f)):
            load_targets(str(f))
    f.write_text("[targets]\nin_county_rate = 0.85\nservice_share_narrow = 0.35\n", encoding="utf-8")
    t = load_targets(str(f))
    assert t["in_county_rate"] == (">=", 0.85, "in_county") and t["service_share"] == (">=", 0.35, "narrow")


def test_receivers_by_code_when_the_hospitals_table_has_no_names():
    """A hospitals table without a name column (hospital_id, level, county is all --hospitals needs): receivers
    are matched by code, and a name in the data matches nothing (it crashed on the empty name index before)."""
    from evaluation.tiered_care import transfer_receivers

    raw = pd.DataFrame({"hospital_id": ["T1", "T1", "T1", "K1"], "leaving_type": ["2", "2", "2", "1"],
                        "receiving_institution": ["K1", "县医院", None, "T1"]})
    got, how = transfer_receivers(raw, HOSP)
    assert how == "receiving_institution" and got.iloc[0] == "K1" and got.iloc[1:].isna().all()
