"""Issue 40's measurements at scale: every judgment of `drg evaluate` (hospital, --by doctor, --by dept), `drg risk`
and `drg audit`, with their DEFAULT options, as command-line runs on both worlds of the second simulator
(tests/second_world.py: not `drg synth`). Prints, per world and table, the planted units found and the ordinary
ones flagged.

    python benchmarks/judgments_scale.py OUT [--tertiary 20 --secondary 100 --years 4 --cases-tertiary 24000
                                              --cases-secondary 8000]    # about 1.25M stays per world
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _drg(*args) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "drg.cli", *map(str, args), "--lang", "en", "-q"], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def _alarms(t: pd.DataFrame, col: str = "funnel_flag") -> pd.DataFrame:
    return t[t[col].astype(str).str.startswith("alarm")]


def judge(world, folder: Path) -> list[str]:
    from second_world import hospitals_table

    folder.mkdir(parents=True, exist_ok=True)
    data, hosp = folder / "world.parquet", folder / "hospitals.csv"
    world.cases.to_parquet(data)
    hospitals_table(world)[["hospital_id", "level"]].to_csv(hosp, index=False)
    ordinary, out = set(world.ordinary), []

    def line(table, found, named, truth=None):
        truth = world.log_or if truth is None else truth
        sd = 0.15 if truth is world.log_or else 0.05  # the ordinary spread each truth is drawn with
        who = ", ".join(f"{h} (drawn {truth.get(h, float('nan')) / sd:+.1f} SD)" for h in sorted(named)[:6])
        out.append(f"  {table:<40} planted found {found:<30} ordinary flagged {len(named)} {who}")

    s = _drg("evaluate", data, "-o", folder / "ev", "--hospitals", hosp)
    o = pd.read_parquet(folder / "ev" / "outcomes.parquet")
    h = pd.read_parquet(folder / "ev" / "hospital.parquet")
    a = set(_alarms(o)["hospital_id"])
    line(f"evaluate outcomes ({s:.0f} s)", f"{len(a & set(world.outliers))}/{len(world.outliers)}", a & ordinary)
    for name in ("cost_index", "time_index"):
        a = set(_alarms(h, f"{name}_flag")["hospital_id"])
        line(f"evaluate hospital {name}", f"{len(a & set(world.cost_outliers))}/{len(world.cost_outliers)}", a & ordinary,
             world.cost_level)
    for by in ("doctor", "dept"):
        s = _drg("evaluate", data, "-o", folder / f"ev_{by}", "--hospitals", hosp, "--by", by)
        t = pd.read_parquet(folder / f"ev_{by}" / f"{by}.parquet")
        a = set(_alarms(t)["hospital_id"])
        line(f"evaluate --by {by} ({s:.0f} s, {len(t)} units)", "", a & ordinary)
    s = _drg("risk", data, "-o", folder / "risk", "--hospitals", hosp)
    for name in ("hospital", "hospital_year"):
        t = pd.read_parquet(folder / "risk" / f"{name}.parquet")
        t = t[t["outcome"] == "death"] if "outcome" in t.columns else t
        a = set(_alarms(t)["hospital_id"])
        line(f"risk {name} ({s:.0f} s)", f"{len(a & set(world.outliers))}/{len(world.outliers)}; case-mix-only "
             f"{len(a & set(world.casemix_only))}", a & ordinary)
    s = _drg("audit", data, "-o", folder / "audit", "--hospitals", hosp)
    f = pd.read_parquet(folder / "audit" / "hospital_flags.parquet")
    f = f[f["flag"]]
    up = set(zip(f.loc[f["target_area"] == "mcc_cc_capture", "hospital_id"], f.loc[f["target_area"] == "mcc_cc_capture", "year"]))
    split = set(f.loc[f["target_area"] == "split_admissions", "hospital_id"])
    line(f"audit ({s:.0f} s)", f"upcoder-years {len(up & world.upcoder_years)}/{len(world.upcoder_years)}, splitter "
         f"{len(split & set(world.splitter))}/{len(world.splitter)}", set(f["hospital_id"]) & ordinary)
    out.append(f"  audit: case-mix-only flagged in any area: {sorted(set(f['hospital_id']) & set(world.casemix_only))}; "
               f"review list {len(pd.read_parquet(folder / 'audit' / 'review_cases.parquet'))} cases")
    sp = pd.read_parquet(folder / "audit" / "split_admissions.parquet")
    likely = sp[sp["probability"] >= 0.5]
    prec = likely["case_id"].isin(world.split_second).mean() if len(likely) else float("nan")
    out.append(f"  audit: split pairs {len(sp)}, p >= 0.5: {len(likely)}, precision {prec:.3f}")
    return out


def main() -> None:
    from conftest import CASES
    from second_world import make_world

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--tertiary", type=int, default=20)
    p.add_argument("--secondary", type=int, default=100)
    p.add_argument("--years", type=int, default=4)
    p.add_argument("--cases-tertiary", type=int, default=24000)
    p.add_argument("--cases-secondary", type=int, default=8000)
    p.add_argument("--seed", type=int, default=11)
    a = p.parse_args()
    for planted in (True, False):
        t0 = time.perf_counter()
        w = make_world(CASES / "chs-drg-1.1.parquet", seed=a.seed, planted=planted, tertiary=a.tertiary,
                       secondary=a.secondary, cases_tertiary=a.cases_tertiary, cases_secondary=a.cases_secondary,
                       years=tuple(range(2021, 2021 + a.years)), games=True)
        print(f"{'planted' if planted else 'null'} world: {len(w.cases):,} stays, {w.cases['hospital_id'].nunique()} "
              f"hospitals ({time.perf_counter() - t0:.0f} s)", flush=True)
        for text in judge(w, Path(a.out) / ("planted" if planted else "null")):
            print(text, flush=True)


if __name__ == "__main__":
    main()
