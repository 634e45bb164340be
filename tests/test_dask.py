"""The same kernel on a Dask LocalCluster of 2 workers gives the local result, row for row."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import grouper

dd = pytest.importorskip("dask.dataframe", reason="Dask is an optional extra: pip install '.[dask]'")
distributed = pytest.importorskip("distributed", reason="Dask is an optional extra: pip install '.[dask]'")

from conftest import CASES, SCHEMES, need_shared  # noqa: E402

COLS = ["status", "mdc", "adrg", "drg", "reason"]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_dataframe_equals_local(client, tiny):
    n = 3000
    df = pd.DataFrame({
        "case_id": [f"c{i}" for i in range(n)],
        "sex": [1 + i % 2 for i in range(n)],
        "age_years": [i % 90 for i in range(n)],
        "age_days": [5] * n, "weight_g": [3000] * n,
        "dx": [["I63.900", "J96.000"][: 1 + i % 2] if i % 3 else ["I61.000", "E11.900"] for i in range(n)],
        "px": [["01.2400"] if i % 5 == 0 else [] for i in range(n)],
    })
    local = grouper.group(df, tiny)
    import dask

    with dask.config.set({"dataframe.convert-string": False}):  # keep dx/px as lists, not their text
        ddf = dd.from_pandas(df, npartitions=5)
    remote = grouper.dask.group(ddf, tiny).compute()
    assert remote["case_id"].tolist() == df["case_id"].tolist()
    for c in COLS:
        assert remote[c].astype(str).tolist() == local[c].astype(str).tolist(), c


@pytest.mark.slow
def test_cli_dask_local_equals_local_run(tmp_path):
    """Same bytes, same summary: the workers run the local code path on the same parts."""
    need_shared()
    import hashlib
    import json

    from drg.cli import main

    src = tmp_path / "in.parquet"  # 12 row groups; batches of 10,000 rows join two of them
    pq.write_table(pq.read_table(CASES / "chs-drg-1.1.parquet"), src, row_group_size=5000)
    a, b = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    common = ["--scheme", str(SCHEMES / "chs-drg-1.1"), "-q", "--batch-size", "10000"]
    assert main(["group", str(src), "-o", str(a), *common]) == 0
    assert main(["group", str(src), "-o", str(b), *common, "--dask", "local"]) == 0
    ta = pq.read_table(a).to_pandas()
    tb = pq.read_table(b).to_pandas()
    assert len(ta) == len(tb) == pq.ParquetFile(src).metadata.num_rows
    assert tb["case_id"].tolist() == ta["case_id"].tolist()
    for c in COLS:
        assert tb[c].astype(str).tolist() == ta[c].astype(str).tolist(), c
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    sa, sb = (json.loads((tmp_path / f"{n}.parquet.summary.json").read_text(encoding="utf-8")) for n in ("local", "dask"))
    for key in ("rows_in", "rows_out", "status_counts", "top_unknown_dx", "top_unknown_px", "top_reasons"):
        assert sa[key] == sb[key], key
    assert sa["top_unknown_dx"]  # the public cases include unknown codes: the comparison is not vacuous
