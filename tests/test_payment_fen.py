"""Payment a bureau can settle (issue 16): integer fen, budgets that hold exactly, a rate that
spends the budget, continuous deficit sharing, costs that are missing never faking a surplus,
special review, fund/patient split, advances, per-DRG profit and loss."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from evaluation.common import attach_levels, prepare
from evaluation.payment import (PaymentConfig, Period, allocate_fen, drg_profit_loss, settle, shared_amount,
                                simulate)

LEVELS = {"H1": "tertiary", "H2": "secondary", "H3": "primary"}
WEIGHTS = pd.DataFrame({"drg": ["A", "B", "C"], "rw": [0.5, 1.5, 3.2], "mean_cost": [3000.0, 9000.0, 19200.0],
                        "cases_trimmed": [10, 10, 10]})


def frame(rows, levels=LEVELS):
    """rows: (case_id, hospital, drg, cost or None, los)."""
    df = pd.DataFrame(rows, columns=["case_id", "hospital_id", "drg", "total_cost", "los_days"])
    df["status"] = np.where(df["drg"].isin(["A", "B", "C"]), "分组成功", "无法入组")
    df["leaving_type"] = "1"
    cases = prepare(df).assign(case_id=df["case_id"].astype(str))
    return attach_levels(cases, pd.DataFrame(list(levels.items()), columns=["hospital_id", "level"]))


def reference_allocation(total: int, shares: list[float], keys: list[str]) -> list[int]:
    """Largest remainder in exact rational arithmetic: floors, then +1 fen by (-remainder, key), the remainder
    rounded half up to units of 2**-32 fen (the method's stated resolution: closer remainders tie)."""
    s = sum(Fraction(x) for x in shares)
    exact = [Fraction(x) * total / s for x in shares]
    base = [e.numerator // e.denominator for e in exact]
    left = total - sum(base)
    unit = [math.floor((exact[i] - base[i]) * 2**32 + Fraction(1, 2)) for i in range(len(shares))]
    order = sorted(range(len(shares)), key=lambda i: (-unit[i], keys[i]))
    for i in order[:left]:
        base[i] += 1
    return base


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e5, allow_nan=False, allow_subnormal=False), min_size=1, max_size=60),
       st.integers(0, 10**13), st.randoms(use_true_random=False))
@example([18142.632148050256, 28732.07717436051, 68097.31568213612, 43227.54932991401, 54058.961777414195,
          84700.18036375604], 10**13, random.Random(0))  # remainders 1.4e-4 fen apart at 2.3e12 fen: beyond float64
def test_allocation_sums_exactly_and_matches_exact_arithmetic(shares, total, rnd):
    if sum(shares) <= 0:
        shares = shares + [1.0]
    keys = [f"k{i:03d}" for i in range(len(shares))]
    got = allocate_fen(total, np.array(shares), np.array(keys, dtype=object))
    assert int(got.sum()) == total and (got >= 0).all()
    want = reference_allocation(total, shares, keys)
    exact = [Fraction(x) * total / sum(Fraction(y) for y in shares) for x in shares]
    assert all(abs(g - e) < 1 for g, e in zip(got.tolist(), exact))
    scaled = [(e - int(e)) * 2**32 for e in exact]
    if all(abs(x - math.floor(x) - Fraction(1, 2)) > Fraction(1, 10**6) for x in scaled):  # none on a rounding edge
        assert got.tolist() == want  # (an exact remainder within ~1e-18 fen of one could round either way)
    perm = list(range(len(shares)))
    rnd.shuffle(perm)  # the same items in another order get the same fen
    again = allocate_fen(total, np.array(shares)[perm], np.array(keys, dtype=object)[perm])
    assert dict(zip(np.array(keys)[perm], again.tolist())) == dict(zip(keys, got.tolist()))


case_row = st.tuples(st.sampled_from(["H1", "H2", "H3"]), st.sampled_from(["A", "B", "C", "0000"]),
                     st.one_of(st.none(), st.floats(1, 200000, allow_nan=False), st.just(float("inf"))), st.integers(0, 90))


@pytest.mark.slow
@settings(max_examples=120, deadline=None)
@given(st.lists(case_row, min_size=1, max_size=120), st.integers(100, 10**11), st.randoms(use_true_random=False))
def test_points_pay_the_budget_to_the_fen_in_any_row_order(rows, budget_fen, rnd):
    rows = [(f"c{i:04d}", h, g, c, los) for i, (h, g, c, los) in enumerate(rows)]
    budget = budget_fen / 100
    try:
        pc, hosp, _ = simulate(frame(rows), WEIGHTS, budget, PaymentConfig(method="points"), pooled_mean=8000.0)
    except ValueError as e:
        assert "no points" in str(e)
        event("refused")
        assume(False)  # a discarded example: the test cannot pass on refusals alone
    assert int(pc["payment_fen"].sum()) == budget_fen  # exactly the budget
    assert hosp["payment_fen"].sum() == budget_fen
    per_h = pc.groupby("hospital_id", observed=True)["payment_fen"].sum()
    assert dict(per_h) == dict(zip(hosp["hospital_id"], hosp["payment_fen"]))  # settlement = sum of its cases
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    pc2, _, _ = simulate(frame(shuffled), WEIGHTS, budget, PaymentConfig(method="points"), pooled_mean=8000.0)
    assert dict(zip(pc2["case_id"], pc2["payment_fen"])) == dict(zip(pc["case_id"], pc["payment_fen"]))


