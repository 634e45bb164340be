"""The CHS-DRG 2.0 / 3.0 constructs of FORMAT.md on a hand-written scheme (tests/schemes/mini-2.0), each case worked
out by hand from its tables: the reject step, principal-procedure nulling, medical ADRGs only without a principal
procedure, admission weight, count and prefix atoms, flags and hours, configurable input checks and the output
conventions (0000 with the ADRG kept, the QY code as the ADRG). The engine, the naive reference, the one-record path
of `drg serve` and `drg explain` must all give the answers written here."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

import grouper
from grouper.explain import explain
from grouper.single import group_one
from naive import NaiveScheme, group_record

MINI = Path(__file__).parent / "schemes" / "mini-2.0"
OK, FAIL, QY = "分组成功", "无法入组", "歧义病案"
REJECTED = ("0000", "00", "0000")

# (what it shows, record fields over the defaults sex 1 / age 60, expected status, mdc, adrg, drg)
CASES = [
    ("reject: principal diagnosis on the invalid list", {"dx": ["R69.x00"]}, ("编码不规范：主要诊断无效", *REJECTED)),
    ("reject: gray principal diagnosis (also in MDCB's table)", {"dx": ["I67.900"]}, ("主要诊断为灰码", *REJECTED)),
    ("reject: gray principal procedure", {"dx": ["I63.900"], "px": ["38.9300"]}, ("主要手术为灰码", *REJECTED)),
    ("gray but exempt 99.1000; BR1 with no split holding: 0000 with the ADRG kept",
     {"dx": ["I63.900"], "px": ["99.1000"]}, (FAIL, "MDCB", "BR1", "0000")),
    ("the same with a CC", {"dx": ["I63.900", "E11.900"], "px": ["99.1000"]}, (OK, "MDCB", "BR1", "BR13")),
    ("prefix atoms on an unknown principal code: MDCB and BR1 by I61, BR12 by I61.0; medical only (no px)",
     {"dx": ["I61.0x99"]}, (OK, "MDCB", "BR1", "BR12")),
    ("I61.100 does not start with I61.0; no split holds", {"dx": ["I61.100"]}, (FAIL, "MDCB", "BR1", "0000")),
    ("invalid principal procedure nulled for routing, seen by the split BR11",
     {"dx": ["I63.900"], "px": ["96.7201"]}, (OK, "MDCB", "BR1", "BR11")),
    ("nulled principal procedure: surgical BB1 skipped although 01.2400 is coded second",
     {"dx": ["I61.000"], "px": ["99.0400", "01.2400"]}, (OK, "MDCB", "BR1", "BR12")),
    ("a valid principal procedure: BB1, one BB1 procedure", {"dx": ["I61.000"], "px": ["01.2400", "99.0400"]},
     (OK, "MDCB", "BB1", "BB15")),
    ("count(px in @BB1.ss) >= 2 with two procedures", {"dx": ["I61.000"], "px": ["01.2400", "01.5900"]},
     (OK, "MDCB", "BB1", "BB11")),
    ("count(px ...) counts positions: one code twice", {"dx": ["I61.000"], "px": ["01.2400", "01.2400"]},
     (OK, "MDCB", "BB1", "BB11")),
    ("count(distinct sdx ...) >= 2: E11.900 twice and I10.x00", {"dx": ["G40.900", "E11.900", "E11.900", "I10.x00"]},
     (OK, "MDCB", "BS1", "BS11")),
    ("count(distinct sdx ...): one distinct code", {"dx": ["G40.900", "E11.900", "E11.900"]}, (OK, "MDCB", "BS1", "BS15")),
    ("unrelated OR procedure: the QY group, reported with the QY code as ADRG",
     {"dx": ["I63.900"], "px": ["47.0100"]}, (QY, "MDCB", "BQY", "BQY")),
    ("ppx prefix in {00.6}", {"dx": ["I63.900"], "px": ["00.6200"]}, (OK, "MDCB", "BE2", "BE25")),
    ("ppx prefix on an unknown procedure code", {"dx": ["I63.900"], "px": ["00.6599x"]}, (OK, "MDCB", "BE2", "BE25")),
    ("day surgery counts as no CC", {"dx": ["N40.x00", "E11.900"], "px": ["60.2100"], "day_surgery": 1},
     (OK, "MDCM", "MB1", "MB15")),
    ("not day surgery: the CC counts", {"dx": ["N40.x00", "E11.900"], "px": ["60.2100"], "day_surgery": 0},
     (OK, "MDCM", "MB1", "MB13")),
    ("robot-assisted surgery as a code list", {"dx": ["N40.x00"], "px": ["60.2100", "17.4100"]}, (OK, "MDCM", "MB1", "MB11")),
    ("missing sex accepted: MDCM tried, then MDCN", {"sex": None, "dx": ["N80.000"]}, (OK, "MDCN", "NR1", "NR15")),
    ("missing sex accepted: MDCM", {"sex": None, "dx": ["N40.x00"]}, (OK, "MDCM", "MR1", "MR15")),
    ("missing age accepted (MDCP needs age 0)", {"age_years": None, "dx": ["I63.900", "I10.x00"]}, (OK, "MDCB", "BR1", "BR13")),
    ("newborn without any weight: the weight ADRGs skipped", {"age_years": 0, "age_days": 10, "dx": ["P07.100"]},
     (OK, "MDCP", "PU1", "PU15")),
    ("admission weight", {"age_years": 0, "age_days": 10, "admission_weight_g": 1200, "dx": ["P07.100"]},
     (OK, "MDCP", "PS1", "PS11")),
    ("birth weight", {"age_years": 0, "age_days": 10, "weight_g": 2000, "dx": ["P07.100"]}, (OK, "MDCP", "PS2", "PS21")),
    ("high-risk pregnancy as MCC for OB1", {"sex": 2, "age_years": 30, "dx": ["O82.000", "O24.400"], "px": ["74.1x00"]},
     (OK, "MDCO", "OB1", "OB11")),
    ("no high-risk pregnancy", {"sex": 2, "age_years": 30, "dx": ["O82.000"], "px": ["74.1x00"]}, (OK, "MDCO", "OB1", "OB15")),
    ("CRRT hours", {"dx": ["N17.900"], "crrt_hours": 80}, (OK, "MDCL", "LR1", "LR11")),
    ("intensive care", {"dx": ["N17.900"], "crrt_hours": 10, "intensive_care": 1}, (OK, "MDCL", "LR1", "LR13")),
    ("new technique", {"dx": ["N17.900"], "new_technique": 1}, (OK, "MDCL", "LR1", "LR13")),
    ("none of them", {"dx": ["N17.900"], "new_technique": 0, "intensive_care": 0}, (OK, "MDCL", "LR1", "LR15")),
    ("no diagnosis: [\"\"] matches nothing (FORMAT.md 5.1)", {"dx": []}, (FAIL, "0000", "00", "0000")),
]
FIELDS = ("case_id", "sex", "age_years", "age_days", "weight_g", "admission_weight_g", "new_technique", "intensive_care",
          "day_surgery", "crrt_hours", "dx", "px")


def _record(i, over):
    rec = {"case_id": f"c{i:02d}", "sex": 1, "age_years": 60, "age_days": None, "weight_g": None, "admission_weight_g": None,
           "new_technique": None, "intensive_care": None, "day_surgery": None, "crrt_hours": None, "dx": [], "px": []}
    rec.update(over)
    return rec


RECORDS = [_record(i, over) for i, (_, over, _) in enumerate(CASES)]
WANT = [want for _, _, want in CASES]


@pytest.fixture(scope="module")
def scheme():
    return grouper.load_scheme(MINI, use_cache=False)


def test_every_case_groups_as_worked_out_by_hand(scheme):
    out = grouper.group(pa.Table.from_pylist(RECORDS), scheme)
    got = list(zip(*(out.column(c).to_pylist() for c in ("status", "mdc", "adrg", "drg"))))
    wrong = [(CASES[i][0], g, w) for i, (g, w) in enumerate(zip(got, WANT)) if g != w]
    assert not wrong, wrong
    reasons = out.column("reason").to_pylist()
    assert "拒绝规则1成立" in reasons[0] and "按方案输出0000" in reasons[3]
    warnings = out.column("warnings").to_pylist()
    assert "I61.0x99" in warnings[5] and "00.6599x" in warnings[16]  # unknown codes are still warned about
    assert set(out.column("status_code").to_pylist()[:3]) == {"rejected"}


def test_the_naive_reference_reads_the_scheme_the_same_way():
    naive = NaiveScheme(str(MINI))
    got = [group_record(naive, {**r, "los_days": None}) for r in RECORDS]
    assert got == WANT


def test_one_record_at_a_time_equals_the_batch(scheme):
    for rec, want in zip(RECORDS, WANT):
        r = group_one(rec, scheme)
        assert (r["status"], r["mdc"], r["adrg"], r["drg"]) == want, rec


def test_explain_shows_each_construct_in_words(scheme):
    text = {CASES[i][0]: str(explain(rec, scheme)) for i, rec in enumerate(RECORDS)}
    assert "拒绝规则 1 (编码不规范：主要诊断无效): pdx in @ZD_INVALID -> 成立" in text[CASES[0][0]]
    nulled = text[CASES[8][0]]
    assert "主手术 99.0400 在无效手术表内" in nulled and "只尝试内科ADRG" in nulled
    assert "count(px in @BB1.ss) >= 2 = True (count 2" in text[CASES[10][0]]
    assert "count(distinct sdx in @BS1.cx) >= 2 = True (count 2" in text[CASES[12][0]]
    assert 'pdx prefix in {"I61.0"} = True (I61.0…)' in text[CASES[5][0]]  # an unknown code, by its longest prefix
    assert "cc = False (日间手术按无并发症处理)" in text[CASES[17][0]]
    for i, rec in enumerate(RECORDS):
        e = explain(rec, scheme)
        assert (e.status, e.mdc, e.adrg, e.drg) == WANT[i], CASES[i][0]
    english = str(explain(RECORDS[8], scheme, lang="en"))
    assert "only medical ADRGs" in english


def test_the_new_fields_are_read_from_an_export_with_chinese_headers(tmp_path, scheme):
    """入院体重 / 新技术 / 重症监护 / 日间手术 / CRRT时长 as a settlement-list export writes them (是/否, units)."""
    rows = [["病案号", "性别", "年龄", "年龄(天)", "入院体重", "新技术", "是否重症监护", "日间手术", "CRRT时长(小时)", "主要诊断编码",
             "其他诊断编码1", "主要手术操作编码"],
            ["a", "男", "60", "", "", "否", "否", "是", "", "N40.x00", "E11.900", "60.2100"],
            ["b", "男", "60", "", "", "否", "否", "否", "", "N40.x00", "E11.900", "60.2100"],
            ["c", "男", "0", "10", "1.2kg", "", "", "", "", "P07.100", "", ""],
            ["d", "女", "50", "", "", "", "", "", "80小时", "N17.900", "", ""],
            ["e", "女", "50", "", "", "是", "", "", "", "N17.900", "", ""]]
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    from drg.io import read_table

    out = grouper.group(read_table(str(path)), scheme)
    assert out.column("drg").to_pylist() == ["MB15", "MB13", "PS11", "LR11", "LR13"]


def test_schemes_without_the_new_keys_keep_their_conventions(scheme):
    """A 1.x scheme: no reject step, every input check, the ADRG code when no split holds, QY as the ADRG."""
    one = grouper.load_scheme()
    assert one.meta["input_checks"] == ("sex", "age_years", "age_days", "weight_g", "dx")
    assert one.reject_asts == [] and one.prefixes == []
    assert (one.arrays["step_nosplit"] == one.arrays["step_result"]).all()
    assert list(one.arrays["flags"]) == [31, -1, 0, 0]


def test_drg_synth_builds_records_for_a_scheme_using_the_constructs(tmp_path, scheme):
    """The record builder meets count, prefix and the new fields (drawn where a rule asks for them): the synthetic
    records reach nearly every DRG of the scheme, and carry the new fields its rules read."""
    import pyarrow.parquet as pq

    from drg.synth import synthesize

    synthesize(scheme, str(tmp_path), cases=4_000, seed=5, quiet=True)
    t = pq.read_table(tmp_path / "discharges.parquet")
    assert {"admission_weight_g", "crrt_hours", "intensive_care"} <= set(t.column_names)
    out = grouper.group(t, scheme, only_results=True)
    reached = set(out.column("drg").to_pylist())
    drgs = {d for d, _, _ in scheme.split_asts}
    assert len(drgs - reached) <= 2, sorted(drgs - reached)
    assert {"BB11", "BS11", "BR12", "PS11", "LR11"} <= reached  # count, distinct count, prefix, admission weight, CRRT


def test_drg_explain_takes_the_new_fields(capsys):
    from drg.cli import main

    main(["explain", "--scheme", str(MINI), "--dx", "N40.x00|E11.900", "--px", "60.2100", "--sex", "1", "--age", "60",
          "--day-surgery", "是"])
    out = capsys.readouterr().out
    assert "cc = False (日间手术按无并发症处理)" in out and "MB15" in out
    main(["explain", "--scheme", str(MINI), "--dx", "N17.900", "--sex", "2", "--age", "50", "--crrt-hours", "80"])
    assert "LR11" in capsys.readouterr().out
