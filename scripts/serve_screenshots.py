"""Screenshots of `drg serve`'s coder's page for docs/screenshots/ (headless Chromium, Selenium).

    python scripts/serve_screenshots.py --demo demo-output [--out docs/screenshots]

The server runs in this process on a free port with the packaged CHS-DRG 1.1 scheme and the weights of the demo
region (``DEMO/evaluation/weights.parquet``, written by ``drg demo``), priced at 120 yuan a point. One case (aortic
stenosis operated with a valve replacement under bypass, a 72-year-old woman with heart failure, pneumonia and
diabetes; the what-if adds acute respiratory failure) is typed in by code search, grouped, explained and simulated;
then the page in English; the case as a man with a pregnancy code and an external cause (the 质控 panel); the batch tab.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = {"sex": "2", "age": "72", "los": "18", "leaving": "1", "cost": "126800",
        "dx": ["I35.000", "I50.900x007", "J18.900", "E11.900"], "px": ["35.2201", "39.6100"], "add": "J96.000"}


def serve(weights: str):
    import uvicorn

    import grouper
    from drg.serve.app import serving_app
    from drg.serve.service import Service
    from grouper.scheme import DEFAULT_SCHEME

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = serving_app(Service(grouper.load_scheme(DEFAULT_SCHEME), weights=weights, point_value=120.0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return port


def weights_csv(demo: Path, folder: Path) -> str:
    import pandas as pd

    w = pd.read_parquet(demo / "evaluation" / "weights.parquet")
    out = pd.DataFrame({"drg": w["DRG编码"], "weight": w["相对权重"], "mean_cost": w["例均费用(裁剪后)"]}).dropna()
    path = folder / "weights.csv"
    out[out["weight"] > 0].to_csv(path, index=False)
    return str(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", required=True, help="a drg demo output folder (its evaluation/weights.parquet)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import browser
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    tmp = Path(tempfile.mkdtemp(prefix="drg-shots-"))
    port = serve(weights_csv(Path(a.demo), tmp))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    drv = browser("1440,1250")
    wait = WebDriverWait(drv, 20)
    try:
        drv.get(f"http://127.0.0.1:{port}/?lang=zh")
        wait.until(lambda d: "chs-drg-1.1" in d.find_element(By.ID, "scheme").text)
        wait.until(lambda d: d.execute_script("return document.fonts.status") == "loaded")
        box = drv.find_element(By.ID, "dx-search")
        box.send_keys("主动脉瓣狭窄")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dx-suggest li .c")) > 3)
        time.sleep(0.3)
        drv.save_screenshot(str(out / "serve-search.png"))
        box.send_keys(Keys.ESCAPE)
        box.clear()
        for kind in ("dx", "px"):
            field = drv.find_element(By.ID, f"{kind}-search")
            for code in CASE[kind]:
                field.send_keys(code)
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#{kind}-suggest li .c"))
                field.send_keys(Keys.ENTER)
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{kind}-list .chip")) == len(CASE[kind]))
        drv.find_element(By.CSS_SELECTOR, f"#sex option[value='{CASE['sex']}']").click()
        drv.find_element(By.CSS_SELECTOR, f"#leaving option[value='{CASE['leaving']}']").click()
        for field in ("age", "los", "cost"):
            drv.find_element(By.ID, field).send_keys(CASE[field])
        drv.find_element(By.ID, "add-codes").send_keys(CASE["add"])
        drv.find_element(By.ID, "group-btn").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#whatif tbody tr"))
        time.sleep(0.3)
        drv.save_screenshot(str(out / "serve-result.png"))
        drv.execute_script("document.getElementById('trace').scrollIntoView()")
        drv.save_screenshot(str(out / "serve-trace.png"))
        drv.execute_script("window.scrollTo(0, 0)")
        drv.find_element(By.ID, "lang-btn").click()
        try:
            wait.until(lambda d: "grouped" in d.find_element(By.ID, "result-kv").text)
        except Exception:
            print(drv.find_element(By.ID, "result-kv").text, drv.find_element(By.ID, "error").text, drv.get_log("browser"))
            raise
        time.sleep(0.5)
        drv.save_screenshot(str(out / "serve-english.png"))
        drv.find_element(By.ID, "lang-btn").click()
        # the same case recorded as a man, with a pregnancy code and an external cause added: the 质控 panel
        field = drv.find_element(By.ID, "dx-search")
        for code in ("O99.400", "W19.x00"):
            field.send_keys(code)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dx-suggest li .c"))
            field.send_keys(Keys.ENTER)
        drv.find_element(By.CSS_SELECTOR, "#sex option[value='1']").click()
        drv.find_element(By.ID, "group-btn").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#qc-list .sev"))
        time.sleep(0.3)
        drv.execute_script("document.getElementById('qc-list').scrollIntoView({block: 'center'})")
        drv.save_screenshot(str(out / "serve-check.png"))
        drv.execute_script("window.scrollTo(0, 0)")
        drv.find_element(By.ID, "tab-batch").click()
        csv = tmp / "结算清单.csv"
        csv.write_bytes("病案号,性别,年龄,住院天数,主要诊断编码,其他诊断编码1,主要手术操作编码\n"
                        "A1,女,72,18,I35.000,I50.900x007,35.2201\nA2,男,67,9,I10.x00,,\n".encode("gbk"))
        drv.find_element(By.ID, "batch-file").send_keys(str(csv))
        drv.find_element(By.ID, "batch-btn").click()
        wait.until(lambda d: d.find_element(By.ID, "batch-link").is_displayed())
        drv.save_screenshot(str(out / "serve-batch.png"))
    finally:
        drv.quit()
        shutil.rmtree(tmp, True)
    print("\n".join(str(p) for p in sorted(out.glob("serve-*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
