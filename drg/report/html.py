"""The report page's tables: numbers shown by what they mean, headers in the page's language, values labelled, rows
limited on the page (the workbook holds them all), element ids."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from evaluation.words import VALUE_LABELS

from ..charts import esc, finite
from ..text import REPORT


def fmt(v, col: str = "", kind: str | None = None) -> str:
    """A cell by meaning (:mod:`drg.formats`: counts as integers, money with thousands separators, rates as %,
    indices with 4 decimals, means with 2, years as written; ``kind`` when the row decides); missing as empty (never
    <NA> or nan)."""
    from ..formats import kind as kind_of
    from ..formats import text

    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return ""
    f = finite(v)
    if f is None or isinstance(v, (bool, np.bool_)) or isinstance(v, str):
        return esc("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
    return text(f, kind or kind_of(col, integer=isinstance(v, (int, np.integer))))


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


MAX_ROWS = 1500  # rows of a table on the page; the workbook and the Parquet tables hold them all


def table_html(df: pd.DataFrame, ids: Ids, lang: str, max_rows: int = MAX_ROWS, searchable: bool = True) -> str:
    """``df`` with English column names (formats follow them), shown under headers in ``lang``."""
    from ..formats import row_kinds

    tid = ids("t")
    cols = list(df.columns)
    head = "".join(f"<th>{esc(header(c, lang))}</th>" for c in cols)
    body = []
    mixed = row_kinds(df) or {}
    for r, row in enumerate(df.head(max_rows).itertuples(index=False)):
        cells = []
        for c, v in zip(cols, row):
            f = finite(v) if not isinstance(v, (str, bool, np.bool_)) else None
            dv = f' data-v="{f!r}"' if f is not None else ""
            cells.append(f"<td{dv}>{fmt(v, c, mixed[c][r] if c in mixed else None)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    search = f'<input class="search" data-table="{tid}" placeholder="{esc(REPORT[lang]["search"])}">' if searchable else ""
    if len(df) > max_rows:
        search += f"<p class='note'>{esc(REPORT[lang]['truncated'].format(shown=max_rows, total=len(df)))}</p>"
    return f'{search}<div class="tablewrap"><table id="{tid}" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


EN_HEADERS = {"cmi": "CMI", "drg": "DRG", "adrg": "ADRG", "mdc": "MDC", "oe_ratio": "O/E", "oe_low": "O/E low (95%)",
              "oe_high": "O/E high (95%)", "rw": "RW", "cv": "CV", "cv_los": "CV of LOS", "did": "DiD", "se": "SE",
              "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "P", "q_value": "q (FDR)", "tau2": "tau²",
              "hospital_id": "hospital", "doctor_id": "doctor", "z_score": "z", "rank_cmi": "rank CMI (1 = highest)",
              "rank_cost_index": "rank cost index (1 = lowest cost)", "rank_time_index": "rank time index (1 = shortest stays)",
              "rank_low_risk_mortality": "rank low-risk mortality (1 = lowest)"}


def header(col: str, lang: str) -> str:
    """What a reader sees above column ``col``: the Chinese label, or English words (not snake_case)."""
    from evaluation.words import column_label

    if lang == "zh":
        return column_label(col)
    if col in EN_HEADERS:
        return EN_HEADERS[col]
    words = str(col).replace("_", " ").strip()
    for a, b in (("cmi", "CMI"), ("drg", "DRG"), ("los", "LOS"), ("riv", "RIV"), ("fen", "(fen)")):
        words = re.sub(rf"\b{a}\b", b, words)
    return words[:1].upper() + words[1:]


def display_values(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Coded values (levels, flags, classes, True/False) in the report's language; columns keep their names."""
    from evaluation.words import label

    if lang == "zh":
        shown = label(df, "zh")
        shown.columns = df.columns
        return shown
    out = df.copy(deep=False)
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[c] = s.map({True: "yes", False: "no"})
        elif c == "indicator":
            out[c] = s.astype(object).map(lambda v: header(v, "en") if isinstance(v, str) else v)
        elif c in VALUE_LABELS and not pd.api.types.is_numeric_dtype(s.dtype):
            out[c] = s.astype(object).map(lambda v: v.replace("_", " ") if isinstance(v, str) else v)
    return out


def data_details(df: pd.DataFrame, ids: Ids, lang: str) -> str:
    return f"<details><summary>{esc(REPORT[lang]['data'])}</summary>{table_html(display_values(df, lang), ids, lang)}</details>"
