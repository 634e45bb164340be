"""A second simulator, written from the public case records and not from `drg synth` (issue 40): a judgment tuned to
our own generator proves nothing, so the funnels are also judged on a world built another way.

Each case is a public reference record (its diagnoses, procedures and reference DRG), resampled into hospitals of two
levels. Its death risk is the DRG's base risk (one draw per DRG, Beta(1, 30)) times the odds of its own coded
comorbidity (0.25 on the log-odds scale per secondary diagnosis, up to six) times its hospital's quality odds ratio.
Ordinary hospitals' log odds ratios are N(0, 0.15) (real regions vary more than chance allows); planted quality
outliers have OR 2.0-2.5; case-mix-only hospitals take records with more secondary diagnoses within the same DRGs
(sicker patients, ordinary quality). The null world plants nothing.

With ``games=True`` the world is also a world of patients and payment (issue 40, points 3, 5, 6): each case has a
patient, admission and discharge dates, a doctor and a department; costs follow the DRG, the patient's true
comorbidity and the hospital's own cost level (ordinary: log-normal, sd 0.05); about 4% of stays are followed by a
natural readmission of the same patient in the same MDC (gap geometric, a fifth of them for the same principal
diagnosis); and the planted world adds two upcoders (an MCC code valid for the principal added to 30% of their
cases in ADRGs that split, regrouped by the engine; costs, stays and deaths unchanged: the coding is all that moved),
one in both years and one in the later year only, a splitter (12% of its stays of 4+ days cut into two stays of the
same codes, 0-1 days apart) and a hospital whose costs and stays run 1.3 times its peers'.
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
    upcoder_years: set = field(default_factory=set)  # (hospital, year) where codes were added
    splitter: list = field(default_factory=list)
    split_second: set = field(default_factory=set)  # case ids of the second stays of planted splits
    cost_outliers: list = field(default_factory=list)
    cost_level: dict = field(default_factory=dict)  # each hospital's log cost level
    log_or: dict = field(default_factory=dict)  # each hospital's true log odds ratio of death


def _records(path: Path) -> pd.DataFrame:
    t = pq.read_table(path, columns=["dx", "px", "expected_status", "expected_mdc", "expected_adrg", "expected_drg",
                                     "age_years", "age_days", "weight_g", "dept", "sex", "los_days"]).to_pandas()
    t = t[t["expected_status"] == "分组成功"].reset_index(drop=True)
    t["n_sdx"] = t["dx"].map(lambda d: max(len(d) - 1, 0) if d is not None else 0).clip(upper=6)
    return t


def make_world(cases_path: Path, *, seed: int = 0, planted: bool = True, tertiary: int = 10, secondary: int = 50,
               cases_tertiary: int = 12000, cases_secondary: int = 4000, years=(2021, 2022), games: bool = False) -> World:
    """The world's discharge records (grouped: hospital_id, level, year, drg, adrg, mdc, status, leaving_type, cost,
    LOS, dx) and who is what. ``planted=False``: the null world (ordinary hospitals only). ``games``: patients,
    dates, doctors, costs by DRG, natural readmissions and (planted) the coding and admission games."""
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
        if games:  # coded as offices code: the public records carry five codes where real abstracts carry two
            r = r.assign(dx=[list(d[:1]) + [x for x in d[1:] if rng.random() < KEEP_SECONDARY] for d in r["dx"]])
            r = r.assign(n_sdx=r["dx"].map(lambda d: max(len(d) - 1, 0)).clip(upper=6))
        p0 = r["expected_drg"].map(base).to_numpy(float)
        logit = np.log(p0 / (1 - p0)) + 0.25 * r["n_sdx"].to_numpy(float) + log_or[h]
        died = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
        cost = np.exp(8.5 + 0.1 * r["n_sdx"].to_numpy(float) + rng.normal(0, 0.3, n))
        parts.append(pd.DataFrame({
            "hospital_id": h, "level": level[h], "year": rng.choice(np.array(years), size=n),
            "drg": r["expected_drg"].to_numpy(), "adrg": r["expected_adrg"].to_numpy(), "mdc": r["expected_mdc"].to_numpy(),
            "status": "分组成功", "leaving_type": np.where(died, "5", "1"), "total_cost": np.round(cost, 2),
            "los_days": pd.to_numeric(r["los_days"], errors="coerce").fillna(5).clip(1, 60).to_numpy(),
            "dx": r["dx"].to_numpy(), "px": r["px"].to_numpy(), "age_days": r["age_days"].to_numpy(),
            "weight_g": r["weight_g"].to_numpy(), "dept": r["dept"].to_numpy(), "age_years": r["age_years"].to_numpy(), "sex": r["sex"].to_numpy()}))
    cases = pd.concat(parts, ignore_index=True)
    cases["case_id"] = [f"W{seed}-{i:07d}" for i in range(len(cases))]
    world = World(cases, outliers, casemix, [h for h in ids if h not in outliers and h not in casemix], log_or=log_or)
    if games:
        _play(world, rec, rng, planted, years)
    return world


UPCODERS = {"T03": "all", "S13": "last"}  # years in which codes were added
SPLITTER, COST_OUTLIER = "S15", "S11"
KEEP_SECONDARY = 0.35
UPCODE_SHARE, SPLIT_SHARE, READMIT_SHARE, SAME_PDX_READMIT = 0.30, 0.12, 0.04, 0.2


def _play(world: World, rec: pd.DataFrame, rng, planted: bool, years) -> None:
    """Patients, dates, doctors, costs, natural readmissions and (planted) the games: see the module's doc."""
    c = world.cases
    n = len(c)
    ids = list(dict.fromkeys(c["hospital_id"]))
    lookup, scheme = _scheme()
    _regroup(c, np.arange(n), scheme)  # the thinned codes' own DRGs
    mcc_cc = np.array([_has_mcc_cc(d, lookup) for d in c["dx"]])
    drgs = np.unique(c["drg"])
    drg_cost = dict(zip(drgs, np.exp(rng.normal(9.0, 0.6, len(drgs)))))
    level_cost = dict(zip(ids, rng.normal(0.0, 0.05, len(ids))))
    n_sdx = c["dx"].map(lambda d: min(max(len(d) - 1, 0), 6)).to_numpy(float)  # the true comorbidity
    if planted:
        level_cost[COST_OUTLIER] = np.log(1.3)
        world.cost_outliers = [COST_OUTLIER]
    world.cost_level = level_cost
    hl = c["hospital_id"].map(level_cost).to_numpy(float)
    c["total_cost"] = np.round(c["drg"].map(drg_cost).to_numpy(float) * np.exp(0.35 * mcc_cc + 0.05 * n_sdx + hl + rng.normal(0, 0.3, n)), 2)
    c["los_days"] = np.maximum(1, np.round(c["los_days"].to_numpy(float) * np.exp(hl))).astype(int)
    c["patient_id"] = [f"P{i:08d}" for i in range(n)]
    start = np.array([np.datetime64(f"{y}-01-01") for y in c["year"]])
    c["admit_date"] = start + rng.integers(0, 300, n).astype("timedelta64[D]")
    c["discharge_date"] = c["admit_date"] + c["los_days"].to_numpy().astype("timedelta64[D]")
    size = c.groupby("hospital_id")["hospital_id"].transform("size").to_numpy()  # doctors of about 200 cases
    k = (rng.random(n) * np.maximum(1, size // 200)).astype(int)
    c["doctor_id"] = c["hospital_id"].astype(str) + "-D" + pd.Series(k, index=c.index).astype(str).str.zfill(2)
    parts = [c]
    # natural readmissions: the same patient again, in the same MDC, a few days later
    again = np.flatnonzero((rng.random(n) < READMIT_SHARE) & (c["leaving_type"].to_numpy() != "5")
                           & c["mdc"].isin(list(rec["expected_mdc"].unique())).to_numpy())
    by_mdc = rec.groupby("expected_mdc").indices
    pick = np.array([rng.choice(by_mdc[m]) for m in c["mdc"].to_numpy()[again]])
    same = rng.random(len(again)) < SAME_PDX_READMIT
    r = c.iloc[again].copy()
    other = rec.iloc[pick]
    for col_w, col_r in (("drg", "expected_drg"), ("adrg", "expected_adrg"), ("mdc", "expected_mdc"), ("dx", "dx")):
        r[col_w] = np.where(same, r[col_w].to_numpy(), other[col_r].to_numpy())
    gap = np.minimum(rng.geometric(0.15, len(again)) - 1, 29)
    r["admit_date"] = r["discharge_date"].to_numpy() + gap.astype("timedelta64[D]")
    r["los_days"] = np.maximum(1, rng.integers(1, 10, len(again)))
    r["discharge_date"] = r["admit_date"] + r["los_days"].to_numpy().astype("timedelta64[D]")
    r["total_cost"] = np.round(r["drg"].map(drg_cost).fillna(8000).to_numpy(float) * np.exp(rng.normal(0, 0.3, len(r))), 2)
    r["leaving_type"] = np.where(rng.random(len(r)) < 0.03, "5", "1")
    r["case_id"] = [f"{x}-R" for x in r["case_id"]]
    parts.append(r)
    if planted:
        # the splitter: one stay of 4+ days becomes two with the same codes, 0-1 days apart, the cost shared
        at = np.flatnonzero((c["hospital_id"].to_numpy() == SPLITTER) & (c["los_days"].to_numpy() >= 4)
                            & (rng.random(n) < SPLIT_SHARE))
        first, second = c.iloc[at].copy(), c.iloc[at].copy()
        los = first["los_days"].to_numpy()
        a = los // 2
        first["los_days"], second["los_days"] = a, los - a
        first["discharge_date"] = first["admit_date"] + a.astype("timedelta64[D]")
        second["admit_date"] = first["discharge_date"].to_numpy() + rng.integers(0, 2, len(at)).astype("timedelta64[D]")
        second["discharge_date"] = second["admit_date"] + (los - a).astype("timedelta64[D]")
        share = a / los
        first["total_cost"] = np.round(first["total_cost"].to_numpy() * share, 2)
        second["total_cost"] = np.round(second["total_cost"].to_numpy() * (1 - share), 2)
        first["leaving_type"] = "1"
        second["case_id"] = [f"{x}-S" for x in second["case_id"]]
        c.loc[first.index, ["los_days", "discharge_date", "total_cost", "leaving_type"]] = \
            first[["los_days", "discharge_date", "total_cost", "leaving_type"]]
        parts.append(second)
        world.splitter, world.split_second = [SPLITTER], set(second["case_id"])
    world.cases = pd.concat(parts, ignore_index=True)
    world.cases["year"] = world.cases["discharge_date"].astype("datetime64[ns]").dt.year.where(
        world.cases["discharge_date"].astype("datetime64[ns]").dt.year.isin(list(years)), world.cases["year"])
    if planted:
        _upcode(world, rng, years)
    world.ordinary = [h for h in world.ordinary if h not in set(UPCODERS) | {SPLITTER, COST_OUTLIER}]


def _scheme():
    import grouper
    from conftest import SCHEMES
    from drg.risk import code_lookup

    return code_lookup(str(SCHEMES / "chs-drg-1.1")), grouper.load_scheme(str(SCHEMES / "chs-drg-1.1"))


def _has_mcc_cc(d, lookup) -> bool:
    """An MCC or CC among the secondary diagnoses valid for the principal (FORMAT.md 4.1's exclusions)."""
    if len(d) < 2:
        return False
    ex = lookup.pdx.get(d[0], -2)
    return any((lookup.mcc.get(x, -1) >= 0 and lookup.mcc[x] != ex) or (lookup.cc.get(x, -1) >= 0 and lookup.cc[x] != ex)
               for x in d[1:])


def _regroup(c: pd.DataFrame, rows, scheme) -> np.ndarray:
    """Group ``rows`` of the world with the engine (their DRG, ADRG, MDC and status); True where grouped."""
    import grouper

    rows = np.asarray(rows)
    sub = pd.DataFrame({"case_id": c["case_id"].to_numpy()[rows], "sex": c["sex"].to_numpy()[rows],
                        "age_years": c["age_years"].to_numpy()[rows], "age_days": c["age_days"].to_numpy()[rows],
                        "weight_g": c["weight_g"].to_numpy()[rows], "dept": c["dept"].to_numpy()[rows], "los_days": c["los_days"].to_numpy()[rows],
                        "leaving_type": c["leaving_type"].to_numpy()[rows], "dx": c["dx"].to_numpy()[rows],
                        "px": c["px"].to_numpy()[rows]})
    g = grouper.group(sub, scheme)
    for col in ("drg", "adrg", "mdc", "status"):
        c.loc[c.index[rows], col] = g[col].to_numpy()
    return (g["status"] == "分组成功").to_numpy()


def _upcode(world: World, rng, years) -> None:
    """Add an MCC valid for the principal diagnosis to 30% of each upcoder's cases without an MCC/CC in ADRGs that
    split, in its gaming years; regroup them with the engine (chs-drg-1.1). Costs, stays and deaths stay."""
    lookup, scheme = _scheme()
    c = world.cases
    mcc_codes = np.array(sorted(lookup.mcc))
    mcc_ex = np.array([lookup.mcc[x] for x in mcc_codes])
    splits = c.groupby("adrg")["drg"].nunique()
    split_adrg = set(splits.index[splits >= 2])
    rows = []
    for h, when in UPCODERS.items():
        for y in (years if when == "all" else years[-1:]):
            at = np.flatnonzero((c["hospital_id"].to_numpy() == h) & (c["year"].to_numpy() == y)
                                & c["adrg"].isin(split_adrg).to_numpy() & (c["status"].to_numpy() == "分组成功"))
            rows += [i for i in at if len(c.at[i, "dx"]) and not _has_mcc_cc(c.at[i, "dx"], lookup) and rng.random() < UPCODE_SHARE]
            world.upcoder_years.add((h, int(y)))
    rows = np.asarray(rows, np.int64)
    old = c.loc[rows, "dx"].copy()
    c.loc[rows, "dx"] = pd.Series([list(d) + [str(rng.choice(mcc_codes[mcc_ex != lookup.pdx.get(d[0], -2)]))]
                                   for d in old], index=rows, dtype=object)
    ok = _regroup(c, rows, scheme)
    if (~ok).any():  # a code the record's sex or age rules out is taken back
        c.loc[rows[~ok], "dx"] = old[~ok]
        _regroup(c, rows[~ok], scheme)


def hospitals_table(world: World) -> pd.DataFrame:
    h = world.cases.groupby("hospital_id", observed=True)["level"].first().reset_index()
    return h.assign(kind="general", name=h["hospital_id"])
