"""`drg check` at scale: rows per second and peak RSS against the floor of reading the same columns with pyarrow
(same run), at 1M and at --rows (default 10M) rows, so memory is seen to follow the batch, not the input.

    python benchmarks/check_scale.py                         # drg synth 1M rows, tiled to 10M (case ids made unique)
    python benchmarks/check_scale.py --source S/discharges.parquet --rows 10000000

Target (issue 37): >= 500k records/s on 2 cores with the default rules; memory flat in the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))


def tiles(source: str, folder: str, rows: int) -> list[str]:
    """``rows`` rows as Parquet files of the source's size in ``folder``: copy k of every case id ends ``-k``."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(source)
    files, k, left = [], 0, rows
    while left > 0:
        part = t.slice(0, min(left, t.num_rows))
        if k:
            part = part.set_column(part.column_names.index("case_id"), "case_id",
                                   pc.binary_join_element_wise(part.column("case_id"), pa.scalar(f"-{k}"), ""))
        path = os.path.join(folder, f"part-{k:03d}.parquet")
        pq.write_table(part, path, row_group_size=200_000)
        files.append(path)
        left -= part.num_rows
        k += 1
    return files


def floor(folder: str, columns: list[str]) -> float:
    """Seconds pyarrow takes to read ``columns`` of every file in ``folder`` (a child process, file by file)."""
    import subprocess

    code = ("import json, sys, time, glob, pyarrow.parquet as pq; cols = json.loads(sys.argv[2]); t0 = time.perf_counter()\n"
            "for f in sorted(glob.glob(sys.argv[1] + '/*.parquet')): pq.read_table(f, columns=cols)\n"
            "print(time.perf_counter() - t0)")
    return float(subprocess.run([sys.executable, "-c", code, folder, json.dumps(columns)], check=True, capture_output=True,
                                text=True).stdout.split()[0])


def scale_setup(doc: str, prefix: str) -> tuple:
    """The scale scripts' options (--source, --rows, --dir), their work folder, and the discharges to tile (drg synth
    --cases 1000000 there unless --source names one)."""
    from synthetic_region import DRG, run

    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--source", help="a discharges Parquet to tile (default: drg synth --cases 1000000)")
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--dir", help="work folder (default: a temporary one)")
    a = p.parse_args()
    d = a.dir or tempfile.mkdtemp(prefix=prefix)
    source = a.source or os.path.join(d, "synth", "discharges.parquet")
    if not a.source and not os.path.exists(source):
        run(DRG + ["synth", "-o", os.path.join(d, "synth"), "--cases", "1000000", "-q"])
    return a, d, source


def main() -> int:
    from synthetic_region import DRG, run

    a, d, source = scale_setup(__doc__, "drg-check-")
    from drg.check.command import columns_read
    from drg.check.rules import load_rules

    result = {}
    for rows in sorted({1_000_000, a.rows}):
        folder = os.path.join(d, f"in-{rows}")
        os.makedirs(folder, exist_ok=True)
        files = tiles(source, folder, rows)
        cols = columns_read(files[0], load_rules())
        f = floor(folder, cols)
        secs, peak = run(DRG + ["check", folder, "-o", os.path.join(d, f"qc-{rows}"), "-q", "--lang", "en"])
        summary = json.load(open(os.path.join(d, f"qc-{rows}", "check.json"), encoding="utf-8"))
        result[rows] = {"seconds": round(secs, 1), "rows_per_second": round(rows / secs), "read_floor_seconds": round(f, 2),
                        "ratio_to_read": round(secs / f, 1), "peak_rss_gb": round(peak, 2),
                        "in_command_rows_per_second": summary["rows_per_second"], "issues": summary["issues"],
                        "cases_with_errors": summary["cases_with_errors"], "columns_read": len(cols)}
        print(json.dumps({rows: result[rows]}), flush=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
