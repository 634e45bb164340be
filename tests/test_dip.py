"""DIP (issue 39): the catalogue, matching and settlement of the national DIP technical specification on cases
whose answers are worked out by hand; every case paid once and the budget exact (Hypothesis); on drg synth's
region the core groups' coverage and their scores recomputed independently from the base data."""

from __future__ import annotations

import csv
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drg.cli import main
from evaluation import dip as D

KINDS = {"39.2501": "surgical", "88.4800": "diagnostic", "47.0100": "surgical", "96.0400": "therapeutic"}


def cases(rows) -> pa.Table:
    """rows: (dx, px list, cost[, age, secondary dx])."""
    out = {"case_id": [], "dx": [], "px": [], "total_cost": [], "age_years": []}
    for i, r in enumerate(rows):
        dx, px, cost = r[:3]
        out["case_id"].append(f"c{i:03d}")
        out["dx"].append(([dx] if dx else []) + (list(r[4]) if len(r) > 4 else []))
        out["px"].append(list(px))
        out["total_cost"].append(cost)
        out["age_years"].append(r[3] if len(r) > 3 else 50)
    return pa.table(out)


BASE = ([("I74.801", ["39.2501"], c) for c in (9000.0, 10000.0, 11000.0)]
        + [("I74.802", ["39.2501", "88.4800"], c) for c in (19000.0, 20000.0, 21000.0)]
        + [("I74.803", [], c) for c in (2000.0, 3000.0, 4000.0)]
        + [("I74.900", ["39.2501"], 8000.0)]
        + [("K35.801", ["47.0100"], c) for c in (6000.0, 8000.0)])


def build(rows, min_cases=3, **kw) -> dict:
    b = D.CatalogueBuilder(KINDS)
    b.add(cases(rows))
    cat = D.build_catalogue(b.sums(), min_cases=min_cases, **kw)
    return {**cat, "kinds": KINDS}


def test_the_catalogue_as_worked_out_by_hand():
    cat = build(BASE)
    g = cat["groups"].set_index(["kind", "dx", "procedures", "category", "treatment"])
    # all cases' mean cost: 121,000 / 12; a score is the group's mean over it, x 1000
    want = {("core", "I74.8", "39.2501", "I74", "surgical"): (3, 10000, Fraction(120_000_000, 121_000)),
            ("core", "I74.8", "39.2501+88.4800", "I74", "surgical"): (3, 20000, Fraction(240_000_000, 121_000)),
            ("core", "I74.8", "", "I74", "conservative"): (3, 3000, Fraction(36_000_000, 121_000)),
            ("comprehensive", "", "", "I74", "surgical"): (1, 8000, Fraction(96_000_000, 121_000)),
            ("comprehensive", "", "", "K35", "surgical"): (2, 7000, Fraction(84_000_000, 121_000))}
    assert sorted(g.index) == sorted(want)
    for key, (n, mean, score) in want.items():
        row = g.loc[key]
        assert row["cases"] == n and row["mean_cost"] == pytest.approx(mean, rel=1e-15)
        assert row["score"] == pytest.approx(float(score), rel=1e-14)
    assert g.loc[("core", "I74.8", "39.2501", "I74", "surgical"), "cv"] == pytest.approx((2 / 3) ** 0.5 * 1000 / 10000)
    assert cat["meta"]["core_share"] == pytest.approx(9 / 12)
    ref = cat["groups"].loc[cat["groups"]["procedures"] == "39.2501+88.4800", "group_id"].iloc[0]
    by_ref = build(BASE, reference=ref)["groups"]  # scores against a named reference group: it scores 1000
    assert by_ref.loc[by_ref["group_id"] == ref, "score"].iloc[0] == pytest.approx(1000)


