"""What the evaluation finds in a synthetic region against what was planted (issue 15's measurable points).

    python benchmarks/planted_recovery.py --cases 3000000 [--seed 2019] [--work DIR]

Synthesizes the Dezhou region (planted: a quality outlier, two case-mix-only hospitals -- sicker
patients, ordinary quality: DRG-only O/E flags them, `drg risk` must not --, over-dispersion among ordinary
hospitals, staggered tertiary-pairing starts with a case-mix gain, county alliances without effect,
type-2 transfers naming their receiver), groups it and runs `drg evaluate` (exact Poisson funnel and
`--overdispersion`), `drg support` on the synthetic plan and `drg tiered-care`. Prints one JSON
object: hospitals flagged at 99.8% (planted, ordinary), each program's CMI DiD with its CI and the
planted gain, and the transfer matching. A measurement, not a test: the tests check the same
judgments at CI size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd


def drg(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "drg.cli", *args], check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--work", default=None)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="drg-recovery-")
    synth, grouped = os.path.join(work, "synth"), os.path.join(work, "grouped.parquet")
    drg("synth", "--cases", str(a.cases), "--seed", str(a.seed), "-o", synth)
    drg("group", os.path.join(synth, "discharges.parquet"), "-o", grouped)
    with open(os.path.join(synth, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    planted = pd.DataFrame(truth["hospitals"]).set_index("hospital_id")
    # DRG-only O/E cannot tell sicker patients from worse care: the case-mix-only hospitals count as planted
    # here (benchmarks/risk_scale.py shows the patient-level model clearing them)
    bad = set(planted.index[planted["quality_outlier"]]) | set(truth.get("casemix_only", []))
    report: dict = {"cases": a.cases, "seed": a.seed, "planted_quality_outliers": sorted(bad),
                    "ordinary_log_or_sd": round(float(np.log(planted.loc[~planted["quality_outlier"], "death_or"]).std()), 4)}
    for name, extra in (("poisson", []), ("additive", ["--overdispersion"])):
        out = os.path.join(work, f"eval-{name}")
        drg("evaluate", grouped, "--lang", "en", "-o", out, *extra)
        o = pd.read_parquet(os.path.join(out, "outcomes.parquet")).set_index("hospital_id")
        flagged = set(o.index[o["funnel_flag"].isin(["alarm_high", "alarm_low"])])
        report[f"funnel_{name}"] = {"planted_flagged": len(flagged & bad), "ordinary_flagged": len(flagged - bad),
                                    "ordinary": sorted(flagged - bad)}
    out = os.path.join(work, "support")
    drg("support", grouped, "--pairs", os.path.join(synth, "support_pairs.csv"), "--lang", "en", "-o", out)
    did = pd.read_parquet(os.path.join(out, "support_did.parquet"))
    cmi = did[did["indicator"] == "cmi"].set_index("program")
    for program, r in cmi.iterrows():
        entry = {k: (round(float(r[k]), 4) if isinstance(r[k], float) else r[k])
                 for k in ("status", "did", "ci_low", "ci_high", "treated_hospitals", "control_hospitals", "cohorts", "pretrend_p")}
        if truth["programs"][program]["planted_effect"]:
            plan = pd.read_csv(os.path.join(synth, "support_pairs.csv"))
            others = set(plan.loc[(plan["program"] != program) & (plan["start_year"] <= max(truth["years"])), "recipient_id"])
            treated = [h for h in truth["support"] if h not in others]
            entry["planted_gain"] = round(float(np.mean([truth["support"][h]["planted_cmi_gain_data_weights"] for h in treated])), 4)
        else:
            entry["planted_gain"] = 0.0
        entry["ci_holds_planted"] = bool(r["ci_low"] <= entry["planted_gain"] <= r["ci_high"])
        report[f"support_{program}"] = entry
    out = os.path.join(work, "tiered")
    drg("tiered-care", grouped, "--lang", "en", "-o", out)
    h = pd.read_parquet(os.path.join(out, "hospital.parquet"))
    report["transfers"] = {"type2": int(h["transfers"].sum()), "unmatched_share": round(float(h["transfer_unknown_level"].sum() / h["transfers"].sum()), 4),
                           "down_via_transfer": int(h["transfer_down"].sum()), "up_via_transfer": int(h["transfer_up"].sum())}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
