"""Report at scale: a region of H hospitals (the Dezhou network plus extra township hospitals),
N synthetic cases, the whole pipeline (evaluate with the discipline table and months, departments,
doctors, pay, tiered care, support, audit), then per language: `drg report` time, the HTML size, and
the time headless Chromium takes to load it and draw every chart (when chromium and chromedriver are
installed).

    python benchmarks/report_scale.py --hospitals 300 --cases 10000000 [--scheme DIR] [--workdir DIR] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hospitals", type=int, default=300)
    ap.add_argument("--cases", type=int, default=10_000_000)
    ap.add_argument("--scheme", default=os.environ.get("DRG_SCHEME", str(ROOT.parent / "shared" / "schemes" / "chs-drg-1.1")))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse", action="store_true", help="keep the pipeline's outputs in --workdir; time the report only")
    a = ap.parse_args()
    from drg.cli import main as drg
    from drg.regions import load_region

    work = Path(a.workdir or tempfile.mkdtemp(prefix="drg-report-"))
    region = work / "region"
    region.mkdir(parents=True, exist_ok=True)
    h, pairs = load_region("dezhou")
    h = h[h["level"] != "public_health"]
    towns = h[h["level"] == "primary"]
    extra = []
    k = 0
    while len(h) + len(extra) < a.hospitals:
        t = towns.iloc[k % len(towns)].copy()
        t["hospital_id"] = f"EX{k:04d}"
        t["name"] = f"{t['name']}分院{k}"
        extra.append(t)
        k += 1
    pd.concat([h, pd.DataFrame(extra)]).to_csv(region / "hospitals.csv", index=False)
    pairs.to_csv(region / "support_pairs.csv", index=False)
    out = work / "out"
    t0 = time.perf_counter()
    if not (a.reuse and (out / "evaluation" / "hospital.parquet").exists()):
        _pipeline(a, region, out, drg)
    pipeline = time.perf_counter() - t0
    result = {"hospitals": a.hospitals, "cases": a.cases, "pipeline_s": round(pipeline, 1), "workdir": str(work)}
    for lang in ("zh", "en"):
        html = out / f"report_{lang}.html"
        t0 = time.perf_counter()
        drg(["report", str(out), "-o", str(html), "--xlsx", str(out / f"report_{lang}.xlsx"), "--lang", lang])
        result[f"report_{lang}_s"] = round(time.perf_counter() - t0, 2)
        result[f"html_{lang}_mb"] = round(os.path.getsize(html) / 1e6, 2)
        result[f"xlsx_{lang}_mb"] = round(os.path.getsize(out / f"report_{lang}.xlsx") / 1e6, 2)
        result[f"browser_{lang}_s"] = _render_seconds(html)
    print(json.dumps(result))
    return 0


def _render_seconds(html: Path):
    """Seconds headless Chromium takes from navigation to the load event (every chart drawn: the charts
    are drawn by the page's last script); None without chromium."""
    import shutil

    chromium, driver = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")
    if not (chromium and driver):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1000"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        times = []
        for _ in range(3):
            drv.get(html.as_uri())
            times.append(drv.execute_script("return performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
        return round(sorted(times)[1], 2)  # the median of three
    finally:
        drv.quit()


def _pipeline(a, region: Path, out: Path, drg) -> None:
    import grouper

    from drg.synth import synthesize

    synthesize(grouper.load_scheme(a.scheme), str(out / "synthetic"), region=str(region), cases=a.cases, seed=1, quiet=True)
    g = str(out / "grouped.parquet")
    drg(["group", str(out / "synthetic" / "discharges.parquet"), "--scheme", a.scheme, "-o", g, "-q"])
    drg(["evaluate", g, "--by", "hospital-mdc", "--period", "month", "--hospitals", str(region), "-o", str(out / "evaluation")])
    drg(["pay", g, "--budget", "1e10", "--hospitals", str(region), "-o", str(out / "payment")])
    drg(["tiered-care", g, "--hospitals", str(region), "-o", str(out / "tiered_care")])
    drg(["support", g, "--hospitals", str(region), "-o", str(out / "support")])
    drg(["evaluate", g, "--by", "dept", "--hospitals", str(region), "-o", str(out / "departments")])
    drg(["evaluate", g, "--by", "doctor", "--hospitals", str(region), "-o", str(out / "doctors")])
    drg(["audit", g, "--hospitals", str(region), "--scheme", a.scheme, "-o", str(out / "audit")])


if __name__ == "__main__":
    sys.exit(main())
