"""`drg audit` at scale, and what it finds: time and peak RSS against the floor of reading its columns with
pyarrow (same run), and the planted coding games against the truth.

    python benchmarks/audit_scale.py --cases 1000000            # synthesizes, groups, audits
    python benchmarks/audit_scale.py --dir S                     # S/discharges.parquet, S/truth.*, S/grouped.parquet
    python benchmarks/audit_scale.py --dir S --replicate 10,20  # memory: S's grouped file copied 10 and 20 times

Targets (issue 19): planted upcoders flagged in mcc_cc_capture from their onset year (recall >= 0.9); hospital-
years of hospitals that play no game flagged in any area <= 5%; planted split pairs found with recall >= 0.95
and precision >= 0.9; planted upcoded cases in the top 1% of review_cases >= 5x their base rate; 10M rows:
time and peak RSS reported. Issue 35: peak RSS follows the batch size, not the rows (``--replicate``: each copy's
patients and cases are new ones; the audit of every copy, with its time and peak RSS, also at ``--batch-size 250000``).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd

COLUMNS = ["case_id", "hospital_id", "patient_id", "year", "status", "drg", "adrg", "mdc", "dx", "px", "age_years", "sex",
           "los_days", "leaving_type", "total_cost", "admit_date", "discharge_date"]  # what drg audit reads


def recovery(d: str, audit: str) -> dict:
    truth = json.load(open(os.path.join(d, "truth.json"), encoding="utf-8"))
    cases = pd.read_parquet(os.path.join(d, "truth.parquet"), columns=["case_id", "upcoded", "split_of"])
    f = pd.read_parquet(os.path.join(audit, "hospital_flags.parquet"))
    h = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    mcc = f[f["target_area"] == "mcc_cc_capture"].set_index(["hospital_id", "year"])["flag"]
    want = [(hid, y) for hid, s in h["upcoding_from"].dropna().items() for y in truth["years"] if y >= s]
    gaming = set(h.index[h["upcoding_from"].notna() | h["splits_admissions"] | h["low_value_admissions"]])
    hy = f.groupby(["hospital_id", "year"])["flag"].any()
    plain = hy[~hy.index.get_level_values(0).isin(gaming)]
    s = pd.read_parquet(os.path.join(audit, "split_admissions.parquet"))
    planted = set(zip(cases.loc[cases["split_of"].notna(), "case_id"], cases.loc[cases["split_of"].notna(), "split_of"]))
    found = set(zip(s["case_id"], s["first_case_id"]))
    r = pd.read_parquet(os.path.join(audit, "review_cases.parquet"))
    top = r.head(max(1, len(r) // 100)).merge(cases[["case_id", "upcoded"]], on="case_id")
    base = float(cases["upcoded"].mean())
    flagged_plain = sorted(f"{i} {y}" for i, y in plain.index[plain.to_numpy()])
    return {"upcoder_recall": float(np.mean([bool(mcc.get(k, False)) for k in want])),
            "unplanted_hospital_years_flagged": float(plain.mean()), "unplanted_flagged": flagged_plain,
            "casemix_only_hospitals": truth["casemix_only"],
            "split_recall": len(planted & found) / max(len(planted), 1), "split_precision": len(planted & found) / max(len(found), 1),
            "review_top1pct_upcoded_share": float(top["upcoded"].mean()), "upcoded_base_rate": base,
            "review_enrichment": float(top["upcoded"].mean()) / base if base else float("nan"), "review_rows": len(r)}


def replicate(src: str, dst: str, times: int) -> None:
    """``src``'s audit columns written ``times`` times into ``dst`` batch by batch, copy k's case and patient ids
    suffixed ``~k`` (new patients: their stays pair only with each other)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    f = pq.ParquetFile(src)
    writer = None
    for k in range(times):
        for b in f.iter_batches(batch_size=1_000_000, columns=[c for c in COLUMNS if c in f.schema_arrow.names]):
            t = pa.Table.from_batches([b])
            for c in ("case_id", "patient_id") if k else ():
                t = t.set_column(t.column_names.index(c), c,
                                 pc.binary_join_element_wise(t.column(c).cast(pa.string()), pa.scalar(f"~{k}"), ""))
            if writer is None:
                writer = pq.ParquetWriter(dst, t.schema, compression="zstd", compression_level=1)
            writer.write_table(t, row_group_size=t.num_rows)
    writer.close()


def memory(d: str, grouped: str, times: list[int]) -> dict:
    """Time and peak RSS of the audit of the file and of its copies, at the default batch and at 250,000 rows."""
    from synthetic_region import DRG as drg
    from synthetic_region import run

    out = {}
    for k in [1] + times:
        path = grouped if k == 1 else os.path.join(d, f"grouped_audit_x{k}.parquet")
        if not os.path.exists(path):
            replicate(grouped, path, k)
        for batch in ("1000000", "250000"):
            secs, peak = run(drg + ["audit", path, "-o", os.path.join(d, f"audit-x{k}-{batch}"), "--lang", "en", "-q",
                                    "--batch-size", batch])
            out[f"x{k} batch {batch}"] = {"seconds": round(secs, 1), "peak_rss_gb": round(peak, 2)}
    return out


def main() -> int:
    from synthetic_region import DRG as drg
    from synthetic_region import grouped_region, options, read_floor, run

    times = []
    if "--replicate" in sys.argv:  # the memory run
        at = sys.argv.index("--replicate")
        times = [int(x) for x in sys.argv[at + 1].split(",")]
        del sys.argv[at:at + 2]
    d, grouped = grouped_region(options(__doc__.splitlines()[0]), "drg-audit-")
    if times:
        print(json.dumps(memory(d, grouped, times), indent=1))
        return 0
    rows, floor = read_floor(grouped, COLUMNS)
    out = os.path.join(d, "audit")
    secs, peak = run(drg + ["audit", grouped, "-o", out, "--lang", "en"])
    result = {"rows": rows, "seconds": round(secs, 1), "read_floor_seconds": round(floor, 2), "ratio_to_read": round(secs / floor, 1),
              "peak_rss_gb": round(peak, 2), "rows_per_second": round(rows / secs)}
    if os.path.exists(os.path.join(d, "truth.json")):
        result.update(recovery(d, out))
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
