"""Department, doctor and month views at scale: `drg evaluate --by dept|doctor|hospital-dept` and `--period month`,
each timed in a child process with its own peak RSS, against the pyarrow read of the columns evaluate uses (same
run), and the planted doctors against the truth.

    python benchmarks/views_scale.py --cases 10000000 --dir S     # synthesizes and groups into S unless there

Issue 20 asks for time and memory on 10M rows in the closing note.
"""

from __future__ import annotations

import json
import os
import sys

import pandas as pd


COLUMNS = ["hospital_id", "drg", "status", "mdc", "adrg", "total_cost", "los_days", "leaving_type", "year", "dept",
           "doctor_id", "discharge_date"]  # what drg evaluate reads for these views


def main() -> int:
    from synthetic_region import DRG as drg
    from synthetic_region import grouped_region, options, read_floor, run

    d, grouped = grouped_region(options(__doc__.splitlines()[0]), "drg-views-")
    rows, floor = read_floor(grouped, COLUMNS)
    result = {"rows": rows, "read_floor_seconds": round(floor, 2)}
    for name, args in (("dept", ["--by", "dept"]), ("doctor", ["--by", "doctor"]), ("hospital_dept", ["--by", "hospital-dept"]),
                       ("month", ["--period", "month"])):
        secs, peak = run(drg + ["evaluate", grouped, *args, "-o", os.path.join(d, f"views-{name}"), "--lang", "en"])
        result[name] = {"seconds": round(secs, 1), "ratio_to_read": round(secs / floor, 1), "peak_rss_gb": round(peak, 2)}
    truth_path = os.path.join(d, "truth.json")
    if os.path.exists(truth_path):
        with open(truth_path, encoding="utf-8") as f:
            docs = pd.DataFrame(json.load(f)["doctors"]).T
        t = pd.read_parquet(os.path.join(d, "views-doctor", "doctor.parquet")).set_index("doctor_id")
        cost, death = docs.index[docs["cost_factor"] > 1][0], docs.index[docs["death_or"] > 1][0]
        same = t[(t["dept"] == t.loc[cost, "dept"]) & (t["status"] == "ok")]
        result["high_cost_doctor_top_of_specialty"] = bool(same["cost_index"].idxmax() == cost)
        result["doctors_outside_998"] = sorted(t.index[t["funnel_flag"].isin(["alarm_high", "alarm_low"])])
        result["planted_high_mortality_doctor"] = death
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
