"""Input layouts: canonical lists, delimited strings, wide columns and Chinese header aliases agree."""

from __future__ import annotations

import pandas as pd
import pytest

import grouper
from grouper.columns import ALIASES, resolve_columns


def test_all_layouts_group_alike(tiny):
    canonical = pd.DataFrame({"case_id": ["1", "2"], "sex": [1, 2], "age_years": [60, 0], "age_days": [None, 5],
                              "weight_g": [None, 2000], "los_days": [5, 3], "leaving_type": ["1", "1"],
                              "dx": [["I63.900", "J96.000"], ["P07.100"]], "px": [["01.2400"], []]})
    delimited = canonical.assign(dx=["I63.900|J96.000", "P07.100"], px=["01.2400", ""])
    chinese = pd.DataFrame({"病案号": ["1", "2"], "性别": ["1", "2"], "年龄": ["60", "0"], "年龄不足1周岁的年龄(天)": [None, "5"],
                            "新生儿出生体重(克)": [None, "2000"], "住院天数": ["5", "3"], "离院方式": ["1", "1"],
                            "主要诊断编码": ["I63.900", "P07.100"], "其他诊断编码1": ["J96.000", None], "其他诊断编码2": ["", None],
                            "主要手术操作编码": ["01.2400", None]})
    fullwidth = chinese.rename(columns={"年龄不足1周岁的年龄(天)": "年龄不足1周岁的年龄（天）"})
    results = [grouper.group(df, tiny)[["status", "drg"]].values.tolist() for df in (canonical, delimited, chinese, fullwidth)]
    assert results[0] == [["分组成功", "BR11"], ["分组成功", "PR19"]]
    assert all(r == results[0] for r in results)
    out = grouper.group(chinese, tiny)
    assert list(out.columns[:11]) == list(chinese.columns)  # input columns kept under their own names


def test_wide_columns_keep_numeric_order(tiny):
    df = pd.DataFrame({"性别": [1], "年龄": [50], "其他诊断编码10": ["E11.900"], "其他诊断编码2": ["J96.000"],
                       "主要诊断编码": ["I63.900"]})
    e = grouper.explain(df.iloc[0], tiny)
    assert "dx=['I63.900', 'J96.000', 'E11.900']" in e.lines[0]


@pytest.mark.parametrize("canon", sorted(ALIASES))
def test_every_alias_resolves(canon):
    for alias in ALIASES[canon]:
        assert resolve_columns([alias]) == {canon: alias}


def test_readme_lists_every_alias():
    from pathlib import Path

    from grouper.columns import WIDE

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for canon, names in ALIASES.items():
        for alias in names:
            assert f"`{alias}`" in text, f"README does not list alias {alias!r} of {canon}"
    for main, numbered in WIDE.values():
        for name in main + numbered:
            assert f"`{name}" in text, f"README does not list wide column {name!r}"
