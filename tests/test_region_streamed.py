"""Support (对口支援) and tiered care (分级诊疗) streamed batch by batch (drg/streamed.py, evaluation/tiered_care/batches.py,
evaluation/tiered_care/linking.py): the same tables as the per-case reference, in any batches, in partitions, and on a
Dask cluster byte for byte."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from test_cells import random_cases


def support_region(seed: int):
    """Townships (some supported from 2019 or 2020, others never) with costs, so that baseline weights are computed."""
    rng = np.random.default_rng(seed)
    hosp, pairs, rows = [], [], []
    for k in range(12):
        hid = f"T{k:02d}"
        hosp.append((hid, "primary", "township", "C1"))
        start = [2019, 2020, None][k % 3]
        if start:
            pairs.append(("S001", hid, "tertiary_pairing" if k % 2 else "county_pairing", start, "外科", "骨科"))
        for year in (2017, 2018, 2019, 2020, 2021):
            n = int(rng.integers(30, 80))
            drg = rng.choice(["GA19", "GB19", "GR19", "IB29", "ES31"], n)
            cost = rng.lognormal(8, 0.5, n) * np.where(drg == "GA19", 3.0, 1.0)
            rows += [(hid, year, d, c, "分组成功" if rng.random() > 0.03 else "无法入组") for d, c in zip(drg, cost)]
    df = pd.DataFrame(rows, columns=["hospital_id", "year", "drg", "total_cost", "status"])
    df.loc[rng.random(len(df)) < 0.02, "total_cost"] = np.nan
    hospitals = pd.DataFrame(hosp, columns=["hospital_id", "level", "kind", "county"])
    plan = pd.DataFrame(pairs, columns=["supporter_id", "recipient_id", "program", "start_year", "specialty_1", "specialty_2"])
    return df, hospitals, plan


GRADES = {"36.0601": 4, "81.5101": 3, "47.0901": 2, "86.2201": 1}  # a procedure grade table (手术分级目录)


def _with_procedures(df: pd.DataFrame, rng) -> pd.DataFrame:
    """Each case's procedures: none, or one to three codes of the grade table or outside it, principal first."""
    pool = [*GRADES, "99.0401", "88.3801"]
    k = rng.integers(0, 4, len(df))
    return df.assign(px=[list(rng.choice(pool, n)) if n else [] for n in k])


@pytest.mark.parametrize("seed,control_group,grades", [(1, "never", False), (2, "not_yet", False), (3, "never", True)])
def test_streamed_support_equals_the_per_case_support(tmp_path, seed, control_group, grades):
    """The streamed support tables equal the per-case reference (evaluation.support.evaluate_support), with the
    DRG-partition proxy for level-2+ surgery and with a procedure grade table (the principal procedure's grade)."""
    from drg.streamed import support_streamed
    from evaluation.common import attach_levels, prepare
    from evaluation.support import evaluate_support

    df, hospitals, plan = support_region(seed)
    if grades:
        df = _with_procedures(df, np.random.default_rng(seed))
    src, hosp = tmp_path / "g.parquet", tmp_path / "h.csv"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=700)
    hospitals.to_csv(hosp, index=False)
    cases = attach_levels(prepare(df), hospitals)
    principal = (df["px"].map(lambda v: v[0] if len(v) else None).map(GRADES).astype(float) if grades else None)
    traj, did, summary, event = evaluate_support(cases, hospitals, plan, None, start=2019, control_group=control_group,
                                                 principal_grade=principal)
    ref = {"support": traj, "support_did": did, "support_event": event, "support_summary": summary}
    got = support_streamed(str(src), str(hosp), plan, 2019, control_group, None, batch_size=700,
                           grades=GRADES if grades else None)
    assert (ref["support_did"]["status"] == "ok").any()  # the comparison has numbers to compare
    with pytest.MonkeyPatch.context() as mp:  # each year's costs spilled to disk (every store of a run, on any thread)
        mp.setenv("DRG_SPILL_BYTES", "1")
        spilled = support_streamed(str(src), str(hosp), plan, 2019, control_group, None, batch_size=700,
                                   grades=GRADES if grades else None)
    for name in got:
        pd.testing.assert_frame_equal(got[name], spilled[name], check_exact=True)
    if grades:  # the grade table made a difference: some surgical DRG's principal procedure is of grade 1 or none
        proxy = support_streamed(str(src), str(hosp), plan, 2019, control_group, None, batch_size=700)
        assert (got["support"]["grade_source"] == "table").all()
        assert (got["support"]["level2_surgery"] != proxy["support"]["level2_surgery"]).any()
    for name in ref:
        x, y = ref[name].reset_index(drop=True), got[name].reset_index(drop=True)
        assert list(x.columns) == list(y.columns) and len(x) == len(y), name
        for c in x.columns:
            if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]):
                np.testing.assert_allclose(y[c].astype(float), x[c].astype(float), rtol=1e-12, atol=1e-12, err_msg=f"{name}.{c}")
            else:
                assert x[c].astype(str).tolist() == y[c].astype(str).tolist(), f"{name}.{c}"


