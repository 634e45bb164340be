"""The Numba kernel equals the naive reference on random schemes and random records.

Random schemes exercise every rule atom, step kind, flag and output convention of
FORMAT.md; random records hit nulls, newborn edges, unknown codes, separators,
duplicates and both modes. A scheme you have never seen must group exactly: this
is the test that says so.
"""

from __future__ import annotations

import pytest

import os

import pyarrow as pa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import grouper
from naive import NaiveScheme, group_record
from schemegen import records, schemes, write_scheme

SCHEMA = pa.schema([
    ("case_id", pa.string()), ("sex", pa.int8()), ("age_years", pa.int16()), ("age_days", pa.int16()),
    ("weight_g", pa.int32()), ("dept", pa.string()), ("los_days", pa.int32()), ("leaving_type", pa.string()),
    ("icu_hours", pa.int32()), ("dx", pa.list_(pa.string())), ("px", pa.list_(pa.string())),
])


def check(tables, recs, tmp_path_factory, map_mode):
    path = tmp_path_factory.mktemp("scheme")
    write_scheme(tables, path)
    scheme = grouper.load_scheme(path, use_cache=False)
    naive = NaiveScheme(str(path))
    table = pa.Table.from_pylist(recs, schema=SCHEMA)
    out = grouper.group(table, scheme, map_codes=map_mode)
    got = list(zip(*(out.column(c).to_pylist() for c in ("status", "mdc", "adrg", "drg"))))
    for rec, g in zip(recs, got):
        want = group_record(naive, rec, map_mode)
        assert g == want, f"record {rec}\nscheme {tables}\nkernel {g} naive {want}"
        event(f"status {g[0]}")
    assert all(r is not None for r in out.column("reason").to_pylist())


@pytest.mark.slow
@settings(max_examples=int(os.environ.get('DRG_HYPOTHESIS_EXAMPLES', '300')), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables=schemes(), recs=st.lists(records(), min_size=1, max_size=25), map_mode=st.booleans())
def test_kernel_equals_naive_on_random_schemes(tables, recs, map_mode, tmp_path_factory):
    check(tables, recs, tmp_path_factory, map_mode)
