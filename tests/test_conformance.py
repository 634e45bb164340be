"""Every public case file agrees with its scheme: kernel, naive reference and explain."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

import grouper
from conftest import CASES, SCHEMES, case_files
from naive import NaiveScheme, group_record

FIELDS = ("status", "mdc", "adrg", "drg")
MODES = [(False, ""), (True, "_map")]


def _cases_or_skip():
    files = case_files()
    if not files:
        pytest.skip(f"no case files at {CASES} with a scheme in {SCHEMES} (set DRG_SHARED to the shared/ folder)")
    return files


@pytest.mark.parametrize("map_mode,suffix", MODES, ids=["direct", "map"])
def test_kernel_agrees_on_every_case(map_mode, suffix):
    for name in _cases_or_skip():
        table = pq.read_table(CASES / f"{name}.parquet")
        inputs = table.drop_columns([c for c in table.column_names if c.startswith("expected_")])
        out = grouper.group(inputs, grouper.load_scheme(SCHEMES / name), map_codes=map_mode)
        assert out.num_rows == table.num_rows
        assert out.column("case_id").to_pylist() == table.column("case_id").to_pylist()  # order kept
        for f in FIELDS:
            got = np.array(out.column(f).to_pylist(), dtype=object)
            want = np.array(table.column(f"expected_{f}{suffix}").to_pylist(), dtype=object)
            bad = np.flatnonzero(got != want)
            assert len(bad) == 0, (
                f"{name} {'map' if map_mode else 'direct'}: {len(bad)} of {len(got)} differ in {f}; "
                f"first: case {table.column('case_id')[int(bad[0])]} got {got[bad[0]]!r} want {want[bad[0]]!r}"
            )


@pytest.mark.parametrize("map_mode,suffix", MODES, ids=["direct", "map"])
def test_naive_reference_agrees_on_cases(map_mode, suffix):
    """The naive grouper is the yardstick of the random tests: check it on real labels first."""
    for name in _cases_or_skip():
        df = pq.read_table(CASES / f"{name}.parquet").to_pandas()
        df = df.sample(min(len(df), 4000), random_state=7)
        naive = NaiveScheme(str(SCHEMES / name))
        for rec in df.to_dict("records"):
            rec = {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in rec.items()}
            for k in ("sex", "age_years", "age_days", "weight_g", "los_days", "icu_hours"):
                if rec.get(k) is not None:
                    rec[k] = int(rec[k])
            rec["dx"], rec["px"] = list(rec["dx"]), list(rec["px"])
            want = tuple(rec[f"expected_{f}{suffix}"] for f in FIELDS)
            assert group_record(naive, rec, map_mode) == want, rec["case_id"]


@pytest.mark.slow
@pytest.mark.parametrize("map_mode,suffix", MODES, ids=["direct", "map"])
def test_explain_agrees_with_labels(map_mode, suffix):
    for name in _cases_or_skip():
        df = pq.read_table(CASES / f"{name}.parquet").to_pandas().sample(150, random_state=3)
        scheme = grouper.load_scheme(SCHEMES / name)
        for _, row in df.iterrows():
            e = grouper.explain(row, scheme, map_codes=map_mode)
            assert (e.status, e.mdc, e.adrg, e.drg) == tuple(row[f"expected_{f}{suffix}"] for f in FIELDS), row["case_id"]
            assert e.lines[-1].startswith(("结果", "result"))
