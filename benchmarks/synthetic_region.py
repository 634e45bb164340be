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


def read_floor(grouped: str, columns: list[str]) -> tuple[int, float]:
    """(rows, seconds) of reading ``columns`` (those present) of the grouped file with pyarrow: the floor a
    command's time is reported against, measured in the same run. In a child process: a child's peak RSS counts
    its parent's memory at fork, so the parent that starts the measured commands must stay small."""
    import json

    code = ("import json, sys, time, pyarrow.parquet as pq; f = pq.ParquetFile(sys.argv[1]); "
            "cols = [c for c in json.loads(sys.argv[2]) if c in f.schema_arrow.names]; t0 = time.perf_counter(); "
            "pq.read_table(sys.argv[1], columns=cols); print(f.metadata.num_rows, time.perf_counter() - t0)")
    out = subprocess.run([sys.executable, "-c", code, grouped, json.dumps(columns)], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), float(out[1])


def run(cmd) -> tuple[float, float]:
    """(seconds, peak RSS GB) of one child process (its own rusage, not the maximum over earlier children)."""
    import time

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{cmd} failed")
    return secs, usage.ru_maxrss / 1e6  # KB on Linux


def write_floor(path: str, few_values: list) -> float:
    """Seconds pyarrow takes to write the table at ``path`` again, row group by row group, zstd level 1 with a
    Parquet dictionary for the columns ``few_values`` (the options our writers use; each group is read first and
    only the writes are timed, so memory stays one group)."""
    import time

    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    leaf = [f.metadata.schema.column(i).path for i in range(f.metadata.num_columns)]
    dictionary = [p for p in leaf if p.split(".")[0] in set(few_values)]
    tmp = path + ".floor"
    spent = 0.0
    with pq.ParquetWriter(tmp, f.schema_arrow, compression="zstd", compression_level=1, use_dictionary=dictionary) as w:
        for i in range(f.num_row_groups):
            g = f.read_row_group(i)
            t0 = time.perf_counter()
            w.write_table(g, row_group_size=g.num_rows)
            spent += time.perf_counter() - t0
    os.remove(tmp)
    return spent
