"""The registered payment classes (evaluation/payment/classes.py): every class has its words, a test strategy that
makes cases only it takes (checked against its rule and its payment written out by hand), and a synth plant that
makes such cases in a world drg synth made -- so a class added without them fails here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.payment import PaymentConfig
from evaluation.payment.classes import BY_NAME, CLASSES, REGISTRY, Terms, case_points, classify, rate_terms

MEAN = 10_000.0  # the DRG's mean cost in the strategies' cases
RW = 1.2


def _case(**kw) -> dict:
    """A grouped, weighted, costed case of an ordinary stay; ``kw`` changes it."""
    return {"cost": MEAN, "los": 8.0, "grouped": True, "rw": RW, "mean_g": MEAN, "special": False, "leaving": "1", **kw}


# one strategy per class: cases its rule takes and no earlier class's
STRATEGIES = {
    "not_grouped": st.builds(lambda c: _case(grouped=False, cost=c, rw=np.nan), st.floats(1, 1e5)),
    "special_review": st.builds(lambda c: _case(special=True, cost=c), st.floats(1, 1e5)),
    "no_weight": st.builds(lambda c: _case(rw=np.nan, cost=c), st.floats(1, 1e5)),
    "no_cost": st.builds(lambda los: _case(cost=np.nan, los=los), st.floats(0, 500)),
    "long_stay": st.builds(lambda los, c: _case(los=los, cost=c), st.floats(61, 3000), st.floats(1, 1e6)),
    "high_cost": st.builds(lambda r: _case(cost=MEAN * r), st.floats(2.0001, 50)),  # k_hi 2 at 120 points
    "low_cost": st.builds(lambda r: _case(cost=MEAN * r), st.floats(0.001, 0.3999)),
    "normal": st.builds(lambda r: _case(cost=MEAN * r), st.floats(0.4, 2.0)),
}
# no rule takes this one: drg pay gives it to a case without a readable year (its plant below)
UNRULED = {"no_year"}


def _terms(cases: list, cfg: PaymentConfig) -> Terms:
    f = {k: np.array([c[k] for c in cases]) for k in cases[0]}
    return Terms(f["cost"].astype(float), f["los"].astype(float), f["grouped"].astype(bool), f["rw"].astype(float),
                 f["mean_g"].astype(float), cfg, f["special"].astype(bool), f["leaving"].astype(str),
                 K=np.full(len(cases), 0.9), pooled=8_000.0)


def _by_hand(name: str, c: dict, cfg: PaymentConfig) -> tuple[float, float, float]:
    """(points, a, b) of one case of class ``name``, written out from section 4.3-4.4 (K = 0.9, pooled mean 8,000)."""
    K, pooled, cost = 0.9, 8_000.0, c["cost"]
    c0 = 0.0 if np.isnan(cost) else cost
    fallback = (c0 / pooled, 0.0) if cfg.fallback == "points" else (0.0, c0)
    return {"not_grouped": (100 * c0 / pooled, *fallback), "no_weight": (100 * c0 / pooled, *fallback),
            "special_review": (100 * c0 / pooled, 0.0, c0),
            "no_cost": (100 * RW * K, RW * K, 0.0), "normal": (100 * RW * K, RW * K, 0.0),
            "long_stay": (100 * c0 / pooled, 0.0, cfg.psi_long * c0),
            "high_cost": (100 * RW * K + (cost / MEAN - 2.0) * 100 * RW, RW * K, cfg.phi_hi * (cost - 2.0 * MEAN)),
            "low_cost": (100 * RW * min(1.0, cost / MEAN),
                         *((RW * K * min(1.0, cost / MEAN), 0.0) if cfg.low_pay == "proportional" else (0.0, c0)))}[name]


def test_every_class_has_its_words_a_strategy_and_a_plant():
    assert set(STRATEGIES) | UNRULED == set(CLASSES)
    assert {c.plant for c in REGISTRY} <= set(PLANTS)
    for c in REGISTRY:
        for w in (c.zh, c.cases_zh, c.explain_zh):
            assert w and any("\u4e00" <= ch <= "\u9fff" for ch in w), (c.name, w)
        assert c.en and c.explain_en and not any("\u4e00" <= ch <= "\u9fff" for ch in c.en + c.explain_en), c.name
    assert len({c.zh for c in REGISTRY}) == len(REGISTRY)  # a table's values tell the classes apart


@settings(max_examples=60, deadline=None)
@given(data=st.data(), fallback=st.sampled_from(["item", "points"]), low_pay=st.sampled_from(["proportional", "item"]))
def test_each_strategy_is_classed_and_paid_as_its_class_says(data, fallback, low_pay):
    cfg = PaymentConfig(fallback=fallback, low_pay=low_pay)
    names = data.draw(st.lists(st.sampled_from(sorted(STRATEGIES)), min_size=1, max_size=12))
    cases = [data.draw(STRATEGIES[n]) for n in names]
    t = _terms(cases, cfg)
    code = classify(t)
    assert [CLASSES[i] for i in code] == names
    pts, (a, b) = case_points(code, t), rate_terms(code, t)
    for i, (n, c) in enumerate(zip(names, cases)):
        want = _by_hand(n, c, cfg)
        np.testing.assert_allclose([pts[i], a[i], b[i]], want, rtol=1e-12, atol=1e-9, err_msg=n)


# -- plants: how a world drg synth made gets cases of each class --------------------------------------------------------
def _rows(df: pd.DataFrame, mask: np.ndarray, k: int, rng) -> np.ndarray:
    at = np.flatnonzero(mask)
    return rng.choice(at, size=min(k, len(at)), replace=False)


def _grouped(df):
    return (df["status"].astype(str).isin(["分组成功", "ok"]) & ~df["drg"].astype(str).str.contains("QY|0000")).to_numpy()


def plant_ungroupable(df, rng, plan):  # the grouper's own failures: drg synth writes invalid codes already
    return np.flatnonzero(~_grouped(df))[:20]


def plant_special_review_list(df, rng, plan):
    rows = _rows(df, _grouped(df) & df["total_cost"].notna().to_numpy(), 5, rng)
    plan["special"] = df["case_id"].astype(str).to_numpy()[rows].tolist()
    return rows


def plant_unpriced_drg(df, rng, plan):  # every cost of one DRG blank: it has no weight
    g = df.loc[_grouped(df), "drg"].astype(str).value_counts()
    drg = g.index[len(g) // 2]
    rows = np.flatnonzero((df["drg"].astype(str) == drg).to_numpy() & _grouped(df))
    df.loc[rows, "total_cost"] = np.nan
    return rows


def plant_blank_cost(df, rng, plan):
    rows = _rows(df, _grouped(df), 30, rng)
    df.loc[rows, "total_cost"] = np.nan
    return rows


def plant_long_stay(df, rng, plan):
    rows = _rows(df, _grouped(df) & df["total_cost"].notna().to_numpy(), 30, rng)
    df.loc[rows, "los_days"] = 90
    return rows


def plant_cost_tail(df, rng, plan):  # drg synth's log-normal costs have both tails; a few made extreme
    # in DRGs of 30 costed cases or more (one extreme case cannot carry its DRG's trimmed mean along), at 6 and at
    # 0.05 times the DRG's mean cost (x20 of a case already in the low tail may only reach the mean)
    costed = _grouped(df) & df["total_cost"].notna().to_numpy()
    drg = df["drg"].astype(str)
    size, mean = drg[costed].value_counts(), df.loc[costed, "total_cost"].groupby(drg[costed]).mean()
    rows = _rows(df, costed & (drg.map(size).fillna(0).to_numpy() >= 30), 60, rng)
    df.loc[rows[:30], "total_cost"] = drg.iloc[rows[:30]].map(mean).to_numpy() * 6
    df.loc[rows[30:], "total_cost"] = drg.iloc[rows[30:]].map(mean).to_numpy() * 0.05
    return rows


def plant_ordinary(df, rng, plan):
    return np.zeros(0, np.int64)


def plant_blank_year(df, rng, plan):
    rows = _rows(df, np.ones(len(df), bool), 25, rng)
    plan["blank_year"] = rows
    return rows


PLANTS = {"ungroupable": plant_ungroupable, "special_review_list": plant_special_review_list,
          "unpriced_drg": plant_unpriced_drg, "blank_cost": plant_blank_cost, "long_stay": plant_long_stay,
          "cost_tail": plant_cost_tail, "ordinary": plant_ordinary, "blank_year": plant_blank_year}


@pytest.mark.slow
def test_each_plant_makes_its_class_in_a_world_drg_synth_made(tmp_path):
    """drg synth's world with every class's plant (disjoint rows), settled by drg pay: every registered class is
    paid to some case, and the rows a plant touched get its class (unless an earlier class takes them)."""
    import grouper
    from drg.cli import main
    from drg.synth import synthesize

    scheme = grouper.load_scheme()
    synthesize(scheme, str(tmp_path / "s"), cases=6000, seed=4, quiet=True)
    df = grouper.group(pq.read_table(tmp_path / "s" / "discharges.parquet"), scheme).to_pandas()
    rng, plan, planted = np.random.default_rng(0), {}, {}
    for c in REGISTRY:
        planted[c.name] = PLANTS[c.plant](df, rng, plan)
    if "blank_year" in plan:
        df["year"] = df["year"].astype("Int64")
        df.loc[plan["blank_year"], "year"] = pd.NA
        df.loc[plan["blank_year"], "discharge_date"] = pd.NaT
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "g.parquet")
    pd.DataFrame({"case_id": plan["special"]}).to_csv(tmp_path / "special.csv", index=False)
    assert main(["pay", str(tmp_path / "g.parquet"), "--budget", "5e7", "--special-review", str(tmp_path / "special.csv"),
                 "--lang", "en", "-o", str(tmp_path / "pay")]) == 0
    got = pd.read_parquet(tmp_path / "pay" / "cases.parquet")["payment_class"].astype(str).to_numpy()
    assert set(got) == set(CLASSES)
    order = {n: i for i, n in enumerate(CLASSES)}
    for name, rows in planted.items():
        if name == "normal" or not len(rows):
            continue
        hits = got[rows]
        # each planted row is of its class or of a class checked before it (a cheaper planted stay may be a low cost)
        assert (hits == name).any(), (name, set(hits))
        if name not in ("no_year", "special_review"):  # a listed case over its hospital's cap is paid as usual
            assert all(order[h] <= order[name] or h in ("high_cost", "low_cost", "no_year") for h in hits), (name, set(hits))
    assert BY_NAME["no_year"].settled is False
