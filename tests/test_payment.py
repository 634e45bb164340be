"""Payment simulation: the sheet's worked examples to the fen, budget conservation, no case lost."""

from __future__ import annotations


import numpy as np
import pandas as pd
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from evaluation.common import attach_levels, prepare
from evaluation.payment import PaymentConfig, simulate


def cases_frame(rows, levels):
    df = pd.DataFrame(rows, columns=["case_id", "hospital_id", "drg", "total_cost", "los_days"])
    df["status"] = np.where(df["drg"].str.contains("QY"), "歧义病案", "分组成功")
    df["leaving_type"] = "1"
    return attach_levels(prepare(df).assign(case_id=df["case_id"]), pd.DataFrame(list(levels.items()), columns=["hospital_id", "level"]))


WEIGHTS = pd.DataFrame({"drg": ["A", "B"], "rw": [0.43, 1.80], "mean_cost": [2700.0, 11200.0]})


def test_worked_example_point_method_4_6():
    rows = [(1, "H1", "A", 2500, 5), (2, "H1", "A", 9000, 5), (3, "H1", "B", 12000, 5), (4, "H2", "B", 4000, 5),
            (5, "H2", "A", 2600, 5), (6, "H2", "BQY", 5000, 5)]
    cases = cases_frame(rows, {"H1": "tertiary", "H2": "secondary"})
    cfg = PaymentConfig(method="points", coefficients={"tertiary": 1.0, "secondary": 0.9})
    per_case, hosp, params = simulate(cases, WEIGHTS, 30_000, cfg, pooled_mean=6225.0)
    pts = per_case.set_index("case_id")["points"]
    assert per_case["payment_class"].tolist() == ["normal", "high_cost", "normal", "low_cost", "normal", "not_grouped"]
    for cid, want in {1: 43, 2: 57.333, 3: 180, 4: 64.286, 5: 38.7, 6: 80.321}.items():
        assert round(pts[cid], 3) == want
    assert round(pts.sum(), 3) == 463.640
    assert round(params["point_value"], 4) == 64.7053
    h = hosp.set_index("hospital_id")
    assert round(h.loc["H1", "payment"], 2) == 18139.06 and round(h.loc["H1", "balance"], 2) == -5360.94
    assert round(h.loc["H2", "payment"], 2) == 11860.94 and round(h.loc["H2", "balance"], 2) == 260.94
    assert h.loc["H1", "payment_fen"] == 1813906 and h.loc["H2", "payment_fen"] == 1186094
    assert h["payment_fen"].sum() == 3_000_000 and per_case["payment_fen"].sum() == 3_000_000  # to the fen


def test_worked_example_rate_method_4_6():
    rows = [(i, "T", "A", 2700, 5) for i in range(300)] + [(1000 + i, "S", "A", 2700, 5) for i in range(200)]
    rows += [(2000 + i, "T", "B", 11200, 5) for i in range(99)] + [(3000, "T", "B", 25000, 5)]
    rows += [(4000 + i, "S", "B", 11200, 5) for i in range(20)]
    cases = cases_frame(rows, {"T": "tertiary", "S": "secondary"})
    # the sheet's example sets the rate from the volume alone (section 4.1)
    cfg = PaymentConfig(method="rate", coefficients={"tertiary": 1.0, "secondary": 0.9}, rate_basis="volume")
    per_case, hosp, params = simulate(cases, WEIGHTS.assign(mean_cost=[2700.0, 11200.0]), 2_500_000, cfg)
    assert round(params["base_rate"], 2) == 5969.44
    pc = per_case.set_index("case_id")
    assert round(pc.loc[0, "payment"], 2) == 2566.86 and round(pc.loc[1000, "payment"], 2) == 2310.17
    assert round(pc.loc[2000, "payment"], 2) == 10744.99 and round(pc.loc[4000, "payment"], 2) == 9670.49
    assert pc.loc[3000, "payment_class"] == "high_cost" and round(pc.loc[3000, "payment"], 2) == 13344.99
    assert pc.loc[3000, "payment_fen"] == 1334499
    assert params["paid"] > 2_500_000  # the volume rule overspends by the high-cost add-on: reported
    balanced, _, bp = simulate(cases, WEIGHTS, 2_500_000, PaymentConfig(method="rate", coefficients=cfg.coefficients))
    assert bp["base_rate"] < params["base_rate"] and abs(balanced["payment_fen"].sum() - 250_000_000) <= len(balanced) // 2


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["H1", "H2", "H3"]), st.sampled_from(["A", "B", "C", "AQY", "0000"]),
                          st.one_of(st.none(), st.floats(0, 200000, allow_nan=False)), st.integers(0, 90)), min_size=1, max_size=200),
       st.floats(1.0, 1e10), st.sampled_from(["points", "rate"]))
def test_every_case_once_and_points_conserve_the_budget(rows, budget, method):
    rows = [(i, h, g, c, los) for i, (h, g, c, los) in enumerate(rows)]
    cases = cases_frame(rows, {"H1": "tertiary", "H2": "secondary", "H3": "primary"})
    cases.loc[cases["drg"] == "0000", "included"] = False
    weights = pd.DataFrame({"drg": ["A", "B", "C"], "rw": [0.5, 1.5, np.nan], "mean_cost": [3000.0, 9000.0, np.nan]})
    try:
        per_case, hosp, params = simulate(cases, weights, budget, PaymentConfig(method=method), pooled_mean=5000.0)
    except ValueError as e:  # nothing to share the budget over: a clear error, never a wrong number
        assert "no points" in str(e) or "no grouped case" in str(e) or "does not cover" in str(e)
        event("refused")
        assume(False)  # a discarded example: the test cannot pass on refusals alone
    assert sorted(per_case["case_id"]) == list(range(len(rows)))
    assert per_case["payment"].notna().all()
    assert hosp["payment_fen"].sum() == per_case["payment_fen"].sum()
    if method == "points":
        assert per_case["payment_fen"].sum() == round(budget * 100)


def test_short_stay_option_pays_as_low_cost():
    rows = [(1, "H1", "A", 2500, 1), (2, "H1", "A", 2500, 5)]
    cases = cases_frame(rows, {"H1": "tertiary"})
    per_case, _, _ = simulate(cases, WEIGHTS, 10_000, PaymentConfig(method="points", short_stay_days=1), pooled_mean=6225.0)
    assert per_case["payment_class"].tolist() == ["low_cost", "normal"]
    per_case, _, _ = simulate(cases, WEIGHTS, 10_000, PaymentConfig(method="points"), pooled_mean=6225.0)
    assert per_case["payment_class"].tolist() == ["normal", "normal"]
