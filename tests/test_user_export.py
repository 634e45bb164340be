"""The README's pipeline, run literally on a user's own export (issue 33): a 医保结算清单 export made from the
public case records the way offices export them (tests/userexport.py: GBK CSV and .xlsx, Chinese wide headers,
dates but no 年度 column, hospitals in no built-in network, blank cells), through group -> evaluate -> risk ->
audit -> pay -> tiered-care -> support -> report with the README's folder names, as a user types the commands.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import CASES, need_shared

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
import userexport  # noqa: E402

# words that are not English prose in a Chinese output: abbreviations every Chinese DRG document uses, the
# quadrants' roman numerals and method names (people's names)
ALLOWED = {"CMI", "DRG", "DRGs", "MDC", "ADRG", "RW", "CV", "ICD", "LOS", "MCC", "CC", "CHS", "RIV", "ICU", "II", "III",
           "IV", "Poisson", "DerSimonian", "Laird", "Spiegelhalter", "Callaway", "Sant", "Anna", "Webb", "Rademacher", "Plotly", "drg"}


def english_words(text: str, ids=()) -> list[str]:
    """Words of three or more Latin letters that are not codes (no digits inside), ids, file names or abbreviations."""
    allowed = ALLOWED | set(ids)
    return [w for w in re.findall(r"(?<![\w./\\-])[A-Za-z][A-Za-z_]{2,}(?![\w/\\.-])", text)  # chs-drg-1.1: an id
            if w not in allowed and not w.isupper()]  # all capitals: a code (ZZZ) or an abbreviation


def report_text(path: Path) -> str:
    """What a reader of the report sees: the page's text (code samples of commands left out) and the charts' titles,
    labels, legends and hover texts."""
    page = path.read_text(encoding="utf-8")
    figures = json.loads(re.search(r"id='drg-figures'>(.*?)</script>", page, re.S).group(1))
    page = re.sub(r"<script.*?</script>|<style.*?</style>|<code>.*?</code>", " ", page, flags=re.S)
    texts = [html.unescape(re.sub(r"<[^>]+>", " ", page))]

    def walk(x, key=""):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, str) and key in ("text", "hovertext", "name", "hovertemplate", "label", "y", "x"):
            texts.append(html.unescape(re.sub(r"<[^>]+>|%\{[^}]*\}", " ", x)))  # %{customdata:,}: Plotly's syntax
    walk(figures)
    return " ".join(texts)


def workbook_text(path: Path) -> str:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    parts = []
    for ws in wb.worksheets:
        parts.append(ws.title)
        for row in ws.iter_rows(values_only=True):
            parts += [str(v) for v in row if isinstance(v, str)]
    return " ".join(parts)


def drg(cwd: Path, *args) -> subprocess.CompletedProcess:
    """``drg ARGS`` as a user types it, in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "drg.cli", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def terminal(p: subprocess.CompletedProcess) -> str:
    """What a command printed, its ``drg: error:`` prefix (the format of every refusal) and command names left out."""
    text = (p.stdout + "\n" + p.stderr).replace("\r", "\n").replace("drg: error:", "")
    return re.sub(r"\bdrg [a-z-]+(?: --[a-z-]+)*", " ", text)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    need_shared()
    cases = CASES / "chs-drg-1.1.parquet"
    if not cases.exists():
        pytest.skip(f"no public cases at {cases}")
    folder = tmp_path_factory.mktemp("office")
    files = userexport.write_export(userexport.make_export(cases), folder)
    pairs = folder / "对口支援.csv"
    hosp = userexport.HOSPITALS
    pd.DataFrame({"支援医院编码": [hosp[0][0], hosp[1][0]], "受援医院编码": [hosp[2][0], hosp[3][0]],
                  "start_year": [2024, 2024]}).to_csv(pairs, index=False, encoding="gbk")
    return {**files, "pairs": pairs, "folder": folder, "expected": userexport.expected(cases)}


@pytest.fixture(scope="module")
def pipeline(export):
    """The README's pipeline on the GBK CSV export, each command's result kept."""
    d = export["folder"]
    steps = {
        "group": ["group", "结算清单.csv", "-o", "grouped.parquet"],
        "evaluate": ["evaluate", "grouped.parquet", "--hospitals", "医院.csv", "-o", "eval/"],
        "risk": ["risk", "grouped.parquet", "--hospitals", "医院.csv", "-o", "risk/"],
        "audit": ["audit", "grouped.parquet", "--hospitals", "医院.csv", "-o", "audit/"],
        "pay": ["pay", "grouped.parquet", "--budget", "30,000,000", "--hospitals", "医院.csv", "-o", "pay/"],
        "tiered-care": ["tiered-care", "grouped.parquet", "--hospitals", "医院.csv", "-o", "tiered/"],
        "support": ["support", "grouped.parquet", "--pairs", "对口支援.csv", "--hospitals", "医院.csv", "-o", "support/"],
        "report": ["report", ".", "-o", "report.html", "--xlsx", "report.xlsx"],
    }
    return {name: drg(d, *args) for name, args in steps.items()}