def test_matching_as_the_specification_says():
    cat = build(BASE + [("J18.000", ["A"], c) for c in (4000.0, 5000.0, 6000.0)]
                + [("J18.001", ["B"], c) for c in (8000.0, 9000.0, 10000.0)], min_cases=3)
    m = D.Matcher(cat)
    gid = dict(zip(zip(cat["groups"]["kind"], cat["groups"]["dx"], cat["groups"]["procedures"], cat["groups"]["category"],
                       cat["groups"]["treatment"]), range(len(cat["groups"]))))
    core = lambda dx, px: gid[("core", dx, px, dx[:3], cat["groups"].loc[gid[next(k for k in gid if k[1] == dx and k[2] == px)], "treatment"])]  # noqa: E731
    table = cases([
        ("I74.801", ["39.2501"], 10000.0),                       # 0 exact
        ("I74.809", ["39.2501", "39.2501"], 10000.0),            # 1 repeats ignored: exact
        ("I74.805", ["39.2501", "88.4800", "96.0400"], 1.0),     # 2 the core group with the most of its procedures
        ("I74.805", ["99.9999"], 1.0),                           # 3 only the conservative core group is within its set
        ("I74.805", [], 1.0),                                    # 4 exact: the conservative core group
        ("I74.900", ["39.2501"], 1.0),                           # 5 no core group of I74.9: comprehensive I74 surgical
        ("I74.900", [], 1.0),                                    # 6 no comprehensive I74 conservative: no group
        (None, ["39.2501"], 1.0),                                # 7 no principal diagnosis
        ("J18.0", ["A", "B", "C"], 5500.0),                      # 8 two equal partials: the mean closest to the cost (A)
        ("J18.0", ["A", "B", "C"], 8000.0),                      # 9 ... (B)
        ("J18.0", ["A", "B", "C"], 7000.0),                      # 10 equally close: the higher score (B)
        ("J18.0", ["A", "B", "C"], None),                        # 11 no cost: the higher score (B)
    ])
    r = m.match(table)
    want_group = [core("I74.8", "39.2501"), core("I74.8", "39.2501"), core("I74.8", "39.2501+88.4800"), core("I74.8", ""),
                  core("I74.8", ""), gid[("comprehensive", "", "", "I74", "surgical")], -1, -1,
                  core("J18.0", "A"), core("J18.0", "B"), core("J18.0", "B"), core("J18.0", "B")]
    assert r["group"].tolist() == want_group
    assert r["match"].tolist() == [0, 0, 1, 1, 0, 2, -1, -1, 1, 1, 1, 1]


def test_points_and_deviation_cases_as_the_specification_says():
    score, mean = np.array([900.0] * 4 + [np.nan]), np.array([10000.0] * 4 + [np.nan])
    cost = np.array([25000.0, 4000.0, 12000.0, np.nan, 5000.0])
    points, cls = D.case_points(score, mean, cost, np.array([1.0, 1.0, 1.2, 1.0, 1.0]), np.array([1.0, 1.0, 0.9, 1.0, 1.0]))
    # high: 900 x (2.5 - 2 + 1); low: 900 x 0.4; normal: 900 x 1.2 (severity) x 0.9 (level); no cost: normal; no group: 0
    assert points.tolist() == pytest.approx([1350.0, 360.0, 972.0, 900.0, 0.0])
    assert [D.DEVIATION[c] for c in cls] == ["high", "low", "normal", "normal", "no_group"]


