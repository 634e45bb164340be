"""Read Parquet / CSV (UTF-8 or GBK) / Excel in batches: pyarrow Tables of at most ``batch_size`` rows, in input
order, so memory is bounded by the batch size, not the file size; the input's files, parts, schema and columns."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_BATCH = 1_000_000


class InputError(ValueError):
    """An input or output that cannot be used; the message names the problem and the fix."""


def _kind(path: str) -> str:
    p = path.lower()
    if p.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    if p.endswith((".csv", ".txt", ".csv.gz")):
        return "csv"
    if p.endswith((".xlsx", ".xlsm")):
        return "excel"
    return ""


def input_files(spec: str) -> tuple[str, list[str]]:
    """(kind, sorted files) of an input: a file, a directory of Parquet files, or a glob."""
    if any(ch in spec for ch in "*?["):
        files = sorted(glob.glob(spec, recursive=True))
        if not files:
            raise InputError(f"{spec}: the pattern matches no file; check the path")
    elif os.path.isdir(spec):
        files = sorted(str(p) for p in Path(spec).rglob("*") if p.is_file() and _kind(str(p)) == "parquet")
        if not files:
            raise InputError(f"{spec}: the directory holds no .parquet file; pass a file, a directory of Parquet files or a glob")
    elif os.path.exists(spec):
        files = [spec]
    else:
        raise InputError(f"{spec}: no such file; check the path")
    for f in files:  # a FIFO, socket or device would block or never end: only regular files are read
        if not os.path.isfile(f):
            raise InputError(f"{f}: not a regular file (a pipe, socket or device); save the data to a file first")
    kinds = {_kind(f) for f in files}
    if "" in kinds or len(kinds) != 1:
        bad = next(f for f in files if _kind(f) == "") if "" in kinds else files[0]
        raise InputError(f"{bad}: unsupported input type; use .parquet, .csv (UTF-8 or GBK) or .xlsx (one kind per run)")
    return kinds.pop(), files


def open_parquet(f: str, **kw) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(f, **kw)
    except Exception as e:
        raise InputError(f"{f}: not a readable Parquet file ({type(e).__name__}: {str(e).splitlines()[0][:120]}); check the file or re-export it") from None


def count_rows(kind: str, files: list[str]) -> int | None:
    if kind != "parquet":
        return None
    return sum(open_parquet(f).metadata.num_rows for f in files)


def parquet_parts(files: list[str], batch_size: int) -> list[tuple[str, list[int]]]:
    """The input as (file, run of row groups) parts of about one batch each, in order; an
    empty file is one part with no row groups (it still yields its columns)."""
    parts = []
    for f in files:
        meta = open_parquet(f).metadata
        parts += [(f, run) for run in row_group_runs(meta, batch_size)] if meta.num_rows else [(f, [])]
    return parts


def read_parquet_part(f: str, run: list[int], batch_size: int = DEFAULT_BATCH, columns=None,
                      dictionary_columns: tuple = (), schema: pa.Schema | None = None):
    """Yield one part (see :func:`parquet_parts`) as Tables of at most ``batch_size`` rows,
    brought to ``schema`` when given (see :func:`input_schema`).

    A fresh reader per part: one reader over a whole file keeps what it has read
    until the end (+18 MB per million rows, 3 GB at 100M rows)."""
    try:
        for t in _read_parquet_part(f, run, batch_size, columns, dictionary_columns):
            yield t if schema is None else conform(t, schema, f)
    except (OSError, pa.ArrowException) as e:  # a damaged page or a truncated file
        where = f"row group {run[0]}" if len(run) == 1 else f"row groups {run[0]}-{run[-1]}" if run else "its schema"
        raise InputError(f"{f}: cannot read {where} ({type(e).__name__}: {str(e).splitlines()[0][:120]}); "
                         "the file is damaged or truncated: re-export it") from None


def _read_parquet_part(f, run, batch_size, columns, dictionary_columns):
    meta = open_parquet(f)
    paths = {meta.schema.column(i).path for i in range(len(meta.schema))}
    leaves = [p for c in dictionary_columns for p in (c, f"{c}.list.element", f"{c}.list.item") if p in paths]
    pf = open_parquet(f, metadata=meta.metadata, read_dictionary=leaves) if leaves else meta  # footer parsed once
    cols = None
    if columns is not None:
        have = set(pf.schema_arrow.names)
        cols = [c for c in columns if c in have]
    if len(run) == 1:
        for batch in pf.iter_batches(batch_size=batch_size, row_groups=run, columns=cols, use_threads=True):
            yield pa.Table.from_batches([batch])
    elif run:  # small groups read one by one (each has its own dictionaries), then joined into one batch
        yield pa.concat_tables([pf.read_row_group(i, columns=cols) for i in run]).combine_chunks()
    else:  # an empty file still has columns: the output gets them too
        schema = pf.schema_arrow
        yield schema.empty_table() if cols is None else pa.schema([schema.field(c) for c in cols]).empty_table()


def _parquet_batches(files, batch_size, columns, dictionary_columns, schema=None):
    for f, run in parquet_parts(files, batch_size):
        yield from read_parquet_part(f, run, batch_size, columns, dictionary_columns, schema)


def _plain(t: pa.DataType) -> pa.DataType:
    """A type with dictionary encoding taken off (also inside lists): how a file's column is compared."""
    if pa.types.is_dictionary(t):
        return t.value_type
    if pa.types.is_list(t) and pa.types.is_dictionary(t.value_type):
        return pa.list_(t.value_type.value_type)
    return t