@pytest.mark.slow
def test_the_pipeline_runs_to_the_end_without_a_traceback(pipeline, export):
    for name, p in pipeline.items():
        assert "Traceback" not in p.stderr, (name, p.stderr[-2000:])
        if name == "risk":  # 2,000 cases: too few to fit a model; one line says so, and the pipeline goes on
            assert p.returncode in (0, 2), p.stderr
            if p.returncode:
                lines = [x for x in p.stderr.splitlines() if x.strip()]
                assert len(lines[-1:]) == 1 and lines[-1].startswith("drg: error: ") and "病例" in lines[-1]
            continue
        assert p.returncode == 0, (name, p.stderr[-2000:])
    d = export["folder"]
    for folder, tables in (("eval", ("hospital", "outcomes", "weights", "quality")), ("audit", ("hospital_flags",)),
                           ("pay", ("settlement", "parameters", "cases")), ("tiered", ("region", "hospital")),
                           ("support", ("support", "support_did"))):
        for t in tables:
            assert len(pd.read_parquet(d / folder / f"{t}.parquet")) > 0, (folder, t)


@pytest.mark.slow
def test_the_grouping_of_the_export_is_the_reference_grouping(pipeline, export):
    g = pd.read_parquet(export["folder"] / "grouped.parquet")
    assert (g["drg"].to_numpy() == export["expected"]["expected_drg"].to_numpy()).all()


@pytest.mark.slow
def test_the_year_comes_from_the_discharge_date_in_every_command(pipeline, export):
    d = export["folder"]
    dates = pd.read_csv(export["csv"], encoding="gbk", dtype=str)["出院日期"]
    years = sorted(set(dates.str[:4].astype(int)))
    assert years == [2023, 2024]
    for p in pipeline.values():  # said on the console, once per command that reads years
        assert terminal(p).count("年度取自日期列“出院日期”") <= 1
    assert "年度取自日期列“出院日期”" in pipeline["pay"].stderr
    par = pd.read_parquet(d / "pay" / "parameters.parquet")
    assert sorted(par["year"].astype(int)) == years  # one budget per year, not one for all years (Parquet: canonical)
    assert (par["paid"] == 30_000_000).all()
    cases = pd.read_parquet(d / "pay" / "cases.parquet")
    assert cases["year"].notna().all() and sorted(cases["year"].astype(int).unique()) == years
    flags = pd.read_parquet(d / "audit" / "hospital_flags.parquet")
    assert sorted(flags["year"].dropna().astype(int).unique()) == years
    assert "全部年度" not in terminal(pipeline["pay"]) and not re.search(r"\bnan\b", report_text(d / "report.html"))


@pytest.mark.slow
def test_the_report_shows_every_section_the_tables_allow_and_names_the_rest(pipeline, export):
    page = (export["folder"] / "report.html").read_text(encoding="utf-8")
    assert "data-error" not in page  # no section failed
    for sid in ("overview", "peer", "quadrant", "funnel", "weights", "payment", "tiered", "support", "audit", "trends"):
        assert f"<section id='{sid}'" in page, sid
    absent = re.search(r"<section id='absent'>(.*?)</section>", page, re.S).group(1)
    for command in ("drg risk", "drg evaluate --by hospital-mdc", "drg evaluate --by dept"):
        assert command in absent
    for name, level in ((h[0], h[2]) for h in userexport.HOSPITALS):
        assert name in page  # hospitals without names are shown by their ids


@pytest.mark.slow
def test_a_report_of_hospitals_of_unknown_level(pipeline, export, tmp_path):
    """Without a hospitals file: the report names the hospitals by id and their level 级别未知."""
    d = tmp_path / "out"
    d.mkdir()
    shutil.copy(export["folder"] / "grouped.parquet", d / "grouped.parquet")
    assert drg(d, "evaluate", "grouped.parquet", "-o", "评价结果/").returncode == 0
    p = drg(d, "report", ".", "-o", "report.html")
    assert p.returncode == 0, p.stderr
    page = (d / "report.html").read_text(encoding="utf-8")
    assert "级别未知" in page and "data-error" not in page


