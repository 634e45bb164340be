"""Time `drg synth` for N rows: python benchmarks/synth_speed.py 10000000 [--scheme DIR]."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import grouper
from drg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows", type=int)
    ap.add_argument("--scheme", default=os.environ.get("DRG_SCHEME", str(ROOT.parent / "shared" / "schemes" / "chs-drg-1.1")))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    scheme = grouper.load_scheme(a.scheme)
    out = a.out or tempfile.mkdtemp(prefix="synth-")
    t0 = time.perf_counter()
    synthesize(scheme, out, cases=a.rows, seed=1, quiet=True)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = os.path.getsize(os.path.join(out, "discharges.parquet")) / 1e6
    print(f"synth rows={a.rows:,} seconds={dt:.1f} rows/s={a.rows / dt:,.0f} peak_rss_mb={rss:,.0f} file_mb={size:,.0f} out={out}")


if __name__ == "__main__":
    sys.exit(main())
