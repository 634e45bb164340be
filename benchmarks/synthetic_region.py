"""The synthetic region the scale scripts measure on: command-line options and a grouped file, built once."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

DRG = [sys.executable, "-m", "drg.cli"]


def options(description: str) -> argparse.Namespace:
    """--cases (default 1M), --dir (reuse a folder with discharges.parquet / grouped.parquet), --seed."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--dir")
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def grouped_region(a: argparse.Namespace, prefix: str) -> tuple[str, str]:
    """(folder, grouped file) of the synthetic region of ``a``: synthesized and grouped unless already there."""
    d = a.dir or tempfile.mkdtemp(prefix=prefix)
    grouped = os.path.join(d, "grouped.parquet")
    if not os.path.exists(grouped):
        if not os.path.exists(os.path.join(d, "discharges.parquet")):
            subprocess.run(DRG + ["synth", "--cases", str(a.cases), "--seed", str(a.seed), "-o", d, "-q"], check=True)
        subprocess.run(DRG + ["group", os.path.join(d, "discharges.parquet"), "-o", grouped, "-q"], check=True)
    return d, grouped
