"""The analytics commands at scale: each of `drg evaluate`, `pay`, `tiered-care` and `support` timed in a child process
with its own peak RSS, against the pyarrow read of the columns it uses (measured in the same run), plus a paper
estimate for a national year (300M discharges) from the measured per-row costs.

    python benchmarks/analytics_scale.py --cases 1000000 --dir S          # synthesizes and groups into S unless there
    python benchmarks/analytics_scale.py --grouped G.parquet --hospitals H.csv --replicate 10 --dir BIG \\
        --commands evaluate,evaluate-mdc-month                             # 10 copies of G, written batch by batch
    python benchmarks/analytics_scale.py --dir S --replicate 100 --commands evaluate-doctor,evaluate-doctor-model
        # the doctor view, also adjusted by a drg risk model (fitted on S, its cases file copied as the grouped file)

``--replicate K`` writes the grouped file K times over (case ids suffixed) in row groups, in bounded memory: the
same hospitals and DRGs with K times the cases, which is what a longer or larger input costs the streamed commands.
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

from synthetic_region import DRG, read_floor, run  # noqa: E402

from drg.settlement import PAY_COLUMNS  # noqa: E402
from drg.streamed import SUPPORT_COLUMNS as EVAL  # noqa: E402  (evaluate by hospital reads the same columns)
from drg.streamed import TIERED_COLUMNS as TIERED  # noqa: E402

MODEL = "{model}"  # stands for the drg risk folder made for the (replicated) grouped file
COMMANDS = {  # name: (arguments after the input, the columns the command reads)
    "evaluate": (["evaluate"], EVAL),
    "evaluate-mdc-month": (["evaluate", "--by", "hospital-mdc", "--period", "month"], EVAL + ["discharge_date"]),
    "evaluate-doctor": (["evaluate", "--by", "doctor"], EVAL + ["dept", "doctor_id"]),
    "evaluate-doctor-model": (["evaluate", "--by", "doctor", "--risk-model", MODEL], EVAL + ["dept", "doctor_id", "case_id"]),
    "support": (["support"], EVAL),
    "tiered-care": (["tiered-care"], TIERED),
    "pay": (["pay", "--budget", "1e10"], PAY_COLUMNS + ["self_pay"]),
}


def replicate(src: str, dst: str, times: int, columns: list[str] | None) -> None:
    """``src`` written ``times`` times into ``dst`` batch by batch (case_id gets ``~k`` for copy k)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    f = pq.ParquetFile(src)
    cols = [c for c in columns if c in f.schema_arrow.names] if columns else None
    writer = None
    for k in range(times):
        for b in f.iter_batches(batch_size=1_000_000, columns=cols):
            t = pa.Table.from_batches([b])
            if "case_id" in t.column_names and k:
                t = t.set_column(t.column_names.index("case_id"), "case_id",
                                 pc.binary_join_element_wise(t.column("case_id").cast(pa.string()), pa.scalar(f"~{k}"), ""))
            if writer is None:
                writer = pq.ParquetWriter(dst, t.schema, compression="zstd", compression_level=1)
            writer.write_table(t, row_group_size=t.num_rows)
    writer.close()


