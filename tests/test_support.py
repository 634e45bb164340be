"""Counterpart-support DiD (methodology 6.7): the planted effect is found, a program without an effect
gets none, and no number is given against peers that another program supports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.support import evaluate_support

WEIGHTS = pd.DataFrame({"drg": ["GA1", "GB1"], "rw": [1.0, 2.0]})  # GA1: surgical partition; both weights known


def _region(effects: dict, never: int, seed: int = 7, n_per_year: int = 400):
    """Townships of one level and kind: ``effects`` = {program: (recipients, CMI gain from 2019)}, plus
    ``never`` townships no program supports. CMI = 1 + share of the weight-2 DRG."""
    rng = np.random.default_rng(seed)
    hospitals, pairs, rows = [], [], []
    groups = [(prog, n, gain) for prog, (n, gain) in effects.items()] + [(None, never, 0.0)]
    k = 0
    for prog, n, gain in groups:
        for _ in range(n):
            hid = f"T{k:03d}"
            k += 1
            hospitals.append((hid, "primary", "township"))
            if prog:
                pairs.append(("S001", hid, prog))
            base = rng.uniform(0.25, 0.45)
            for year in range(2016, 2023):
                share = base + 0.01 * (year - 2016) + (gain if prog and year > 2019 else 0.0) + rng.normal(0, 0.01)
                heavy = rng.random(n_per_year) < share
                rows += [(hid, year, "GB1" if h else "GA1") for h in heavy]
    cases = pd.DataFrame(rows, columns=["hospital_id", "year", "drg"])
    cases["included"] = True
    return (cases, pd.DataFrame(hospitals, columns=["hospital_id", "level", "kind"]),
            pd.DataFrame(pairs, columns=["supporter_id", "recipient_id", "program"]))


def _cmi_row(did_table, program):
    return did_table[(did_table["program"] == program) & (did_table["indicator"] == "cmi")].iloc[0]


def test_planted_gain_found_and_a_program_without_effect_gets_none():
    """Over 20 synthetic regions: the 95% CI holds the planted gain and excludes 0 for the program with an
    effect, and excludes 0 for the program without one no more often than chance allows (P(>= 4 of 20)
    is 1.6% at the nominal 5%)."""
    covered = found = false_effects = 0
    for seed in range(20):
        cases, hospitals, pairs = _region({"pairing": (12, 0.15), "alliance": (12, 0.0)}, never=14, seed=seed, n_per_year=200)
        _, did_table, _ = evaluate_support(cases, hospitals, pairs, WEIGHTS, start=2019)
        gain, null = _cmi_row(did_table, "pairing"), _cmi_row(did_table, "alliance")
        assert gain["status"] == null["status"] == "ok"
        # the recipients of the program with an effect are never the other program's controls: as peers
        # they would give the alliance a large false negative effect in every region
        assert gain["control_hospitals"] == null["control_hospitals"] == 14
        covered += gain["ci_low"] <= 0.15 <= gain["ci_high"]
        found += gain["ci_low"] > 0
        false_effects += not (null["ci_low"] <= 0 <= null["ci_high"])
    assert found == 20 and covered >= 17, (found, covered)
    assert false_effects <= 3, false_effects


def test_no_number_when_every_peer_is_supported():
    cases, hospitals, pairs = _region({"pairing": (8, 0.15), "alliance": (20, 0.0)}, never=0)
    _, did_table, _ = evaluate_support(cases, hospitals, pairs, WEIGHTS, start=2019)
    assert set(did_table["status"]) == {"no valid comparison group"}
    assert did_table["did"].isna().all() and did_table["ci_low"].isna().all()


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