@settings(max_examples=120, deadline=None)
@given(st.lists(case_row, min_size=1, max_size=120), st.floats(1e6, 1e10), st.sampled_from(["item", "points"]),
       st.sampled_from(["proportional", "item"]))
def test_rate_method_spends_the_budget(rows, budget, fallback, low_pay):
    rows = [(f"c{i:04d}", h, g, c, los) for i, (h, g, c, los) in enumerate(rows)]
    cfg = PaymentConfig(method="rate", fallback=fallback, low_pay=low_pay, coefficients={"secondary": 0.9, "primary": 0.8})
    try:
        pc, hosp, par = simulate(frame(rows), WEIGHTS, budget, cfg, pooled_mean=8000.0)
    except ValueError as e:
        assert "base rate is undefined" in str(e) or "does not cover" in str(e)
        event("refused")
        assume(False)  # a discarded example: the test cannot pass on refusals alone
    paid = pc["payment_fen"].sum() / 100
    assert abs(paid - budget) <= max(1e-4 * budget, 0.005 * len(rows))  # within 0.01% (rounding to the fen)
    assert par["paid"] == pytest.approx(paid)


def test_rate_budget_that_cannot_cover_cost_based_payments_is_refused():
    rows = [("1", "H1", "A", 3000, 5), ("2", "H1", "0000", 1e6, 5)]
    with pytest.raises(ValueError, match="does not cover"):
        simulate(frame(rows), WEIGHTS, 5000, PaymentConfig(method="rate"))


def test_deficit_sharing_is_continuous_across_tau():
    cfg = PaymentConfig(s_share=0.5, tau=0.10)
    allowed = np.full(2001, 24_000_000 * 100, dtype=np.int64)
    deficits = np.linspace(0.05, 0.15, 2001) * allowed  # a sweep across tau = 10%
    shared = shared_amount(-np.round(deficits).astype(np.int64), allowed, cfg)
    steps = np.abs(np.diff(shared.astype(float)))
    assert steps.max() <= 0.5 * np.diff(deficits).max() + 1  # never a jump larger than the deficit's own step
    assert shared[0] == round(0.5 * deficits[0]) and shared[-1] == round(0.5 * 0.10 * allowed[-1])
    assert (np.diff(shared) >= 0).all()  # more deficit never means less covered


def test_missing_costs_never_fake_a_surplus():
    rows = [("1", "H1", "A", 3000, 5), ("2", "H1", "B", None, 80), ("3", "H2", "A", None, 5), ("4", "H2", "B", float("nan"), 5)]
    pc, hosp, _ = simulate(frame(rows), WEIGHTS, 100_000, PaymentConfig(method="points"), pooled_mean=8000.0)
    pcs = pc.set_index("case_id")
    assert pcs.loc["2", "payment_class"] == "no_cost" and pcs.loc["2", "payment_fen"] > 0  # long stay without a cost: its standard
    h = hosp.set_index("hospital_id")
    assert h.loc["H2", "actual_cost_fen"] == 0 and h.loc["H2", "balance_fen"] == 0  # both sides left out, no 100% "surplus"
    assert h.loc["H2", "cases_cost_unusable"] == 2 and h.loc["H1", "cases_cost_unusable"] == 1
    assert h.loc["H1", "balance_fen"] == pcs.loc["1", "payment_fen"] - 300_000


def test_special_review_paid_at_cost_up_to_the_cap():
    rows = [(f"{i}", "H1", "A", 9000.0 if i < 5 else 3000.0, 5) for i in range(40)]
    listed = pd.Series(["3", "1", "0", "2", "4", "zz"])  # priority order; "zz" is not a case
    cfg = PaymentConfig(method="rate", special_review_cap=0.05)  # 5% of 40 cases = 2
    pc, hosp, _ = simulate(frame(rows), WEIGHTS, Period(budget=1_000_000, special_review=listed), cfg, pooled_mean=8000.0)
    sr = pc[pc["payment_class"] == "special_review"]
    assert sorted(sr["case_id"]) == ["1", "3"]  # the first two of the list
    assert (sr["payment_fen"] == 900_000).all()  # at cost
    assert hosp.loc[0, "special_review_over_cap"] == 3 and hosp.loc[0, "cases_special_review"] == 2
    none, _, _ = simulate(frame(rows), WEIGHTS, 1_000_000, cfg, pooled_mean=8000.0)
    assert (none["payment_class"] != "special_review").all()