def test_severity_tiers_adjust_only_where_they_differ_significantly():
    """Planted: in C34.1 the cases with metastases (Charlson 6) cost three times the others: both CCI tiers are
    adjusted. Not planted: in C18.9 the over-65s cost what the others cost: no tier of it is adjusted."""
    rng = np.random.default_rng(3)
    rows = [("C34.100", [], float(c)) for c in rng.normal(5000, 300, 40)]
    rows += [("C34.101", [], float(c), 50, ["C78.000"]) for c in rng.normal(15000, 300, 40)]
    rows += [("C18.900", [], float(c), 50) for c in rng.normal(8000, 400, 40)]
    rows += [("C18.901", [], float(c), 70) for c in rng.normal(8000, 400, 40)]
    cat = build(rows, min_cases=15)
    g = cat["groups"].set_index("dx")
    sev = cat["severity"].set_index(["group_id", "dimension", "tier"]).sort_index()
    lung, colon = g.loc["C34.1", "group_id"], g.loc["C18.9", "group_id"]
    hi, lo = sev.loc[(lung, "cci", "cci3+")], sev.loc[(lung, "cci", "cci0")]
    assert hi["adjustment"] == pytest.approx(hi["mean_cost"] / g.loc["C34.1", "mean_cost"]) and hi["adjustment"] > 1.4
    assert lo["adjustment"] == pytest.approx(lo["mean_cost"] / g.loc["C34.1", "mean_cost"]) and lo["adjustment"] < 0.6
    assert (sev.loc[colon, "adjustment"] == 1.0).all()  # nothing planted, nothing adjusted
    assert sev.loc[(colon, "age", "age65+"), "p_value"] > 0.05
    row = {gid: i for i, gid in enumerate(cat["groups"]["group_id"])}  # a case's group: its row of groups.csv
    adj = D.severity_adjustment(cat, np.array([row[lung], row[lung], row[colon], row[colon]]), np.array([0, 6, 0, 0]),
                                np.array([50.0, 50.0, 50.0, 70.0]))
    want = [sev.loc[(lung, "cci", t), "adjustment"] * sev.loc[(lung, "age", "age18-64"), "adjustment"] for t in ("cci0", "cci3+")]
    assert adj[:2].tolist() == pytest.approx(want) and adj[2:].tolist() == [1.0, 1.0]


def test_readmissions_are_counted_by_patient_hospital_and_days(tmp_path):
    """二次入院: a stay at the same hospital within 15 days of a discharge from it, found across batches."""
    from drg import dip

    b = D.CatalogueBuilder(KINDS)
    b.add(cases(BASE))
    D.write_catalogue(D.build_catalogue(b.sums(), min_cases=3), pd.DataFrame({"code": [], "kind": []}), str(tmp_path))
    stays = [("P1", "H1", "2022-01-01", "2022-01-10"), ("P1", "H1", "2022-01-25", "2022-01-30"),  # 15 days: counts
             ("P1", "H1", "2022-02-20", "2022-02-22"),  # 21 days after: not
             ("P2", "H1", "2022-01-01", "2022-01-05"), ("P2", "H2", "2022-01-06", "2022-01-08"),  # another hospital: not
             ("P3", "H2", "2022-03-01", "2022-03-03"), ("P3", "H2", "2022-03-03", "2022-03-09")]  # same day: counts
    t = cases([("I74.801", ["39.2501"], 10000.0)] * len(stays))
    for name, i in (("patient_id", 0), ("hospital_id", 1), ("admit_date", 2), ("discharge_date", 3)):
        t = t.append_column(name, pa.array([s[i] for s in stays]))
    pq.write_table(t, tmp_path / "in.parquet")
    dip.group(str(tmp_path / "in.parquet"), str(tmp_path / "g.parquet"), str(tmp_path), batch_size=2)
    dip.pay(str(tmp_path / "g.parquet"), str(tmp_path / "pay"), {None: 100.0}, batch_size=2)
    h = pd.read_parquet(tmp_path / "pay" / "hospitals.parquet").set_index("hospital_id")
    assert h.loc["H1", "readmission_rate"] == pytest.approx(1 / 4) and h.loc["H2", "readmission_rate"] == pytest.approx(1 / 3)
    assert h.loc["H1", "readmission_index"] == pytest.approx((1 / 4) / (2 / 7))
    assert not list((tmp_path / "pay").glob("readmit-*"))  # the spill is gone


def _export(path, rows, encoding="gbk"):
    """A settlement-list export: Chinese wide headers, GBK, blank cells."""
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(["病案号", "定点医疗机构代码", "出院日期", "主要诊断编码", "其他诊断编码1", "主要手术操作编码", "手术操作编码1", "医疗总费用"])
        for i, (h, dx, px, cost) in enumerate(rows):
            w.writerow([f"a{i:03d}", h, "2022-03-01", dx, "", px[0] if px else "", px[1] if len(px) > 1 else "",
                        "" if cost is None else cost])


