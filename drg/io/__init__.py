"""Read Parquet / CSV (UTF-8 or GBK) / Excel in batches (:mod:`drg.io.read`); write Parquet / CSV / xlsx atomically
(:mod:`drg.io.write`).

Readers yield pyarrow Tables of at most ``batch_size`` rows, in input order, so
memory is bounded by the batch size, not the file size. Writers write to a
temporary file beside the target and rename it at the end: an interrupted run
leaves no partial file at the target path.
"""

from __future__ import annotations

from ..atomic import write_json_atomic
from .read import (
    conform,
    count_rows,
    DEFAULT_BATCH,
    DICTIONARY_COLUMNS,
    input_columns,
    input_files,
    input_schema,
    InputError,
    open_parquet,
    parquet_parts,
    read_batches,
    read_parquet_part,
    read_table,
    row_group_runs,
)
from .write import (
    atomic_writer,
    AtomicWriter,
    CSV_ENCODINGS,
    EXCEL_MAX_ROWS,
    for_csv,
    FORMULA_START,
    guard_formulas,
    guard_header,
    leaf_paths,
    output_kind,
    valid_utf8,
    write_table_atomic,
)

# the package's names: importers say drg.io
__all__ = [
    "atomic_writer", "AtomicWriter", "conform", "count_rows", "CSV_ENCODINGS", "DEFAULT_BATCH",
    "DICTIONARY_COLUMNS", "EXCEL_MAX_ROWS", "for_csv", "FORMULA_START", "guard_formulas", "guard_header",
    "input_columns", "input_files", "input_schema", "InputError", "leaf_paths", "open_parquet", "output_kind",
    "parquet_parts", "read_batches", "read_parquet_part", "read_table", "row_group_runs", "valid_utf8",
    "write_json_atomic", "write_table_atomic",
]
