"""Issue 18: patient-level risk adjustment (`drg risk`): comorbidities by Quan 2005, cross-fitting by
construction, the fast linear predictor against scikit-learn's own, and the planted region both ways (the
case-mix-only hospitals are cleared, the quality outlier is still found, nobody else is flagged)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import naive
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from evaluation.risk import comorbidity as cm
from evaluation import risk as rk

HERE = os.path.dirname(__file__)

# Hand-checked against Quan et al. 2005, tables 1 (Charlson) and 2 (Elixhauser), ICD-10 columns.
QUAN_CASES = [
    ("I21.000x001", {("charlson", "mi")}),                      # national extension of an AMI stem
    ("I25.2", {("charlson", "mi")}),
    ("I25.1", set()),                                            # chronic ischaemic: not MI, not listed
    ("I42.5", {("charlson", "chf"), ("elixhauser", "chf")}),
    ("I42.4", set()),                                            # I42.0 and I42.5-I42.9 only
    ("I42.6", {("charlson", "chf"), ("elixhauser", "chf"), ("elixhauser", "alcohol")}),
    ("P29.0", {("charlson", "chf"), ("elixhauser", "chf")}),
    ("I63.900", {("charlson", "cevd")}),
    ("G30.1", {("charlson", "dementia")}),
    ("J44.100", {("charlson", "cpd"), ("elixhauser", "cpd")}),
    ("K70.3", {("charlson", "mld"), ("elixhauser", "ld"), ("elixhauser", "alcohol")}),
    ("K70.4", {("charlson", "msld"), ("elixhauser", "ld")}),
    ("E11.9", {("charlson", "diab"), ("elixhauser", "diabunc")}),
    ("E11.6", {("charlson", "diab"), ("elixhauser", "diabc")}),   # the two algorithms differ at .6
    ("E11.2", {("charlson", "diabwc"), ("elixhauser", "diabc")}),
    ("G81.9", {("charlson", "hp"), ("elixhauser", "para")}),
    ("N18.5", {("charlson", "rend"), ("elixhauser", "rf")}),
    ("Z99.2", {("charlson", "rend"), ("elixhauser", "rf")}),
    ("N03.1", set()),                                            # N03.2-N03.7 only
    ("C16.9", {("charlson", "canc"), ("elixhauser", "solidtum")}),
    ("C44.3", set()),                                            # skin: excluded from both
    ("C78.0", {("charlson", "metacanc"), ("elixhauser", "metacanc")}),
    ("C83.3", {("charlson", "canc"), ("elixhauser", "lymph")}),
    ("B20.1", {("charlson", "aids"), ("elixhauser", "aids")}),
    ("I10.x00", {("elixhauser", "hypunc")}),
    ("I13.1", {("elixhauser", "hypc"), ("charlson", "rend"), ("elixhauser", "rf")}),
    ("I48.x01", {("elixhauser", "carit")}),
    ("D68.9", {("elixhauser", "coag")}),
    ("E66.0", {("elixhauser", "obes")}),
    ("E87.1", {("elixhauser", "fed")}),
    ("D50.0", {("elixhauser", "blane")}),
    ("D50.9", {("elixhauser", "dane")}),
    ("F10.2", {("elixhauser", "alcohol")}),
    ("F20.4", {("elixhauser", "psycho"), ("elixhauser", "depre")}),
    ("F32.9", {("elixhauser", "depre")}),
    ("K25.7", {("charlson", "pud"), ("elixhauser", "pud")}),
    ("K25.0", {("charlson", "pud")}),                            # bleeding ulcer: Charlson only
    ("M05.3", {("charlson", "rheumd"), ("elixhauser", "rheumd")}),
    ("", set()), ("Z00.000", set()),
]


def _cats_of(bits: int) -> set:
    return {tuple(name.split("_", 1)) for i, name in enumerate(cm.column_names()) if (bits >> i) & 1}


@pytest.mark.parametrize("code,expected", QUAN_CASES)
def test_comorbidity_mapping_matches_quan_2005(code, expected):
    assert _cats_of(int(cm.code_bits([code])[0])) == expected
    assert _cats_of(int(cm.code_bits([code.lower().replace(".", "")])[0])) == expected  # dotless, any case


def test_table_has_the_published_categories_and_weights():
    cats = cm.categories()
    assert sum(1 for c in cats if c[0] == "charlson") == 17 and sum(1 for c in cats if c[0] == "elixhauser") == 31
    w = {c[1]: c[2] for c in cats if c[0] == "charlson"}
    assert w["metacanc"] == 6 and w["aids"] == 6 and w["msld"] == 3 and w["canc"] == 2 and w["mi"] == 1


def test_charlson_index_applies_the_hierarchy():
    def idx(*codes):
        bits = np.bitwise_or.reduce(cm.code_bits(list(codes)))
        return int(cm.charlson_index(np.array([bits], np.uint64))[0])

    assert idx("C78.0", "C16.9") == 6          # metastatic replaces any malignancy
    assert idx("E11.2", "E11.9") == 2          # complicated diabetes replaces uncomplicated
    assert idx("K70.4", "K70.3") == 3          # severe liver disease replaces mild
    assert idx("I21.0", "I50.0", "N18.5") == 4


def test_mapping_agrees_with_an_independent_reading_of_the_table():
    """Every code of the national scheme's diagnosis list: bits equal the naive prefix reading."""
    path = os.path.join(HERE, "..", "grouper", "schemes", "chs-drg-1.1", "dx_codes.csv")
    codes = pd.read_csv(path, dtype=str)["code"].dropna().tolist()[::7]
    cats = naive.quan_categories(str(cm.TABLE))
    names = cm.column_names()
    bits = cm.code_bits(codes)
    for code, b in zip(codes, bits):
        want = naive.code_categories(code, cats)
        got = {tuple(names[i].split("_", 1)) for i in range(len(names)) if (int(b) >> i) & 1}
        assert got == want, code