def test_the_commands_on_a_settlement_list_export(tmp_path, capsys):
    rows = [(f"H{i % 3}", dx, px, c) for i, (dx, px, c) in enumerate(BASE)]
    _export(tmp_path / "base.csv", rows)
    assert main(["dip", "build", str(tmp_path / "base.csv"), "-o", str(tmp_path / "cat"), "--min-cases", "3"]) == 0
    groups = pd.read_csv(tmp_path / "cat" / "groups.csv", keep_default_na=False)
    assert (groups["kind"] == "core").sum() == 3
    assert main(["dip", "group", str(tmp_path / "base.csv"), "-o", str(tmp_path / "g.parquet"), "--catalogue", str(tmp_path / "cat")]) == 0
    g = pq.read_table(tmp_path / "g.parquet").to_pandas()
    assert g["dip_status"].eq("分组成功").all() and set(g["dip_match"]) == {"exact", "comprehensive"}
    assert main(["dip", "pay", str(tmp_path / "g.parquet"), "--budget", "1000.01", "-o", str(tmp_path / "pay")]) == 0
    paid = pd.read_parquet(tmp_path / "pay" / "cases.parquet")
    assert int(paid["payment_fen"].sum()) == 100001  # the budget to the fen
    hosp = pd.read_parquet(tmp_path / "pay" / "hospitals.parquet")
    assert int(hosp["payment_fen"].sum()) == 100001 and len(hosp) == 3
    # every case is a normal case (cost within 0.5-2x its group's mean), so the year's points are the scores' sum:
    # sum of the groups' costs / all cases' mean x 1000 = 12 cases x 1000; the point value is the budget over it
    params = pd.read_parquet(tmp_path / "pay" / "parameters.parquet")
    assert params["points"].iloc[0] == pytest.approx(12_000) and params["point_value"].iloc[0] == pytest.approx(1000.01 / 12_000)
    assert set(paid["deviation"]) == {"normal"}
    # a CSV for people: the export's own headers kept, the DIP columns in Chinese; dip pay reads it back
    assert main(["dip", "group", str(tmp_path / "base.csv"), "-o", str(tmp_path / "g.csv"), "--catalogue", str(tmp_path / "cat")]) == 0
    people = pd.read_csv(tmp_path / "g.csv", dtype=str, keep_default_na=False)
    assert list(people.columns[:3]) == ["病案号", "定点医疗机构代码", "出院日期"] and "DIP病种编码" in people.columns
    assert set(people["DIP入组方式"]) == {"精确匹配核心病种", "综合病种"}
    assert main(["dip", "pay", str(tmp_path / "g.csv"), "--budget", "1000.01", "-o", str(tmp_path / "pay_csv")]) == 0
    again = pd.read_parquet(tmp_path / "pay_csv" / "cases.parquet")
    assert again["payment_fen"].tolist() == paid["payment_fen"].tolist()
    assert main(["dip", "pay", str(tmp_path / "g.parquet"), "--budget", "2021=5", "-o", str(tmp_path / "p2")]) == 2
    assert "drg: error:" in capsys.readouterr().err  # a year without a budget: one line


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["I74.801", "I74.802", "K35.801", "J18.000", "Q99.999", ""]),
                          st.lists(st.sampled_from(["39.2501", "88.4800", "47.0100", "96.0400", "X"]), max_size=3),
                          st.one_of(st.none(), st.floats(1, 200000)), st.sampled_from(["H1", "H2", "H3"]),
                          st.sampled_from([2021, 2022])), min_size=1, max_size=60),
       st.integers(1, 10**12), st.integers(1, 40))
