"""The HTML report in a real browser (headless Debian Chromium), and injection safety (HTML, Excel)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from conftest import SCHEMES, need_shared

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
EVIL = '<script>window.__pwned=1</script>'


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    need_shared()
    from drg.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(str(SCHEMES / "chs-drg-1.1"), str(out), cases=40_000, seed=7, quiet=True)
    return out


def _browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("headless Chromium not installed (Debian packages chromium and chromium-driver; scripts/test.sh installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install '.[test]')")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def test_demo_report_in_browser(demo_dir, tmp_path):
    from selenium.webdriver.common.by import By

    report = demo_dir / "report.html"
    assert report.exists() and report.stat().st_size < 10_000_000
    drv = _browser()
    try:
        drv.get(report.as_uri())
        drv.save_screenshot(str(tmp_path / "report.png"))
        errors = [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
        urls = []
        for entry in drv.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                urls.append(msg["params"]["request"]["url"])
        assert all(u.startswith(("file:", "data:")) for u in urls), urls
        charts = drv.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 8
        for c in charts:
            assert c.size["width"] > 0 and c.size["height"] > 0
            assert len(c.find_elements(By.CSS_SELECTOR, "circle, rect, path")) > 0, c.get_attribute("id")
        for sec in ("overview", "peer", "quadrant", "funnel", "heatmap", "weights", "payment", "tiered", "support", "trends"):
            assert drv.find_elements(By.ID, sec), sec
        # sort the tertiary table by CMI (click twice: ascending, then descending) and compare with the evaluation table
        hosp = pd.read_parquet(demo_dir / "evaluation" / "hospital.parquet")
        tert = hosp[hosp["同级组"] == "tertiary"].sort_values("病例组合指数(CMI)", ascending=True)
        table = drv.find_elements(By.CSS_SELECTOR, "#peer table")[-1]
        header = [th for th in table.find_elements(By.TAG_NAME, "th") if th.text == "病例组合指数(CMI)"][0]
        header.click()
        first = table.find_element(By.CSS_SELECTOR, "tbody tr td").text
        assert first == tert["医院编码"].iloc[0]
        header.click()
        first = table.find_element(By.CSS_SELECTOR, "tbody tr td").text
        assert first == tert["医院编码"].iloc[-1]
        # the search box filters rows
        box = drv.find_elements(By.CSS_SELECTOR, "#peer input.search")[-1]
        box.send_keys(tert["医院编码"].iloc[0])
        visible = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()]
        assert len(visible) == 1
        drv.save_screenshot(str(tmp_path / "report-sorted.png"))
    finally:
        drv.quit()


def test_report_escapes_data_and_excel_keeps_formulas_as_text(demo_dir, tmp_path):
    from drg.report import build_report

    bad = tmp_path / "bad"
    shutil.copytree(demo_dir, bad, ignore=shutil.ignore_patterns("*.html", "*.xlsx", "synthetic"))
    h = pd.read_parquet(bad / "evaluation" / "hospital.parquet")
    h.loc[0, "医院名称"] = EVIL
    h.loc[1, "医院名称"] = '=HYPERLINK("http://evil.example","x")'
    h.loc[2, "医院名称"] = "+1+2"
    h.loc[3, "医院名称"] = "@SUM(A1)"
    h.loc[4, "医院名称"] = "-3"
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
