"""Evaluation and payment at scale: time `drg evaluate --by hospital` and `drg pay` on a grouped
synthetic region, against the floor of reading the same columns with pyarrow.

    python benchmarks/eval_scale.py GROUPED.parquet
    (make one: drg synth --cases 10000000 -o S && drg group S/discharges.parquet -o GROUPED.parquet)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq

COLUMNS = ["case_id", "hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year",
           "discharge_date"]  # what evaluate and pay read


def timed(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    src = sys.argv[1]
    rows = pq.ParquetFile(src).metadata.num_rows
    t0 = time.perf_counter()
    pq.read_table(src, columns=COLUMNS).to_pandas()
    floor = time.perf_counter() - t0
    out = tempfile.mkdtemp(prefix="drg-eval-")
    drg = [sys.executable, "-m", "drg.cli"]
    ev = timed(drg + ["evaluate", src, "--by", "hospital", "-o", out + "/e", "--lang", "en"])
    pay = timed(drg + ["pay", src, "--budget", "1e10", "-o", out + "/p", "--lang", "en"])
    print(json.dumps({"rows": rows, "read_floor_s": round(floor, 2), "evaluate_s": round(ev, 2), "pay_s": round(pay, 2),
                      "evaluate_to_floor": round(ev / floor, 2), "pay_to_floor": round(pay / floor, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