def input_schema(kind: str, files: list[str], columns=None) -> pa.Schema | None:
    """The schema every batch of a multi-file input is brought to, or None when the files agree.

    Files of one input may list their columns in another order, miss a column (read as null)
    or store a number with another width (int16 and int64 -> int64); truly incompatible
    types (a list in one file, a number in another) are an :class:`InputError`."""
    if len(files) < 2 or kind not in ("parquet", "csv"):
        return None
    if kind == "parquet":
        schemas = [open_parquet(f).schema_arrow for f in files]
    else:
        schemas = [pa.schema([(h, pa.string()) for h in _csv_header(f, _sniff_encoding(f))]) for f in files]
    schemas = [pa.schema([pa.field(fl.name, _plain(fl.type)) for fl in sc]) for sc in schemas]
    if all(sc.equals(schemas[0]) for sc in schemas[1:]):
        return None
    try:
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        seen: dict = {}
        for f, sc in zip(files, schemas):
            for fl in sc:
                first = seen.setdefault(fl.name, (f, fl.type))
                try:
                    pa.unify_schemas([pa.schema([pa.field(fl.name, first[1])]), pa.schema([fl])], promote_options="permissive")
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    raise InputError(f"{f}: column {fl.name} is {fl.type} but {first[1]} in {first[0]}; the files of one "
                                     "input must hold the same columns with compatible types: re-export them alike") from None
        raise
    if columns is not None:
        unified = pa.schema([fl for fl in unified if fl.name in columns])
    return unified


def conform(table: pa.Table, schema: pa.Schema, source: str = "") -> pa.Table:
    """``table`` with the columns of ``schema`` in its order and types (missing ones null);
    a dictionary-encoded column whose values have the wanted type is kept as it is."""
    cols = []
    for fl in schema:
        if fl.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, fl.type))
            continue
        c = table.column(fl.name)
        if c.type != fl.type and _plain(c.type) != fl.type:
            try:
                c = c.cast(fl.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise InputError(f"{source}: column {fl.name} ({c.type}) cannot be read as {fl.type} like the other files "
                                 f"({str(e).splitlines()[0][:80]}); re-export the files alike") from None
        cols.append(c)
    return pa.table(cols, names=schema.names)


def row_group_runs(metadata, batch_size: int) -> list[list[int]]:
    """Consecutive row groups in runs of at most ``batch_size`` rows (a larger group is a run of its own)."""
    runs, run, rows = [], [], 0
    for i in range(metadata.num_row_groups):
        n = metadata.row_group(i).num_rows
        if run and rows + n > batch_size:
            runs.append(run)
            run, rows = [], 0
        run.append(i)
        rows += n
    if run:
        runs.append(run)
    return runs


def _sniff_encoding(path: str) -> str:
    """UTF-8 or GB18030 (GBK's superset), decided on the first stretch of the file that is not
    plain ASCII, however late it comes (an export's first Chinese text may be row 100,000)."""
    import codecs

    utf8 = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(8 << 20)
            if not chunk:
                return "utf-8"
            if chunk.isascii():
                continue
            chunk += fh.read(4)  # a character cut at the chunk's end is completed
            try:
                utf8.decode(chunk)
                return "utf-8"
            except UnicodeDecodeError as e:
                if e.start > len(chunk) - 4:  # cut at the end of the file
                    return "utf-8"
            try:
                codecs.getincrementaldecoder("gb18030")().decode(chunk)
                return "gb18030"
            except UnicodeDecodeError:
                raise InputError(f"{path}: neither UTF-8 nor GBK text; save the CSV as UTF-8") from None


def _csv_header(path: str, enc: str) -> list[str]:
    """The first line's column names; any line ending (LF, CRLF, or CR alone from old Mac exports)."""
    import csv
    import io

    with open(path, "rb") as fh:
        text = io.TextIOWrapper(fh, encoding=enc if enc != "utf-8" else "utf-8-sig", newline=None, errors="replace")
        first = text.readline()
    return next(iter(csv.reader([first.rstrip("\n")])), [])


def _csv_batches(files, batch_size, columns):
    import pyarrow.csv as pcsv

    for f in files:
        enc = _sniff_encoding(f)
        header = _csv_header(f, enc)
        if not header:
            raise InputError(f"{f}: empty file or no header row; the first line must name the columns")
        # every column as text: department codes such as 0302 and codes such as 96.0400 keep their form
        opts = pcsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                                   include_columns=[c for c in columns if c in header] if columns else None)
        block = max(1 << 20, min(64 << 20, batch_size * 200))
        try:
            reader = pcsv.open_csv(f, read_options=pcsv.ReadOptions(encoding=enc, block_size=block), convert_options=opts)
            pending = []
            rows, yielded = 0, False
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                if rows >= batch_size:
                    yield pa.Table.from_batches(pending)
                    pending, rows, yielded = [], 0, True
            if pending or not yielded:  # a header-only file still has columns
                yield pa.Table.from_batches(pending, schema=reader.schema)
        except pa.ArrowInvalid as e:
            raise InputError(f"{f}: cannot parse the CSV ({str(e).splitlines()[0][:160]}); check quoting and the column count of that row") from None


