"""Speed and memory of `drg synth` at scale, as a command:

    python benchmarks/synth_speed.py 100000000 [--batch-size 250000] [--workers N] [--scheme DIR] [--out DIR]

Runs ``drg synth`` in a child process and samples the resident memory of its whole process tree (the
command and its worker processes, summed as proportional set sizes: a page shared after the fork counts
once) every 0.25 s. Prints rows, seconds, rows/s, the peak of the
tree's summed RSS and the floor measured in the same run: pyarrow writing the command's output table
(read back from the file it wrote, row group by row group, with the same Parquet options), the part of the
work no synth can skip, and a paper estimate for 16 and 64 cores (the command writes every part; the other
cores make parts, at this run's core-seconds per row). A second run at half the rows shows that memory
follows the part size, not the rows (``--half``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def tree_rss(pid: int) -> int:
    """Summed resident memory (bytes, PSS) of ``pid`` and its descendants (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += _children(p)
        try:  # proportional set size: a page the forked workers share with the command counts once
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:")), 0)
        except OSError:
            pass
    return total


def run_synth(rows: int, out: str, scheme: str, batch: int, workers: int | None) -> tuple[float, int]:
    cmd = [sys.executable, "-c", "import sys; from drg.cli import main; sys.exit(main())", "synth", "--scheme", scheme,
           "--cases", str(rows), "--batch-size", str(batch), "-o", out, "-q"] + (["--workers", str(workers)] if workers else [])
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            done.wait(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    rc = proc.wait()
    dt = time.perf_counter() - t0
    done.set()
    th.join()
    if rc:
        raise SystemExit(f"drg synth exited with {rc}")
    return dt, peak


def write_floor(path: str) -> float:
    """Seconds pyarrow takes to write synth's table at ``path`` again, with the options synth writes it with."""
    from synthetic_region import write_floor as floor

    from drg.synth import FEW_VALUES

    return floor(path, FEW_VALUES)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rows", type=int)
    ap.add_argument("--batch-size", type=int, default=250_000)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--scheme", default=os.environ.get("DRG_SCHEME", str(ROOT.parent / "shared" / "schemes" / "chs-drg-1.1")))
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one, removed after)")
    ap.add_argument("--half", action="store_true", help="also run at half the rows (memory must not halve with it)")
    ap.add_argument("--no-floor", action="store_true", help="skip the write floor")
    a = ap.parse_args()
    work = a.out or tempfile.mkdtemp(prefix="synth-")
    try:
        for rows in ([a.rows // 2] if a.half else []) + [a.rows]:
            out = os.path.join(work, f"s{rows}")
            dt, peak = run_synth(rows, out, a.scheme, a.batch_size, a.workers)
            line = (f"synth rows={rows:,} batch={a.batch_size:,} workers={a.workers or 'all'} cores={os.cpu_count()} "
                    f"seconds={dt:.1f} rows/s={rows / dt:,.0f} peak_rss_tree_gb={peak / 1e9:.2f}")
            if not a.no_floor:
                floor = write_floor(os.path.join(out, "discharges.parquet"))
                line += f" write_floor_s={floor:.1f} ratio={dt / floor:.1f}x"
                # paper estimate for C cores: the command writes every part itself (floor per row), the other
                # cores make parts (the core-seconds of this run beyond the write, per row)
                write_us, make_us = floor / rows * 1e6, max(os.cpu_count() * dt - floor, 1e-9) / rows * 1e6
                for cores in (16, 64):
                    rate = min(1e6 / write_us, (cores - 1) * 1e6 / make_us)
                    line += f" est_{cores}_cores_rows/s={rate:,.0f}"
            print(line, flush=True)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if a.out is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
