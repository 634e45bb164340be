"""Excel workbooks: one sheet per table, frozen header row, number formats, formula-safe text."""

from __future__ import annotations

import datetime
import functools

import pandas as pd

from .atomic import OutputError, check_file_target, discard, publish, temp_file
from .text import SHEET_NAMES_ZH

# a workbook's creation time is the ZIP epoch, not the clock, so that the same input gives byte-identical files
FIXED_PROPERTIES = {"created": datetime.datetime(1980, 1, 1)}


def _format_for(col: str, series: pd.Series) -> str | None:
    """Number format by meaning (:mod:`drg.formats`: counts #,##0, money, rates %, ratios and indices 4 decimals,
    means 2; years, months and ranks as written)."""
    from .formats import excel_format

    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return excel_format(col, integer=True)
    if pd.api.types.is_float_dtype(series):
        return excel_format(col)
    return None


def _leave_bulk(ws) -> None:
    """xlsxwriter's own cells from here on, for the columns held in bulk too (a column needs cell-by-cell writing)."""
    if getattr(ws, "bulk", None) is not None:
        ws.add_bulk_to_table()
        ws.bulk = None


def _write_mixed(ws, j: int, col: pd.Series, kinds: list, formats: dict, book) -> None:
    """A column whose rows are of different kinds (the audit's measures): each number with its own row's format."""
    import math

    from .formats import FORMATS

    _leave_bulk(ws)
    for i, (v, k) in enumerate(zip(col.tolist(), kinds), start=1):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            fmt = formats.setdefault(FORMATS[k][0], book.add_format({"num_format": FORMATS[k][0]}))
            ws.write_number(i, j, v, fmt)
        elif isinstance(v, str):
            ws.write_string(i, j, v)


def workbook_property(path: str, name: str) -> str | None:
    """A custom document property of a workbook we wrote (docProps/custom.xml), or None: read with the zip and XML
    readers of the standard library, never executing anything in the file."""
    import re
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            xml = z.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    m = re.search(r'name="' + re.escape(name) + r'"[^>]*>\s*<vt:lpwstr>([^<]*)</vt:lpwstr>', xml)
    return m.group(1) if m else None


def write_workbook(tables: dict, path: str, lang: str = "zh") -> None:
    """Write ``{name: DataFrame}`` to ``path`` atomically (temp file, then rename)."""
    publish(stage_workbook(tables, path, lang), path)


def _cells(col: pd.Series) -> list | None:
    """Per data row what the workbook holds: ``("n", number)``, ``("s", text)``, ``("b", 0 or 1)`` or None (blank):
    missing values stay blank, text is always text, an infinite number is the text inf as pandas wrote it. None
    where the column needs xlsxwriter's own cells (dates, text too long for one cell)."""
    import math

    if pd.api.types.is_bool_dtype(col.dtype):
        return [("b", 1 if v else 0) for v in col.tolist()]
    if pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        return [None if v is None or v is pd.NA or v != v else ("s", "inf" if v > 0 else "-inf") if math.isinf(v)
                else ("n", v) for v in col.tolist()]
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return None
    out = []
    for v in col.astype(object).tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or v is pd.NA:
            out.append(None)
        elif isinstance(v, str):
            if len(v) > 16383:  # may pass Excel's 32,767 UTF-16 units: xlsxwriter truncates it
                return None
            out.append(("s", v))
        elif isinstance(v, bool):
            out.append(("b", 1 if v else 0))
        elif isinstance(v, (int, float)) and not math.isinf(v):
            out.append(("n", v))
        else:
            text = str(v)
            if len(text) > 16383:
                return None
            out.append(("s", text))
    return out


def _write_column(ws, j: int, col: pd.Series, formats: dict, book) -> None:
    """One column below its header: handed to the sheet in bulk (:func:`_bulk_sheet`), or cell by cell with
    xlsxwriter's writer for its type (pandas' to_excel costs ten times more: a style lookup per cell)."""
    cells = _cells(col)
    if cells is not None and getattr(ws, "bulk", None) is not None:
        ws.add_bulk_column(j, cells)
        return
    if cells is not None:
        for i, c in enumerate(cells, start=1):
            if c is not None:
                {"n": ws.write_number, "s": ws.write_string, "b": ws.write_boolean}[c[0]](i, j, c[1])
        return
    _leave_bulk(ws)
    fmt = formats.setdefault("_datetime", book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})) \
        if pd.api.types.is_datetime64_any_dtype(col.dtype) else None
    for i, v in enumerate(col.astype(object).tolist() if fmt is None else col.tolist(), start=1):
        if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v):
            continue
        if fmt is not None:
            ws.write_datetime(i, j, v.to_pydatetime().replace(tzinfo=None), fmt)
        else:
            ws.write_string(i, j, str(v))


