"""Screenshots of every section of `drg report` (Chinese and English) for docs/screenshots/, taken in
headless Chromium at desktop width. Regenerate after changing the report:

    drg demo -o demo-output && python scripts/report_screenshots.py demo-output docs/screenshots
    python scripts/report_screenshots.py user-output docs/screenshots user   # a user's export: user-zh-*.png

The optional third argument names the files' prefix (default ``report``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path


def main(demo: str, out: str, prefix: str = "report") -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from drg.report import build_report

    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,2400",
                "--hide-scrollbars"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for lang in ("zh", "en"):
                html = Path(tmp) / f"report_{lang}.html"
                build_report(demo, str(html), lang=lang)
                drv.get(html.as_uri())
                for section in drv.find_elements(By.CSS_SELECTOR, "section"):
                    drv.execute_script("arguments[0].scrollIntoView()", section)
                    section.screenshot(str(target / f"{prefix}-{lang}-{section.get_attribute('id') or section.get_attribute('data-section')}.png"))
    finally:
        drv.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
