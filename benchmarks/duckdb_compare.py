"""`drg evaluate` against a hand-written DuckDB query computing its core tables on the same file, in the same run.

    pip install duckdb                     # a benchmark dependency only (pip install '.[bench]')
    python benchmarks/duckdb_compare.py --grouped G.parquet [--hospitals H.csv] [--repeat 3]
    python benchmarks/duckdb_compare.py --dir S --replicate 20           # 20 copies of S's grouped file (S: analytics_scale)

The query is what an analyst would write for the same tables: the included-case rule (evaluation/coded.py), per DRG the
exact quartiles of cost, the IQR fences (Tukey, 1.5 IQR) and the trimmed mean, the weights (trimmed mean over the pooled
trimmed mean), the death rate and mean cost and LOS; per hospital the cases, CMI, cost and time indices (mean of cost /
DRG mean) and the observed and expected deaths (indirect standardisation by DRG). `drg evaluate` writes more (ranks,
funnels with over-dispersion, low-risk mortality, RIVs, the workbook), so the ratio is an upper bound on its overhead.
Both run as child processes with their own peak RSS; DuckDB on every core, as `drg` is. The hospital table's CMI,
cost index and O/E of the two are compared (they must agree to 1e-9) so the query is known to compute the same thing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from synthetic_region import DRG, run  # noqa: E402

QUERY = """
WITH c AS (
  SELECT hospital_id, drg, leaving_type = '5' AS died,
         CASE WHEN total_cost > 0 AND total_cost <= {cost_max} THEN total_cost END AS cost,
         CASE WHEN los_days >= 0 AND los_days <= {los_max} THEN los_days END AS los
  FROM read_parquet('{path}')
  WHERE hospital_id IS NOT NULL AND trim(hospital_id) <> '' AND drg IS NOT NULL AND trim(drg) NOT IN ('', '0000', '000', '0000A', '0000B')
    AND drg NOT LIKE '%QY%' AND (status IS NULL OR status IN ('分组成功', 'ok'))
),
q AS (
  SELECT drg, quantile_cont(cost, 0.25) AS q1, quantile_cont(cost, 0.75) AS q3, count(cost) AS n_cost
  FROM c GROUP BY drg
),
d AS (
  SELECT c.drg, count(*) AS cases, avg(c.cost) AS mean_cost_all, avg(c.los) AS mean_los, avg(c.died::INT) AS death_rate,
         sum(c.cost) FILTER (WHERE q.n_cost < 5 OR c.cost BETWEEN q.q1 - 1.5 * (q.q3 - q.q1) AND q.q3 + 1.5 * (q.q3 - q.q1)) AS kept_sum,
         count(c.cost) FILTER (WHERE q.n_cost < 5 OR c.cost BETWEEN q.q1 - 1.5 * (q.q3 - q.q1) AND q.q3 + 1.5 * (q.q3 - q.q1)) AS kept_n
  FROM c JOIN q USING (drg) GROUP BY c.drg
),
w AS (
  SELECT drg, mean_cost_all, mean_los, death_rate,
         CASE WHEN kept_n >= 1 THEN (kept_sum / kept_n) / (SELECT sum(kept_sum) / sum(kept_n) FROM d) END AS rw
  FROM d
)
SELECT c.hospital_id, count(*) AS cases, sum(w.rw) / count(w.rw) AS cmi,
       avg(c.cost / w.mean_cost_all) AS cost_index, avg(c.los / nullif(w.mean_los, 0)) AS time_index,
       sum(c.died::INT) AS observed, sum(w.death_rate) AS expected, sum(c.died::INT) / sum(w.death_rate) AS oe_ratio
FROM c JOIN w USING (drg) GROUP BY c.hospital_id ORDER BY c.hospital_id
"""


def duckdb_run(grouped: str, out: str) -> None:
    """In a child: the query, its result written to ``out`` (Parquet)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count() or 1}")
    from evaluation.common import COST_MAX_YUAN, LOS_MAX_DAYS  # the usable cost and stay, as every analysis reads them

    con.execute(QUERY.format(path=grouped.replace("'", "''"), cost_max=COST_MAX_YUAN, los_max=LOS_MAX_DAYS)).df().to_parquet(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grouped", help="a grouped Parquet file (else --dir's grouped.parquet, made by analytics_scale)")
    ap.add_argument("--dir")
    ap.add_argument("--hospitals")
    ap.add_argument("--replicate", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise SystemExit("duckdb is a benchmark dependency: pip install duckdb (or '.[bench]')") from None
    d = a.dir or tempfile.mkdtemp(prefix="drg-duckdb-")
    os.makedirs(d, exist_ok=True)
    grouped = a.grouped or os.path.join(d, "grouped.parquet")
    if not os.path.exists(grouped):
        subprocess.run(DRG + ["synth", "--cases", "1000000", "--seed", "1", "-o", d, "-q"], check=True)
        subprocess.run(DRG + ["group", os.path.join(d, "discharges.parquet"), "-o", grouped, "-q"], check=True)
    if a.replicate > 1:
        big = os.path.join(d, f"grouped_x{a.replicate}.parquet")
        if not os.path.exists(big):
            subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import analytics_scale as s; "
                            f"s.replicate({grouped!r}, {big!r}, {a.replicate}, sorted({{c for _, cols in s.COMMANDS.values() "
                            f"for c in cols}}))"], check=True)
        grouped = big
    hospitals = a.hospitals or (os.path.join(d, "hospitals.csv") if os.path.exists(os.path.join(d, "hospitals.csv")) else None)
    ours, theirs = [], []
    for _ in range(a.repeat):  # alternating, medians: a shared machine varies from run to run
        ours.append(run(DRG + ["evaluate", grouped, "-o", os.path.join(d, "out-evaluate"), "--lang", "en"]
                        + (["--hospitals", hospitals] if hospitals else [])))
        theirs.append(run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import duckdb_compare as s; "
                           f"s.duckdb_run({grouped!r}, {os.path.join(d, 'duckdb.parquet')!r})"]))
    import numpy as np
    import pandas as pd

    e = pd.read_parquet(os.path.join(d, "out-evaluate", "hospital.parquet")).set_index("hospital_id")
    o = pd.read_parquet(os.path.join(d, "out-evaluate", "outcomes.parquet")).set_index("hospital_id")
    q = pd.read_parquet(os.path.join(d, "duckdb.parquet")).set_index("hospital_id")
    both = q.index.intersection(e.index[e["cases"] > 0])
    agree = {c: bool(np.allclose(q.loc[both, c], src.loc[both, c], rtol=1e-9, equal_nan=True))
             for c, src in (("cases", e), ("cmi", e), ("cost_index", e), ("time_index", e), ("observed", o),
                            ("expected", o))}
    secs, peak = statistics.median(r[0] for r in ours), max(r[1] for r in ours)
    dsecs, dpeak = statistics.median(r[0] for r in theirs), max(r[1] for r in theirs)
    rows = int(pd.read_parquet(grouped, columns=["drg"]).shape[0]) if a.replicate == 1 else None
    print(json.dumps({"rows": rows, "evaluate_seconds": round(secs, 2), "evaluate_peak_rss_gb": round(peak, 2),
                      "duckdb_seconds": round(dsecs, 2), "duckdb_peak_rss_gb": round(dpeak, 2),
                      "ratio_to_duckdb": round(secs / dsecs, 2), "tables_agree": agree}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
