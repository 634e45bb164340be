"""A second simulator, written from the public case records and not from `drg synth` (issue 40): a judgment tuned to
our own generator proves nothing, so the funnels are also judged on a world built another way.

Each case is a public reference record (its diagnoses, procedures and reference DRG), resampled into hospitals of two
levels. Its death risk is the DRG's base risk (one draw per DRG, Beta(1, 30)) times the odds of its own coded
comorbidity (0.25 on the log-odds scale per secondary diagnosis, up to six) times its hospital's quality odds ratio.
Ordinary hospitals' log odds ratios are N(0, 0.15) (real regions vary more than chance allows); planted quality
outliers have OR 2.0-2.5; case-mix-only hospitals take records with more secondary diagnoses within the same DRGs
(sicker patients, ordinary quality). The null world plants nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


@dataclass
class World:
    cases: pd.DataFrame
    outliers: list = field(default_factory=list)  # planted quality outliers
    casemix_only: list = field(default_factory=list)  # sicker patients, ordinary quality
    ordinary: list = field(default_factory=list)


def _records(path: Path) -> pd.DataFrame:
    t = pq.read_table(path, columns=["dx", "px", "expected_status", "expected_mdc", "expected_adrg", "expected_drg",
                                     "age_years", "sex", "los_days"]).to_pandas()
    t = t[t["expected_status"] == "分组成功"].reset_index(drop=True)
    t["n_sdx"] = t["dx"].map(lambda d: max(len(d) - 1, 0) if d is not None else 0).clip(upper=6)
    return t


def make_world(cases_path: Path, *, seed: int = 0, planted: bool = True, tertiary: int = 10, secondary: int = 50,
               cases_tertiary: int = 12000, cases_secondary: int = 4000, years=(2021, 2022)) -> World:
    """The world's discharge records (grouped: hospital_id, level, year, drg, adrg, mdc, status, leaving_type, cost,
    LOS, dx) and who is what. ``planted=False``: the null world (ordinary hospitals only)."""
    rng = np.random.default_rng(seed)
    rec = _records(cases_path)
    drgs = rec["expected_drg"].unique()
    base = dict(zip(drgs, rng.beta(1.0, 30.0, len(drgs))))
    sick = rec["n_sdx"].to_numpy() >= 4  # the records a case-mix-only hospital is given more of
    ids = [f"T{h:02d}" for h in range(tertiary)] + [f"S{h:02d}" for h in range(secondary)]
    level = {h: ("tertiary" if h.startswith("T") else "secondary") for h in ids}
    log_or = dict(zip(ids, rng.normal(0.0, 0.15, len(ids))))
    outliers, casemix = [], []
    if planted:
        outliers = ["T01", "S03", "S07"]
        for h, o in zip(outliers, (2.0, 2.5, 2.2)):
            log_or[h] = np.log(o)
        casemix = ["T02", "S05", "S09"]
        for h in casemix:
            log_or[h] = 0.0
    parts = []
    for h in ids:
        n = cases_tertiary if level[h] == "tertiary" else cases_secondary
        if h in casemix:  # within the DRGs the records hold, sicker ones (more coded comorbidity)
            w = np.where(sick, 6.0, 1.0)
            pick = rng.choice(len(rec), size=n, p=w / w.sum())
        else:
            pick = rng.integers(0, len(rec), size=n)
        r = rec.iloc[pick]
        p0 = r["expected_drg"].map(base).to_numpy(float)
        logit = np.log(p0 / (1 - p0)) + 0.25 * r["n_sdx"].to_numpy(float) + log_or[h]
        died = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        cost = np.exp(8.5 + 0.1 * r["n_sdx"].to_numpy(float) + rng.normal(0, 0.3, n))
        parts.append(pd.DataFrame({
            "hospital_id": h, "level": level[h], "year": rng.choice(np.array(years), size=n),
            "drg": r["expected_drg"].to_numpy(), "adrg": r["expected_adrg"].to_numpy(), "mdc": r["expected_mdc"].to_numpy(),
            "status": "分组成功", "leaving_type": np.where(died, "5", "1"), "total_cost": np.round(cost, 2),
            "los_days": pd.to_numeric(r["los_days"], errors="coerce").fillna(5).clip(1, 60).to_numpy(),
            "dx": r["dx"].to_numpy(), "age_years": r["age_years"].to_numpy(), "sex": r["sex"].to_numpy()}))
    cases = pd.concat(parts, ignore_index=True)
    cases["case_id"] = [f"W{seed}-{i:07d}" for i in range(len(cases))]
    ordinary = [h for h in ids if h not in outliers and h not in casemix]
    return World(cases, outliers, casemix, ordinary)


def hospitals_table(world: World) -> pd.DataFrame:
    h = world.cases.groupby("hospital_id", observed=True)["level"].first().reset_index()
    return h.assign(kind="general", name=h["hospital_id"])
