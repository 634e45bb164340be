"""Report at scale: a region of H hospitals (the Dezhou network plus extra township hospitals),
N synthetic cases, the whole pipeline, then time `drg report` and measure the HTML size.

    python benchmarks/report_scale.py --hospitals 300 --cases 10000000 [--scheme DIR] [--workdir DIR]
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
    import grouper

    from drg.synth import synthesize

    synthesize(grouper.load_scheme(a.scheme), str(out / "synthetic"), region=str(region), cases=a.cases, seed=1, quiet=True)
    g = str(out / "grouped.parquet")
    drg(["group", str(out / "synthetic" / "discharges.parquet"), "--scheme", a.scheme, "-o", g, "-q"])
    drg(["evaluate", g, "--by", "hospital-mdc", "--hospitals", str(region), "-o", str(out / "evaluation")])
    drg(["pay", g, "--budget", "1e10", "--hospitals", str(region), "-o", str(out / "payment")])
    drg(["tiered-care", g, "--hospitals", str(region), "-o", str(out / "tiered_care")])
    drg(["support", g, "--hospitals", str(region), "-o", str(out / "support")])
    pipeline = time.perf_counter() - t0
    t0 = time.perf_counter()
    drg(["report", str(out), "-o", str(out / "report.html"), "--xlsx", str(out / "report.xlsx")])
    report = time.perf_counter() - t0
    print(json.dumps({"hospitals": a.hospitals, "cases": a.cases, "pipeline_s": round(pipeline, 1), "report_s": round(report, 2),
                      "html_mb": round(os.path.getsize(out / "report.html") / 1e6, 2),
                      "xlsx_mb": round(os.path.getsize(out / "report.xlsx") / 1e6, 2), "workdir": str(work)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
