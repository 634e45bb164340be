"""One input contract for every analysis command: a grouped export with the settlement list's Chinese headers,
saved as GBK, runs through evaluate, pay, tiered-care, support, risk and audit without renaming a column; other
names are mapped with --columns; a missing column is one line naming it and what it is for."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SCHEMES, need_shared

SETTLEMENT_HEADERS = {
    "case_id": "清单流水号", "hospital_id": "定点医疗机构代码", "patient_id": "患者ID", "year": "年度", "admit_date": "入院日期",
    "discharge_date": "出院日期", "residence_county": "现住址县区", "sex": "性别", "age_years": "年龄", "age_days": "年龄(天)",
    "weight_g": "新生儿出生体重(克)", "dept": "出院科别", "los_days": "实际住院天数", "leaving_type": "离院方式",
    "icu_hours": "重症监护时长(小时)", "receiving_institution": "拟接收医疗机构名称", "dx": "诊断编码", "px": "手术操作编码",
    "total_cost": "医疗总费用", "drug_cost": "药品费", "consumables_cost": "耗材费", "service_cost": "医疗服务费",
    "exam_cost": "检查化验费", "other_cost": "其他费"}


def drg(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "drg.cli", *map(str, args)], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """(a grouped GBK CSV with settlement-list headers, the same records grouped under canonical names)."""
    need_shared()
    import grouper
    from drg.synth import synthesize

    d = tmp_path_factory.mktemp("contract")
    synthesize(grouper.load_scheme(SCHEMES / "chs-drg-1.1"), str(d / "s"), cases=20_000, seed=3, quiet=True)
    t = pq.read_table(d / "s" / "discharges.parquet").to_pandas()
    for c in ("dx", "px"):
        t[c] = t[c].map("|".join)
    t.rename(columns=SETTLEMENT_HEADERS).to_csv(d / "export.csv", index=False, encoding="gbk")
    drg("group", d / "export.csv", "-o", d / "grouped.csv", "-q")
    g = pd.read_csv(d / "grouped.csv", dtype=str, keep_default_na=False)
    assert "定点医疗机构代码" in g.columns and "hospital_id" not in g.columns  # drg group passes the headers through
    g.to_csv(d / "grouped_gbk.csv", index=False, encoding="gbk")
    drg("group", d / "s" / "discharges.parquet", "-o", d / "grouped.parquet", "-q")
    return d


@pytest.mark.slow
@pytest.mark.parametrize("command", [["evaluate"], ["pay", "--budget", "1e8"], ["tiered-care"], ["support"],
                                     ["risk", "--sample", "5000"], ["audit"]])
def test_every_command_reads_the_settlement_list_export(exports, command):
    out = exports / f"out-{command[0]}"
    drg(command[0], exports / "grouped_gbk.csv", *command[1:], "-o", out, "--lang", "en")
    assert any(out.glob("*.parquet"))


@pytest.mark.slow
def test_the_export_gives_the_same_evaluation_as_canonical_names(exports):
    drg("evaluate", exports / "grouped_gbk.csv", "-o", exports / "e1", "--lang", "en")
    drg("evaluate", exports / "grouped.parquet", "-o", exports / "e2", "--lang", "en")
    a = pd.read_parquet(exports / "e1" / "hospital.parquet")
    b = pd.read_parquet(exports / "e2" / "hospital.parquet")
    cols = ["hospital_id", "cases", "drg_count", "cmi", "cost_index", "time_index", "low_risk_mortality"]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False, rtol=1e-9)
    assert int(a["cases"].sum()) > 19_000


@pytest.mark.slow
def test_columns_mapping_and_one_line_errors(exports, tmp_path):
    g = pd.read_csv(exports / "grouped.csv", dtype=str, keep_default_na=False).rename(columns={"定点医疗机构代码": "机构X"})
    g.to_csv(tmp_path / "odd.csv", index=False)
    p = drg("evaluate", tmp_path / "odd.csv", "-o", tmp_path / "e", check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith("drg: error: ")
    assert "hospital_id" in p.stderr and "--columns" in p.stderr and "Traceback" not in p.stderr
    (tmp_path / "map.toml").write_text('[columns]\nhospital_id = "机构X"\n', encoding="utf-8")
    for command in (["evaluate"], ["audit"], ["pay", "--budget", "1e8"]):
        drg(command[0], tmp_path / "odd.csv", *command[1:], "--columns", tmp_path / "map.toml", "-o", tmp_path / command[0])
    (tmp_path / "bad.toml").write_text('[columns]\nhospital = "机构X"\n', encoding="utf-8")
    p = drg("evaluate", tmp_path / "odd.csv", "--columns", tmp_path / "bad.toml", "-o", tmp_path / "x", check=False)
    assert p.returncode == 2 and "未知名称 hospital" in p.stderr and p.stderr.count("\n") == 1
    (tmp_path / "gone.toml").write_text('[columns]\nhospital_id = "nowhere"\n', encoding="utf-8")
    p = drg("audit", tmp_path / "odd.csv", "--columns", tmp_path / "gone.toml", "-o", tmp_path / "y", check=False)
    assert p.returncode == 2 and "'nowhere'" in p.stderr and p.stderr.count("\n") == 1
    g.drop(columns=["DRG编码"]).to_csv(tmp_path / "nodrg.csv", index=False)  # group's Chinese CSV header of drg
    for command in ("evaluate", "risk", "audit", "support"):
        p = drg(command, tmp_path / "nodrg.csv", "--columns", tmp_path / "map.toml", "-o", tmp_path / "z", check=False)
        assert p.returncode == 2 and "drg" in p.stderr and f"drg {command} 需要列" in p.stderr, p.stderr


def test_resolve_prefers_mapping_then_canonical_then_aliases_in_order():
    from drg.contract import resolve
    from drg.io import InputError

    got = resolve(["医疗总费用", "total_cost", "出院 日期", "定点医疗机构代码", "医院编码"])
    assert got["total_cost"] == "total_cost" and got["discharge_date"] == "出院 日期"
    assert got["hospital_id"] == "定点医疗机构代码"
    assert resolve(["医院编码", "机构"], {"hospital_id": "机构"})["hospital_id"] == "机构"
    with pytest.raises(InputError):
        resolve(["a"], {"hospital_id": "b"})


@pytest.mark.slow
@pytest.mark.parametrize("lang,without", [("zh", "residence_county"), ("en", "residence_county"), ("zh", "year")])
def test_tiered_care_without_residence_or_year_says_why_there_are_no_county_rates(exports, lang, without):
    """A file without the patients' county, or with no readable year, still gives its tables; the summary line says
    the in-county rates need residence_county and year (each was a traceback)."""
    import pyarrow as pa

    t = pq.read_table(exports / "grouped.parquet")
    if without == "year":
        t = t.set_column(t.column_names.index("year"), "year", pa.nulls(len(t), t.schema.field("year").type))
    else:
        t = t.drop([without])
    pq.write_table(t, exports / f"no_{without}_{lang}.parquet")
    out = exports / f"tiered-no-{without}-{lang}"
    p = drg("tiered-care", exports / f"no_{without}_{lang}.parquet", "-o", out, "--lang", lang)
    assert ("现住址县区" if lang == "zh" else "residence county") in p.stdout and "Traceback" not in p.stderr
    assert (out / "hospital.parquet").exists() and len(pd.read_parquet(out / "county.parquet")) == 0
    p = drg("tiered-care", exports / "grouped.parquet", "-o", exports / f"tiered-{lang}", "--lang", lang)
    assert "现住址县区" not in p.stdout and "residence county" not in p.stdout
    assert ("个县(区)" if lang == "zh" else " counties") in p.stdout
