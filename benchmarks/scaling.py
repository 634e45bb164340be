"""Thread scaling of `drg group` end to end: the same input at 1, 2, 4, ... threads, one floor.

    python benchmarks/scaling.py 20000000 [--threads 1,2,4,8,16] [--only-results] [--workdir DIR]

Uses ``scale.py`` (same input file, same child-process timing, same floor: pyarrow
read + write back of the file) and prints one line per thread count with seconds,
records/s, speed-up over 1 thread, peak RSS and the ratio to the floor. Thread
counts above the machine's cores are skipped with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", type=int)
    ap.add_argument("--threads", default="1,2,4,8,16")
    ap.add_argument("--only-results", action="store_true")
    ap.add_argument("--batch-size", type=int, default=1_000_000)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="drg-scaling-")
    cores = os.cpu_count() or 1
    wanted = [int(t) for t in a.threads.split(",")]
    runs = []
    first = True
    for t in wanted:
        if t > cores:
            print(f"skipping {t} threads: this machine has {cores} cores", file=sys.stderr)
            continue
        cmd = [sys.executable, str(Path(scale.__file__)), str(a.rows), "--threads", str(t), "--workdir", work,
               "--batch-size", str(a.batch_size)]
        if a.only_results:
            cmd.append("--only-results")
        if not first:
            cmd.append("--skip-floor")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if first:
            floor = r["floor_seconds"]
        r["ratio_group_to_floor"] = round(r["group_seconds"] / floor, 2)
        runs.append(r)
        first = False
    base = runs[0]["group_seconds"] if runs else None
    print(f"floor (pyarrow read + write back): {floor:.2f} s" if runs else "no run")
    print("threads  seconds  records/s  speed-up  peak RSS MB  ratio to floor")
    for r in runs:
        print(f"{r['threads']:>7}  {r['group_seconds']:7.2f}  {r['records_per_s']:>9,}  {base / r['group_seconds']:8.2f}"
              f"  {r['group_peak_rss_mb']:>11,}  {r['ratio_group_to_floor']:>14.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": a.rows, "floor_seconds": floor, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
