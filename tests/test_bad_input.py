"""Bad input never crashes a batch and never loses a row: every row gets a status and a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import grouper
from grouper.columns import ColumnError


def _check_complete(out, n):
    assert len(out) == n
    for col in ("status", "status_code", "mdc", "adrg", "drg", "reason"):
        vals = out[col].tolist()
        assert all(v is not None for v in vals), col


def test_hostile_values(tiny):
    long = "I63.900" * 1500  # 10,500 characters
    df = pd.DataFrame({
        "case_id": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
        "sex": ["1", "男", "女", "x", None, "2", 1.0, "9", "", "1"],
        "age_years": ["60", "-5", "abc", None, "70.9", "0", "1e30", "inf", " 45 ", "50"],
        "age_days": [None, None, None, None, None, "3", None, None, None, None],
        "weight_g": [None] * 10,
        "dx": [" I63.900", "i63.900", "Ｉ６３．９００", "I63.900", "", None, "I63.900|E11.900", "I61.000;J96.000", "I63.900,,", long],
        "px": [None, "", "01.2400", "37.5100|x", "", None, "", "01.2400", "", "37.5100 "],
    })
    out = grouper.group(df, tiny)
    _check_complete(out, len(df))
    assert out.index.equals(df.index)
    st = out.set_index("case_id")
    assert st.loc["a", "drg"] == "BR15"  # a delimited export string is trimmed around its separators
    assert "疑为I63.900" in st.loc["b", "warnings"] and "疑为I63.900" in st.loc["c", "warnings"]
    assert st.loc["d", "status"] == "信息校验不通过" and "性别" in st.loc["d", "reason"]
    assert st.loc["j", "drg"] == "AA19" and len(st.loc["j", "warnings"]) > 10_000  # principal procedure decides
    assert st.loc["e", "status"] == "信息校验不通过" and "性别" in st.loc["e", "reason"]
    assert st.loc["b", "status"] == "无法入组" and "负数" in st.loc["b", "warnings"]
    assert st.loc["g", "status"] == "分组成功" and st.loc["g", "drg"] == "BR13"
    assert st.loc["h", "status"] == "信息校验不通过" and "无法识别" in st.loc["h", "warnings"]
    assert st.loc["i", "status"] == "信息校验不通过"  # an empty sex cell is null


def test_codes_in_lists_are_compared_exactly(tiny):
    """Stray spaces / lower case / full width never match (FORMAT.md 1); the warning names the likely code."""
    df = pd.DataFrame({"sex": [1, 1, 1, 1], "age_years": [50] * 4,
                       "dx": [[" I63.900"], ["i63.900"], ["Ｉ６３．９００"], ["I63.900"]]})
    out = grouper.group(df, tiny)
    assert out["status"].tolist() == ["无法入组"] * 3 + ["分组成功"]
    for w in out["warnings"][:3]:
        assert "疑为I63.900" in w
    assert out["warnings"][3] is None or pd.isna(out["warnings"][3])
    en = grouper.group(df, tiny, lang="en")
    assert "looks like I63.900" in en["warnings"][0] and "not 1" not in en["reason"][0]


@pytest.mark.parametrize("column,value", [
    ("sex", pa.array([None, None], pa.int64())),
    ("age_years", pa.array([1.5, float("nan")])),
    ("dx", pa.array([[], None], pa.list_(pa.string()))),
    ("dx", pa.array([["I63.900", None], [None]], pa.list_(pa.string()))),
    ("px", pa.array([None, [None, "01.2400"]], pa.list_(pa.string()))),
    ("dept", pa.array([3.0, None])),
    ("leaving_type", pa.array([5, None])),
    ("los_days", pa.array(["10", "天"])),
])
def test_odd_types_and_nulls(tiny, column, value):
    base = {"case_id": ["1", "2"], "sex": [1, 2], "age_years": [40, 0], "age_days": [None, 10], "weight_g": [None, 3000],
            "dx": [["I63.900"], ["P07.100"]], "px": [[], []]}
    base[column] = value
    out = grouper.group(pa.table(base), tiny)
    assert out.num_rows == 2
    for col in ("status", "reason"):
        assert out.column(col).null_count == 0


def test_missing_optional_columns_are_null(tiny):
    out = grouper.group(pd.DataFrame({"sex": [1], "age_years": [50], "dx": [["I63.900"]]}), tiny)
    assert out.loc[0, "drg"] == "BR15"


def test_missing_required_column_names_fix(tiny):
    with pytest.raises(ColumnError, match="sex.*性别"):
        grouper.group(pd.DataFrame({"age_years": [50], "dx": [["I63.900"]]}), tiny)


def test_empty_input(tiny):
    out = grouper.group(pa.table({"sex": pa.array([], pa.int8()), "age_years": pa.array([], pa.int16()),
                                  "dx": pa.array([], pa.list_(pa.string()))}), tiny)
    assert out.num_rows == 0 and "status" in out.column_names


def test_big_random_garbage_keeps_every_row(tiny):
    rng = np.random.default_rng(0)
    n = 5000
    pool = ["I63.900", "I61.000", "E11.900", "J96.000", "", " ", "？", "I63.9", "A" * 300, "37.5100"]
    df = pd.DataFrame({
        "case_id": [f"r{i}" for i in range(n)],
        "sex": rng.choice(np.array([1, 2, 0, 3, None], dtype=object), n),
        "age_years": rng.choice(np.array([0, 1, 50, -3, None, 200], dtype=object), n),
        "age_days": rng.choice(np.array([None, 0, 28, 29, -1], dtype=object), n),
        "weight_g": rng.choice(np.array([None, 0, 900, 4000], dtype=object), n),
        "dx": [list(rng.choice(pool, rng.integers(0, 5))) for _ in range(n)],
        "px": [list(rng.choice(pool, rng.integers(0, 3))) for _ in range(n)],
    })
    out = grouper.group(df, tiny)
    _check_complete(out, n)
    assert out["case_id"].tolist() == df["case_id"].tolist()
