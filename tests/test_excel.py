"""Workbooks: the bulk sheet writer (whole columns, rows written at assembly) gives the XML that xlsxwriter writes
cell by cell, on random tables with every kind of value (numbers with NaN and infinities, text that needs XML
escaping or looks like a formula, booleans, categoricals, mixed objects, dates, text too long for a cell)."""

import zipfile
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.worksheet import Worksheet

import drg.excel

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _table(rng: np.random.Generator, n: int, texts: list, dates: bool, long_text: bool) -> pd.DataFrame:
    num = rng.normal(0, 1e6, n)
    num[rng.random(n) < 0.2] = np.nan
    num[rng.random(n) < 0.05] = np.inf
    num[rng.random(n) < 0.05] = -np.inf
    words = texts + ["=HYPERLINK(\"x\")", "a&b<c>", "病例", " lead", "", None]
    df = pd.DataFrame({
        "cases": rng.integers(-5, 10**12, n), "mean_cost": num, "flag": rng.random(n) < 0.5,
        "hospital_id": [words[i] for i in rng.integers(0, len(words), n)],
        "drg": pd.Categorical(rng.choice(["GB25", "ES31", None], n)),
        "mixed": pd.Series([[1, 2.5, True, "x", None, np.nan, np.inf, 3][i] for i in rng.integers(0, 8, n)], dtype=object),
        "share": pd.array([None if rng.random() < 0.3 else v / 2 for v in rng.integers(0, 3, n)], dtype="Float64"),
        "small": pd.array([None if rng.random() < 0.3 else int(v) for v in rng.integers(0, 9, n)], dtype="Int64"),
    })
    if dates:
        df.insert(3, "when", pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"))
    if long_text and n:
        df.loc[0, "hospital_id"] = "长" * 20000
    return df


def _members(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist() if not name.endswith("core.xml")}  # core: the time


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 70), texts=st.lists(TEXT, max_size=6), dates=st.booleans(),
       long_text=st.booleans(), lang=st.sampled_from(["zh", "en"]))
def test_bulk_sheets_write_the_xml_of_cell_by_cell_writing(tmp_path_factory, seed, n, texts, dates, long_text, lang):
    rng = np.random.default_rng(seed)
    tables = {"hospital": _table(rng, n, texts, dates, long_text), "weights": _table(rng, n // 2 + 1, texts, False, False),
              "empty": pd.DataFrame({"a": pd.Series([], dtype=float)})}
    d = tmp_path_factory.mktemp("x")
    drg.excel.write_workbook(tables, str(d / "bulk.xlsx"), lang)
    with mock.patch.object(drg.excel, "_bulk_sheet", lambda: Worksheet):  # the reference: every cell by xlsxwriter
        drg.excel.write_workbook(tables, str(d / "cells.xlsx"), lang)
    bulk, cells = _members(d / "bulk.xlsx"), _members(d / "cells.xlsx")
    assert bulk.keys() == cells.keys()
    for name in cells:
        assert bulk[name] == cells[name], name
    sheet = pd.read_excel(d / "bulk.xlsx", sheet_name=0)
    assert len(sheet) == n
