"""`drg demo`: the whole product on built-in demo data (grows as features land)."""

from __future__ import annotations

import os
import sys


def run_demo(scheme_path: str, output: str, *, cases: int = 200_000, seed: int = 2019, quiet: bool = False) -> int:
    import grouper

    from .batch import group_file
    from .synth import synthesize

    os.makedirs(output, exist_ok=True)
    scheme = grouper.load_scheme(scheme_path)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"[1/2] synthesizing {cases:,} discharges of the Dezhou region under {scheme.id} ...")
    synth_dir = os.path.join(output, "synthetic")
    synthesize(scheme, synth_dir, region="dezhou", years=[2018, 2019, 2020, 2021], cases=cases, seed=seed, quiet=quiet)
    say("[2/2] grouping ...")
    grouped = os.path.join(output, "grouped.parquet")
    summary = group_file(os.path.join(synth_dir, "discharges.parquet"), grouped, scheme, quiet=quiet)
    ok = summary["status_counts"].get("分组成功", 0) / max(summary["rows_in"], 1)
    print(f"demo done: {summary['rows_in']:,} discharges, {ok:.1%} grouped (分组成功)")
    print(f"  synthetic data and planted effects: {synth_dir}/ (discharges.parquet, truth.json, truth.parquet)")
    print(f"  grouped records: {grouped} (+ .summary.json)")
    return 0
