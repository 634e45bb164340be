"""drg audit: the pairing kernel against a naive reference, the statistics on known inputs, and the planted
coding games of the synthetic region found -- and nothing else reported."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive
from conftest import SCHEMES, need_shared
from evaluation.audit import count_tail_z, peer_test
from evaluation.audit.measures import patient_pairs, stratum_rate
from drg.synth.gaming import gaming_hospitals
from evaluation.words import FINDING_TEXT

stay = st.fixed_dictionaries({
    "patient": st.one_of(st.none(), st.integers(1, 4)), "admit": st.one_of(st.none(), st.integers(0, 60)),
    "los": st.integers(0, 8), "hospital": st.integers(0, 1), "mdc": st.one_of(st.none(), st.integers(0, 2)),
    "ended": st.booleans()})


@settings(max_examples=300, deadline=None)
@given(st.lists(stay, min_size=0, max_size=40))
def test_patient_pairs_match_the_naive_reference(raw):
    stays = [dict(s, discharge=None if s["admit"] is None else s["admit"] + s["los"]) for s in raw]
    want_readmit, want_split = naive.patient_pairs(stays)
    n = len(stays)
    known = np.array([s["patient"] is not None and s["admit"] is not None for s in stays], bool)
    readmit, split_first = patient_pairs(
        np.array([s["patient"] if k else 0 for s, k in zip(stays, known)], np.uint64),
        np.array([s["admit"] if s["admit"] is not None else -1 for s in stays], np.int64),
        np.array([s["discharge"] if s["discharge"] is not None else -1 for s in stays], np.int64),
        np.array([s["hospital"] for s in stays], np.int64),
        np.array([s["mdc"] if s["mdc"] is not None else -1 for s in stays], np.int64),
        np.array([s["ended"] for s in stays], bool))
    assert set(np.flatnonzero(readmit[0])) == want_readmit[15]
    assert set(np.flatnonzero(readmit[1])) == want_readmit[30]
    assert {int(j): int(split_first[j]) for j in np.flatnonzero(split_first >= 0)} == want_split
    assert readmit.shape == (2, n)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 1), st.integers(2018, 2020)), min_size=1, max_size=60))
def test_stratum_rate_is_the_group_mean(rows):
    num = np.array([r[1] for r in rows], float)
    den = np.array([r[0] for r in rows], bool)
    stratum = np.array([r[2] for r in rows])
    year = np.array([r[3] for r in rows])
    got = stratum_rate(num, den, stratum, year)
    df = pd.DataFrame({"num": num, "den": den, "s": stratum, "y": year})
    mean = df[df["den"]].groupby(["s", "y"])["num"].mean()
    for i, r in df.iterrows():
        if r["den"]:
            assert got[i] == pytest.approx(mean[(r["s"], r["y"])], rel=1e-12)
        else:
            assert np.isnan(got[i])


def test_count_tail_matches_poisson_for_large_counts_and_is_one_sided():
    from scipy import stats

    # a Poisson count's gamma approximation: close to the exact tail where the normal limit holds
    for mean in (200.0, 1000.0):
        o = mean + 3.09 * np.sqrt(mean)
        exact = stats.norm.isf(stats.poisson.sf(np.ceil(o) - 1, mean))
        assert count_tail_z(np.ceil(o), mean, mean, low=False) == pytest.approx(exact, abs=0.1)
    # direction: a high count is far out on the high side and unremarkable on the low side
    assert count_tail_z(60, 20, 20, low=False) > 5 and count_tail_z(60, 20, 20, low=True) > 0
    assert count_tail_z(2, 20, 20, low=True) < -3 and count_tail_z(2, 20, 20, low=False) < 0


def test_peer_test_is_robust_to_a_few_outliers():
    rng = np.random.default_rng(3)
    y = rng.normal(1.0, 0.05, 40)
    y[:3] = [3.0, 3.5, 4.0]  # three gaming units among 40
    s2 = np.full(40, 0.05 ** 2)
    z, centre, tau2, _ = peer_test(y, s2, np.zeros(40), np.ones(40, bool), neutral=1.0)
    assert abs(centre[0] - 1.0) < 0.05 and tau2[0] < 0.01  # the outliers move neither much
    assert (z[:3] > 10).all()
    # the ordinary units score about as they would against the true centre (1) without between-unit variance
    assert np.abs(z[3:] - (y[3:] - 1.0) / 0.05).max() < 0.6


# -- the planted world ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    need_shared()
    import grouper
    from drg.audit import audit_to
    from drg.synth import synthesize

    scheme = grouper.load_scheme(SCHEMES / "chs-drg-1.1")
    out = tmp_path_factory.mktemp("audit")
    truth = synthesize(scheme, str(out / "synth"), cases=400_000, seed=19, quiet=True)
    grouped = grouper.group(pq.read_table(out / "synth" / "discharges.parquet"), scheme)
    pq.write_table(grouped, out / "grouped.parquet")
    tables = audit_to(str(out / "grouped.parquet"), str(out / "audit"), scheme_path=str(SCHEMES / "chs-drg-1.1"), lang="en")
    cases = pq.read_table(out / "synth" / "truth.parquet").to_pandas()
    return out, truth, tables, cases


@pytest.mark.slow
def test_synth_plants_the_coding_games(audited):
    out, truth, tables, cases = audited
    h = pd.DataFrame(truth["hospitals"])
    assert h["upcoding_from"].notna().sum() == 2 and h["splits_admissions"].sum() == 2 and h["low_value_admissions"].sum() == 1
    assert h["readmits"].sum() == 1 and h["sloppy_coding"].sum() == 1 and h["short_stays"].sum() == 1
    assert h["principal_by_payment"].sum() == 1
    games = h[gaming_hospitals(h)]
    assert len(games) == 9
    assert not (games[["quality_outlier", "casemix_only", "efficiency_outlier", "supported"]].any(axis=1)).any()
    disc = pq.read_table(out / "synth" / "discharges.parquet", columns=["case_id", "hospital_id", "patient_id", "year",
                                                                         "admit_date", "discharge_date", "dx"]).to_pandas()
    df = disc.merge(cases, on="case_id")
    up = df[df["upcoded"]]
    onset = dict(zip(h["hospital_id"], h["upcoding_from"]))
    assert len(up) > 100 and all(y >= onset[x] for x, y in zip(up["hospital_id"], up["year"]))
    split = df[df["split_of"].notna()]
    first = df.set_index("case_id").loc[split["split_of"]]
    assert (first["patient_id"].to_numpy() == split["patient_id"].to_numpy()).all()
    gap = (split["admit_date"].to_numpy() - first["discharge_date"].to_numpy()).astype("timedelta64[D]").astype(int)
    assert ((gap >= 0) & (gap <= 2)).all()
    assert df["patient_id"].nunique() < len(df)  # natural repeat admissions exist too
    # the readmitter's patients come back 3-14 days after a routine discharge; the sloppy coder's codes fail more
    again = df[df["hospital_id"].isin(h.loc[h["readmits"], "hospital_id"])].sort_values(["patient_id", "admit_date"])
    admit, discharge = pd.to_datetime(again["admit_date"]), pd.to_datetime(again["discharge_date"])
    gap = (admit - discharge.groupby(again["patient_id"]).shift()).dt.days
    assert truth["gaming"]["readmissions"] > 100 and gap.between(3, 14).sum() >= 0.95 * truth["gaming"]["readmissions"]
    swapped = df[df["principal_swapped"]]  # the payment-minded coder's principal diagnoses: a costlier secondary first
    assert len(swapped) > 100 and set(swapped["hospital_id"]) == set(h.loc[h["principal_by_payment"], "hospital_id"])
    rate = df.groupby("hospital_id")["coding_error"].mean()
    sloppy = h.loc[h["sloppy_coding"], "hospital_id"]
    assert (rate[sloppy] > 0.04).all() and rate.drop(sloppy).max() < 0.03


@pytest.mark.slow
def test_upcoders_flagged_from_their_onset_and_nobody_else(audited):
    out, truth, tables, cases = audited
    f = tables["hospital_flags"]
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    mcc = f[f["target_area"] == "mcc_cc_capture"].set_index(["hospital_id", "year"])["flag"]
    want = [(hid, y) for hid, start in h["upcoding_from"].dropna().items() for y in truth["years"] if y >= start]
    recall = np.mean([bool(mcc.get(k, False)) for k in want])
    assert recall >= 0.9, recall
    before = [(hid, y) for hid, start in h["upcoding_from"].dropna().items() for y in truth["years"] if y < start]
    assert not any(mcc.get(k, False) for k in before)  # not before the onset
    flagged = set(mcc.index[mcc.to_numpy()].get_level_values(0))
    assert flagged <= set(h.index[h["upcoding_from"].notna()])  # no MCC/CC flag where nobody upcodes


@pytest.mark.slow
def test_unplanted_hospital_years_are_rarely_flagged(audited):
    out, truth, tables, cases = audited
    f = tables["hospital_flags"]
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    gaming = set(h.index[gaming_hospitals(h)])
    hy = f.groupby(["hospital_id", "year"])["flag"].any()
    plain = hy[~hy.index.get_level_values(0).isin(gaming)]
    assert plain.mean() <= 0.05, plain[plain]
    # the game-specific areas name only the hospitals that play them (a split's second stay, 0-2 days after the
    # first, is a readmission too: a splitter may be named among the readmitters, nobody else). Principal choice:
    # at most one other hospital-year -- the coder's four years are so far out that Benjamini-Hochberg's step-up lets
    # a z of -3.2 through (in this world DZ001 2021, z -3.0 and q 0.14 without the plant): an FDR of 5% allows a
    # false discovery among five, and the test says how many it tolerates rather than hiding it
    for area, who, also, others in (("split_admissions", "splits_admissions", None, 0),
                                    ("one_day_low_weight_medical", "low_value_admissions", None, 0),
                                    ("readmission_15", "readmits", "splits_admissions", 0),
                                    ("readmission_30", "readmits", "splits_admissions", 0),
                                    ("ungroupable", "sloppy_coding", None, 0), ("short_stay_high_weight", "short_stays", None, 0),
                                    ("principal_choice", "principal_by_payment", None, 1)):
        flagged = f[(f["target_area"] == area) & f["flag"]]
        allowed = set(h.index[h[who] | (h[also] if also else False)])
        assert len(flagged) and (~flagged["hospital_id"].isin(allowed)).sum() <= others, (area, set(flagged["hospital_id"]))
        for hid in h.index[h[who]]:
            assert f.loc[(f["target_area"] == area) & (f["hospital_id"] == hid), "flag"].all(), (area, hid)


@pytest.mark.slow
def test_split_pairs_found(audited):
    out, truth, tables, cases = audited
    planted = set(zip(cases.loc[cases["split_of"].notna(), "case_id"], cases.loc[cases["split_of"].notna(), "split_of"]))
    s = tables["split_admissions"]
    found = set(zip(s["case_id"], s["first_case_id"]))
    hit = len(planted & found)
    assert hit / len(planted) >= 0.95 and hit / len(found) >= 0.9
    # natural readmissions in the same hospital and MDC within 2 days exist but score 0 outside splitters
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    other = s[~s["hospital_id"].isin(h.index[h["splits_admissions"]])]
    assert (other["probability"] == 0).all()


@pytest.mark.slow
def test_review_list_puts_upcoded_cases_first(audited):
    out, truth, tables, cases = audited
    r = tables["review_cases"]
    assert list(r.columns[:3]) == ["case_id", "score", "probability"] and r["reason"].str.len().gt(10).all()
    assert (np.diff(r["score"].to_numpy()) <= 0).all()
    top = r.head(max(1, len(r) // 100)).merge(cases[["case_id", "upcoded"]], on="case_id")
    base = cases["upcoded"].mean()
    assert top["upcoded"].mean() >= 5 * base
    # no case of a hospital that plays no game is on the list
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    gaming = set(h.index[gaming_hospitals(h)])
    assert set(r["hospital_id"]) <= gaming


@pytest.mark.slow
def test_audit_is_deterministic_and_chinese_by_default(audited, tmp_path):
    from drg.audit import audit_to

    out, truth, tables, cases = audited
    sub = pq.read_table(out / "grouped.parquet").slice(0, 60_000)
    pq.write_table(sub, tmp_path / "g.parquet")
    digests = []
    dask = ["local"] if importlib.util.find_spec("distributed") else []  # an optional extra
    for k, where in enumerate([None, None, *dask]):  # any batch size, locally or on a cluster: the same bytes
        audit_to(str(tmp_path / "g.parquet"), str(tmp_path / f"a{k}"), scheme_path=str(SCHEMES / "chs-drg-1.1"),
                 batch_size=7_000 + (k % 2) * 13_000, dask=where)
        digests.append({n: hashlib.sha256((tmp_path / f"a{k}" / n).read_bytes()).hexdigest()
                        for n in ("hospital_flags.parquet", "review_cases.parquet", "split_admissions.parquet",
                                  "target_areas.parquet", "audit.xlsx")})
    assert all(d == digests[0] for d in digests[1:]) and len(digests) == 2 + len(dask)
    f = pq.read_table(tmp_path / "a0" / "hospital_flags.parquet").to_pandas()  # for machines: canonical
    assert {"hospital_id", "year", "target_area", "flag"} <= set(f.columns) and "mcc_cc_capture" in set(f["target_area"])
    book = pd.read_excel(tmp_path / "a0" / "audit.xlsx", sheet_name="目标领域预警")  # for people: Chinese by default
    assert {"医院编码", "年度", "目标领域", "是否标记"} <= set(book.columns)
    assert "MCC/CC编码率" in set(book["目标领域"]) and not set(book["医院级别"]) & {"tertiary", "secondary", "primary"}
    assert set(book["是否标记"]) <= {"是", "否"} and set(book["结论"]) <= set(FINDING_TEXT["zh"].values())


@pytest.mark.slow
def test_chinese_headers_csv_and_no_patient_id(audited, tmp_path):
    """A CSV export with 病案首页 names (患者ID, 入院日期, 出院日期, diagnoses as A|B) is read; without a patient
    identifier the patient areas are reported as not computed, not silently empty."""
    from drg.audit import audit_to

    out, truth, tables, cases = audited
    t = pq.read_table(out / "grouped.parquet").slice(0, 40_000).to_pandas()
    t["dx"] = t["dx"].map(lambda x: "|".join(x))
    t["px"] = t["px"].map(lambda x: "|".join(x))
    t = t.rename(columns={"patient_id": "患者ID", "admit_date": "入院日期", "discharge_date": "出院日期"})
    t[["case_id", "hospital_id", "患者ID", "year", "入院日期", "出院日期", "status", "drg", "adrg", "mdc", "dx", "px", "age_years",
       "sex", "los_days", "leaving_type", "total_cost"]].to_csv(tmp_path / "g.csv", index=False)
    got = audit_to(str(tmp_path / "g.csv"), str(tmp_path / "a"), scheme_path=str(SCHEMES / "chs-drg-1.1"), lang="en")
    assert got["patient_known"] and len(got["split_admissions"]) > 0
    t.drop(columns=["患者ID"]).to_csv(tmp_path / "n.csv", index=False)
    none = audit_to(str(tmp_path / "n.csv"), str(tmp_path / "c"), scheme_path=str(SCHEMES / "chs-drg-1.1"), lang="en")
    assert not none["patient_known"] and len(none["split_admissions"]) == 0
    assert not set(none["hospital_flags"]["target_area"]) & {"readmission_15", "readmission_30", "split_admissions"}
    status = none["target_areas"].set_index("target_area")["status"]
    assert status["split_admissions"] == "not_computed" and status["mcc_cc_capture"] == "ok"


def test_cli_audit_errors_in_one_line(tmp_path):
    pq.write_table(pa.table({"case_id": ["a"], "drg": ["AA11"]}), tmp_path / "x.parquet")
    r = subprocess.run([sys.executable, "-m", "drg.cli", "audit", str(tmp_path / "x.parquet"), "-o", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and r.stderr.startswith("drg: error: ")
    assert "hospital_id" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_audit_runs_on_the_least_a_grouped_file_holds(tmp_path):
    """hospital_id and drg only (no ADRG, MDC, diagnoses, dates, ids): the areas that can be computed are, the
    others are reported as not computed; unreadable dates are unknown, not an error."""
    from drg.audit import audit_to

    pq.write_table(pa.table({"hospital_id": ["H1", "H2", "H1", None], "drg": ["ES23", "0000", None, "ES25"]}), tmp_path / "m.parquet")
    got = audit_to(str(tmp_path / "m.parquet"), str(tmp_path / "a"), lang="en")
    f = got["hospital_flags"]
    assert not got["patient_known"] and not f["flag"].any()
    assert f.loc[f["target_area"] == "ungroupable", "numerator"].sum() == 2  # 0000 and the missing DRG
    pq.write_table(pa.table({"hospital_id": ["H1"] * 3, "drg": ["ES23"] * 3, "patient_id": ["p", "p", "p"],
                             "admit_date": ["20210101", "2021-01-05", "not a date"],
                             "discharge_date": ["20210104", "2021/01/08", None]}), tmp_path / "d.parquet")
    got = audit_to(str(tmp_path / "d.parquet"), str(tmp_path / "b"), lang="en")
    s = got["split_admissions"]
    assert len(s) == 1 and s["gap_days"].tolist() == [1]  # 2021-01-04 -> 2021-01-05; the third stay has no dates
