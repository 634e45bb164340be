"""Excel workbooks: one sheet per table, frozen header row, number formats, formula-safe text."""

from __future__ import annotations

import pandas as pd

from .atomic import OutputError, check_file_target, discard, publish, temp_file
from .text import SHEET_NAMES_ZH

MONEY_WORDS = {"cost", "payment", "yuan", "balance", "shared", "advance", "advances", "due", "provisional", "pay", "fund",
               "budget", "paid", "mean", "value"}
MONEY_ZH = ("费用", "金额", "支付", "结余", "预付", "清算", "自付", "预算", "点值", "费率")
RATE_WORDS = {"share", "rate", "mortality", "coverage"}
RATE_ZH = ("死亡率", "占比", "覆盖率", "比例", "率")


def _format_for(col: str, series: pd.Series) -> str | None:
    """Number format by meaning: counts (#,##0), money (yuan), rates and shares (%), other numbers (4 decimals).
    Whole words of the name decide, so ``shared`` (yuan) is not a share and ``base_rate`` (yuan per
    weight unit) is not a rate."""
    name = str(col).lower()
    if pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series):
        # counts and fen with thousands separators; years, months and ranks as written
        plain = ("year", "年度", "month", "月份", "rank", "排名", "decile", "十分位", "start_year", "开始年度", "event_time")
        return None if any(k in name for k in plain) else "#,##0"
    if not pd.api.types.is_float_dtype(series):
        return None
    words = set(name.replace("(", "_").replace(")", "_").split("_"))
    if name in ("base_rate", "point_value", "费率", "点值"):
        return "#,##0.00"
    if "index" in words or "指数" in name or "ratio" in words:  # cost_index, O/E ratio: not yuan
        return "0.0000"
    if words & RATE_WORDS or any(k in name for k in RATE_ZH):
        return "0.00%"
    if words & MONEY_WORDS or any(k in name for k in MONEY_ZH):
        return "#,##0.00"
    return "0.0000"


def write_workbook(tables: dict, path: str, lang: str = "zh") -> None:
    """Write ``{name: DataFrame}`` to ``path`` atomically (temp file, then rename)."""
    publish(stage_workbook(tables, path, lang), path)


def _write_column(ws, j: int, col: pd.Series, formats: dict, book) -> None:
    """One column below its header, cell by cell with the writer for its type (pandas' to_excel costs ten
    times more: a style lookup per cell); missing values stay blank, text is always text."""
    import math

    if pd.api.types.is_bool_dtype(col.dtype):
        for i, v in enumerate(col.tolist(), start=1):
            ws.write_boolean(i, j, bool(v))
        return
    if pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        for i, v in enumerate(col.tolist(), start=1):
            if v is not None and v == v:
                if math.isinf(v):  # as pandas wrote it: the text inf
                    ws.write_string(i, j, "inf" if v > 0 else "-inf")
                else:
                    ws.write_number(i, j, v)
        return
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        fmt = formats.setdefault("_datetime", book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
        for i, v in enumerate(col.tolist(), start=1):
            if v is not None and v == v:
                ws.write_datetime(i, j, v.to_pydatetime().replace(tzinfo=None), fmt)
        return
    for i, v in enumerate(col.astype(object).tolist(), start=1):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or v is pd.NA:
            continue
        if isinstance(v, str):
            ws.write_string(i, j, v)
        elif isinstance(v, bool):
            ws.write_boolean(i, j, v)
        elif isinstance(v, (int, float)) and not math.isinf(v):
            ws.write_number(i, j, v)
        else:
            ws.write_string(i, j, str(v))


def stage_workbook(tables: dict, path: str, lang: str = "zh") -> str:
    """Write ``{name: DataFrame}`` to a temporary file beside ``path`` and return it (publish it later).

    Strings are never turned into formulas or links, so a value such as ``=HYPERLINK(...)``
    from the data stays text."""
    check_file_target(path)
    tmp = temp_file(path, suffix=".tmp.xlsx")
    try:
        import xlsxwriter

        with xlsxwriter.Workbook(tmp, {"strings_to_formulas": False, "strings_to_urls": False,
                                       "nan_inf_to_errors": True}) as book:
            header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
            formats = {}
            for name, df in tables.items():
                sheet = (SHEET_NAMES_ZH.get(name, name) if lang == "zh" else name)[:31]
                df = df.copy()
                for c in df.columns:  # Excel has no pandas NA / nullable ints
                    if str(df[c].dtype) in ("Int64", "boolean", "string"):
                        df[c] = df[c].astype(object).where(df[c].notna(), None)
                ws = book.add_worksheet(sheet)
                ws.freeze_panes(1, 0)
                for j, c in enumerate(df.columns):
                    ws.write_string(0, j, str(c), header)
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