POOL = ["I21.0", "E11.9", "C78.0", "N18.5", "J44.1", "A09.0", "K35.8", "I10", "Z00.0", "S72.0"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(POOL)), max_size=6), max_size=30),
       st.dictionaries(st.sampled_from(POOL), st.sampled_from(["1", "2", "x"]), max_size=6),
       st.dictionaries(st.sampled_from(POOL), st.sampled_from(["1", "2", "x"]), max_size=6),
       st.dictionaries(st.sampled_from(POOL), st.sampled_from(["1", "2", "x"]), max_size=6))
def test_diagnosis_features_match_naive(records, mcc, cc, pdx_ex):
    lookup = rk.CodeLookup(mcc, cc, pdx_ex)
    words = sorted({c for r in records for c in r if c is not None})
    pos = {w: i for i, w in enumerate(words)}
    offsets = np.cumsum([0] + [len(r) for r in records]).astype(np.int64)
    idx = np.array([pos[c] if c is not None else -1 for r in records for c in r], np.int64)
    got = rk.diagnosis_features(offsets, idx, words, lookup)
    cats = naive.quan_categories(str(cm.TABLE))
    for i, r in enumerate(records):
        found, n, has_mcc, has_cc = naive.diagnosis_row(r, cats, mcc, cc, pdx_ex)
        assert _cats_of(int(got["bits"][i])) == found
        assert got["secondary_dx"][i] == n
        assert bool(got["mcc"][i]) == has_mcc and bool(got["cc"][i]) == has_cc


def _toy(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(rk.BASE_FEATURES) + len(cm.column_names()))).astype(np.float32)
    X[:, rk.BASE_FEATURES.index("age_years")] = rng.integers(0, 95, n)
    X[:, rk.BASE_FEATURES.index("admission_route")] = rng.choice([1.0, 2.0, 3.0, np.nan], n)
    X[rng.random(n) < 0.05, rk.BASE_FEATURES.index("sex_female")] = np.nan
    eta = -3 + 0.03 * (X[:, 0] - 50) + 0.5 * X[:, 10]
    sample = {"X": X, "row": np.arange(n), "fold": rk.case_folds(np.arange(n), 5, 1).astype(np.int64),
              "drg": rng.integers(0, 40, n), "adrg": rng.integers(0, 15, n),
              "death": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float),
              "los": rng.poisson(np.exp(1.5 + 0.2 * X[:, 10])).astype(float) + 1,
              "cost": np.exp(8 + 0.3 * X[:, 10] + rng.normal(0, 0.3, n))}
    enc = rk.Encoder(5)
    out = {**{k: sample[k] for k in ("death", "los", "cost")}, "log_los": np.log(sample["los"]), "log_cost": np.log(sample["cost"])}
    enc.add(sample["drg"], sample["adrg"], sample["fold"], out, 40, 15)
    return sample, enc


