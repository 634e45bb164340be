"""End-to-end grouping at scale against the I/O floor, measured in the same run.

    python benchmarks/scale.py 5000000 [--threads N] [--only-results] [--batch-size B]

1. Makes a Parquet file of ROWS realistic records (the public cases resampled with
   new case ids), written in chunks so that memory stays flat.
2. Floor: pyarrow reads that file and writes it back (same batches, same writer
   settings as `drg group`), in a child process.
3. `drg group` end to end in a child process (wall time and peak RSS).
4. Prints rows, seconds, records/s, peak RSS and the ratio (group / floor).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DRG_SHARED", ROOT.parent / "shared"))

FLOOR = r"""
import sys, pyarrow.parquet as pq
src, dst, bs = sys.argv[1], sys.argv[2], int(sys.argv[3])
pf = pq.ParquetFile(src)
w = None
for b in pf.iter_batches(batch_size=bs):
    if w is None:
        w = pq.ParquetWriter(dst, b.schema, compression="zstd", compression_level=1)
    w.write_batch(b, row_group_size=b.num_rows)
w.close()
"""


def make_input(rows: int, path: str, chunk: int = 1_000_000, seed: int = 0) -> None:
    t = pq.read_table(SHARED / "cases" / "chs-drg-1.1.parquet")
    t = t.drop_columns([c for c in t.column_names if c.startswith("expected_") or c == "scenario"])
    rng = np.random.default_rng(seed)
    writer = None
    done = 0
    while done < rows:
        k = min(chunk, rows - done)
        part = t.take(pa.array(rng.integers(0, t.num_rows, k)))
        ids = pc.binary_join_element_wise("R", pc.utf8_lpad(pc.cast(pa.array(np.arange(done, done + k)), pa.string()), 10, "0"), "")
        part = part.set_column(0, "case_id", ids)
        if writer is None:
            writer = pq.ParquetWriter(path, part.schema, compression="zstd", compression_level=1)
        writer.write_table(part, row_group_size=k)
        done += k
    writer.close()


WRAP = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def timed(cmd: list[str], env=None) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one command, measured by a fresh wrapper process."""
    p = subprocess.run([sys.executable, "-c", WRAP, *cmd], check=True, env=env, capture_output=True, text=True)
    seconds, rss = p.stdout.split()[-2:]
    return float(seconds), float(rss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", type=int)
    ap.add_argument("--threads", type=int, default=None, help="Numba threads for drg group")
    ap.add_argument("--only-results", action="store_true")
    ap.add_argument("--batch-size", type=int, default=1_000_000)
    ap.add_argument("--scheme", default=str(SHARED / "schemes" / "chs-drg-1.1"))
    ap.add_argument("--workdir", default=None, help="where to put the files (default: a temp dir)")
    ap.add_argument("--skip-floor", action="store_true")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args()
    if not (SHARED / "cases" / "chs-drg-1.1.parquet").exists():
        print(f"scale.py needs the public cases at {SHARED}/cases (set DRG_SHARED)", file=sys.stderr)
        return 2
    work = a.workdir or tempfile.mkdtemp(prefix="drg-scale-")
    src = os.path.join(work, f"in-{a.rows}.parquet")
    if not os.path.exists(src):
        t0 = time.perf_counter()
        make_input(a.rows, src)
        print(f"made {src} ({os.path.getsize(src) / 1e6:,.0f} MB) in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    # warm the scheme cache and the JIT cache outside the timed runs
    subprocess.run([sys.executable, "-c", f"import grouper, pyarrow as pa; s=grouper.load_scheme({a.scheme!r}); "
                    "grouper.group(pa.table({'sex':[1],'age_years':[1],'dx':[['A']]}), s)"], check=True)
    result = {"rows": a.rows, "threads": a.threads, "only_results": a.only_results, "batch_size": a.batch_size}
    if not a.skip_floor:
        floor_s, floor_rss = timed([sys.executable, "-c", FLOOR, src, os.path.join(work, "floor.parquet"), str(a.batch_size)])
        result.update(floor_seconds=round(floor_s, 2), floor_peak_rss_mb=round(floor_rss))
        os.unlink(os.path.join(work, "floor.parquet"))
    out = os.path.join(work, "grouped.parquet")
    cmd = [sys.executable, "-m", "drg.cli", "group", src, "--scheme", a.scheme, "-o", out, "-q", "--batch-size", str(a.batch_size)]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    if a.only_results:
        cmd.append("--only-results")
    env = dict(os.environ)
    if a.threads:
        env["NUMBA_NUM_THREADS"] = str(max(a.threads, 1))
    group_s, group_rss = timed(cmd, env)
    result.update(group_seconds=round(group_s, 2), records_per_s=round(a.rows / group_s), group_peak_rss_mb=round(group_rss))
    if not a.skip_floor:
        result["ratio_group_to_floor"] = round(group_s / floor_s, 2)
    os.unlink(out)
    print(json.dumps(result))
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
