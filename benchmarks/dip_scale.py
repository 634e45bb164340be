"""`drg dip group` at scale: rows per second and peak RSS against the floor of reading the same input with pyarrow
(same run): the columns DIP reads (dx, px, total_cost, age_years) and every column (the output keeps them all), at 1M
and at --rows (default 10M) rows; the catalogue is built from the 1M source first (drg dip build, timed too).

    python benchmarks/dip_scale.py                          # drg synth 1M rows, tiled to 10M
    python benchmarks/dip_scale.py --source S/discharges.parquet --rows 10000000
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def main() -> int:
    import pyarrow.parquet as pq

    from check_scale import floor, scale_setup, tiles
    from synthetic_region import DRG, run

    a, d, source = scale_setup(__doc__, "drg-dip-")
    cat = os.path.join(d, "catalogue")
    secs, peak = run(DRG + ["dip", "build", source, "-o", cat, "-q", "--lang", "en"])
    meta = json.load(open(os.path.join(cat, "catalogue.json"), encoding="utf-8"))
    result = {"build": {"rows": pq.ParquetFile(source).metadata.num_rows, "seconds": round(secs, 1), "peak_rss_gb": round(peak, 2),
                        "core_groups": meta["core_groups"], "core_share": round(meta["core_share"], 4)}}
    print(json.dumps(result), flush=True)
    for rows in sorted({1_000_000, a.rows}):
        folder = os.path.join(d, f"in-{rows}")
        os.makedirs(folder, exist_ok=True)
        files = tiles(source, folder, rows)
        used = floor(folder, ["dx", "px", "total_cost", "age_years"])
        every = floor(folder, pq.ParquetFile(files[0]).schema_arrow.names)
        out = os.path.join(d, f"dip-{rows}.parquet")
        secs, peak = run(DRG + ["dip", "group", folder, "-o", out, "--catalogue", cat, "-q", "--lang", "en"])
        result[rows] = {"seconds": round(secs, 1), "rows_per_second": round(rows / secs), "read_floor_dip_columns_s": round(used, 2),
                        "ratio_to_read_dip_columns": round(secs / used, 1), "read_floor_all_columns_s": round(every, 2),
                        "ratio_to_read_all_columns": round(secs / every, 1), "peak_rss_gb": round(peak, 2)}
        print(json.dumps({rows: result[rows]}), flush=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