@pytest.mark.slow
def test_no_english_words_in_the_chinese_outputs(pipeline, export):
    d = export["folder"]
    ids = {h[0] for h in userexport.HOSPITALS}
    stems = {p.stem for p in d.rglob("*") if p.is_file()} | {p.name for p in d.rglob("*") if p.is_dir()}
    for name, p in pipeline.items():
        words = english_words(terminal(p), ids | stems)
        assert not words, (name, words, terminal(p)[-1500:])
    words = english_words(report_text(d / "report.html"), ids)
    assert not words, words
    for book in ("report.xlsx", "eval/evaluation.xlsx", "pay/payment.xlsx", "audit/audit.xlsx",
                 "tiered/tiered_care.xlsx", "support/support.xlsx"):
        words = english_words(workbook_text(d / book), ids | {"ICU"})
        assert not words, (book, words)


@pytest.mark.slow
def test_the_xlsx_export_groups_as_the_csv_export(export, tmp_path):
    p = drg(export["folder"], "group", "结算清单.xlsx", "-o", tmp_path / "grouped.xlsx")
    assert p.returncode == 0, p.stderr
    x = pd.read_excel(tmp_path / "grouped.xlsx", dtype=str)  # for people: 分组状态, DRG编码, DRG名称 ...
    assert {"分组状态", "DRG编码", "DRG名称", "原因"} <= set(x.columns) and "drg" not in x.columns
    assert (x["DRG编码"].astype(str).to_numpy() == export["expected"]["expected_drg"].to_numpy()).all()
    p = drg(tmp_path, "pay", "grouped.xlsx", "--budget", "1e7", "-o", "pay/", "-q")  # and every command reads it
    assert p.returncode == 0, p.stderr


# one spelling variant of a header per case: the same groups, the same years, or one line naming the problem
VARIANTS = [("主要诊断编码", "主要诊断"), ("出院日期", "出院时间"), ("医疗总费用", "住院总费用"),
            ("定点医疗机构代码", "医疗机构编码"), ("实际住院天数", "住院天数"), ("性别", "性别代码")]


@pytest.mark.slow
@pytest.mark.parametrize("header,variant", VARIANTS)
def test_header_spelling_variants(export, tmp_path, header, variant):
    frame = pd.read_csv(export["csv"], encoding="gbk", dtype=str, keep_default_na=False)
    frame = frame.rename(columns={header: variant})
    frame.to_csv(tmp_path / "清单.csv", index=False, encoding="gbk")
    p = drg(tmp_path, "group", "清单.csv", "-o", "grouped.parquet", "-q")
    assert p.returncode == 0, p.stderr
    g = pd.read_parquet(tmp_path / "grouped.parquet")
    assert (g["drg"].to_numpy() == export["expected"]["expected_drg"].to_numpy()).all()
    p = drg(tmp_path, "pay", "grouped.parquet", "--budget", "1e7", "-o", "pay/", "-q")
    assert p.returncode == 0, p.stderr
    par = pd.read_parquet(tmp_path / "pay" / "parameters.parquet")
    assert sorted(par["year"].astype(int)) == [2023, 2024]
    assert pd.read_parquet(tmp_path / "pay" / "settlement.parquet")["cases_cost_unusable"].sum() < 40  # the cost was read


@pytest.mark.slow
def test_a_name_column_beside_the_code_is_not_taken_for_the_code(export, tmp_path):
    """主要诊断 (a name) beside 主要诊断编码 (the code): the code is the principal diagnosis."""
    frame = pd.read_csv(export["csv"], encoding="gbk", dtype=str, keep_default_na=False)
    frame.insert(frame.columns.get_loc("主要诊断编码"), "主要诊断", "某病名称")
    frame.to_csv(tmp_path / "清单.csv", index=False, encoding="gbk")
    p = drg(tmp_path, "group", "清单.csv", "-o", "grouped.parquet", "-q")
    assert p.returncode == 0, p.stderr
    g = pd.read_parquet(tmp_path / "grouped.parquet")
    assert (g["drg"].to_numpy() == export["expected"]["expected_drg"].to_numpy()).all()


@pytest.mark.slow
def test_evaluate_says_what_it_could_not_compute(pipeline, export, tmp_path):
    """No cost column, hospitals of unknown level: evaluate says which indicators and ranks are empty and why; with
    costs and levels it says nothing of the kind."""
    g = pd.read_parquet(export["folder"] / "grouped.parquet")
    g.drop(columns=["医疗总费用", "药品费", "耗材费", "医疗服务费", "个人自付"]).to_parquet(tmp_path / "nocost.parquet")
    p = drg(tmp_path, "evaluate", "nocost.parquet", "-o", "eval/", "-q")
    assert p.returncode == 0, p.stderr
    assert "未计算" in p.stderr and "CMI" in p.stderr and "--weights" in p.stderr
    assert "级别未知，不参加同级排名" in p.stderr and userexport.HOSPITALS[0][0] in p.stderr
    p = drg(export["folder"], "evaluate", "grouped.parquet", "--hospitals", "医院.csv", "-o", tmp_path / "ok/", "-q")
    assert p.returncode == 0 and "未计算" not in p.stderr and "级别未知" not in p.stderr