def _excel_batches(files, batch_size, columns):
    try:
        import openpyxl
    except ImportError:  # pragma: no cover
        raise InputError("reading .xlsx needs openpyxl; pip install openpyxl") from None
    for f in files:
        try:
            wb = openpyxl.load_workbook(f, read_only=True, data_only=True)
        except Exception as e:
            raise InputError(f"{f}: not a readable Excel workbook ({type(e).__name__}); re-save it as .xlsx") from None
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        try:
            header = [("" if h is None else str(h)) for h in next(rows)]
        except StopIteration:
            raise InputError(f"{f}: the first sheet is empty; the first row must name the columns") from None
        keep = [i for i, h in enumerate(header) if h and (columns is None or h in columns)]

        def cell(v):
            if v is None:
                return None
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        def table(buf):
            return pa.table({header[i]: pa.array([b[j] for b in buf], pa.string()) for j, i in enumerate(keep)})

        buf, yielded = [], False
        for r in rows:
            buf.append([cell(r[i]) if i < len(r) else None for i in keep])
            if len(buf) >= batch_size:
                yield table(buf)
                buf, yielded = [], True
        if buf or not yielded:  # an empty sheet still yields its columns
            yield table(buf)
        wb.close()


DICTIONARY_COLUMNS = ("dx", "px", "dept", "leaving_type", "科室", "离院方式")


def read_batches(spec: str, batch_size: int = DEFAULT_BATCH, columns: list[str] | None = None,
                 dictionary_columns: tuple = DICTIONARY_COLUMNS):
    """Yield the input as pyarrow Tables of at most ``batch_size`` rows, in order.

    ``columns`` restricts what is read (names as in the file). Parquet list
    columns named in ``dictionary_columns`` are read dictionary-encoded, which
    spares the grouper from hashing every code string.
    """
    kind, files = input_files(spec)
    schema = input_schema(kind, files, columns)
    if kind == "parquet":
        yield from _parquet_batches(files, batch_size, columns, dictionary_columns, schema)
    elif kind == "csv":
        for t in _csv_batches(files, batch_size, columns):
            yield t if schema is None else conform(t, schema)
    else:
        yield from _excel_batches(files, batch_size, columns)


def read_table(spec: str, columns=None) -> pa.Table:
    """The whole input as one Table (for small inputs and tests)."""
    return pa.concat_tables(list(read_batches(spec, columns=columns, dictionary_columns=())), promote_options="default")


def input_columns(spec: str) -> list[str]:
    """Column names of an input without reading its rows (Parquet, CSV); reads one batch otherwise."""
    kind, files = input_files(spec)
    if kind == "parquet":
        return list(open_parquet(files[0]).schema_arrow.names)
    if kind == "csv":
        return _csv_header(files[0], _sniff_encoding(files[0]))
    return next(read_batches(spec, batch_size=1)).column_names