def tiered_region(seed: int, receiving: bool = True):
    """Cases of three counties' hospitals (and one outside the region) with residences, transfers, receivers
    given as codes, names or not at all, and cost parts some of which are missing."""
    rng = np.random.default_rng(seed)
    hospitals = pd.DataFrame({"hospital_id": ["A1", "A2", "B1", "B2", "C1"], "name": ["甲医院", "乙医院", "丙医院", "丁医院", "戊医院"],
                              "level": ["tertiary", "primary", "secondary", "primary", "三级"],
                              "kind": ["general"] * 5, "county": ["CA", "CA", "CB", "CB", "CC"]})
    n = 4000
    df = random_cases(rng, n)
    df["hospital_id"] = rng.choice(["A1", "A2", "B1", "B2", "C1", "X9", None], n, p=[.3, .15, .2, .1, .15, .05, .05])
    df["residence_county"] = rng.choice(["CA", "CB", "CC", "ZZ", None], n, p=[.3, .3, .2, .1, .1])
    df["leaving_type"] = rng.choice(["1", "2", "3", "5", None], n, p=[.75, .1, .05, .07, .03])
    for c in ("drug_cost", "consumables_cost", "exam_cost"):
        df[c] = df["total_cost"] * rng.uniform(0.05, 0.3, n)
        df.loc[rng.random(n) < 0.03, c] = np.nan
    if receiving:
        df["receiving_institution"] = rng.choice(["A1", "B2", "丙医院", "  C1 ", "某外院", None], n)
    return df, hospitals


def _with_patients(df: pd.DataFrame, rng) -> pd.DataFrame:
    """Patients with several stays in a year (some blank), admission and discharge dates (some unreadable): transfers
    that the same patient's next admission elsewhere links, and some it does not."""
    n = len(df)
    admit = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    patient = pd.Series([f"P{i}" for i in rng.integers(0, n // 6, n)], dtype=object)
    patient[rng.random(n) < 0.03] = None
    discharge = pd.Series(admit + pd.to_timedelta(rng.integers(0, 12, n), unit="D"), dtype=object)
    discharge[rng.random(n) < 0.02] = None
    return df.assign(patient_id=patient.to_numpy(), admit_date=admit, discharge_date=pd.to_datetime(discharge))


@pytest.mark.parametrize("receiving,basic,linked,partition_rows", [(True, None, False, None), (False, ["GB25"], False, None),
                                                                     (False, None, True, None), (False, None, True, 700)])
def test_streamed_tiered_care_equals_the_per_case_tables(tmp_path, monkeypatch, receiving, basic, linked, partition_rows):
    """The streamed tiered-care tables equal the per-case reference: receivers named, not named, and found by
    patient and dates (two passes: the transfers, then the stays of their patients, on disk in one partition by
    patient or, at 700 input rows a partition, in six)."""
    from drg.streamed import region_frame, tiered_streamed
    from evaluation.tiered_care import county_rates, hospital_referrals_and_revenue, region_indicators
    from evaluation.tiered_care import linking

    if partition_rows:
        monkeypatch.setattr(linking, "PARTITION_ROWS", partition_rows)

    df, hospitals = tiered_region(5, receiving)
    if linked:
        df = _with_patients(df, np.random.default_rng(5))
    src, hosp = tmp_path / "g.parquet", tmp_path / "h.csv"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=500)
    hospitals.to_csv(hosp, index=False)
    cases = region_frame(df, hospitals)
    ref = {"county": county_rates(cases, hospitals), "region": region_indicators(cases, hospitals, None, None, basic),
           "hospital": hospital_referrals_and_revenue(cases, df, hospitals)}
    got = tiered_streamed(str(src), None, str(hosp), None, basic, batch_size=600, link=linked)
    assert ref["hospital"]["transfer_down"].sum() > 0 or not (receiving or linked)
    if linked:  # linked and unlinked transfers both occur, across batches
        assert (ref["hospital"]["transfer_match"] == "patient_id+dates").all()
        assert ref["hospital"]["transfer_up"].sum() > 0 and ref["hospital"]["transfer_unknown_level"].sum() > 0
    for name in ref:
        x, y = ref[name].reset_index(drop=True), got[name].reset_index(drop=True)
        assert list(x.columns) == list(y.columns) and len(x) == len(y), name
        for c in x.columns:
            if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]):
                np.testing.assert_allclose(y[c].astype(float), x[c].astype(float), rtol=1e-12, err_msg=f"{name}.{c}")
            else:
                assert x[c].astype(str).tolist() == y[c].astype(str).tolist(), f"{name}.{c}"


