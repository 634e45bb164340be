"""The streamed audit (evaluation/audit/streamed.py: one pass, then sweeps over the coded cases on disk in blocks of a
fixed size) finds what the in-memory audit (evaluation/audit/findings.py: every case's arrays at once, the reference)
finds: the same flags, review list and split pairs, numbers to rounding (sums taken in another order), on a world
`drg synth` did not make, with and without its games, with and without patients, in blocks and batches of any size
(issue 35: memory follows the batch size)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from conftest import CASES, SCHEMES, need_shared

sys.path.insert(0, str(Path(__file__).parent))
import second_world  # noqa: E402


def _both(table: pa.Table, batch: int, block: int, *, patients: bool = True):
    from drg.audit import AUDIT_COLUMNS
    from drg.risk import code_lookup
    from evaluation.analysis import run_on_table
    from evaluation.audit.cases import coded_cases
    from evaluation.audit.findings import audit_findings
    from evaluation.audit.streamed import streamed_audit

    cols = [c for c in AUDIT_COLUMNS if c in table.column_names and (patients or c != "patient_id")]
    table = table.select(cols)
    patient = "patient_id" if "patient_id" in cols else None
    dates = {k: k if k in cols else None for k in ("admit_date", "discharge_date")}
    known = patient is not None and all(dates.values())
    lookup = code_lookup(str(SCHEMES / "chs-drg-1.1"))
    levels = {h: ("tertiary" if h.startswith("T") else "secondary") for h in table.column("hospital_id").unique().to_pylist()}

    def levels_of(words):
        return np.array([levels.get(h, "unknown") for h in words], dtype=object)

    cases = run_on_table(coded_cases(cols, lookup, patient, dates), table, batch)
    a = cases.arrays()
    ref = audit_findings(a, cases.adrg.words, cases.hosp.words, levels_of(cases.hosp.words), dx_words=cases.dx.words,
                         patient_known=known)
    got, spilled = run_on_table(streamed_audit(cols, lookup, patient, dates, levels_of=levels_of, patient_known=known,
                                               block=block), table, batch)
    assert spilled.parts == {} and spilled.rows == table.num_rows  # nothing per case kept in memory
    assert spilled.hosp.words == cases.hosp.words and spilled.drg.words == cases.drg.words
    return ref, got


def _same(ref: dict, got: dict, what: str) -> None:
    assert ref.keys() == got.keys(), what
    for k, x in ref.items():
        if k == "why":
            assert x.keys() == got[k].keys(), what
            for area, (at, s, extra) in x.items():
                at2, s2, extra2 = got[k][area]
                np.testing.assert_array_equal(at, at2)
                np.testing.assert_allclose(s, s2, rtol=1e-9)
                for e in extra:
                    np.testing.assert_allclose(extra[e], extra2[e], rtol=1e-9, equal_nan=True)
            continue
        x, y = np.asarray(x), np.asarray(got[k])
        assert x.shape == y.shape and x.dtype == y.dtype, (what, k, x.shape, y.shape, x.dtype, y.dtype)
        if x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{what}.{k}")
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"{what}.{k}")


@pytest.fixture(scope="module", params=[True, False], ids=["planted", "null"])
def world(request):
    need_shared()
    w = second_world.make_world(CASES / "chs-drg-1.1.parquet", seed=5, planted=request.param, games=True,
                                secondary=30, cases_tertiary=6000, cases_secondary=2000)
    return request.param, pa.Table.from_pandas(w.cases, preserve_index=False)


@pytest.mark.slow
@pytest.mark.parametrize("batch,block", [(50_000, 1 << 20), (7_001, 3_000)])
def test_streamed_audit_finds_what_the_in_memory_audit_finds(world, batch, block):
    planted, table = world
    ref, got = _both(table, batch, block)
    _same(ref["flags"], got["flags"], "flags")
    assert (ref["review"] is None) == (got["review"] is None)
    if ref["review"] is not None:
        _same(ref["review"], got["review"], "review")
    _same(ref["split"], got["split"], "split")
    flagged = set(ref["flags"]["target_area"][ref["flags"]["flag"]])
    if planted:  # the comparison reaches the areas the review list and the split pairs come from
        assert {"mcc_cc_capture", "split_admissions"} <= flagged and "mcc_cc_capture" in ref["review"]["why"]
        assert len(ref["split"]["case_id"]) > 0 and (ref["split"]["probability"] > 0.5).any()


@pytest.mark.slow
def test_streamed_audit_without_patients_finds_what_the_in_memory_audit_finds(world):
    _, table = world
    ref, got = _both(table, 9_000, 4_000, patients=False)
    assert ref["split"] is None and got["split"] is None
    _same(ref["flags"], got["flags"], "flags")
    assert not set(ref["flags"]["target_area"]) & {"readmission_15", "readmission_30", "split_admissions"}
    if ref["review"] is not None:
        _same(ref["review"], got["review"], "review")


def test_spilled_blocks_are_the_batches_recut():
    """Blocks of any size read back every case's arrays (and its secondary diagnoses) in input order."""
    from evaluation.audit.spilled import SpilledCases

    rng = np.random.default_rng(4)
    sc, want = SpilledCases(), {"year": [], "sdx": [], "count": [], "ids": []}
    for n in (5, 0, 17, 3, 11):
        count = rng.integers(0, 4, n)
        d = {"ok": rng.random(n) < 0.9, "year": rng.integers(2019, 2023, n).astype(np.int32),
             "cost": rng.lognormal(8, 1, n), "sdx": rng.integers(0, 50, int(count.sum())).astype(np.int32),
             "sdx_count": count}
        ids = [f"C{len(want['ids']) + i}" for i in range(n)]
        sc.keep(d, pa.array(ids))
        for k, v in (("year", d["year"]), ("sdx", d["sdx"]), ("count", count), ("ids", ids)):
            want[k].extend(list(v))
    for size in (1, 4, 7, 36, 100):
        got = {"year": [], "sdx": [], "count": [], "ids": []}
        starts = []
        for start, b in sc.blocks(["year", "sdx"], size, ids=True):
            starts.append(start)
            got["year"] += list(b["year"])
            got["sdx"] += list(b["sdx"])
            got["count"] += list(np.diff(b["sdx_offsets"]))
            got["ids"] += b["case_id"].to_pylist()
            assert len(b["year"]) == (size if start + size <= 36 else 36 - start)
        assert starts == list(range(0, 36, size)) and got == want, size
    assert sc.rows == 36 and sc.years == set(want["year"])
    sc.close()


def test_key_table_counts_are_the_same_in_any_order():
    from evaluation.audit.spilled import KeyTable

    rng = np.random.default_rng(7)
    keys, a, b = rng.integers(0, 40, 500) * 1_000_003, rng.integers(0, 5, 500), rng.random(500) < 0.3
    one, many = KeyTable(2), KeyTable(2)
    one.add(keys, a, b)
    for part in np.array_split(rng.permutation(500), 9):
        many.add(keys[part], a[part], b[part])
    uniq = np.unique(keys)
    np.testing.assert_array_equal(one.keys, uniq)
    np.testing.assert_array_equal(many.keys, uniq)
    np.testing.assert_array_equal(one.sums, many.sums)
    np.testing.assert_array_equal(one.sums[0], [a[keys == k].sum() for k in uniq])
    np.testing.assert_array_equal(one.sums[1], [b[keys == k].sum() for k in uniq])
