"""Numbers by meaning, from one place (drg.formats), in the report and in every workbook (issue 33, item 9)."""

from __future__ import annotations

import pandas as pd
import pytest

from drg.formats import excel_format, kind, row_kinds, text


@pytest.mark.parametrize("col,expected", [
    ("cases", "count"), ("病例数", "count"), ("observed", "count"), ("payment_fen", "count"), ("total_cost", "money"),
    ("base_rate", "money"), ("点值", "money"), ("cmi", "ratio"), ("cost_index", "ratio"), ("oe_ratio", "ratio"),
    ("calibration_slope", "ratio"), ("low_risk_mortality", "rate"), ("grouping_rate", "rate"), ("total_weight", "mean"),
    ("总权重", "mean"), ("year", "plain"), ("rank_cmi", "plain"), ("month", "plain"), ("expected", "mean")])
def test_each_column_has_its_kind(col, expected):
    assert kind(col) == expected


def test_the_report_shows_numbers_by_meaning():
    from drg.report import fmt

    assert fmt(2420.0, "cases") == "2,420"  # not 2420.0000
    assert fmt(1234567.891, "total_cost") == "1,234,567.89"
    assert fmt(0.0532, "low_risk_mortality") == "5.32%"
    assert fmt(1.0015, "cmi") == "1.0015"  # not 100.15%
    assert fmt(0.9896, "calibration_slope") == "0.9896"  # not 98.96%
    assert fmt(12345.678, "total_weight") == "12,345.68"  # thousands separated
    assert fmt(2021, "year") == "2021"
    assert fmt(4.6491, "rate", "mean") == "4.65"  # a mean per case in a column of rates: its row decides


def test_the_audit_measures_are_formatted_by_their_area():
    df = pd.DataFrame({"目标领域": ["例均其他诊断数", "MCC/CC编码率", "CMI异常跃升(病例组合未变)"],
                       "比率": [4.6491, 0.31, 1.0015]})
    kinds = row_kinds(df)
    assert kinds["比率"] == ["mean", "rate", "ratio"]
    assert [text(v, k) for v, k in zip(df["比率"], kinds["比率"])] == ["4.65", "31.00%", "1.0015"]
    assert row_kinds(pd.DataFrame({"cases": [1]})) is None


def test_workbooks_take_their_formats_from_the_same_place(tmp_path):
    import openpyxl

    from drg.excel import write_workbook

    df = pd.DataFrame({"目标领域": ["例均其他诊断数", "MCC/CC编码率"], "比率": [4.6491, 0.31], "病例数": [2420, 3],
                       "总权重": [12345.678, 1.0], "病例组合指数(CMI)": [1.0015, 0.9]})
    write_workbook({"hospital_flags": df}, str(tmp_path / "a.xlsx"))
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx").worksheets[0]
    formats = {ws.cell(1, j).value: [ws.cell(i, j).number_format for i in (2, 3)] for j in range(1, 6)}
    assert formats["比率"] == ["#,##0.00", "0.00%"]
    assert formats["病例数"][0] == "#,##0" and formats["总权重"][0] == "#,##0.00"
    assert formats["病例组合指数(CMI)"][0] == "0.0000"
    assert excel_format("year", integer=True) is None