def test_cli_support_and_tiered_care_on_a_dask_local_cluster_write_the_same_bytes(tmp_path):
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[dask]'")
    from drg.cli import main

    df, hospitals, plan = support_region(3)
    tiered, _ = tiered_region(3)
    df = pd.concat([df, tiered.assign(year=2020, hospital_id="T01").drop(columns=["discharge_date"])], ignore_index=True)
    df = _with_procedures(df, np.random.default_rng(3))
    src, hosp, pairs, grades = tmp_path / "g.parquet", tmp_path / "h.csv", tmp_path / "pairs.csv", tmp_path / "grades.csv"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=1500)
    hospitals.to_csv(hosp, index=False)
    plan.to_csv(pairs, index=False)
    pd.DataFrame({"code": list(GRADES), "grade": list(GRADES.values())}).to_csv(grades, index=False)
    for command, extra in (("support", ["--pairs", str(pairs)]), ("tiered-care", []),
                           ("support", ["--pairs", str(pairs), "--procedure-grades", str(grades)])):
        for where, more in (("local", []), ("dask", ["--dask", "local"])):
            assert main([command, str(src), "--hospitals", str(hosp), *extra, *more, "-o", str(tmp_path / f"{command}-{where}")]) == 0
        names = sorted(p.name for p in (tmp_path / f"{command}-local").glob("*.parquet"))
        assert len(names) >= 3
        for name in names:
            assert (tmp_path / f"{command}-local" / name).read_bytes() == (tmp_path / f"{command}-dask" / name).read_bytes(), name


def test_tiered_care_linking_transfers_on_a_dask_local_cluster_writes_the_same_bytes(tmp_path):
    """Tiered care linking transfers by patient and dates (no receiving institution) streams in two passes: locally,
    in other batch sizes and on a Dask cluster the same tables (no command reads the cases into memory any more)."""
    pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[dask]'")
    from drg.cli import main

    df, hospitals = tiered_region(4, receiving=False)
    df = _with_patients(df, np.random.default_rng(4))
    src = tmp_path / "grouped.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=900)
    hospitals.to_csv(tmp_path / "h.csv", index=False)
    runs = {"local": [], "small": ["--batch-size", "700"], "dask": ["--dask", "local"]}
    for name, more in runs.items():
        assert main(["tiered-care", str(src), "--hospitals", str(tmp_path / "h.csv"), *more, "-o", str(tmp_path / name)]) == 0
    hosp = pd.read_parquet(tmp_path / "local" / "hospital.parquet")
    assert (hosp["transfer_match"] == "patient_id+dates").all() and hosp["transfer_down"].sum() > 0
    for name in sorted(p.name for p in (tmp_path / "local").glob("*.parquet")):
        a = (tmp_path / "local" / name).read_bytes()
        assert a == (tmp_path / "dask" / name).read_bytes() == (tmp_path / "small" / name).read_bytes(), name


@pytest.mark.parametrize("seed", [1, 2])
def test_tiered_batch_counts_on_codes_equal_the_per_case_counts(seed):
    """One batch with missing years, DRGs, hospitals and leaving types: the coded counts are the per-case ones."""
    from drg.streamed import region_frame
    from evaluation.tiered_care.batches import batch_counts
    from evaluation.tiered_care import county_counts, referral_sums, region_counts

    df, hospitals = tiered_region(seed, receiving=seed == 1)
    rng = np.random.default_rng(seed)
    df["year"] = np.where(rng.random(len(df)) < 0.05, np.nan, df["year"])
    df["drg"] = df["drg"].where(rng.random(len(df)) > 0.05, None)
    t = pa.Table.from_pandas(df, preserve_index=False)
    data = t.to_pandas()
    cases = region_frame(data, hospitals)
    county, region, sums, how = batch_counts(t, hospitals)
    ref_sums, ref_how = referral_sums(cases, data, hospitals)
    assert how == ref_how
    for got, ref, keys in ((county, county_counts(cases, hospitals), ["county", "year", "hospital_county"]),
                           (region, region_counts(cases, hospitals), ["year", "level", "drg", "included"]),
                           (sums.reset_index(), ref_sums.reset_index(), ["hospital_id", "year"])):
        got = got.sort_values(keys, na_position="first").reset_index(drop=True)
        ref = ref.sort_values(keys, na_position="first").reset_index(drop=True)
        assert list(got.columns) == list(ref.columns)
        for c in ref.columns:
            if pd.api.types.is_float_dtype(ref[c]) and c not in keys:
                np.testing.assert_allclose(got[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-12, err_msg=c)
            else:
                assert [None if pd.isna(v) else str(v) for v in got[c]] == [None if pd.isna(v) else str(v) for v in ref[c]], c


def test_patient_bits_never_miss_a_transferred_patient():
    """The linking's bitmap (evaluation.tiered_care.linking.PatientBits) says yes to every patient added; of others
    it lets through about the share of bits set."""
    from evaluation.tiered_care.linking import PatientBits, patient_hashes

    rng = np.random.default_rng(8)
    bits = PatientBits(1 << 16)
    added = patient_hashes([f"P{i}" for i in rng.integers(0, 10**9, 3000)])
    others = patient_hashes([f"Q{i}" for i in range(20000)])
    bits.add(added)
    assert bits.has(added).all()
    share = np.unpackbits(bits.bits).mean()
    assert 0.03 < share < 0.05 and abs(bits.has(others).mean() - share) < 0.01
    assert (patient_hashes(["P1", "P1", None]) == patient_hashes(np.array(["P1", "P1", None], dtype=object))).all()