@functools.cache
def _bulk_sheet():
    """An xlsxwriter worksheet that takes whole columns of numbers, text and booleans and writes their rows in
    one go when the file is assembled, the same XML that xlsxwriter writes cell by cell (a shared string per
    text, registered in the same order; the column's number format; the same row spans) at about a tenth of
    the time: xlsxwriter spends ~12 µs a cell, which made workbooks of 400k cells take 5 s."""
    from xlsxwriter.utility import xl_col_to_name
    from xlsxwriter.worksheet import Worksheet

    class BulkSheet(Worksheet):
        def __init__(self):
            super().__init__()
            self.bulk: dict | None = {}  # column -> per data row (kind, value) or None

        def add_bulk_column(self, j: int, cells: list) -> None:
            rows = [i for i, c in enumerate(cells, start=1) if c is not None]
            if not rows:
                return
            sst = self.str_table._get_shared_string_index
            self.bulk[j] = [None if c is None else (c[0], sst(c[1])) if c[0] == "s" else c for c in cells]
            self._check_dimensions(rows[0], j)
            self._check_dimensions(rows[-1], j)

        def add_bulk_to_table(self) -> None:
            """xlsxwriter's own cells for the columns held in bulk (when a later column needs them)."""
            from xlsxwriter.worksheet import CellBooleanTuple, CellNumberTuple, CellStringTuple

            make = {"n": CellNumberTuple, "s": CellStringTuple, "b": CellBooleanTuple}
            for j, cells in sorted((self.bulk or {}).items()):
                for i, c in enumerate(cells, start=1):
                    if c is not None:
                        self.table[i][j] = make[c[0]](c[1], None)

        def _write_rows(self) -> None:
            if self.bulk and (self.excel_version != 2007 or self.row_info or self.comments):
                self.add_bulk_to_table()  # features whose rows xlsxwriter writes otherwise
                self.bulk = None
            if not self.bulk:
                return super()._write_rows()
            super()._write_rows()  # the header row (the table holds only it)
            columns = sorted(self.bulk)
            n = max(len(self.bulk[j]) for j in columns)
            parts = []
            for j in columns:
                letter = xl_col_to_name(j)
                info = self.col_info.get(j)
                fmt = info.column_format if info is not None else None
                style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
                cells = self.bulk[j] + [None] * (n - len(self.bulk[j]))
                parts.append([
                    "" if c is None else
                    f'<c r="{letter}{i}"{style}><v>{c[1]:.16G}</v></c>' if c[0] == "n" else
                    f'<c r="{letter}{i}"{style} t="s"><v>{c[1]}</v></c>' if c[0] == "s" else
                    f'<c r="{letter}{i}"{style} t="b"><v>{c[1]}</v></c>'
                    for i, c in enumerate(cells, start=2)])
            present = [[j for j, part in zip(columns, parts) if part[i]] for i in range(n)]
            header = sorted(self.table.get(0, {}))
            spans = {}
            for i, cols in enumerate(present, start=1):  # a span per block of 16 rows, as _calculate_spans
                if cols:
                    lo, hi = spans.get(i // 16, (cols[0], cols[-1]))
                    spans[i // 16] = (min(lo, cols[0]), max(hi, cols[-1]))
            if header and 0 in spans:
                spans[0] = (min(spans[0][0], header[0]), max(spans[0][1], header[-1]))
            write = self.fh.write
            for i, row in enumerate(zip(*parts), start=1):
                if present[i - 1]:
                    lo, hi = spans[i // 16]
                    write(f'<row r="{i + 1}" spans="{lo + 1}:{hi + 1}">{"".join(row)}</row>')

    return BulkSheet


def stage_workbook(tables: dict, path: str, lang: str = "zh", properties: dict | None = None) -> str:
    """Write ``{name: DataFrame}`` to a temporary file beside ``path`` and return it (publish it later);
    ``properties``: custom document properties (text), e.g. the id that pairs a workbook with its report.

    Strings are never turned into formulas or links, so a value such as ``=HYPERLINK(...)``
    from the data stays text."""
    check_file_target(path)
    tmp = temp_file(path, suffix=".tmp.xlsx")
    try:
        import xlsxwriter

        with xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "nan_inf_to_errors": True, "remove_timezone": True}) as book:
            book.set_properties(FIXED_PROPERTIES)  # no clock in the file: the same tables give the same bytes
            for key, value in (properties or {}).items():
                book.set_custom_property(key, str(value))
            header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
            formats = {}
            for name, df in tables.items():
                sheet = (SHEET_NAMES_ZH.get(name, name) if lang == "zh" else name)[:31]
                df = df.copy()
                for c in df.columns:  # Excel has no pandas NA / nullable ints
                    if str(df[c].dtype) in ("Int64", "boolean", "string"):
                        df[c] = df[c].astype(object).where(df[c].notna(), None)
                ws = book.add_worksheet(sheet, worksheet_class=_bulk_sheet())
                ws.freeze_panes(1, 0)
                from .formats import row_kinds

                mixed = row_kinds(df) or {}
                for j, c in enumerate(df.columns):
                    ws.write_string(0, j, str(c), header)
                    if c in mixed and pd.api.types.is_numeric_dtype(df[c].dtype):
                        _write_mixed(ws, j, df[c], mixed[c], formats, book)
                        ws.set_column(j, j, min(max(len(str(c)) * (2 if lang == "zh" else 1) + 2, 10), 40))
                        continue
                    _write_column(ws, j, df[c], formats, book)
                    fmt = _format_for(c, df[c])
                    width = min(max(len(str(c)) * (2 if lang == "zh" else 1) + 2, 10), 40)
                    if fmt:
                        formats.setdefault(fmt, book.add_format({"num_format": fmt}))
                        ws.set_column(j, j, width, formats[fmt])
                    else:
                        ws.set_column(j, j, width)
                if len(df):
                    ws.autofilter(0, 0, len(df), max(len(df.columns) - 1, 0))
    except BaseException as e:
        discard(tmp)
        cause = e.__cause__ or e.__context__
        if not isinstance(e, OSError) and isinstance(cause, OSError):  # xlsxwriter wraps a full disk as FileCreateError
            raise OutputError(f"{path}: cannot write the workbook ({cause.strerror or cause}); free disk space or "
                              "write to another folder") from None
        raise
    return tmp
