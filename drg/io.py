"""Read Parquet / CSV (UTF-8 or GBK) / Excel in batches; write Parquet / CSV atomically.

Readers yield pyarrow Tables of at most ``batch_size`` rows, in input order, so
memory is bounded by the batch size, not the file size. Writers write to a
temporary file beside the target and rename it at the end: an interrupted run
leaves no partial file at the target path.
"""

from __future__ import annotations

import glob
import os
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .atomic import check_file_target, discard, publish, temp_file, write_json_atomic  # noqa: F401 (re-exported)

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


# -- writing ---------------------------------------------------------------------------------




def guard_formulas(col):
    """OWASP CSV-injection rule: a text cell that starts with = + - @ TAB or CR gets a leading
    apostrophe, so a spreadsheet shows it as text instead of running it as a formula."""
    risky = pc.match_substring_regex(col, "^[=+\\-@\t\r]")
    if not pc.any(risky).as_py():
        return col
    return pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_header(name: str) -> str:
    """A column name as a CSV header cell: a name that starts a formula gets the leading apostrophe too."""
    return "'" + name if name.startswith(FORMULA_START) else name


def valid_utf8(col):
    """A text column whose invalid UTF-8 bytes (a Parquet file written by a tool that did not check) are
    replaced by U+FFFD: a UTF-8 CSV never carries bytes that are not UTF-8."""
    chunks = []
    changed = False
    for c in (col.chunks if isinstance(col, pa.ChunkedArray) else [col]):
        try:
            c.validate(full=True)
            chunks.append(c)
        except pa.ArrowInvalid:
            raw = c.cast(pa.binary() if pa.types.is_string(c.type) else pa.large_binary())
            chunks.append(pa.array([None if v is None else v.decode("utf-8", "replace") for v in raw.to_pylist()], c.type))
            changed = True
    return pa.chunked_array(chunks, col.type) if changed else col


def _for_csv(table: pa.Table, guard: bool = True) -> pa.Table:
    """CSV has no lists or dictionaries: lists become A|B strings, dictionaries plain strings;
    text cells that are not UTF-8 are repaired (:func:`valid_utf8`); text cells and header cells are
    guarded against formula injection unless ``guard`` is False."""
    cols = []
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if pa.types.is_dictionary(t):
            col = col.cast(t.value_type)
            t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            vt = t.value_type
            if pa.types.is_dictionary(vt):
                col = pa.chunked_array([pa.ListArray.from_arrays(c.offsets, c.values.cast(vt.value_type), mask=c.is_null()) for c in col.chunks], pa.list_(vt.value_type))
            elif not pa.types.is_string(vt):
                col = col.cast(pa.list_(pa.string()))
            col = pc.binary_join(col, "|")
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = valid_utf8(col)
            if guard:
                col = guard_formulas(col)
        cols.append(col)
    names = [guard_header(n) for n in table.column_names] if guard else table.column_names
    return pa.table(cols, names=names)


def leaf_paths(field: pa.Field, prefix: str = "") -> list[str]:
    """Parquet column paths of an Arrow field (``dx`` -> ``dx.list.element``)."""
    name = prefix + field.name
    t = field.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return leaf_paths(pa.field("element", t.value_type), name + ".list.")
    if pa.types.is_struct(t):
        return [p for i in range(t.num_fields) for p in leaf_paths(t.field(i), name + ".")]
    if pa.types.is_map(t):
        return leaf_paths(pa.field("key", t.key_type), name + ".key_value.") + leaf_paths(pa.field("value", t.item_type), name + ".key_value.")
    return [name]


CSV_ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030")
EXCEL_MAX_ROWS = 1_048_575  # an Excel sheet's rows below its header


def output_kind(path: str) -> str:
    """parquet, csv or excel from the output's extension; anything else is refused (never a silent CSV)."""
    p = path.lower()
    if p.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    if p.endswith(".csv"):
        return "csv"
    if p.endswith(".xlsx"):
        return "excel"
    raise InputError(f"{path}: unsupported output type; name the output .parquet, .csv or .xlsx")