def test_fund_and_patient_parts_advances_and_year_end():
    rows = [(f"{i}", "H1" if i % 3 else "H2", "AB"[i % 2], 3000.0 + 100 * i, 5) for i in range(36)]
    cases = frame(rows)
    period = Period(budget=500_000, self_pay=np.full(36, 250.0), month=np.array([i % 12 + 1 for i in range(36)], float))
    pc, hosp, par = simulate(cases, WEIGHTS, period, PaymentConfig(method="points", advance_ratio=0.9), pooled_mean=8000.0)
    h = hosp.set_index("hospital_id")
    assert (h["fund_payment_fen"] == h["payment_fen"] - h["self_pay_fen"]).all()
    assert h["self_pay_fen"].sum() == 36 * 25_000
    monthly = par["_monthly"]
    assert set(monthly["month"]) == set(range(1, 13))
    assert monthly["provisional_fen"].groupby(monthly["month"]).sum().eq(50_000_000 // 12).all()  # a twelfth each month
    assert (monthly["advance_fen"] <= monthly["provisional_fen"]).all()
    assert (h["year_end_due_fen"] == h["payment_fen"] - h["advances_fen"]).all()
    assert h["advances_fen"].sum() == monthly["advance_fen"].sum()


def test_coefficients_and_quality_factors_are_applied_and_shown():
    rows = [("1", "H1", "A", 3000, 5), ("2", "H2", "A", 3000, 5), ("3", "H3", "A", 3000, 5)]
    cfg = PaymentConfig(method="points", coefficients={"tertiary": 1.0, "secondary": 0.9, "primary": 0.8},
                        quality_factors={"H1": 1.02})
    pc, hosp, _ = simulate(frame(rows), WEIGHTS, 30_000, cfg, pooled_mean=8000.0)
    assert pc["points"].round(6).tolist() == [51.0, 45.0, 40.0]
    h = hosp.set_index("hospital_id")
    assert h.loc["H1", "quality_factor"] == 1.02 and h.loc["H2", "coefficient"] == 0.9


def test_unknown_levels_are_listed():
    rows = [("1", "H1", "A", 3000, 5), ("2", "HX", "A", 3000, 5)]
    _, hosp, par = simulate(frame(rows), WEIGHTS, 10_000, PaymentConfig(), pooled_mean=8000.0)
    assert par["unknown_level_hospitals"] == "HX"
    assert hosp.set_index("hospital_id").loc["HX", "level"] == "unknown"


def test_drg_profit_loss_sums_to_each_hospitals_balance():
    rng = np.random.default_rng(1)
    rows = [(f"{i}", rng.choice(["H1", "H2", "H3"]), rng.choice(["A", "B", "C", "0000"]),
             None if i % 17 == 0 else float(rng.lognormal(8.5, 0.7)), int(rng.integers(1, 90))) for i in range(3000)]
    for method in ("points", "rate"):
        pc, hosp, _ = simulate(frame(rows), WEIGHTS, 2e7, PaymentConfig(method=method), pooled_mean=8000.0)
        pl = drg_profit_loss(pc)
        by_h = pl.groupby("hospital_id", observed=True)["balance_fen"].sum()
        assert dict(by_h) == dict(zip(hosp["hospital_id"], hosp["balance_fen"]))  # to the fen
        assert ((pl["loss_share"] >= 0) & (pl["loss_share"] <= 1)).all()
        again = settle(pc, PaymentConfig(method=method))
        assert again["payment_fen"].tolist() == hosp["payment_fen"].tolist()


def test_profit_loss_by_department_sums_to_each_hospitals_balance():
    """Per hospital x department x DRG (a case without a department under dept ""): the hospital's rows add up
    to its settlement balance to the fen, and each department's to the sum of its cases."""
    rng = np.random.default_rng(2)
    rows = [(f"{i}", rng.choice(["H1", "H2", "H3"]), rng.choice(["A", "B", "C", "0000"]),
             None if i % 13 == 0 else float(rng.lognormal(8.5, 0.7)), int(rng.integers(1, 90))) for i in range(3000)]
    cases = frame(rows)
    cases["dept"] = pd.Categorical(rng.choice(["心血管内科", "骨科", ""], size=len(cases))).remove_categories([""])
    pc, hosp, _ = simulate(cases, WEIGHTS, 2e7, PaymentConfig(), pooled_mean=8000.0)
    pl = drg_profit_loss(pc)
    assert list(pl.columns[:3]) == ["hospital_id", "dept", "drg"] and set(pl["dept"]) == {"心血管内科", "骨科", ""}
    by_h = pl.groupby("hospital_id", observed=True)["balance_fen"].sum()
    assert dict(by_h) == dict(zip(hosp["hospital_id"], hosp["balance_fen"]))
    usable = pc[pc["cost_usable"]].assign(dept=lambda d: d["dept"].astype(object).fillna(""))
    want = (usable["payment_fen"] - usable["cost_fen"]).groupby([usable["hospital_id"].astype(str), usable["dept"]]).sum()
    got = pl.groupby([pl["hospital_id"].astype(str), "dept"])["balance_fen"].sum()
    assert want.to_dict() == got.to_dict()
