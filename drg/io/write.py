"""Write Parquet / CSV / xlsx atomically: to a temporary file beside the target, renamed at the end (an interrupted
run leaves no partial file at the target path); text that a spreadsheet would run as a formula is guarded."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..atomic import check_file_target, discard, publish, temp_file
from .read import InputError

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


def for_csv(table: pa.Table, guard: bool = True) -> pa.Table:
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

        table = for_csv(table, self.csv_guard)
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
            from ..excel import FIXED_PROPERTIES

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