@pytest.mark.slow
def test_evaluate_and_the_report_count_the_same_hospitals(pipeline, export, tmp_path):
    """A hospital of the hospitals table without a case is listed, not counted as evaluated, in both."""
    hospitals = pd.read_csv(export["hospitals"], encoding="gbk", dtype=str)
    hospitals.loc[len(hospitals)] = ["H99999999", "2"]
    hospitals.to_csv(tmp_path / "医院.csv", index=False, encoding="gbk")
    shutil.copy(export["folder"] / "grouped.parquet", tmp_path / "grouped.parquet")
    p = drg(tmp_path, "evaluate", "grouped.parquet", "--hospitals", "医院.csv", "-o", "eval/", "-q")
    n = len(userexport.HOSPITALS)
    assert p.returncode == 0 and f"已评价{n}家医院" in p.stdout and "另有1家医院" in p.stdout
    assert drg(tmp_path, "report", ".", "-o", "r.html").returncode == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert re.search(rf"医院数</span><b>{n}</b>|医院数\s*<b>{n}</b>|>医院数<[^<]*<b>{n}</b>", page) or \
        re.search(rf"医院数.{{0,40}}?<b>{n}</b>", page), re.search(r"医院数.{0,80}", page).group(0)


def test_risk_warns_of_a_useless_model():
    from drg.risk import risk_summary

    def tables(c, slope, r2):
        model = pd.DataFrame({"outcome": ["death", "los"], "status": ["ok", "ok"], "c_statistic": [c, None],
                              "calibration_slope": [slope, None], "r2": [None, r2], "cases": [50_000, 50_000],
                              "note": ["", ""]})
        return {"model": model, "hospital": pd.DataFrame({"hospital_id": [], "funnel_flag": []})}

    bad = risk_summary(tables(0.44, -0.20, 0.005), "risk", "zh")
    assert "警告：死亡模型不可用于风险调整" in bad and "住院日模型几乎不能解释差异" in bad
    good = risk_summary(tables(0.81, 0.97, 0.35), "risk", "zh")
    assert "警告" not in good
    assert "warning: the death model is not fit" in risk_summary(tables(0.55, 1.0, 0.3), "risk", "en")


@pytest.mark.slow
def test_long_commands_show_their_progress(pipeline, export, tmp_path):
    """A command running past a second draws its phase, rows and time left on stderr (DRG_PROGRESS=1 stands in for a
    terminal); -q draws nothing."""
    import os

    g = pd.read_parquet(export["folder"] / "grouped.parquet")
    pd.concat([g] * 60, ignore_index=True).to_parquet(tmp_path / "big.parquet", row_group_size=20_000)
    env = {**os.environ, "DRG_PROGRESS": "1", "DRG_PROGRESS_DELAY": "0", "DRG_PROGRESS_TICK": "0.01"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "drg.cli", *a], cwd=tmp_path, capture_output=True,  # noqa: E731
                                    text=True, env=env, timeout=600)
    p = run("audit", "big.parquet", "-o", "audit/", "--batch-size", "20000")
    assert p.returncode == 0, p.stderr
    assert "drg audit：第1遍读取" in p.stderr and "行/秒" in p.stderr and "拟合模型" in p.stderr, p.stderr[-500:]
    assert re.search(r"\d+/120,000行", p.stderr), p.stderr[-500:]  # rows read of the input's rows
    p = run("audit", "big.parquet", "-o", "audit2/", "--batch-size", "20000", "-q")
    assert p.returncode == 0 and "行/秒" not in p.stderr and "\r" not in p.stderr


@pytest.mark.slow
def test_the_report_of_the_export_draws_every_chart_in_a_browser(pipeline, export, tmp_path):
    """The screenshot check: in headless Chromium every section of the user's report is drawn (every chart an SVG
    with its title, no script error) and its screenshot is not blank."""
    from conftest import browser as _browser

    drv = _browser()
    try:
        from selenium.webdriver.common.by import By

        drv.get((export["folder"] / "report.html").as_uri())
        charts = drv.find_elements(By.CSS_SELECTOR, "div.chart")
        assert charts
        for c in charts:
            assert c.find_elements(By.CSS_SELECTOR, "svg.main-svg"), c.get_attribute("id")
            assert c.find_element(By.CSS_SELECTOR, ".gtitle").text.strip()  # titled
        errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        for section in drv.find_elements(By.CSS_SELECTOR, "section[id]"):
            drv.execute_script("arguments[0].scrollIntoView()", section)
            png = section.screenshot_as_png
            (tmp_path / f"{section.get_attribute('id')}.png").write_bytes(png)
            assert len(png) > 4000, section.get_attribute("id")  # drawn: a blank panel compresses to a few hundred bytes
    finally:
        drv.quit()