def test_every_case_is_paid_once_and_the_budget_is_exact(tmp_path_factory, rows, budget_fen, batch):
    tmp = tmp_path_factory.mktemp("dip")
    cat_rows = BASE + [("J18.000", ["96.0400"], 3000.0)] * 3
    b = D.CatalogueBuilder(KINDS)
    b.add(cases(cat_rows))
    D.write_catalogue(D.build_catalogue(b.sums(), min_cases=3), pd.DataFrame({"code": list(KINDS), "kind": list(KINDS.values())}), str(tmp))
    t = cases([(dx, px, c) for dx, px, c, _, _ in rows])
    t = t.append_column("hospital_id", pa.array([r[3] for r in rows])).append_column("year", pa.array([r[4] for r in rows]))
    pq.write_table(t, tmp / "in.parquet")
    from drg import dip

    dip.group(str(tmp / "in.parquet"), str(tmp / "g.parquet"), str(tmp), batch_size=batch)
    grouped = pq.read_table(tmp / "g.parquet")
    assert grouped.num_rows == len(rows)
    years = sorted({r[4] for r, s in zip(rows, grouped.column("dip_score").to_pylist()) if s is not None})
    budget = {None: budget_fen / 100}
    if not years:  # nothing grouped: pay refuses in one line instead of paying nobody
        event("nothing to pay")
        with pytest.raises(D.EvaluationError, match="no grouped case"):
            dip.pay(str(tmp / "g.parquet"), str(tmp / "pay"), budget, batch_size=batch)
        return
    dip.pay(str(tmp / "g.parquet"), str(tmp / "pay"), budget, batch_size=batch)
    paid = pd.read_parquet(tmp / "pay" / "cases.parquet")
    assert paid["case_id"].tolist() == t.column("case_id").to_pylist()  # every case once, in input order
    per_year = paid.groupby("year")["payment_fen"].sum()
    assert all(int(per_year.get(y, 0)) == round(budget_fen / 100 * 100) for y in years)
    assert (paid["payment_fen"] >= 0).all() and (paid.loc[paid["points"] == 0, "payment_fen"] == 0).all()


@pytest.mark.slow
def test_on_drg_synths_region_core_groups_cover_most_cases_and_scores_recompute(tmp_path):
    """drg synth's region (200,000 cases): core groups cover >= 80% of the cases, and each core group's score equals
    an independent recomputation from the base data (pandas, from the raw codes)."""
    from drg.synth import synthesize
    import grouper

    synthesize(grouper.load_scheme(), str(tmp_path / "s"), cases=200_000, seed=7, quiet=True)
    assert main(["dip", "build", str(tmp_path / "s" / "discharges.parquet"), "-o", str(tmp_path / "cat")]) == 0
    groups = pd.read_csv(tmp_path / "cat" / "groups.csv", keep_default_na=False)
    raw = pq.read_table(tmp_path / "s" / "discharges.parquet", columns=["dx", "px", "total_cost"]).to_pandas()
    import re

    def sub(codes):  # the 亚目, written again: a letter and two characters, the dot and one more; else not a code
        m = re.match(r"\s*([A-Za-z][0-9A-Za-z]{2})(\.[0-9A-Za-z])?", codes[0]) if len(codes) else None
        return None if m is None else m.group(1) + (m.group(2) or "")

    raw["sub"] = raw["dx"].map(sub)
    raw = raw[raw["sub"].notna()]
    raw["set"] = raw["px"].map(lambda p: "+".join(sorted(set(p))))
    raw = raw[raw["total_cost"] > 0]
    mean_all = raw["total_cost"].mean()
    stats = raw.groupby(["sub", "set"])["total_cost"].agg(["size", "mean"])
    core = stats[stats["size"] >= 15]
    share = core["size"].sum() / len(raw)
    print(f"core groups: {len(core)}, cover {share:.1%} of {len(raw)} cases")
    assert share >= 0.80
    mine = groups[groups["kind"] == "core"].set_index(["dx", "procedures"])
    assert len(mine) == len(core)
    want = core["mean"] / mean_all * 1000
    got = mine.loc[want.index, "score"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)


_DX = ["I74.801", "I74.8", "I74.900", "K35", "k35.1", "X1", "", " I74.80"]
_PX = ["39.2501", "88.4800", "47.0100", "96.0400", "87.0300", "Z", " ", ""]


