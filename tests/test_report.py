"""The HTML report in a real browser (headless Debian Chromium): every chart draws, no console errors, no
network, one language per report; screenshots at desktop width; injection safety (HTML, Excel)."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from conftest import CHROMIUM, DRIVER, SCHEMES, browser as _browser, need_shared

EVIL = '<script>window.__pwned=1</script>'
SECTIONS = ("overview", "peer", "quadrant", "funnel", "heatmap", "weights", "risk", "payment", "tiered", "support", "audit",
            "views", "trends")
CJK = re.compile(r"[\u4e00-\u9fff]")
# headers that are the same in both languages (abbreviations a Chinese reader uses as they are)
SHARED_HEADERS = {"MDC", "CMI", "DRG", "O/E", "RW", "CV"}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    need_shared()
    from drg.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(str(SCHEMES / "chs-drg-1.1"), str(out), cases=40_000, seed=7, quiet=True)
    return out


def _figures(path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r"<script type='application/json' id='drg-figures'>(.*?)</script>", text, re.S)
    return json.loads(m.group(1))


def _check_page(drv, report, shots, lang):
    """Load the report; no console errors, no network, every section and chart drawn; screenshots."""
    from selenium.webdriver.common.by import By

    drv.get(report.as_uri())
    errors = [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors
    urls = []
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    assert all(u.startswith(("file:", "data:")) for u in urls), urls
    for sec in SECTIONS:
        assert drv.find_elements(By.ID, sec), sec
    # every chart drawn by plotly: its SVG and at least one trace (bars, points, lines or a heat map image);
    # one script call for all of them (a WebDriver round trip per element costs seconds on a full report)
    charts = drv.execute_script("""return Array.from(document.querySelectorAll('div.chart')).map(function(c){
        var r = c.getBoundingClientRect();
        return [c.id, r.width, r.height, c.querySelectorAll('svg.main-svg').length,
                c.querySelectorAll('g.trace path, g.trace .point, g.hm image').length];});""")
    assert len(charts) == len(_figures(report)) >= 15
    for cid, width, height, svgs, drawn in charts:
        assert width > 400 and height > 200 and svgs and drawn, (cid, width, height, svgs, drawn)
    for sec in SECTIONS:
        el = drv.find_element(By.ID, sec)
        drv.execute_script("arguments[0].scrollIntoView()", el)
        el.screenshot(str(shots / f"report-{lang}-{sec}.png"))
    drv.save_screenshot(str(shots / f"report-{lang}.png"))
    headers = drv.execute_script("return Array.from(document.querySelectorAll('th')).map(e => e.textContent)")
    cells = set(drv.execute_script("return Array.from(document.querySelectorAll('td')).map(e => e.textContent)"))
    # the embedded Chinese font loaded and covers the page's text (no tofu on a machine without a CJK font)
    loaded = drv.execute_script("return Array.from(document.fonts).filter(f => f.family.indexOf('DRG CJK Sans') >= 0)"
                                ".map(f => f.status)")
    assert loaded == ["loaded"], loaded
    sample = "".join(sorted({c for h in headers for c in h if CJK.search(c)}))[:200]
    assert not sample or drv.execute_script("return document.fonts.check('12px \"DRG CJK Sans\"', arguments[0])", sample)
    if lang == "zh":  # one language: headers and coded values in Chinese
        assert all(CJK.search(h) or h in SHARED_HEADERS for h in headers), [h for h in headers if not CJK.search(h)][:10]
        assert not cells & {"tertiary", "secondary", "primary", "alarm_high", "alarm_low", "within", "True", "False", "ok",
                            "too_few_cases", "normal", "high_cost", "points"}
    else:
        assert not any(CJK.search(h) for h in headers)
        assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]  # words, not snake_case


@pytest.mark.slow
def test_demo_report_in_browser(demo_dir, tmp_path):
    from selenium.webdriver.common.by import By

    from drg.report import build_report

    report = demo_dir / "report.html"
    assert report.exists() and report.stat().st_size < 12_000_000
    drv = _browser()
    try:
        _check_page(drv, report, tmp_path, "zh")
        # sort the tertiary table by CMI (click twice: ascending, then descending) and compare with the evaluation table
        hosp = pd.read_parquet(demo_dir / "evaluation" / "hospital.parquet")
        tert = hosp[hosp["peer_group"] == "tertiary"].sort_values("cmi", ascending=True)  # Parquet: canonical
        table = drv.find_elements(By.CSS_SELECTOR, "#peer table")[0]
        header = [th for th in table.find_elements(By.TAG_NAME, "th") if th.text == "病例组合指数(CMI)"][0]
        header.click()
        assert table.find_element(By.CSS_SELECTOR, "tbody tr td").text == tert["hospital_id"].iloc[0]
        header.click()
        assert table.find_element(By.CSS_SELECTOR, "tbody tr td").text == tert["hospital_id"].iloc[-1]
        box = drv.find_elements(By.CSS_SELECTOR, "#peer input.search")[0]
        box.send_keys(tert["hospital_id"].iloc[0])
        assert len([r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]) == 1
        # the heat map shows the top 30 hospitals; its selector widens it to all of them
        heat = drv.find_element(By.CSS_SELECTOR, "#heatmap div.chart")
        rows = drv.execute_script("return arguments[0].data[0].y.length", heat)
        n_all = pd.read_parquet(demo_dir / "evaluation" / "discipline_mdc.parquet")["hospital_id"].nunique()
        assert rows == min(30, n_all)
        drv.execute_script("arguments[0].scrollIntoView()", heat)
        heat.find_elements(By.CSS_SELECTOR, "g.updatemenu-button")[-1].find_element(By.CSS_SELECTOR, "text").click()
        assert drv.execute_script("return arguments[0].data[0].y.length", heat) == n_all
        # the funnel names the hospitals outside the 99.8% limits on the chart itself
        out = pd.read_parquet(demo_dir / "evaluation" / "outcomes.parquet")
        alarms = out[out["funnel_flag"].astype(str).str.startswith("alarm")]["hospital_id"]
        names = dict(zip(hosp["hospital_id"], hosp["name"]))
        labels = " ".join(e.get_attribute("textContent") for e in drv.find_elements(By.CSS_SELECTOR, "#funnel g.textpoint"))
        assert len(alarms) and all(names[i] in labels for i in alarms)
        en = tmp_path / "report-en.html"
        build_report(str(demo_dir), str(en), lang="en")
        _check_page(drv, en, tmp_path, "en")
    finally:
        drv.quit()


@pytest.mark.slow
def test_report_from_evaluate_alone_shows_grouping_status(demo_dir, tmp_path):
    """Without the grouping summary the status chart comes from the evaluation's grouping rate (not empty)."""
    from drg.report import build_report

    only = tmp_path / "only"
    shutil.copytree(demo_dir / "evaluation", only / "evaluation")
    build_report(str(only), str(tmp_path / "r.html"))
    build_report(str(only), str(tmp_path / "again.html"))
    assert (tmp_path / "r.html").read_bytes() == (tmp_path / "again.html").read_bytes()  # deterministic, font subset too
    figs = _figures(tmp_path / "r.html")
    status = next(f for f in figs.values() if f["layout"]["title"]["text"] == "分组状态")
    q = pd.read_parquet(only / "evaluation" / "quality.parquet").set_index("metric")["value"]
    grouped, failed = status["data"][0]["x"]
    assert failed > 0.9 and abs(grouped / (grouped + failed) - q["grouping_rate"]) < 1e-4


