"""Hospital-side views: departments and doctors judged within their specialty, months with 环比/同比, the
planted doctor effects and seasonality of the synthetic region recovered -- and nobody else flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SCHEMES, need_shared


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    need_shared()
    import grouper
    from drg.synth import synthesize

    d = tmp_path_factory.mktemp("views")
    scheme = grouper.load_scheme(SCHEMES / "chs-drg-1.1")
    # made as one part, the region these checks were set on (in four of the five seeds and part sizes measured,
    # the doctor funnel flags the planted doctor alone; in one, an ordinary 78-case doctor with p = 3e-5 joins
    # it, about the 6% chance of one such doctor among 2,000): test_synth holds the planted effects of a region
    # made in parts
    truth = synthesize(scheme, str(d / "s"), cases=500_000, seed=4, quiet=True, part_cases=500_000)
    df = grouper.group(pq.read_table(d / "s" / "discharges.parquet"), scheme).to_pandas()
    return truth, df


@pytest.fixture(scope="module")
def doctors(region):
    from evaluation.api import evaluate

    truth, df = region
    return evaluate(df, by="doctor")["doctor"].set_index("doctor_id")


@pytest.mark.slow
def test_synth_departments_and_doctors_are_coherent(region):
    truth, df = region
    docs = pd.DataFrame(truth["doctors"]).T
    assert (docs["cost_factor"] > 1).sum() == 1 and (docs["death_or"] > 1).sum() == 1
    assert set(df["doctor_id"]) <= set(docs.index)
    pairs = df[["doctor_id", "hospital_id", "dept"]].drop_duplicates()
    assert pairs["doctor_id"].is_unique  # a doctor works in one hospital and one department
    assert (pairs["hospital_id"].to_numpy() == docs.loc[pairs["doctor_id"], "hospital_id"].to_numpy()).all()
    # a department is the specialty of its cases: childbirth in obstetrics, newborns in neonatology
    obst = df[df["mdc"] == "MDCO"]
    towns = {h["hospital_id"] for h in truth["hospitals"] if h["level"] == "primary"}
    assert (obst.loc[~obst["hospital_id"].isin(towns), "dept"] == "产科").mean() > 0.95


@pytest.mark.slow
def test_planted_doctors_found_and_no_other(region, doctors):
    truth, _ = region
    docs = pd.DataFrame(truth["doctors"]).T
    high_cost = docs.index[docs["cost_factor"] > 1][0]
    high_death = docs.index[docs["death_or"] > 1][0]
    d = doctors
    same = d[(d["dept"] == d.loc[high_cost, "dept"]) & (d["status"] == "ok")]
    assert same["cost_index"].idxmax() == high_cost  # top of their specialty on cost index
    assert d.loc[high_cost, "rank_cost_index"] == same["rank_cost_index"].max()
    assert d.loc[high_death, "funnel_flag"] == "alarm_high"
    outside = set(d.index[d["funnel_flag"].isin(["alarm_high", "alarm_low"])])
    assert outside == {high_death}, outside  # nobody else: not the quality-outlier or case-mix hospitals' doctors
    assert (d["reference"] == "own_hospital").all()


@pytest.mark.slow
def test_department_view_within_specialty(region):
    from evaluation.api import evaluate

    truth, df = region
    t = evaluate(df, by="hospital-dept")["hospital_dept"]
    assert {"hospital_id", "dept", "cost_index", "funnel_flag", "peer_group"} <= set(t.columns)
    assert (t["peer_group"] == t["dept"]).all()
    # the cost index follows the planted hospital cost factor within a specialty
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    ok = t[(t["status"] == "ok") & (t["dept"] == "心血管内科")]
    planted = pd.Series(h.loc[ok["hospital_id"], "cost_factor"].to_numpy(), index=ok.index)
    assert ok["cost_index"].corr(planted, method="spearman") > 0.7
    assert evaluate(df, by="dept")["dept"]["dept"].is_unique


@pytest.mark.slow
def test_months_with_seasonality_and_changes(region):
    from evaluation.api import evaluate

    truth, df = region
    t = evaluate(df, period="month")["hospital_month"]
    region_month = t.assign(m=t["period"].str[-2:].astype(int)).groupby("m")["cases"].sum()
    amp = truth["seasonality"]["amplitude"]
    assert amp > 0 and region_month[1] > region_month[6] * (1 + amp)  # the planted winter peak
    one = t[t["hospital_id"] == "DZ001"].set_index("period")
    assert one.loc["2019-03", "cases_vs_previous"] == pytest.approx(one.loc["2019-03", "cases"] / one.loc["2019-02", "cases"] - 1)
    assert one.loc["2019-03", "cases_vs_last_year"] == pytest.approx(one.loc["2019-03", "cases"] / one.loc["2018-03", "cases"] - 1)
    assert np.isnan(one.loc["2018-01", "cases_vs_previous"]) and np.isnan(one.loc["2018-06", "cmi_vs_last_year"])
    q = evaluate(df, period="quarter")["hospital_quarter"]
    assert q["period"].str.match(r"^\d{4}Q[1-4]$").all()


@pytest.mark.slow
def test_views_need_their_columns(region):
    from evaluation.api import evaluate
    from evaluation.common import EvaluationError

    _, df = region
    with pytest.raises(EvaluationError, match="doctor_id"):
        evaluate(df.drop(columns=["doctor_id"]).head(5000), by="doctor")
    with pytest.raises(EvaluationError, match="discharge_date"):
        evaluate(df.drop(columns=["discharge_date"]).head(5000), period="month")


@pytest.mark.slow
def test_explain_estimates_the_case_payment(tmp_path):
    """drg explain --weights --point-value|--base-rate: the payment of the sheet's formulas (4.3, 4.4) in words."""
    need_shared()
    import subprocess
    import sys

    from evaluation.payment import PaymentConfig
    from evaluation.payment.classes import BY_NAME, k_hi_for

    (tmp_path / "w.csv").write_text("drg,weight,mean_cost\nFE19,1.2345,15000\n", encoding="utf-8")
    case = ["--dx", "I25.800x012|B15.000|L50.800", "--px", "39.2500x004|39.7100x004", "--sex", "1", "--age", "50", "--los", "10"]

    def paid(*extra, lang="en"):
        out = subprocess.run([sys.executable, "-m", "drg.cli", "explain", *case, "--weights", tmp_path / "w.csv", *extra,
                              "--lang", lang], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        return out, float(out.split("paid ¥")[1].split(" ")[0].replace(",", "")) if lang == "en" else out

    cfg = PaymentConfig()
    p = 100 * 1.2345
    line, y = paid("--point-value", "80", "--cost", "15000")
    assert "FE19" in line and BY_NAME["normal"].explain_en in line and y == pytest.approx(round(p * 80, 2))
    k_hi = float(k_hi_for(np.array([1.2345]), cfg)[0])
    line, y = paid("--point-value", "80", "--cost", "60000")
    assert BY_NAME["high_cost"].explain_en in line and y == pytest.approx(round((p + (60000 / 15000 - k_hi) * p) * 80, 2))
    line, y = paid("--point-value", "80", "--cost", "3000")
    assert BY_NAME["low_cost"].explain_en in line and y == pytest.approx(round(p * 0.2 * 80, 2))
    line, y = paid("--base-rate", "12000", "--cost", "16000", "--coefficient", "1.1")
    assert y == pytest.approx(round(1.2345 * 1.1 * 12000, 2))
    zh, _ = paid("--point-value", "80", "--cost", "15000", lang="zh")
    assert "本病例预计支付 ¥9,876.00" in zh and "正常病例" in zh