def risk_model_for(grouped: str, base_grouped: str, d: str, times: int) -> str:
    """A drg risk folder for ``grouped``: the model fitted on ``base_grouped`` (death only), its cases file written
    ``times`` times over with the copies' case ids (as :func:`replicate` writes them), row for row."""
    import shutil

    base = os.path.join(d, "risk")
    if not os.path.exists(os.path.join(base, "cases.parquet")):
        subprocess.run(DRG + ["risk", base_grouped, "--outcomes", "death", "-o", base, "--lang", "en"], check=True,
                       stdout=subprocess.DEVNULL)
    if times == 1:
        return base
    big = os.path.join(d, f"risk_x{times}")
    if not os.path.exists(os.path.join(big, "cases.parquet")):
        os.makedirs(big, exist_ok=True)
        for name in ("model.parquet", "calibration.parquet"):
            shutil.copy(os.path.join(base, name), big)
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import analytics_scale as s; "
                        f"s.replicate({os.path.join(base, 'cases.parquet')!r}, {os.path.join(big, 'cases.parquet')!r}, "
                        f"{times}, None)"], check=True)
    return big


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir")
    ap.add_argument("--grouped", help="an existing grouped file (else synthesized and grouped into --dir)")
    ap.add_argument("--hospitals", help="its hospitals CSV (default: the --dir's region, or the built-in one)")
    ap.add_argument("--replicate", type=int, default=1)
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--national-rows", type=float, default=300e6)
    ap.add_argument("--cores", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1, help="runs per command (median time, largest peak)")
    a = ap.parse_args()
    d = a.dir or tempfile.mkdtemp(prefix="drg-analytics-")
    os.makedirs(d, exist_ok=True)
    grouped = a.grouped or os.path.join(d, "grouped.parquet")
    if not a.grouped and not os.path.exists(grouped):
        subprocess.run(DRG + ["synth", "--cases", str(a.cases), "--seed", str(a.seed), "-o", d, "-q"], check=True)
        subprocess.run(DRG + ["group", os.path.join(d, "discharges.parquet"), "-o", grouped, "-q"], check=True)
    names = [c for c in a.commands.split(",") if c]
    base_grouped = grouped
    if a.replicate > 1:
        big = os.path.join(d, f"grouped_x{a.replicate}.parquet")
        if not os.path.exists(big):
            needed = sorted({c for _, cols in COMMANDS.values() for c in cols})  # every command's: the copy serves them all
            # in a child: a child's peak RSS counts its parent's memory at fork, so the parent stays small
            subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {HERE!r}); import analytics_scale as s; "
                            f"s.replicate({grouped!r}, {big!r}, {a.replicate}, {needed!r})"], check=True)
        grouped = big
    hospitals = a.hospitals or (os.path.join(d, "hospitals.csv") if os.path.exists(os.path.join(d, "hospitals.csv")) else None)
    extra = ["--hospitals", hospitals] if hospitals else []
    result = {}
    for name in names:
        args, columns = COMMANDS[name]
        if MODEL in args:
            model = risk_model_for(grouped, base_grouped, d, a.replicate)
            args = [model if x == MODEL else x for x in args]
        floors, runs = [], []
        for _ in range(a.repeat):  # medians: a shared 2-core machine varies by a third from run to run
            rows, floor = read_floor(grouped, columns)
            floors.append(floor)
            runs.append(run(DRG + [args[0], grouped, *args[1:], *extra, "-o", os.path.join(d, f"out-{name}"), "--lang", "en"]))
        floor, secs, peak = statistics.median(floors), statistics.median(r[0] for r in runs), max(r[1] for r in runs)
        result[name] = {"rows": rows, "read_floor_seconds": round(floor, 2), "seconds": round(secs, 1),
                        "ratio_to_read": round(secs / floor, 2), "peak_rss_gb": round(peak, 2),
                        "us_per_row": round(secs / rows * 1e6, 3)}
        if name == "pay":  # pay also writes a row per case: the floor with pyarrow writing that file again (in a
            # child, as the read floor: the parent stays small)
            code = (f"import sys; sys.path.insert(0, {HERE!r}); import synthetic_region as s; "
                    f"from drg.settlement import FEW_VALUES; print(s.write_floor(sys.argv[1], FEW_VALUES))")
            write = float(subprocess.run([sys.executable, "-c", code, os.path.join(d, "out-pay", "cases.parquet")],
                                         check=True, capture_output=True, text=True).stdout)
            result[name].update({"cases_write_floor_seconds": round(write, 2),
                                 "ratio_to_read_plus_write": round(secs / (floor + write), 2)})
        # paper estimate for a national year: the per-row cost splits over the cores (each worker reduces its own
        # batches, --dask); what the driver spills to disk grows with the rows (its memory does not)
        n = a.national_rows
        estimate = {"rows": int(n), "one_core_minutes": round(secs / rows * n / 60, 1),
                    f"{a.cores}_cores_minutes": round(secs / rows * n / a.cores / 60, 1)}
        if name.startswith("evaluate") or name == "pay":  # per-DRG costs and stays: 12 bytes a case, past 128 MB on disk
            estimate["cost_values_gb_on_disk"] = round(n * 12 / 1e9, 1)
        if name == "pay":  # case points and year (10 bytes a case) on disk; the per-case file is written by the driver
            estimate["spill_gb_on_disk"] = round(n * 10 / 1e9, 1)
        result[name]["national_estimate"] = estimate
        print(json.dumps({name: result[name]}), flush=True)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