@pytest.mark.slow
def test_report_escapes_data_and_excel_keeps_formulas_as_text(demo_dir, tmp_path):
    from drg.report import build_report

    bad = tmp_path / "bad"
    shutil.copytree(demo_dir, bad, ignore=shutil.ignore_patterns("*.html", "*.xlsx", "synthetic"))
    h = pd.read_parquet(bad / "evaluation" / "hospital.parquet")
    h.loc[0, "name"] = EVIL
    h.loc[1, "name"] = '=HYPERLINK("http://evil.example","x")'
    h.loc[2, "name"] = "+1+2"
    h.loc[3, "name"] = "@SUM(A1)"
    h.loc[4, "name"] = "-3"
    h.to_parquet(bad / "evaluation" / "hospital.parquet", index=False)
    out = tmp_path / "r.html"
    xlsx = tmp_path / "r.xlsx"
    build_report(str(bad), str(out), str(xlsx))
    text = out.read_text(encoding="utf-8")
    assert EVIL not in text and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    import openpyxl

    ws = openpyxl.load_workbook(xlsx)["医院指标"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    values = {c.value for c in cells}
    assert {'=HYPERLINK("http://evil.example","x")', "+1+2", "@SUM(A1)", "-3"} <= values
    assert all(c.data_type == "s" for c in cells)  # stored as text, never as a formula
    if CHROMIUM and DRIVER:
        drv = _browser()
        try:
            drv.get(out.as_uri())
            assert drv.execute_script("return window.__pwned === undefined")
        finally:
            drv.quit()


@pytest.mark.slow
def test_workbook_number_formats_follow_meaning(demo_dir):
    """Money with separators, rates as %, indices with 4 decimals, counts as integers, years as written."""
    import openpyxl

    wb = openpyxl.load_workbook(demo_dir / "report.xlsx")

    def fmt(sheet, header):
        ws = wb[sheet]
        col = [c.value for c in ws[1]].index(header)
        return ws.cell(row=2, column=col + 1).number_format

    assert fmt("医院结算", "分担金额") == "#,##0.00"  # an amount in yuan, never a percentage
    assert fmt("医院结算", "结余率") == "0.00%"
    assert fmt("医院结算", "病例数") == "#,##0"
    assert fmt("医院结算", "年度") == "General"
    assert fmt("医院指标", "费用消耗指数") == "0.0000"
    assert fmt("医院指标", "低风险组死亡率") == "0.00%"
    values = {c.value for row in wb["医院指标"].iter_rows(min_row=2) for c in row}
    assert not values & {"tertiary", "alarm_high", "True", "False", "<NA>"}