@pytest.mark.parametrize("outcome", ["death", "los", "cost"])
def test_fast_linear_predictor_equals_the_pipeline(outcome):
    sample, enc = _toy()
    models = rk.fit_cross_fitted(sample, enc, outcome, 5, 3)
    X = np.hstack([sample["X"], enc.encode(sample["drg"], sample["adrg"], sample["fold"], sample["fold"], 0)])
    for m in models:
        np.testing.assert_allclose(m.predict(X), m._raw(X), rtol=1e-9)


def test_cross_fitting_never_predicts_a_case_with_a_model_that_saw_it():
    """Change every outcome of fold 2's cases: the predictions for fold 2 do not move at all; those of the
    other folds do (their models were fitted on fold 2)."""
    sample, enc = _toy()
    changed = dict(sample, death=np.where(sample["fold"] == 2, 1.0 - sample["death"], sample["death"]))
    enc2 = rk.Encoder(5)
    enc2.add(sample["drg"], sample["adrg"], sample["fold"],
             {"death": changed["death"], "los": sample["los"], "cost": sample["cost"],
              "log_los": np.log(sample["los"]), "log_cost": np.log(sample["cost"])}, 40, 15)
    a = rk.predict_cross_fitted({"death": rk.fit_cross_fitted(sample, enc, "death", 5, 3)}, sample["X"], sample["drg"],
                                sample["adrg"], sample["fold"], enc)["death"]
    b = rk.predict_cross_fitted({"death": rk.fit_cross_fitted(changed, enc2, "death", 5, 3)}, sample["X"], sample["drg"],
                                sample["adrg"], sample["fold"], enc2)["death"]
    at = sample["fold"] == 2
    np.testing.assert_array_equal(a[at], b[at])
    assert np.abs(a[~at] - b[~at]).max() > 1e-3


def test_group_stats_leave_folds_out_like_a_naive_sum():
    rng = np.random.default_rng(4)
    ids, fold, v = rng.integers(-1, 7, 500), rng.integers(0, 4, 500), rng.random(500)
    v[rng.random(500) < 0.1] = np.nan
    g = rk.GroupStats(4)
    g.add(ids[:250], fold[:250], v[:250], 7)
    g.add(ids[250:], fold[250:], v[250:], 7)
    q = rng.integers(-1, 7, 50)
    da, db = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    n, s = g.sums(q, da, db)
    for i in range(50):
        keep = (ids == q[i]) & (fold != da[i]) & (fold != db[i]) & ~np.isnan(v) & (q[i] >= 0)
        assert n[i] == keep.sum() and s[i] == pytest.approx(v[keep].sum())


def test_logistic_fit_recovers_a_known_slope():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200_000)
    y = (rng.random(x.size) < 1 / (1 + np.exp(-(-1.0 + 0.7 * x)))).astype(float)
    a, b = rk.logistic_fit(x, y)
    assert a == pytest.approx(-1.0, abs=0.03) and b == pytest.approx(0.7, abs=0.03)


# -- the planted region, end to end ------------------------------------------------------------------