def _excel_values(col) -> list:
    """Python values Excel can hold: dictionaries decoded, lists joined with |, missing as empty."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        return ["|".join("" if x is None else str(x) for x in v) if v is not None else None for v in col.to_pylist()]
    return col.to_pylist()


def _as_number(v):
    """A cell of a numeric field for Excel: a number when the text is one (a whole number as int), else as it is."""
    if not isinstance(v, str):
        return v
    try:
        f = float(v)
    except ValueError:
        return v
    if f != f or f in (float("inf"), float("-inf")):
        return v
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


class AtomicWriter:
    """Write batches to a temporary file beside ``path``; :meth:`commit` renames it into place.

    ``no_statistics`` names columns written without min/max statistics: for the
    dictionary-encoded result columns they cost half the write time and, with
    every DRG in every row group, could never prune one."""

    def __init__(self, path: str, fmt: str | None = None, no_statistics: tuple = (), csv_guard: bool = True,
                 encoding: str = "utf-8-sig", dictionary=True, numeric=(), headers: dict | None = None):
        self.headers = headers or {}  # CSV and xlsx (for people): column -> the header written
        self.no_statistics = set(no_statistics)
        self.numeric = set(numeric)  # xlsx: text columns of numbers (住院天数, 医疗总费用) written as numbers
        self.dictionary = dictionary  # Parquet: True, or the columns worth a dictionary (few distinct values)
        self.csv_guard = csv_guard
        self.path = os.path.abspath(path)
        self.fmt = fmt or output_kind(path)
        if encoding not in CSV_ENCODINGS:
            raise InputError(f"--encoding {encoding}: use one of {', '.join(CSV_ENCODINGS)}")
        self.encoding = encoding
        parent = os.path.dirname(self.path)
        if not os.path.isdir(parent):
            raise InputError(f"{path}: the output folder {parent} does not exist; create it first")
        check_file_target(self.path)
        self.tmp = temp_file(self.path)
        self._writer = None
        self._schema = None
        self._rows = 0
        self._header_written = False
        self._sink = None  # the CSV output file under the writer
        self._closed = False

    def write(self, table: pa.Table) -> None:
        if self.headers and self.fmt in ("csv", "excel"):
            table = table.rename_columns([self.headers.get(c, c) for c in table.column_names])
        if self.fmt == "csv":
            self._write_csv(table)
        elif self.fmt == "excel":
            self._write_excel(table)
        else:
            if self._writer is None:
                self._schema = table.schema
                stats = [p for f in table.schema if f.name not in self.no_statistics for p in leaf_paths(f)]
                if self.dictionary is not True:
                    self.dictionary = [p for f in table.schema if f.name in set(self.dictionary) for p in leaf_paths(f)]
                self._writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd", compression_level=1,
                                                write_statistics=stats if self.no_statistics else True,
                                                use_dictionary=self.dictionary)
            if table.schema != self._schema:
                table = table.cast(self._schema)
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _write_csv(self, table: pa.Table) -> None:
        """UTF-8 with a byte-order mark by default (Excel on a Chinese PC reads it right when double-clicked),
        plain UTF-8, or GBK / GB18030 for older tools; a GBK file refuses characters GBK lacks."""
        import pyarrow.csv as pcsv

        table = _for_csv(table, self.csv_guard)
        if self._writer is None:
            self._schema = table.schema
            self._sink = pa.OSFile(self.tmp, "wb")
            if self.encoding == "utf-8-sig":
                self._sink.write(b"\xef\xbb\xbf")
            if self.encoding.startswith("utf"):  # straight to the file: no copy of the batch's text
                self._writer = pcsv.CSVWriter(self._sink, table.schema)
            else:
                self._writer = self._sink
        if self._writer is not self._sink:
            self._writer.write_table(table.cast(self._schema))
            self._rows += table.num_rows
            return
        buf = pa.BufferOutputStream()  # GBK / GB18030: pyarrow writes UTF-8, re-encoded per batch
        pcsv.write_csv(table.cast(self._schema), buf, pcsv.WriteOptions(include_header=not self._header_written))
        self._header_written = True  # once, also when the first batch has no rows
        try:
            data = buf.getvalue().to_pybytes().decode("utf-8").encode(self.encoding)
        except UnicodeEncodeError as e:
            raise InputError(f"{self.path}: {e.object[e.start:e.end]!r} cannot be written in {self.encoding.upper()}; "
                             "use --encoding gb18030 or utf-8") from None
        self._sink.write(data)
        self._rows += table.num_rows

    def _write_excel(self, table: pa.Table) -> None:
        """Rows streamed into one sheet (xlsxwriter's constant-memory mode); text stays text, never a formula."""
        if self._writer is None:
            import xlsxwriter

            # a timestamp with a time zone is written as its wall-clock time there (Excel has no time zones)
            self._writer = xlsxwriter.Workbook(self.tmp, {"constant_memory": True, "strings_to_formulas": False,
                                                          "remove_timezone": True,
                                                          "strings_to_urls": False, "nan_inf_to_errors": True})
            from .excel import FIXED_PROPERTIES

            self._writer.set_properties(FIXED_PROPERTIES)  # no clock in the file: the same input gives the same bytes
            self._sheet = self._writer.add_worksheet("DRG")
            self._schema = table.schema
            self._sheet.write_row(0, 0, table.column_names, self._writer.add_format({"bold": True}))
            self._sheet.freeze_panes(1, 0)
        if self._rows + table.num_rows > EXCEL_MAX_ROWS:
            raise InputError(f"{self.path}: more than {EXCEL_MAX_ROWS:,} rows, more than an Excel sheet holds; "
                             "write .parquet or .csv")
        cols = [_excel_values(c) for c in table.cast(self._schema).columns]
        for j, name in enumerate(table.column_names):
            if name in self.numeric:
                cols[j] = [_as_number(v) for v in cols[j]]
        for i, row in enumerate(zip(*cols)):
            self._sheet.write_row(self._rows + 1 + i, 0, row)
        self._rows += table.num_rows

    def close_for_commit(self, empty_schema: pa.Schema | None = None) -> None:
        """Finish the temporary file (its bytes are final; :meth:`commit` then only moves it into place)."""
        if self._closed:
            return
        if self._writer is None and empty_schema is not None:
            self.write(empty_schema.empty_table())
        if self._writer is not None:
            self._writer.close()
            if self._sink is not None and not self._sink.closed:
                self._sink.close()
        elif self.fmt == "csv":  # no batch at all: an empty file
            open(self.tmp, "wb").close()
        self._closed = True

    def commit(self, empty_schema: pa.Schema | None = None) -> None:
        self.close_for_commit(empty_schema)
        publish(self.tmp, self.path)

    def abort(self) -> None:
        for handle in (self._writer, self._sink):
            try:
                if handle is not None and not getattr(handle, "closed", False):
                    handle.close()
            except Exception:
                pass
        discard(self.tmp)


@contextmanager
def atomic_writer(path: str, fmt: str | None = None, **options):
    w = AtomicWriter(path, fmt, **options)
    try:
        yield w
    except BaseException:
        w.abort()
        raise
    else:
        w.commit()


def write_table_atomic(table: pa.Table, path: str) -> None:
    with atomic_writer(path) as w:
        w.write(table)
