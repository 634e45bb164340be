"""Batched reading: every row once, in order, in batches no larger than asked; empty inputs keep their columns."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from drg.io import read_batches, row_group_runs


@settings(max_examples=40, deadline=None)
@given(groups=st.lists(st.integers(0, 60), min_size=0, max_size=12), batch=st.integers(1, 80))
def test_parquet_batches_cover_every_row_in_order(tmp_path_factory, groups, batch):
    path = tmp_path_factory.mktemp("rg") / "in.parquet"
    n = sum(groups)
    table = pa.table({"case_id": [f"c{i}" for i in range(n)], "dx": [[f"A{i % 7}"] for i in range(n)]})
    with pq.ParquetWriter(path, table.schema) as w:
        start = 0
        for g in groups:
            w.write_table(table.slice(start, g), row_group_size=max(g, 1))
            start += g
    meta = pq.ParquetFile(path).metadata
    runs = row_group_runs(meta, batch)
    assert [i for r in runs for i in r] == list(range(meta.num_row_groups))
    for r in runs:  # a run is one batch of rows at most, unless it is a single larger group
        assert len(r) == 1 or sum(meta.row_group(i).num_rows for i in r) <= batch
    batches = list(read_batches(str(path), batch_size=batch))
    assert all(b.num_rows <= batch for b in batches)
    got = [v for b in batches for v in b.column("case_id").to_pylist()]
    assert got == table.column("case_id").to_pylist()
    if n == 0:
        assert batches and batches[0].column_names == ["case_id", "dx"]


def test_numbers_of_an_xlsx_export_stay_numbers_in_the_xlsx_we_write(tmp_path, tiny_dir, capsys):
    """住院天数 and 医疗总费用 arrive as numbers in an office's .xlsx and leave as numbers; a code such as 0302 in
    a text field stays text, leading zero and all (issue 33, item 4)."""
    import openpyxl

    from drg.cli import main

    src = tmp_path / "清单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["病案号", "性别", "年龄", "住院天数", "医疗总费用", "主要诊断编码", "出院科别"])
    ws.append(["0302", 1, 60, 12, 15000.5, "I63.900", "0302"])
    ws.append(["0303", 2, 70, 3, 8000, "I61.000", None])
    wb.save(src)
    out = tmp_path / "grouped.xlsx"
    assert main(["group", str(src), "--scheme", str(tiny_dir), "-o", str(out), "-q"]) == 0
    rows = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    head = rows[0]
    first = dict(zip(head, rows[1]))
    assert first["住院天数"] == 12 and isinstance(first["住院天数"], int)
    assert first["医疗总费用"] == 15000.5 and first["年龄"] == 60
    assert first["病案号"] == "0302" and first["出院科别"] == "0302"
    assert dict(zip(head, rows[2]))["医疗总费用"] == 8000