@pytest.fixture(scope="module")
def region(tmp_path_factory):
    import grouper
    from drg.synth import synthesize

    d = tmp_path_factory.mktemp("risk")
    scheme = grouper.load_scheme()
    truth = synthesize(scheme, str(d / "s"), cases=400_000, seed=18, quiet=True)
    run = [sys.executable, "-m", "drg.cli"]
    subprocess.run(run + ["group", str(d / "s" / "discharges.parquet"), "-o", str(d / "g.parquet"), "-q"], check=True)
    for out, extra in (("ev", []), ("risk", []), ("ev_model", ["--risk-model", str(d / "risk")])):
        cmd = "risk" if out == "risk" else "evaluate"
        r = subprocess.run(run + [cmd, str(d / "g.parquet"), "-o", str(d / out), "--lang", "en", "--overdispersion"] + extra,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    return d, truth


def _flags(path):
    t = pd.read_parquet(path).set_index("hospital_id")
    return t, set(t.index[t["funnel_flag"].isin(["alarm_high", "alarm_low"])])


@pytest.mark.slow
def test_patient_level_model_clears_casemix_and_keeps_quality_outliers(region):
    from scipy import stats

    d, truth = region
    quality = {h["hospital_id"] for h in truth["hospitals"] if h["quality_outlier"]}
    casemix = set(truth["casemix_only"])
    level = {h["hospital_id"]: h["level"] for h in truth["hospitals"]}
    assert quality and casemix and not quality & casemix
    _, flagged_drg = _flags(d / "ev" / "outcomes.parquet")
    patient, flagged_patient = _flags(d / "risk" / "hospital.parquet")
    # DRG-only O/E calls the sicker hospitals' patients bad care ...
    assert casemix <= flagged_drg and quality <= flagged_drg
    # ... the patient-level model does not, and still finds the one that is truly unsafe
    assert quality <= flagged_patient and not casemix & flagged_patient
    assert (patient.loc[sorted(casemix), "oe_ratio"] < 1.25).all()
    # nobody else among the county and city hospitals, by either method
    big = {h for h, lv in level.items() if lv != "primary"}
    assert flagged_drg & big <= quality | casemix and flagged_patient & big == quality
    # townships have a handful of expected deaths each: with 146 of them a 99.8% funnel can flag one by chance.
    # Such a flag must be chance in the truth itself -- the model's expectation is the true one and the
    # observed deaths are improbable under the hospital's true risk -- never a misjudged case mix
    g = pd.read_parquet(d / "g.parquet", columns=["case_id", "hospital_id", "leaving_type", "status"])
    t = pd.read_parquet(d / "s" / "truth.parquet", columns=["case_id", "p_death"])
    g = g.assign(p=t["p_death"].to_numpy(), died=g["leaving_type"].astype(str) == "5")
    g = g[g["status"].astype(str) == "分组成功"]
    true = g.groupby("hospital_id", observed=True).agg(true=("p", "sum"), observed=("died", "sum"))
    for h in sorted(flagged_patient - big):
        assert patient.loc[h, "expected"] == pytest.approx(true.loc[h, "true"], rel=0.35), h
        assert stats.poisson.sf(true.loc[h, "observed"] - 1, true.loc[h, "true"]) < 0.02, h
    # and over all townships the model's expected deaths are the truth's
    towns = sorted(set(true.index) - big)
    assert patient.loc[towns, "expected"].sum() == pytest.approx(true.loc[towns, "true"].sum(), rel=0.05)
    # drg evaluate --risk-model reads the same expectations
    via_eval, flagged_eval = _flags(d / "ev_model" / "outcomes.parquet")
    assert flagged_eval == flagged_patient
    assert (via_eval.loc[via_eval["cases"] > 0, "reference"] == "patient_model").all()
    assert os.path.exists(d / "ev_model" / "risk_model.parquet")


@pytest.mark.slow
def test_model_is_discriminating_and_calibrated_on_held_out_folds(region):
    from sklearn.metrics import roc_auc_score

    d, truth = region
    model = pd.read_parquet(d / "risk" / "model.parquet").set_index("outcome")
    cases = pd.read_parquet(d / "risk" / "cases.parquet")
    assert list(cases.columns[:1]) == ["case_id"] and {"expected_death", "expected_los", "expected_cost"} <= set(cases.columns)
    t = pd.read_parquet(d / "s" / "truth.parquet", columns=["case_id", "p_death"])
    g = pd.read_parquet(d / "g.parquet", columns=["case_id", "leaving_type"])
    assert (cases["case_id"].to_numpy() == g["case_id"].to_numpy()).all()
    y = (g["leaving_type"].astype(str) == "5").to_numpy()
    c_true = roc_auc_score(y, t["p_death"].to_numpy())
    # at 400k cases; benchmarks/risk_scale.py checks c >= true - 0.02 on >= 1M cases
    assert model.loc["death", "c_statistic"] >= c_true - 0.03
    assert 0.9 <= model.loc["death", "calibration_slope"] <= 1.1
    assert 0.9 <= model.loc["los", "calibration_slope"] <= 1.1 and 0.9 <= model.loc["cost", "calibration_slope"] <= 1.1
    assert abs(cases["expected_death"].sum() / y.sum() - 1) < 0.01  # calibrated to the region
    cal = pd.read_parquet(d / "risk" / "calibration.parquet")
    death = cal[cal["outcome"] == "death"]
    assert len(death) == 10 and death["expected_sum"].is_monotonic_increasing


@pytest.mark.slow
def test_risk_is_deterministic_and_speaks_chinese_by_default(region, tmp_path):
    d, _ = region
    run = [sys.executable, "-m", "drg.cli", "risk", str(d / "g.parquet"), "--outcomes", "death", "--sample", "20000"]
    dask = ["--dask", "local"] if importlib.util.find_spec("distributed") else []  # an optional extra
    for out, more in (("a", []), ("b", ["--batch-size", "70000"]), ("c", dask)):
        r = subprocess.run(run + more + ["-o", str(tmp_path / out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "cases.parquet" in names and "risk.xlsx" in names
    for name in names:  # locally or on a cluster: the same bytes (the workbook too); any batch size: the same tables
        a, c = ((tmp_path / x / name).read_bytes() for x in "ac")
        assert a == c, name
        if name.endswith(".parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / name), pd.read_parquet(tmp_path / "b" / name))
    cols = pd.read_parquet(tmp_path / "a" / "cases.parquet").columns  # canonical names in every language
    assert "case_id" in cols and "expected_death" in cols
    book = pd.read_excel(tmp_path / "a" / "risk.xlsx", sheet_name=None, nrows=1)  # the workbook speaks Chinese
    assert all(re.search(r"[\u4e00-\u9fff]", str(c)) or c in ("MDC", "CMI") for df in book.values() for c in df.columns)


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (["--outcomes", "death,mood"], "--outcomes"),
    (["--folds", "1"], "--folds"),
])
def test_bad_options_are_one_line(region, tmp_path, args, message):
    d, _ = region
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(d / "g.parquet"), "-o", str(tmp_path / "x")] + args,
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_missing_columns_and_a_foreign_model_are_one_line(tmp_path):
    pd.DataFrame({"case_id": ["a", "b"], "hospital_id": ["h", "h"]}).to_parquet(tmp_path / "g.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "g.parquet"), "-o", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "drg" in r.stderr and r.stderr.count("\n") == 1
    g = pd.DataFrame({"case_id": ["a", "b"], "hospital_id": ["h", "h"], "drg": ["AA19", "AA19"], "leaving_type": ["1", "5"]})
    g.to_parquet(tmp_path / "g2.parquet")
    os.makedirs(tmp_path / "m")
    pd.DataFrame({"case_id": ["zz"], "expected_death": [0.1]}).to_parquet(tmp_path / "m" / "cases.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "evaluate", str(tmp_path / "g2.parquet"), "-o", str(tmp_path / "e"),
                        "--risk-model", str(tmp_path / "m")], capture_output=True, text=True)
    assert r.returncode == 2 and "--risk-model" in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.slow
def test_truth_names_the_planted_patient_risk(region):
    d, truth = region
    assert isinstance(truth["casemix_only"], list) and truth["patient_risk"]["comorbidities"]
    t = pd.read_parquet(d / "s" / "truth.parquet", columns=["p_death"])
    assert t["p_death"].between(0, 1).all()
    json.dumps(truth)


@pytest.mark.slow
def test_a_csv_export_with_text_codes_runs_and_uses_its_comorbidities(region, tmp_path):
    """drg group's CSV output (diagnoses as A|B|C, numbers as text) with the 病案首页 name 入院途径."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    d, _ = region
    t = pq.read_table(d / "g.parquet").slice(0, 30_000)
    t = t.append_column("入院途径", pa.array(np.where(np.arange(t.num_rows) % 3 == 0, "1", "2")))
    from drg.io import for_csv

    pv.write_csv(for_csv(t), tmp_path / "g.csv")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "g.csv"), "-o", str(tmp_path / "r"),
                        "--lang", "en", "--outcomes", "death", "--sample", "30000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cases = pd.read_parquet(tmp_path / "r" / "cases.parquet")
    assert len(cases) == 30_000 and cases["expected_death"].notna().all()
    # the same rows from Parquet give the same expectations: the CSV's text diagnoses were read as lists
    pq.write_table(t, tmp_path / "g.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "g.parquet"), "-o", str(tmp_path / "p"),
                        "--lang", "en", "--outcomes", "death", "--sample", "30000"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "p" / "cases.parquet")["expected_death"], cases["expected_death"],
                               rtol=1e-6)


def test_folds_by_hospital_keep_each_hospital_whole_and_folds_by_case_ignore_batches():
    ids = np.array([f"H{i % 37:03d}" for i in range(5000)], dtype=object)
    f = rk.hospital_folds(ids, 5, 7)
    assert pd.Series(f).groupby(ids).nunique().max() == 1 and len(set(f)) == 5
    rows = np.arange(10_000)
    whole = rk.case_folds(rows, 5, 7)
    assert (np.concatenate([rk.case_folds(rows[:3333], 5, 7), rk.case_folds(rows[3333:], 5, 7)]) == whole).all()
    assert abs(np.bincount(whole) / len(whole) - 0.2).max() < 0.02


@pytest.mark.slow
def test_too_few_events_is_said_not_fitted(region, tmp_path):
    """A model on a handful of deaths is noise (300 cases gave a c-statistic of 0.37 and O/E of 400): below
    the minimum an outcome is reported as not fitted, and with no outcome left the command says why."""
    import pyarrow.parquet as pq

    d, _ = region
    t = pq.read_table(d / "g.parquet")
    pq.write_table(t.slice(0, 300), tmp_path / "tiny.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "tiny.parquet"), "-o", str(tmp_path / "a")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "病例太少，无法拟合风险模型" in r.stderr and r.stderr.count("\n") == 1
    assert not os.path.exists(tmp_path / "a")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "tiny.parquet"), "-o", str(tmp_path / "a"),
                        "--lang", "en"], capture_output=True, text=True)
    assert r.returncode == 2 and "too few cases" in r.stderr and r.stderr.count("\n") == 1
    small = t.slice(0, 12_000)
    lt = small.column("leaving_type").to_pandas().astype(str)
    lt[(lt == "5") & (np.arange(len(lt)) % 10 != 0)] = "1"  # a tenth of the deaths: ~26, too few for a death model
    small = small.set_column(small.column_names.index("leaving_type"), "leaving_type", pa.array(lt.to_numpy(), pa.string()))
    pq.write_table(small, tmp_path / "small.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "risk", str(tmp_path / "small.parquet"), "-o", str(tmp_path / "b"),
                        "--lang", "en"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "no death model" in r.stdout
    model = pd.read_parquet(tmp_path / "b" / "model.parquet").set_index("outcome")
    assert model.loc["death", "status"] == "too_few_events" and (model.loc[["los", "cost"], "status"] == "ok").all()
    cases = pd.read_parquet(tmp_path / "b" / "cases.parquet")
    assert cases["expected_death"].isna().all() and cases["expected_los"].notna().all()
    assert "funnel_flag" not in pd.read_parquet(tmp_path / "b" / "hospital.parquet").columns


@pytest.mark.slow
def test_without_adrg_the_drg_prefix_stands_for_it_and_notes_speak_chinese(region, tmp_path):
    """A file without the adrg column (it was an IndexError deep in the encoder) gives the same expected values as
    one with it (the synthetic ADRG is the DRG code's first three characters); the model table's note on an
    outcome without enough cases is in the output's language."""
    import pyarrow.parquet as pq

    d, _ = region
    t = pq.read_table(d / "g.parquet").slice(0, 30_000)
    pq.write_table(t, tmp_path / "with.parquet")
    pq.write_table(t.drop(["adrg"]), tmp_path / "without.parquet")
    run = [sys.executable, "-m", "drg.cli", "risk", "--sample", "9000"]  # LOS and cost models need 10,000: notes
    for name in ("with", "without"):
        r = subprocess.run(run + [str(tmp_path / f"{name}.parquet"), "-o", str(tmp_path / name)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    a, b = (pd.read_parquet(tmp_path / x / "cases.parquet") for x in ("with", "without"))
    pd.testing.assert_frame_equal(a, b)
    model = pd.read_parquet(tmp_path / "without" / "model.parquet")
    notes = " ".join(str(v) for v in model.to_numpy().ravel())
    assert "有效病例" in notes and "valid cases" not in notes


@pytest.mark.parametrize("values,expected", [
    (["2019", "", "垃圾", None, "2020.0", "2020.5"], [2019, None, None, None, 2020, 2020]),
    ([2019.0, float("nan"), 2021.0], [2019, None, 2021]),
    ([2018, None, 2019], [2018, None, 2019]),
])
def test_a_year_cell_that_is_not_a_whole_number_is_null_not_a_failed_batch(values, expected):
    """risk's per-case table takes each year as every analysis reads it (evaluation.coded.years: a fractional year is
    its whole part, text that is no number is null; a cast of the column failed the whole command on one empty
    cell)."""
    from drg.risk import _year

    assert _year(pa.table({"year": values})).to_pylist() == expected


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 400), size=st.integers(4, 300), batch=st.integers(1, 500), seed=st.integers(0, 3))
def test_fitting_sample_is_the_smallest_draws_of_each_stratum_at_any_batch_size(n, size, batch, seed):
    """Passes 1 and 2 of drg risk keep, per stratum (deaths, everyone else), the included cases with the smallest fixed
    draws -- written out: sort each stratum's draws and take the first k -- and weight them back to the population."""
    from drg.risk import DEATH_SHARE, _Pass, code_lookup, fitting_sample
    from evaluation.analysis import run_on_table
    from evaluation.risk import Encoder, uniform

    rng = np.random.default_rng(seed)
    t = pa.table({"case_id": [f"c{i}" for i in range(n)], "hospital_id": rng.choice(["H1", "H2", ""], n).tolist(),
                  "drg": rng.choice(["AB11", "BR23", "0000"], n).tolist(), "leaving_type": rng.choice(["1", "5"], n).tolist(),
                  "los_days": rng.integers(1, 20, n), "total_cost": rng.uniform(100, 9000, n),
                  "dx": [["I21.000"]] * n})
    analysis = fitting_sample("g", t.column_names, _Pass(5, False, seed, code_lookup(None)), Encoder(5), size)
    inc = np.array([h != "" and d != "0000" for h, d in zip(t["hospital_id"].to_pylist(), t["drg"].to_pylist())])
    if not inc.any():  # nothing to fit on: said, not an empty model
        from drg.io import InputError

        with pytest.raises(InputError, match="no records to fit"):
            run_on_table(analysis, t, batch_size=batch)
        event("no included case")
        assume(False)
    sample, rows = run_on_table(analysis, t, batch_size=batch)
    assert rows == n
    stratum = (np.array(t["leaving_type"].to_pylist()) == "5").astype(int)
    u = uniform(np.arange(n, dtype=np.int64), seed + 1)
    want = []
    for s, k in ((1, int(size * DEATH_SHARE)), (0, size - int(size * DEATH_SHARE))):
        rows_s = np.flatnonzero(inc & (stratum == s))
        want += rows_s[np.argsort(u[rows_s], kind="stable")][:k].tolist()
    assert sorted(sample["row"].tolist()) == sorted(want)
    assert sample["row"].tolist() == sorted(sample["row"].tolist())  # input order
    counts = np.bincount(stratum[inc], minlength=2)
    w = (counts / np.maximum(np.bincount(sample["stratum"], minlength=2), 1))[sample["stratum"]]
    assert np.allclose(sample["weight"], w / w.mean())
