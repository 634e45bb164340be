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


@pytest.mark.parametrize("header", ["主要诊断", "主诊断", "出院主要诊断", "主要诊断代码", "出院主要诊断代码"])
def test_principal_diagnosis_header_variants_group_alike(tiny, header):
    """The common spellings of the principal-diagnosis header give the same DRGs; with a name column beside the
    code column, the code column is the principal."""
    base = pd.DataFrame({"性别": ["1", "1"], "年龄": ["60", "70"], "主要诊断编码": ["I63.900", "I61.000"],
                         "其他诊断编码1": ["J96.000", None], "其他诊断编码2": [None, "E11.900"]})
    want = grouper.group(base, tiny)["drg"].tolist()
    assert grouper.group(base.rename(columns={"主要诊断编码": header}), tiny)["drg"].tolist() == want
    named = base.assign(主要诊断名称=["脑梗死", "脑出血"])
    named = named[["主要诊断名称", *base.columns]]  # the name column first in the file
    assert grouper.group(named, tiny)["drg"].tolist() == want


def test_a_secondary_diagnosis_is_never_promoted_to_principal(tiny, tmp_path, capsys):
    """Numbered secondary columns without a recognised principal: one line naming the candidates, never the first
    secondary taken as principal (which regrouped 96% of a real export with no word)."""
    from drg.cli import main
    from grouper.columns import ColumnError

    df = pd.DataFrame({"性别": ["1"], "年龄": ["60"], "诊断主码": ["I63.900"], "其他诊断编码1": ["J96.000"]})
    with pytest.raises(ColumnError, match="诊断主码"):
        grouper.group(df, tiny)
    src = tmp_path / "export.csv"
    df.to_csv(src, index=False, encoding="gbk")
    assert main(["group", str(src), "--scheme", str(tiny.path), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("drg: error: ") and "诊断主码" in err[0] and "主要诊断编码" in err[0]
    assert not (tmp_path / "o.csv").exists()


def test_two_columns_for_one_deciding_field_are_an_error(tiny):
    from grouper.columns import ColumnError

    df = pd.DataFrame({"sex": [1], "性别": [2], "年龄": [60], "dx": [["I63.900"]]})
    with pytest.raises(ColumnError, match="sex and 性别"):
        grouper.group(df, tiny)