@st.composite
def catalogues(draw):
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        procs = "+".join(sorted(set(draw(st.lists(st.sampled_from(_PX[:6]), max_size=3)))))
        rows.append({"kind": "core", "dx": draw(st.sampled_from(["I74.8", "I74.9", "K35", "k35.1"])), "procedures": procs,
                     "category": "", "treatment": "surgical"})
    for cat in draw(st.lists(st.sampled_from(["I74", "K35", "k35"]), max_size=3, unique=True)):
        for tr in draw(st.lists(st.sampled_from(D.TREATMENTS), min_size=1, max_size=4, unique=True)):
            rows.append({"kind": "comprehensive", "dx": "", "procedures": "", "category": cat, "treatment": tr})
    seen, out = set(), []
    for r in rows:  # a catalogue has each combination once
        key = (r["kind"], r["dx"], r["procedures"], r["category"], r["treatment"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    for i, r in enumerate(out):
        r["group_id"] = f"G{i:03d}"
        r["mean_cost"] = float(draw(st.sampled_from([1000, 5000, 9000])))  # few values: ties to break
        r["score"] = float(draw(st.sampled_from([100, 500, 900])))
        r["cases"], r["cv"] = 20, 0.3
    return out


@settings(max_examples=150, deadline=None)
@given(catalogues(), st.lists(st.tuples(st.lists(st.sampled_from(_DX), max_size=2), st.lists(st.sampled_from(_PX), max_size=4),
                                        st.one_of(st.none(), st.sampled_from([0.0, -3.0, 3000.0, 7000.0, float("nan")]))),
                              min_size=1, max_size=30))
def test_the_matching_kernel_equals_the_naive_reading_of_the_specification(groups, recs):
    from naive import dip_match

    kinds = {"39.2501": "surgical", "47.0100": "surgical", "88.4800": "diagnostic"}
    cat = {"groups": pd.DataFrame(groups, columns=list(D.GROUP_COLUMNS)), "severity": pd.DataFrame(), "kinds": kinds}
    table = pa.table({"dx": pa.array([r[0] for r in recs], pa.list_(pa.string())),
                      "px": pa.array([r[1] for r in recs], pa.list_(pa.string())),
                      "total_cost": pa.array([r[2] for r in recs], pa.float64())})
    got = D.Matcher(cat).match(table)
    for i, (dx, px, cost) in enumerate(recs):
        want = dip_match(dx, px, cost, groups, kinds)
        assert (int(got["group"][i]), int(got["match"][i])) == want, (dx, px, cost)
        event(f"match {want[1]}")


def test_an_official_catalogue_in_the_same_layout_groups_cases(tmp_path):
    """A region's own catalogue (groups.csv only, GBK as an office saves it): loaded, checked and used."""
    rows = [["group_id", "kind", "dx", "procedures", "category", "treatment", "cases", "mean_cost", "cv", "score"],
            ["A0001", "core", "I74.8", "39.2501", "I74", "surgical", "30", "10000", "0.2", "1200"],
            ["A0002", "comprehensive", "", "", "I74", "conservative", "12", "4000", "0.4", "480"]]
    with open(tmp_path / "groups.csv", "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    cat = D.load_catalogue(str(tmp_path))
    r = D.Matcher(cat).match(cases([("I74.801", ["39.2501"], 9000.0), ("I74.900", [], 3000.0), ("K35.1", [], 1.0)]))
    assert r["group"].tolist() == [0, 1, -1] and r["match"].tolist() == [0, 2, -1]
    rows[2][7] = "-1"
    with open(tmp_path / "groups.csv", "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(D.EvaluationError, match="mean_cost needs a positive number"):
        D.load_catalogue(str(tmp_path))


def test_bad_input_is_one_line_and_nothing_aborts(tmp_path):
    """A file that is not drg dip group's output, a budget or coefficients that do not parse: status 2 and one line
    (in a child process: a reading thread left running at exit used to abort it, status 134)."""
    import subprocess
    import sys

    t = cases(BASE)
    pq.write_table(t, tmp_path / "raw.parquet")
    code = "import sys; from drg.cli import main; sys.exit(main(sys.argv[1:]))"
    for args in (["dip", "pay", str(tmp_path / "raw.parquet"), "--budget", "1e9", "-o", str(tmp_path / "p")],
                 ["dip", "pay", str(tmp_path / "raw.parquet"), "--budget", "abc", "-o", str(tmp_path / "p")],
                 ["dip", "pay", str(tmp_path / "raw.parquet"), "--budget", "1e9", "--coefficients", "三级", "-o", str(tmp_path / "p")],
                 ["dip", "group", str(tmp_path / "raw.parquet"), "-o", str(tmp_path / "g.parquet"), "--catalogue", str(tmp_path)]):
        r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("drg: error: "), (args, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr and not (tmp_path / "p").exists()
