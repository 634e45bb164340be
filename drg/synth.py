"""Synthetic region: a city's discharges with planted effects, for demos, tests and benchmarks.

Generation is generic over schemes (no per-scheme code):

1. *Templates*: for every ADRG step of the scheme, records are built to satisfy its
   rule (principal diagnosis / procedure from the rule's lists, newborn fields,
   age and sex bounds, secondary procedures, body regions ...), with no, CC or MCC
   secondary diagnoses, and grouped with the engine: each template's DRG is the
   one the engine gives it. An error variant of each template has an unknown
   principal diagnosis code (the deliberately miscoded share).
2. *DRG profile*: mean cost, mean LOS and death risk per DRG, from whether its
   templates are surgical and how many complications they carry, times a random
   DRG factor.
3. *Region*: residents choose hospitals inside their county at a planted
   county-specific rate; each hospital draws DRGs from a case mix tilted by its
   level (townships: common low-weight conditions; tertiary: complex ones) and
   kind; supported township hospitals tilt towards heavier and surgical DRGs from
   the pairing year on by a planted amount.
4. *Outcomes*: cost and LOS log-normal around the DRG means times each hospital's
   planted efficiency factors; in-hospital death from the DRG risk times the
   hospital's planted odds ratio; transfers and down-referrals.

Everything planted is written to ``truth.json`` (hospitals with their death odds ratios
-- ordinary ones spread around 1, the planted outliers at 3 --, counties, support programs
with their staggered start years and whether each has an effect, per-recipient gains) and
``truth.parquet`` (per case: the DRG aimed at, coding error flag, ``upcoded``, ``split_of``, ``low_value``) and
the coding games (hospitals' ``upcoding_from``, ``splits_admissions``, ``low_value_admissions``); the synthetic world's
support plan, with a ``start_year`` per pair, is ``support_pairs.csv``.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa

from grouper.atoms import atom_of
from grouper.codes import STATUS_OK

from .io import atomic_writer, write_json_atomic, write_table_atomic
from .regions import load_region

LEVEL_VOLUME = {"tertiary": 30.0, "secondary": 8.0, "primary": 0.35}
KIND_VOLUME = {"general": 1.0, "tcm": 0.4, "maternal_child": 0.3, "township": 1.0}
LEVEL_TILT = {"tertiary": 0.7, "secondary": 0.0, "primary": -1.6}
LEVEL_PRICE = {"tertiary": 1.2, "secondary": 1.0, "primary": 0.8}
SUPPORT_START = 2019  # the pairing program's start where the pairs file gives none (the Dezhou plan's first year)
QUALITY_OUTLIERS = 1  # planted: secondary hospitals with death odds ratio 3
QUALITY_SD = 0.15  # planted over-dispersion: ordinary hospitals' log death odds ratio ~ N(0, sd), cut at 2 sd
SUPPORT_TILT = 0.8  # planted: supported townships' case-mix tilt towards heavier DRGs
SUPPORT_SURGICAL = 2.5  # planted: and towards surgical DRGs
# planted patient-level risk: comorbidities (secondary diagnoses from the Quan 2005 categories, codes that
# are neither CC/MCC nor in any rule list of the scheme, so the DRG stays the one aimed at) and age raise the
# true death odds, LOS and cost. (category, prevalence at age 60, death log-OR, LOS and cost log-effect)
COMORBIDITIES = (("charlson_cevd", 0.06, 0.6, 0.08), ("charlson_rend", 0.04, 0.8, 0.10), ("elixhauser_carit", 0.08, 0.6, 0.06),
                 ("elixhauser_pcd", 0.02, 0.9, 0.08), ("charlson_cpd", 0.06, 0.5, 0.06), ("elixhauser_valv", 0.03, 0.4, 0.05),
                 ("charlson_pvd", 0.03, 0.4, 0.05), ("charlson_mld", 0.03, 0.5, 0.05), ("charlson_diab", 0.10, 0.2, 0.04),
                 ("elixhauser_hypunc", 0.15, 0.1, 0.02), ("elixhauser_fed", 0.04, 0.7, 0.08), ("charlson_pud", 0.03, 0.3, 0.04),
                 ("elixhauser_obes", 0.04, 0.0, 0.03))
AGE_LOG_OR = 0.035  # per year of age (adults, 18-95), around 60
CASEMIX_PREVALENCE = 3.5  # planted: casemix_only hospitals' patients carry this many times the comorbidities
ERROR_RATE = 0.008
UNKNOWN_PDX = "R99.x99ERR"
# planted coding games (drg audit must find them; their own random stream, so every other plant stays as it was)
UPCODE_SHARE = 0.25  # of an upcoder's eligible cases from its onset year: an MCC/CC code the patient does not have
SPLIT_SHARE = 0.15  # of a splitter's eligible stays: cut into two, readmitted 0-2 days later
LOW_VALUE_EXTRA = 0.12  # a low-value admitter's extra 1-day stays in low-weight medical DRGs, per own case
READMIT_SHARE = 0.08  # natural repeat admissions: cases of a patient already seen in the county (any date)
# departments (科室): a specialty per MDC (the surgical DRGs of some MDCs in their surgical department; townships
# have one general department); doctors (主诊医师) per department by level, one planted high-cost doctor and one
# planted high-mortality doctor (their own random stream: every other plant stays as it was)
DEPT_BY_MDC = {"A": "重症医学科", "B": "神经内科", "C": "眼科", "D": "耳鼻咽喉科", "E": "呼吸内科", "F": "心血管内科",
               "G": "消化内科", "H": "肝胆外科", "I": "骨科", "J": "皮肤科", "K": "内分泌科", "L": "肾内科", "M": "泌尿外科",
               "N": "妇科", "O": "产科", "P": "新生儿科", "Q": "血液科", "R": "肿瘤科", "S": "感染科", "T": "精神科",
               "U": "精神科", "V": "急诊科", "W": "烧伤科", "X": "康复医学科", "Y": "感染科", "Z": "创伤外科"}
SURGICAL_DEPT = {"B": "神经外科", "E": "胸外科", "F": "心脏大血管外科", "G": "胃肠外科", "L": "泌尿外科"}
TOWNSHIP_DEPT = "全科医疗科"
DOCTORS_PER_DEPT = {"tertiary": 4, "secondary": 2, "primary": 1}
DOCTOR_COST = 1.5  # planted: the high-cost doctor's cost factor
DOCTOR_DEATH_OR = 3.0  # planted: the high-mortality doctor's death odds ratio
SEASON_AMPLITUDE = 0.15  # planted: discharges by day of year ~ 1 + a*cos(2*pi*(day - peak)/365), winter peak
SEASON_PEAK_DAY = 15


# what drg synth says on the console, in the command's language
SYNTH_WORDS = {"zh": {"templates": "  已验证的病案模板{n:,}个，覆盖{drgs}个DRG组", "made": "  已合成 {done:,} / {total:,} 份出院病案",
                      "wrote": "  已写出{n:,}份出院病案 -> {path}"},
               "en": {"templates": "  {n:,} verified templates over {drgs} DRGs", "made": "  {done:,} / {total:,} discharges",
                      "wrote": "  wrote {n:,} discharges to {path}"}}

# -- templates ---------------------------------------------------------------------------------

class _Lists:
    """Code ids of each compiled list, for sampling codes that satisfy a rule."""

    def __init__(self, scheme):
        a = scheme.arrays
        ptr, lists = a["member_ptr"], a["member_lists"]
        codes = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
        order = np.argsort(lists, kind="stable")
        self.by_list = {}
        if len(order):
            ls = lists[order]
            cs = codes[order]
            bounds = np.flatnonzero(np.diff(ls)) + 1
            for chunk_l, chunk_c in zip(np.split(ls, bounds), np.split(cs, bounds)):
                self.by_list[int(chunk_l[0])] = chunk_c
        self.ids = scheme.list_ids
        self.codes = scheme.codes
        known = a["dx_known"]
        self.mcc = np.flatnonzero((a["mcc_ex"] >= 0) & known)
        self.cc = np.flatnonzero((a["cc_ex"] >= 0) & (a["mcc_ex"] < 0) & known)
        self.filler = np.flatnonzero(known & (a["mcc_ex"] < 0) & (a["cc_ex"] < 0))
        self.mcc_ex, self.cc_ex, self.pdx_ex = a["mcc_ex"], a["cc_ex"], a["pdx_ex"]
        or_id = scheme.list_ids.get(("named", "OR"))
        self.or_codes = self.by_list.get(or_id, np.zeros(0, np.int64)) if or_id is not None else np.zeros(0, np.int64)
        self.px_known = np.flatnonzero(a["px_known"])
        self.region = a["region"]
        self.rlists = scheme.rlist_ids

    def members(self, key) -> np.ndarray:
        lid = self.ids.get(key)
        return self.by_list.get(lid, np.zeros(0, np.int64)) if lid is not None else np.zeros(0, np.int64)


# CHS-DRG 2.0 / 3.0 fields (FORMAT.md 2): drawn only when a rule asks for them, else unknown; their usual range
NEW_FIELDS = ("admission_weight_g", "new_technique", "intensive_care", "day_surgery", "crrt_hours")
NEW_RANGE = {"admission_weight_g": (400, 5000), "new_technique": (0, 1), "intensive_care": (0, 1), "day_surgery": (0, 1),
             "crrt_hours": (0, 400)}


class _Draft:
    def __init__(self):
        self.dx0 = None
        self.sdx: list = []
        self.px0 = None
        self.spx: list = []
        self.bounds = {f: [-10**9, 10**9] for f in ("sex", "age_years", "age_days", "weight_g", "los", "icu_hours") + NEW_FIELDS}
        self.need = set()
        self.strs: dict = {}
        self.min_dx = 1
        self.min_px = 0


def _satisfy(node, d: _Draft, L: _Lists, rng) -> None:
    """Make the draft meet the rule: both sides of ``and``, one side of ``or`` (at random), each atom as
    its class says (:mod:`grouper.atoms`). ``not``, ``true`` and ``false`` ask for nothing."""
    op = node[0]
    if op == "and":
        _satisfy(node[1], d, L, rng)
        _satisfy(node[2], d, L, rng)
    elif op == "or":
        _satisfy(node[1] if rng.random() < 0.5 else node[2], d, L, rng)
    elif op not in ("not", "true", "false"):
        atom_of(node).satisfy(node, d, L, rng)  # an unknown atom raises: never silently skipped


def _pick(b, default_lo, default_hi, rng, typical=None):
    lo = b[0] if b[0] > -10**9 else default_lo
    hi = b[1] if b[1] < 10**9 else default_hi
    if lo > hi:
        return int(lo)
    if typical is not None and lo <= typical[0] and typical[1] <= hi:
        lo, hi = typical
    return int(rng.integers(lo, hi + 1))


def _finish(d: _Draft, L: _Lists, rng, level: int) -> dict:
    """Turn a draft into a record: default fields, complications (0 none, 1 CC, 2 MCC), fillers."""
    if d.dx0 is None:
        d.dx0 = L.codes[int(rng.choice(L.filler))]
    pdx = d.dx0
    first = pdx[:1]
    sdx = list(d.sdx)
    if level == 2 and len(L.mcc):
        sdx.append(L.codes[int(rng.choice(L.mcc))])
    elif level == 1 and len(L.cc):
        sdx.append(L.codes[int(rng.choice(L.cc))])
    for _ in range(int(rng.integers(0, 3))):
        sdx.append(L.codes[int(rng.choice(L.filler))])
    while 1 + len(sdx) < d.min_dx:
        sdx.append(L.codes[int(rng.choice(L.filler))])
    px = ([d.px0] if d.px0 is not None else []) + list(d.spx)
    while len(px) < d.min_px:
        pool = L.or_codes if len(L.or_codes) else L.px_known
        px.append(L.codes[int(rng.choice(pool))])
    # ICD-10 chapter conventions for realism (pregnancy: women; perinatal: newborns; ...)
    newborn = first == "P" or d.bounds["age_days"][1] <= 28 or d.bounds["weight_g"][1] < 10**9
    b = d.bounds
    if newborn:
        age = _pick(b["age_years"], 0, 0, rng)
    elif first == "O" or pdx[:2] == "Z3":
        age = _pick(b["age_years"], 16, 50, rng, (20, 42))
    else:
        age = _pick(b["age_years"], 0, 100, rng, (int(rng.choice([3, 20, 40, 55])), 90))
    if b["sex"][0] == b["sex"][1] and b["sex"][0] in (1, 2):
        sex = b["sex"][0]
    elif first == "O" or pdx[:2] == "Z3" or pdx[:1] == "N" and pdx[1:3] >= "70":
        sex = 2
    elif pdx[:3] in ("C61", "N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N50", "N51"):
        sex = 1
    else:
        sex = int(rng.integers(1, 3))
    age_days = weight = None
    if age == 0 or "age_days" in d.need:
        age_days = _pick(b["age_days"], 0, 364 if not newborn else 28, rng)
    if (age == 0 and age_days is not None and age_days <= 28) or "weight_g" in d.need:
        weight = _pick(b["weight_g"], 400, 5000, rng, (2500, 4000))
    icu = _pick(b["icu_hours"], 0, 400, rng) if "icu_hours" in d.need else 0
    new = {f: _pick(b[f], *NEW_RANGE[f], rng) if f in d.need else None for f in NEW_FIELDS}
    los_lo = b["los"][0] if b["los"][0] > -10**9 else 1
    los_hi = b["los"][1] if b["los"][1] < 10**9 else 10**6
    return {
        "sex": sex, "age_years": age, "age_days": age_days, "weight_g": weight,
        "dept": d.strs.get("dept", ""), "leaving_type": d.strs.get("leaving_type"), "icu_hours": icu,
        "los_lo": max(int(los_lo), 1), "los_hi": int(max(los_hi, 1)), "complication": level,
        "dx": [pdx] + sdx, "px": px, **new,
    }


def build_templates(scheme, rng, per_step: int = 24) -> pd.DataFrame:
    """Records aimed at every ADRG step, grouped by the engine; one row per usable template."""
    L = _Lists(scheme)
    steps = [st for st, kind in enumerate(scheme.step_kinds) if kind != "qy"]
    df = _templates_for(scheme, L, steps, per_step, rng)
    # steps whose ADRG no template reached get a second, larger try
    reached = set(df["adrg"])  # once, not per step (it was 7 s of every synth)
    missing = [st for st in steps if scheme.step_adrg[st] not in reached]
    if missing:
        df = pd.concat([df, _templates_for(scheme, L, missing, per_step * 6, rng)], ignore_index=True)
    df = df.drop_duplicates(subset=["drg", "sex", "age_years", "age_days", "weight_g", "icu_hours", "los_lo"], keep="first")
    or_set = set(L.codes[c] for c in L.or_codes)
    df["surgical"] = [bool(p) and p[0] in or_set for p in df["px"]]
    return df.sort_values(["drg"], kind="stable").reset_index(drop=True)


def _templates_for(scheme, L, steps, per_step, rng) -> pd.DataFrame:
    import grouper

    rows = []
    for st in steps:
        ast = scheme.step_asts[st][1]
        for v in range(per_step):
            d = _Draft()
            # MDC first, then the step, then a split: the more specific rule has the last word
            mdc_ast = scheme.mdc_asts[next(m for m, (a, b) in enumerate(scheme.mdc_steps) if a <= st < b)][1]
            _satisfy(mdc_ast, d, L, rng)
            _satisfy(ast, d, L, rng)
            x, y = scheme.step_splits[st]
            if y > x and rng.random() < 0.5:  # aim at a split too
                _satisfy(scheme.split_asts[int(rng.integers(x, y))][2], d, L, rng)
            rec = _finish(d, L, rng, level=int(rng.choice(3, p=[0.5, 0.3, 0.2])))
            rec["step"] = st
            rows.append(rec)
    df = pd.DataFrame(rows)
    used = [f for f in NEW_FIELDS if df[f].notna().any()]
    table = pa.Table.from_pandas(df[["sex", "age_years", "age_days", "weight_g", "dept", "leaving_type", "icu_hours", "dx", "px"]
                                    + used].astype({f: "Int64" for f in used}), preserve_index=False)
    table = table.append_column("los_days", pa.array(df["los_lo"].to_numpy(np.int64)))
    out = grouper.group_table(table, scheme, only_results=True, keep_dictionary=False)
    df["status"] = out.column("status").to_pylist()
    df["drg"] = out.column("drg").to_pylist()
    df["adrg"] = out.column("adrg").to_pylist()
    df["mdc"] = out.column("mdc").to_pylist()
    return df[df["status"] == STATUS_OK].reset_index(drop=True)


def drg_profile(templates: pd.DataFrame, rng) -> pd.DataFrame:
    g = templates.groupby("drg", sort=True)
    prof = pd.DataFrame({
        "adrg": g["adrg"].first(), "mdc": g["mdc"].first(), "surgical": g["surgical"].mean() > 0.5,
        "severity": 1.0 + 0.35 * g["complication"].mean(), "female_only": g["sex"].apply(lambda s: bool((s == 2).all())),
        "newborn": g["age_years"].apply(lambda a: bool((a == 0).all())), "n_templates": g.size(),
        "perinatal_or_obstetric": g["dx"].apply(lambda xs: bool(np.mean([x[0][:1] in ("O", "P") for x in xs]) > 0.5)),
    })
    n = len(prof)
    factor = np.exp(rng.normal(0, 0.45, n))
    prof["mean_cost"] = np.round(np.where(prof["surgical"], 24000.0, 7000.0) * prof["severity"] * factor, 2)
    prof["mean_los"] = np.where(prof["surgical"], 9.0, 7.0) * prof["severity"] ** 0.8 * np.exp(rng.normal(0, 0.25, n))
    prof["death_risk"] = np.clip(0.004 * prof["severity"] ** 4 * np.exp(rng.normal(0, 0.8, n)), 0.0003, 0.25)
    prof["popularity"] = np.exp(rng.normal(0, 1.1, n))
    lc = np.log(prof["mean_cost"].to_numpy())
    prof["complexity"] = (lc - lc.mean()) / lc.std()
    return prof


# -- region -------------------------------------------------------------------------------------

def plant_hospitals(hospitals: pd.DataFrame, rng) -> pd.DataFrame:
    h = hospitals[hospitals["level"].isin(LEVEL_VOLUME)].copy().reset_index(drop=True)
    n = len(h)
    h["volume"] = [LEVEL_VOLUME[lv] * KIND_VOLUME.get(k, 1.0) for lv, k in zip(h["level"], h["kind"])]
    # efficiency factors spread evenly (log scale, +-0.3) within each level, in random order, so that
    # neighbours in a peer group differ by more than the sampling noise of their cost and time indices
    h["cost_factor"] = 1.0
    h["los_factor"] = 1.0
    for lv, idx in h.groupby("level").groups.items():
        k = len(idx)
        grid = np.exp(np.linspace(-0.3, 0.3, k)) if k > 1 else np.ones(1)
        h.loc[idx, "cost_factor"] = rng.permutation(grid)
        h.loc[idx, "los_factor"] = rng.permutation(grid)
    # over-dispersion without outliers: ordinary hospitals differ in true mortality (log odds ratio ~ N(0, sd)
    # cut at +-2 sd), as real hospitals do; a funnel must not call them outliers for it
    h["death_or"] = np.exp(np.clip(rng.normal(0.0, QUALITY_SD, n), -2 * QUALITY_SD, 2 * QUALITY_SD))
    # quality outlier: a mid-sized secondary hospital, enough deaths to be a clear outlier, small enough
    # that its excess deaths barely move the regional reference mortality the others are judged by
    mid = h.index[(h["level"] == "secondary") & (h["kind"] != "general")].to_numpy()
    if len(mid) < 3:
        mid = h.index[h["level"].isin(["tertiary", "secondary"])].to_numpy()
    # at most three planted outliers of any kind in a peer group (here: one quality outlier and two case-mix-
    # only hospitals among ~26 secondary hospitals): the funnel's over-dispersion is estimated on winsorised
    # z-scores (10% each side), which a larger share of outliers would inflate until they mask each other
    outliers = rng.choice(mid, size=min(QUALITY_OUTLIERS, len(mid)), replace=False)
    h["quality_outlier"] = False
    h.loc[outliers, "death_or"] = 3.0
    h.loc[outliers, "quality_outlier"] = True
    eff = rng.choice(np.setdiff1d(np.arange(n), outliers), size=min(4, n), replace=False)
    h["efficiency_outlier"] = False
    h.loc[eff[:2], "cost_factor"] = 1.6
    h.loc[eff[2:3], "cost_factor"] = 0.65
    h.loc[eff[3:4], "los_factor"] = 1.6
    h.loc[eff, "efficiency_outlier"] = True
    # case-mix-only hospitals: sicker patients within their DRGs (more comorbidities), ordinary quality and
    # efficiency; a DRG-only O/E calls them unsafe, a patient-level model must not
    general = h.index[(h["level"] == "secondary") & (h["kind"] == "general")].to_numpy()
    pool = np.setdiff1d(general if len(general) >= 2 else h.index[h["level"] != "primary"].to_numpy(), np.union1d(outliers, eff))
    casemix = rng.choice(pool, size=min(2, len(pool)), replace=False)
    h["casemix_only"] = False
    h.loc[casemix, "casemix_only"] = True
    h.loc[casemix, "death_or"] = 1.0
    return h


EFFECT_PROGRAMS = ("tertiary_pairing",)  # planted: these programs move the recipients' case mix; others have no effect


def plan_support(pairs: pd.DataFrame, hospitals: pd.DataFrame, years: list, rng) -> pd.DataFrame:
    """The synthetic world's support plan: ``pairs`` with a ``start_year`` and a ``planted_effect`` per pair.

    A ``start_year`` in the pairs file is kept. Otherwise the starts are staggered (planted): the
    tertiary-pairing recipients start in the second or third data year (random halves); every other
    program (the county alliances, no planted effect) starts county by county in one of those years or
    after the last data year, so that the townships of some counties are not yet supported while the
    data run (the comparison group a difference-in-differences needs)."""
    pairs = pairs.copy()
    years = sorted(int(y) for y in years)
    mids = years[1:-1][:2] or [SUPPORT_START]  # a start with at least one year before and one after it
    after = years[-1] + 1
    given = pd.to_numeric(pairs["start_year"], errors="coerce") if "start_year" in pairs.columns else pd.Series(np.nan, index=pairs.index)
    start = np.full(len(pairs), -1, dtype=np.int64)
    pairing = (pairs["program"] == "tertiary_pairing").to_numpy()
    rec = pairs.loc[pairing, "recipient_id"].to_numpy()
    start[pairing] = np.array(mids)[rng.permutation(len(rec)) % len(mids)]
    counties = sorted(set(hospitals["county"].astype(str)))
    options = mids + [after] * len(mids)
    by_county = dict(zip(counties, np.array(options)[rng.permutation(len(counties)) % len(options)]))
    county = pairs["recipient_id"].map(dict(zip(hospitals["hospital_id"], hospitals["county"].astype(str))))
    other = np.flatnonzero(~pairing)
    start[other] = county.iloc[other].map(by_county).fillna(after).to_numpy(np.int64)
    pairs["start_year"] = np.where(given.notna(), given.fillna(0).astype(np.int64), start)
    pairs["planted_effect"] = pairs["program"].isin(EFFECT_PROGRAMS)
    return pairs


# Type-2 transfers (医嘱转院): the receiver's level by the sender's (primary, secondary, tertiary)
TRANSFER_LEVELS = {"primary": (0.0, 0.6, 0.4), "secondary": (0.25, 0.0, 0.75), "tertiary": (0.2, 0.4, 0.4)}
RECEIVER_AS = (0.75, 0.15, 0.10)  # the receiver written as its code, as its name, or left blank


def _transfer_receivers(h: pd.DataFrame, hosp: np.ndarray, transfer: np.ndarray, rng):
    """Per case: the receiving hospital of a type-2 transfer (truth: its row in ``h``) and what the record
    says of it (拟接收医疗机构: its code ``k``, its name ``len(h) + k``, or blank); -1 for every other case."""
    levels = ("primary", "secondary", "tertiary")
    level_code = h["level"].map({lv: i for i, lv in enumerate(levels)}).to_numpy()
    rows = np.flatnonzero(transfer)
    to_level = _sample_grouped(level_code[hosp[rows]], lambda k: (np.arange(3), np.array(TRANSFER_LEVELS[levels[k]])), rng)
    vol = h["volume"].to_numpy()

    def at_level(k):
        cand = np.flatnonzero(level_code == k)
        return cand, vol[cand] / vol[cand].sum()

    to = _sample_grouped(to_level, at_level, rng)
    same = to == hosp[rows]  # never to itself: the next hospital of the same level instead
    if same.any():
        for i in np.flatnonzero(same):
            cand = np.flatnonzero(level_code == level_code[to[i]])
            to[i] = cand[(np.searchsorted(cand, to[i]) + 1) % len(cand)] if len(cand) > 1 else to[i]
    receiver = np.full(len(hosp), -1, np.int64)
    text = np.full(len(hosp), -1, np.int64)
    receiver[rows] = to
    how = rng.choice(3, size=len(rows), p=RECEIVER_AS)
    text[rows] = np.where(how == 0, to, np.where(how == 1, len(h) + to, -1))
    return receiver, text


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")``; keys that fit 16 bits are sorted as such (numpy's radix sort)."""
    if len(keys) and 0 <= keys.min() and keys.max() < 2**16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def _sample_grouped(keys: np.ndarray, choices_for, rng) -> np.ndarray:
    """For each distinct key, draw len(group) choices with that key's (values, p)."""
    out = np.empty(len(keys), dtype=np.int64)
    order = _stable_order(keys)
    sk = keys[order]
    bounds = np.flatnonzero(np.diff(sk)) + 1
    for chunk in np.split(order, bounds):
        if len(chunk) == 0:
            continue
        values, p = choices_for(int(keys[chunk[0]]))
        out[chunk] = rng.choice(values, size=len(chunk), p=p)
    return out


def comorbidity_codes(scheme) -> list:
    """The planted comorbidities that the scheme has a neutral code for: (category, codes, prevalence,
    death log-OR, LOS/cost log-effect). A neutral code is a known diagnosis that is no CC or MCC and in no
    rule list, so adding it as a secondary diagnosis leaves every record's DRG as it was."""
    from evaluation.comorbidity import code_bits, column_names

    a = scheme.arrays
    n = len(a["member_ptr"]) - 1
    neutral = a["dx_known"][:n] & (a["mcc_ex"][:n] < 0) & (a["cc_ex"][:n] < 0) & (np.diff(a["member_ptr"]) == 0)
    codes = np.array(scheme.codes[:n], dtype=object)[neutral]
    bits = code_bits(codes)
    names = column_names()
    out = []
    for cat, prevalence, log_or, effect in COMORBIDITIES:
        mine = codes[((bits >> np.uint64(names.index(cat))) & np.uint64(1)).astype(bool)]
        if len(mine):
            out.append((cat, np.sort(mine.astype(str)), prevalence, log_or, effect))
    return out


def _case_mix(h: pd.DataFrame, prof: pd.DataFrame, hi: int, period: int) -> np.ndarray:
    """DRG probabilities of hospital ``hi`` by its level and kind; period 1 = supported, after its start."""
    cx, surg = prof["complexity"].to_numpy(), prof["surgical"].to_numpy()
    level, kind = h.at[hi, "level"], h.at[hi, "kind"]
    w = prof["popularity"].to_numpy() * np.exp(LEVEL_TILT[level] * cx)
    if kind == "tcm":
        w = w * np.where(surg, 0.4, 2.0)
    elif kind == "maternal_child":
        w = w * np.where(prof["perinatal_or_obstetric"].to_numpy(), 25.0, 0.15)
    if period:
        w = w * np.exp(SUPPORT_TILT * cx) * np.where(surg, SUPPORT_SURGICAL, 1.0)
    return w / w.sum()




def _world(scheme, region: str, years: list, rng, say, words: dict = SYNTH_WORDS["zh"]) -> SimpleNamespace:
    """Templates, DRG profile, hospitals with their planted factors, counties, the support plan."""
    w = SimpleNamespace(years=years)
    hospitals_all, pairs = load_region(region, levels_required=True)
    w.templates = build_templates(scheme, rng)
    w.prof = drg_profile(w.templates, rng)
    w.drgs = w.prof.index.to_numpy()
    w.n_drg = len(w.drgs)
    t_drg = w.templates["drg"].map({d: i for i, d in enumerate(w.drgs)}).to_numpy()
    w.t_start = np.searchsorted(t_drg, np.arange(w.n_drg))
    w.t_count = np.bincount(t_drg, minlength=w.n_drg)
    say(words["templates"].format(n=len(w.templates), drgs=w.n_drg))
    w.comorbidities = comorbidity_codes(scheme)
    h = w.h = plant_hospitals(hospitals_all, rng)
    w.counties = sorted(h["county"].unique())
    w.h_county = h["county"].map({c: i for i, c in enumerate(w.counties)}).to_numpy()
    w.in_county_rate = np.round(rng.uniform(0.78, 0.96, len(w.counties)), 3)
    population = np.array([h.loc[w.h_county == i, "volume"].sum() for i in range(len(w.counties))])
    w.population = population / population.sum()
    w.plan = plan_support(pairs, h, years, rng)
    effect = w.plan[w.plan["planted_effect"] & w.plan["recipient_id"].isin(set(h["hospital_id"]))]
    w.recipients = set(effect["recipient_id"])
    h["supported"] = h["hospital_id"].isin(w.recipients)
    # a recipient's case mix tilts from its own start year on (staggered adoption)
    h["support_start"] = h["hospital_id"].map(effect.groupby("recipient_id")["start_year"].min()).fillna(10**4).astype(np.int64)
    return w


def _patients(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Per case: comorbidity codes (one per present condition, or ""), and the risk they and age carry."""
    age = w.t_age[c.tmpl]
    adult = np.clip(age, 18, 95) - 60.0
    sick = np.where(w.h_casemix_only[c.hosp], CASEMIX_PREVALENCE, 1.0)
    base = np.where(age < 18, 0.1, np.clip(np.exp(0.03 * adult), 0.3, 2.5)) * sick
    # per planted condition, the code's id in w.dx_vocab (-1: absent); the last column is an upcoder's added code
    c.comorbid_ids = np.full((c.n, len(w.comorbidities) + 1), -1, dtype=np.int32)
    start = 0
    c.death_logit = AGE_LOG_OR * np.where(age < 18, 0.0, adult)
    c.resource_log = 0.004 * np.where(age < 18, 0.0, adult)
    for k, (_, codes, prevalence, log_or, effect) in enumerate(w.comorbidities):
        has = rng.random(c.n, dtype=np.float32) < np.minimum(prevalence * base, 0.8)
        c.comorbid_ids[:, k] = np.where(has, w.comorbid_dx[start + rng.integers(0, len(codes), c.n)], -1)
        start += len(codes)
        c.death_logit += log_or * has
        c.resource_log += effect * has
    # centred: the DRG profile's death risk, LOS and cost stay those of the region's average patient (in a
    # streamed synth: of the part's patients, a million or so, whose mean is the region's to the third digit)
    c.death_logit -= c.death_logit.mean()
    c.resource_log -= c.resource_log.mean()


def _prepare(w: SimpleNamespace, scheme) -> None:
    """Per-hospital, per-template and per-DRG arrays and the output vocabularies, once for every part:
    a part's columns are integer codes into these, decoded by Arrow's ``take`` (no Python strings per case)."""
    h, t, prof = w.h, w.templates, w.prof
    w.lists = _Lists(scheme)
    w.h_los, w.h_death_or, w.h_cost = (h[k].to_numpy(float) for k in ("los_factor", "death_or", "cost_factor"))
    w.h_casemix_only = h["casemix_only"].to_numpy(bool)
    w.h_tertiary, w.h_secondary = (h["level"] == "tertiary").to_numpy(), (h["level"] == "secondary").to_numpy()
    w.h_price = np.array([LEVEL_PRICE[x] for x in h["level"]])
    w.h_support_start = h["support_start"].to_numpy()
    w.hospital_ids = pa.array(h["hospital_id"].astype(str).tolist(), pa.string())
    w.receiver_vocab = pa.array(h["hospital_id"].astype(str).tolist() + h["name"].astype(str).tolist(), pa.string())
    w.county_vocab = pa.array([str(x) for x in w.counties], pa.string())
    w.drg_vocab = pa.array([str(x) for x in w.drgs], pa.string())
    w.p_mean_los, w.p_mean_cost, w.p_death_risk = (prof[k].to_numpy(float) for k in ("mean_los", "mean_cost", "death_risk"))
    w.p_surgical = prof["surgical"].to_numpy(bool)
    w.t_age = t["age_years"].to_numpy().astype(float)
    w.t_los_lo, w.t_los_hi = t["los_lo"].to_numpy(), t["los_hi"].to_numpy()
    w.t_cols = {name: pa.array(t[name].to_numpy(), typ, from_pandas=True)
                for name, typ in (("sex", pa.int8()), ("age_years", pa.int16()), ("age_days", pa.int16()),
                                  ("weight_g", pa.int32()), ("icu_hours", pa.int32()))}
    # the 2.0 / 3.0 fields a scheme's rules use (none for 1.x schemes: their output keeps its columns)
    w.t_new = {f: pa.array(pd.array(t[f], dtype="Int64").to_numpy(dtype=float, na_value=np.nan), pa.int32(), from_pandas=True)
               for f in NEW_FIELDS if f in t.columns and t[f].notna().any()}
    w.t_px = pa.array(t["px"].tolist(), pa.list_(pa.string()))
    # leaving types (离院方式) as codes; a template may fix one
    fixed = t["leaving_type"]
    leave = sorted(set("12359") | set(fixed.dropna().astype(str)))
    w.leave = {s: i for i, s in enumerate(leave)}
    w.leave_vocab = pa.array(leave, pa.string())
    w.t_leave = np.array([w.leave[str(x)] if pd.notna(x) else -1 for x in fixed], np.int8)
    # departments: the template's own, else the DRG's specialty (set per case by _doctors)
    t_dept = t["dept"].fillna("").astype(str).to_numpy(object)
    names = np.array(_departments(prof), dtype=object)
    w.depts = sorted(set(names) | {TOWNSHIP_DEPT})
    w.dept_of_drg = np.searchsorted(np.array(w.depts, dtype=object), names)
    vocab = np.array(sorted(set(w.depts) | set(t_dept[t_dept != ""])), dtype=object)
    w.dept_vocab = pa.array(vocab.tolist(), pa.string())
    w.dept_code = np.searchsorted(vocab, np.array(w.depts, dtype=object))
    w.t_dept = np.where(t_dept != "", np.searchsorted(vocab, t_dept), -1)
    # the games' eligible templates and DRGs
    split_adrg = t.groupby("adrg")["drg"].nunique()
    w.t_upcode_ok = ((t["complication"] == 0) & t["adrg"].map(split_adrg).gt(1)).to_numpy()
    w.t_free_los = ((t["los_lo"] <= 1) & (t["los_hi"] >= 10**5)).to_numpy()
    one_day = (t["los_lo"] <= 1).groupby(t["drg"]).all().reindex(prof.index, fill_value=False).to_numpy()
    cheap = prof["mean_cost"].to_numpy() <= np.quantile(prof["mean_cost"], 0.3)
    w.low_value_drgs = np.flatnonzero(~prof["surgical"].to_numpy() & cheap & one_day & ~prof["newborn"].to_numpy())
    # diagnosis codes: the scheme's, then any other the data may hold (the unknown code of a coding error)
    vocab = [str(x) for x in scheme.codes]
    index = {code: i for i, code in enumerate(vocab)}
    for code in [UNKNOWN_PDX] + [str(x) for _, codes, *_ in w.comorbidities for x in codes] + [str(x) for xs in t["dx"] for x in xs]:
        if code not in index:
            index[code] = len(vocab)
            vocab.append(code)
    w.dx_vocab = pa.array(vocab, pa.string())
    w.unknown_dx = index[UNKNOWN_PDX]
    lens = np.array([len(x) for x in t["dx"]], np.int64)
    w.t_dx_off = np.concatenate([[0], np.cumsum(lens)])
    w.t_dx_ids = np.array([index[str(x)] for xs in t["dx"] for x in xs], np.int64)
    w.comorbid_dx = np.array([index[str(x)] for _, codes, *_ in w.comorbidities for x in codes], np.int64)
    # upcoding: each template's principal diagnosis, as a scheme code id (-1: not a scheme code)
    scheme_index = {code: i for i, code in enumerate(w.lists.codes)}
    w.t_pdx_scheme = np.array([scheme_index.get(x[0], -1) for x in t["dx"]])


def _departments(prof: pd.DataFrame) -> list:
    """Department names per DRG (its MDC's specialty; surgical DRGs of some MDCs in their surgical department)."""
    letter = prof["mdc"].astype(str).str[-1].to_numpy()
    return [SURGICAL_DEPT.get(x, DEPT_BY_MDC.get(x, "内科")) if s else DEPT_BY_MDC.get(x, "内科")
            for x, s in zip(letter, prof["surgical"].to_numpy())]


def _place_cases(w: SimpleNamespace, n: int, rng, window=None) -> SimpleNamespace:
    """Per case: year (and, in a part of a streamed synth, the day), residence, hospital (inside the county at
    the county's planted rate), DRG."""
    h = w.h
    c = SimpleNamespace(n=n)
    if window is None:
        weights = np.linspace(1.0, 1.15, len(w.years))
        c.year = rng.choice(np.array(w.years), size=n, p=weights / weights.sum())
    else:  # the part's days, drawn from the region's year and season density restricted to them
        at = rng.choice(window.days, size=n, p=window.p)
        c.year, c.day = window.year[at], window.day[at]
        c.person = window.first_case + np.arange(n, dtype=np.int64) + 1  # unique in the whole synth (_patient_ids)
    c.res = rng.choice(len(w.counties), size=n, p=w.population)
    inside = rng.random(n) < w.in_county_rate[c.res]
    vol = h["volume"].to_numpy()
    tertiary = np.flatnonzero(w.h_tertiary)
    secondary = np.flatnonzero(w.h_secondary)

    def hosp_choices(key: int):
        county, inn = divmod(key, 2)
        if inn:
            cand = np.flatnonzero(w.h_county == county)
            return cand, vol[cand] / vol[cand].sum()
        # outside the county: city tertiary hospitals, or another county's secondary ones
        cand = np.concatenate([tertiary[w.h_county[tertiary] != county], secondary[w.h_county[secondary] != county]])
        p = vol[cand] * np.where(np.isin(cand, tertiary), 3.0, 0.3)
        return cand, p / p.sum()

    c.hosp = _sample_grouped(c.res * 2 + inside.astype(np.int64), hosp_choices, rng)
    # a resident treated "outside" whose county holds the city tertiary hospitals is still inside
    c.in_county = w.h_county[c.hosp] == c.res
    period = (c.year >= w.h_support_start[c.hosp]).astype(np.int64)
    mixes: dict = {}

    def mix_for(key: int):
        if key not in mixes:
            mixes[key] = _case_mix(h, w.prof, *divmod(key, 2))
        return np.arange(w.n_drg), mixes[key]

    c.drg = _sample_grouped(c.hosp * 2 + period, mix_for, rng)
    # every DRG appears in the tertiary hospitals (coverage for discipline evaluation; in the first part only)
    t_rows = np.flatnonzero(np.isin(c.hosp, tertiary))
    if len(t_rows) >= 2 * w.n_drg and (window is None or window.index == 0):
        pick = rng.choice(t_rows, size=2 * w.n_drg, replace=False)
        c.drg[pick] = np.tile(np.arange(w.n_drg), 2)
    return c


def _seasonal(day: np.ndarray) -> np.ndarray:
    """Uniform days of the year (0..364) warped to the planted seasonal density 1 + a*cos(2*pi*(d - peak)/365)
    (inverse CDF on a fine grid: a monotone map, so no random draw is added or moved)."""
    grid = np.arange(366, dtype=float)
    dens = 1 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (grid[:-1] + 0.5 - SEASON_PEAK_DAY) / 365)
    cdf = np.concatenate([[0.0], np.cumsum(dens)]) / dens.sum()
    return np.minimum(np.searchsorted(cdf, (day + 0.5) / 365, side="right") - 1, 364).astype(day.dtype)




def _doctors(w: SimpleNamespace, c: SimpleNamespace, rng, planted: dict | None = None) -> dict:
    """Per case a department (the intended DRG's specialty) and a doctor of that department of its hospital; the
    doctors' planted factors (``c.doctor_cost``, ``c.doctor_or``): one high-cost and one high-mortality doctor,
    each in the busiest department of a tertiary general hospital. ``planted`` (doctor key -> (cost factor,
    death odds ratio)) is chosen here unless given (the other parts of a streamed synth get the first part's);
    returned."""
    h = w.h
    township = (h["level"] == "primary").to_numpy()
    depts = w.depts
    c.dept = np.where(township[c.hosp], depts.index(TOWNSHIP_DEPT), w.dept_of_drg[c.drg]).astype(np.int64)
    per = h["level"].map(DOCTORS_PER_DEPT).fillna(1).astype(int).to_numpy()
    unit = c.hosp * len(depts) + c.dept  # hospital x department
    k = (rng.random(c.n) * per[c.hosp]).astype(np.int64)
    key = unit * 8 + k
    uniq, c.doctor = np.unique(key, return_inverse=True)
    c.doctor_keys = uniq
    c.doctor_cost = np.ones(len(uniq))
    c.doctor_or = np.ones(len(uniq))
    if planted is None:
        planted = {}
        u_hosp = uniq // (len(depts) * 8)
        big = np.flatnonzero(w.h_tertiary & (h["kind"] == "general").to_numpy()
                             & ~h["quality_outlier"].to_numpy() & ~h["efficiency_outlier"].to_numpy())
        if len(big) >= 1:
            counts = np.bincount(c.doctor, minlength=len(uniq))
            risk = np.bincount(c.doctor, weights=w.p_death_risk[c.drg], minlength=len(uniq))
            at = [np.flatnonzero(u_hosp == b) for b in big[:2]]
            if len(at[0]):  # a tiny synth may have no case in these hospitals: then nobody is planted
                cost_doc = at[0][np.argmax(counts[at[0]])]
                planted[int(uniq[cost_doc])] = (DOCTOR_COST, 1.0)
                death_pool = at[-1][at[-1] != cost_doc]
                if len(death_pool):
                    planted[int(uniq[death_pool[np.argmax(risk[death_pool])]])] = (1.0, DOCTOR_DEATH_OR)
    for key_, (cost, odds) in planted.items():
        i = np.searchsorted(uniq, key_)
        if i < len(uniq) and uniq[i] == key_:
            c.doctor_cost[i], c.doctor_or[i] = cost, odds
    return planted


def _doctor_names(w: SimpleNamespace, keys: np.ndarray) -> tuple[list, list, list]:
    """(doctor id, hospital id, department) of each doctor key (hospital x department x number)."""
    depts = w.depts
    ids = w.h["hospital_id"].astype(str).to_numpy(object)
    hosp, rest = np.divmod(keys, len(depts) * 8)
    dept, k = np.divmod(rest, 8)
    return ([f"{ids[a]}-D{b:02d}-{kk + 1}" for a, b, kk in zip(hosp, dept, k)], [str(ids[a]) for a in hosp],
            [depts[b] for b in dept])


def _outcomes(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """Template, coding error, LOS, death, leaving type and transfer receiver, cost and its parts, dates."""
    n, drg, hosp = c.n, c.drg, c.hosp
    c.tmpl = w.t_start[drg] + (rng.random(n) * w.t_count[drg]).astype(np.int64)
    c.error = rng.random(n) < ERROR_RATE
    _patients(w, c, rng)
    los_mean = w.p_mean_los[drg] * w.h_los[hosp] * np.exp(c.resource_log)
    los = np.maximum(1, np.round(los_mean * np.exp(rng.normal(-0.08, 0.4, n)))).astype(np.int64)
    c.los = np.clip(los, w.t_los_lo[c.tmpl], w.t_los_hi[c.tmpl])
    doctor_or, doctor_cost = c.doctor_or[c.doctor], c.doctor_cost[c.doctor]
    risk = w.p_death_risk[drg]
    odds = risk / (1 - risk) * w.h_death_or[hosp] * doctor_or * np.exp(c.death_logit)
    c.p_death = odds / (1 + odds)
    died = rng.random(n) < c.p_death
    u = rng.random(n)
    lv = w.leave
    transfer_share = 0.02 + np.where(w.h_tertiary[hosp], 0.05, np.where(w.h_secondary[hosp], 0.02, 0.0))
    leaving = np.where(died, lv["5"], np.where(u < 0.02, lv["2"], np.where(u < transfer_share, lv["3"],
                                                                           np.where(u > 0.995, lv["9"], lv["1"]))))
    fixed = w.t_leave[c.tmpl]  # a template that fixes the leaving type
    c.leaving = np.where(fixed >= 0, fixed, leaving).astype(np.int8)
    c.p_death = np.where(fixed < 0, c.p_death, c.leaving == lv["5"])
    c.receiver, c.receiver_text = _transfer_receivers(w.h, hosp, c.leaving == lv["2"], rng)
    total = (w.p_mean_cost[drg] * w.h_price[hosp] * w.h_cost[hosp] * doctor_cost
             * np.exp(c.resource_log + rng.normal(-0.06, 0.35, n)))
    del c.death_logit, c.resource_log  # not needed further: every per-case array is copied by the games
    c.total = np.round(total, 2)
    alpha = np.where(w.p_surgical[drg][:, None], [3.0, 4.0, 3.0, 2.0, 1.0], [5.0, 1.0, 3.0, 2.5, 1.0])
    shares = rng.gamma(alpha)
    shares /= shares.sum(axis=1, keepdims=True)
    c.parts = np.round(c.total[:, None] * shares[:, :4], 2)
    c.other = np.round(c.total - c.parts.sum(axis=1), 2)
    day = _seasonal(rng.integers(0, 365, n)) if not hasattr(c, "day") else c.day
    c.discharge = (c.year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day
    c.admit = c.discharge - c.los


def plant_gaming(h: pd.DataFrame, years: list, rng) -> pd.DataFrame:
    """Which hospitals game the payment (planted, disjoint from every other plant): two upcoders from the
    second and third data years (``upcoding_from``), two that split admissions, one that admits low-value
    short stays. All secondary hospitals: enough cases a year for an audit to judge them."""
    h = h.copy()
    h["upcoding_from"] = pd.Series([None] * len(h), dtype=object)
    h["splits_admissions"] = False
    h["low_value_admissions"] = False
    taken = h["quality_outlier"] | h["efficiency_outlier"] | h["casemix_only"] | h["supported"]
    pool = h.index[(h["level"] == "secondary") & ~taken].to_numpy()
    if len(pool) < 5:
        pool = h.index[(h["level"] != "primary") & ~taken].to_numpy()
    pick = rng.choice(pool, size=min(5, len(pool)), replace=False)
    onsets = (sorted(years)[1:3] or sorted(years)[:1]) * 2
    for k, hi in enumerate(pick[:2]):
        h.at[hi, "upcoding_from"] = int(onsets[k])
    h.loc[pick[2:4], "splits_admissions"] = True
    h.loc[pick[4:5], "low_value_admissions"] = True
    return h




def _take_rows(c: SimpleNamespace, rows: np.ndarray) -> None:
    """Every per-case array of ``c`` reduced (or extended) to ``rows``, in that order."""
    for name, v in list(vars(c).items()):
        if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == c.n:
            setattr(c, name, v[rows])
    c.n = len(rows)


def _append_rows(c: SimpleNamespace, src: np.ndarray) -> np.ndarray:
    """Copies of the cases ``src`` appended to every per-case array; returns the new rows' indices."""
    n = c.n
    for name, v in list(vars(c).items()):
        if isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == n:
            setattr(c, name, np.concatenate([v, v[src]]))
    c.n = n + len(src)
    return np.arange(n, c.n)


def _rescale_cost(c: SimpleNamespace, rows: np.ndarray, total: np.ndarray) -> None:
    """New total costs for ``rows``, with the parts scaled alike (rounded to the fen; other = the rest)."""
    f = total / np.maximum(c.total[rows], 0.01)
    c.total[rows] = np.round(total, 2)
    c.parts[rows] = np.round(c.parts[rows] * f[:, None], 2)
    c.other[rows] = np.round(c.total[rows] - c.parts[rows].sum(axis=1), 2)




def _upcode(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """An upcoder's cases from its onset year, in ADRGs the scheme splits, whose template carries no
    complication: a share get one MCC or CC code (valid for the principal diagnosis, so the DRG moves
    to a severe split) that the patient's true condition does not support (``c.comorbid_ids[:, -1]``)."""
    L = w.lists
    onset = pd.to_numeric(w.h["upcoding_from"], errors="coerce").fillna(10**4).to_numpy(np.int64)
    eligible = (c.year >= onset[c.hosp]) & w.t_upcode_ok[c.tmpl] & ~c.error
    rows = np.flatnonzero(eligible & (rng.random(c.n) < UPCODE_SHARE))
    if not len(rows) or not (len(L.mcc) + len(L.cc)):
        return
    pdx_id = w.t_pdx_scheme[c.tmpl[rows]]
    pdx_ex = np.where(pdx_id >= 0, L.pdx_ex[np.maximum(pdx_id, 0)], -1)
    chosen = np.full(len(rows), -1, np.int64)
    for _ in range(6):  # a few draws until one is not excluded by the principal diagnosis (FORMAT.md 4.1)
        use_mcc = (rng.random(len(rows)) < 0.5) & (len(L.mcc) > 0) | (len(L.cc) == 0)
        cand = np.where(use_mcc, L.mcc[rng.integers(0, max(len(L.mcc), 1), len(rows)) % max(len(L.mcc), 1)] if len(L.mcc) else -1,
                        L.cc[rng.integers(0, max(len(L.cc), 1), len(rows)) % max(len(L.cc), 1)] if len(L.cc) else -1)
        ex = np.where(use_mcc, L.mcc_ex[cand], L.cc_ex[cand])
        ok = (chosen < 0) & (cand >= 0) & ((pdx_ex < 0) | (ex != pdx_ex))
        chosen[ok] = cand[ok]
    c.comorbid_ids[rows, -1] = chosen  # scheme code ids are their ids in w.dx_vocab


def _split_stays(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """A splitter's stays (routine discharge, no LOS bound on the template, 4+ days) cut in two: the
    patient is discharged and readmitted 0-2 days later for the rest of the stay (分解住院). ``c.split_src``:
    the first stay of each second stay (-1 otherwise). Costs follow the days, each stay a little dearer.
    (In a streamed synth both stays stay in the part of the stay they were cut from, also where one of them
    now ends a few days outside the part's days: a part may be shorter than a stay.)"""
    free = w.t_free_los
    doy = (c.discharge - c.discharge.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    eligible = (w.h["splits_admissions"].to_numpy()[c.hosp] & (c.leaving == w.leave["1"]) & ~c.error & (c.los >= 4)
                & free[c.tmpl] & (doy >= c.los + 5) & (doy <= 360) & (c.comorbid_ids[:, -1] < 0))
    first = np.flatnonzero(eligible & (rng.random(c.n) < SPLIT_SHARE))
    los, admit, total = c.los[first].copy(), c.admit[first].copy(), c.total[first].copy()
    second = _append_rows(c, first)
    c.split_src = np.full(c.n, -1, np.int64)
    c.split_src[second] = first
    los1 = np.clip(np.round(los * rng.uniform(0.3, 0.7, len(first))), 1, los - 1).astype(np.int64)
    gap = rng.choice(3, size=len(first), p=[0.5, 0.35, 0.15])
    c.los[first], c.discharge[first] = los1, admit + los1
    c.los[second], c.admit[second] = los - los1, admit + los1 + gap
    c.discharge[second] = c.admit[second] + (los - los1)
    _rescale_cost(c, first, total * los1 / los * 1.08)
    _rescale_cost(c, second, total * (los - los1) / los * 1.08)


def _low_value(w: SimpleNamespace, c: SimpleNamespace, rng) -> None:
    """The low-value admitter's extra 1-day stays in low-weight medical DRGs (低标准入院), cheap, routine
    discharge; they copy a random own case's date, patient features and residence (``c.low_value``)."""
    prof, drgs = w.prof, w.low_value_drgs
    own = np.flatnonzero(w.h["low_value_admissions"].to_numpy()[c.hosp])
    c.low_value = np.zeros(c.n, bool)
    if not len(drgs) or not len(own):
        return
    src = rng.choice(own, size=int(round(LOW_VALUE_EXTRA * len(own))))
    rows = _append_rows(c, src)
    if hasattr(c, "person"):  # new patients: numbers after every placed case's, in a block per part
        c.person[rows] = w.cases + c.person[0] - 1 + np.arange(len(rows)) + 1
    p = prof["popularity"].to_numpy()[drgs]
    drg = rng.choice(drgs, size=len(rows), p=p / p.sum())
    c.drg[rows] = drg
    c.tmpl[rows] = w.t_start[drg] + (rng.random(len(rows)) * w.t_count[drg]).astype(np.int64)
    c.error[rows] = False
    c.split_src[rows] = -1
    c.comorbid_ids[rows] = -1
    c.los[rows] = 1
    c.admit[rows] = c.discharge[rows] - 1
    c.leaving[rows] = w.leave["1"]
    c.receiver[rows] = -1
    c.receiver_text[rows] = -1
    c.p_death[rows] = prof["death_risk"].to_numpy()[drg] * 0.2
    c.low_value[rows] = True
    _rescale_cost(c, rows, prof["mean_cost"].to_numpy()[drg] * 0.25 * np.exp(rng.normal(0, 0.2, len(rows))))


def _keep_size(w: SimpleNamespace, c: SimpleNamespace, n: int, rng) -> None:
    """Back to ``n`` cases: for each added stay (a split's second stay, a low-value admission) one ordinary case
    of a hospital that plays no game, with the same residence county and in-county status, is left out, so
    the data hold the cases asked for and every county's planted in-county rate stays as it was."""
    added = np.arange(n, c.n)
    if not len(added):
        return
    gaming = (w.h["upcoding_from"].notna() | w.h["splits_admissions"] | w.h["low_value_admissions"]).to_numpy()
    ordinary = np.flatnonzero(~gaming[c.hosp[:n]] & (c.comorbid_ids[:n, -1] < 0))
    key = c.res * 2 + c.in_county.astype(np.int64)
    drop = []
    for k, m in zip(*np.unique(key[added], return_counts=True)):
        pool = ordinary[key[ordinary] == k]
        drop.append(rng.choice(pool, size=min(m, len(pool)), replace=False))
    keep = np.ones(c.n, bool)
    keep[np.concatenate(drop)] = False
    new_index = np.cumsum(keep) - 1
    _take_rows(c, np.flatnonzero(keep))
    c.split_src = np.where(c.split_src >= 0, new_index[np.maximum(c.split_src, 0)], -1)


def _patient_ids(w: SimpleNamespace, c: SimpleNamespace, rng, window=None) -> None:
    """A patient number per case (``c.patient``): mostly one stay each; a share are repeat admissions of a
    patient already treated in the county (at a random date: natural readmissions); the second stay of a split
    admission is the same patient as its first. In a part of a streamed synth the repeat admissions are of
    patients placed in a few random parts of the whole synth (their counties drawn again from those parts' own
    streams), so their gaps spread over the whole period as in one part, not over the part's few days."""
    if window is None:
        pid = rng.permutation(c.n).astype(np.int64) + 1
        pool_pid, pool_res = pid, c.res
    else:
        pid = c.person.copy()
        pool_pid, pool_res = _placed_elsewhere(w, rng)
    repeat = np.flatnonzero((rng.random(c.n) < READMIT_SHARE) & (c.split_src < 0) & ~c.low_value)
    order = _stable_order(pool_res)
    starts = np.searchsorted(pool_res[order], c.res[repeat], "left")
    ends = np.searchsorted(pool_res[order], c.res[repeat], "right")
    pick = starts + (rng.random(len(repeat)) * (ends - starts)).astype(np.int64)
    found = ends > starts  # a county none of the chosen parts placed anyone in: a first stay after all
    pid[repeat[found]] = pool_pid[order[pick[found]]]
    second = np.flatnonzero(c.split_src >= 0)
    pid[second] = pid[c.split_src[second]]
    c.patient = pid


SOURCE_PARTS = 3  # parts whose patients a part's repeat admissions come back from


def _placed_elsewhere(w: SimpleNamespace, rng) -> tuple[np.ndarray, np.ndarray]:
    """Patient numbers and residence counties of the cases placed in ``SOURCE_PARTS`` parts drawn by size (a
    part's counties are its main stream's second draw: drawn again here, nothing else of the part is made)."""
    sizes = np.array([x.cases for x in w.windows], float)
    ids, res = [], []
    for j in rng.choice(len(w.windows), size=SOURCE_PARTS, p=sizes / sizes.sum()):
        win = w.windows[j]
        main = _streams(w.seed, int(j), False, None)[0]
        main.bit_generator.advance(win.cases)  # past the part's days: choice(p=) takes one 64-bit draw a value
        res.append(main.choice(len(w.counties), size=win.cases, p=w.population))
        ids.append(win.first_case + np.arange(win.cases, dtype=np.int64) + 1)
    return np.concatenate(ids), np.concatenate(res)


def _gaming(w: SimpleNamespace, c: SimpleNamespace, rng, window=None) -> None:
    """The planted coding games and patient ids, from their own random stream."""
    _upcode(w, c, rng)
    n = c.n
    _split_stays(w, c, rng)
    _low_value(w, c, rng)
    _keep_size(w, c, n, rng)
    c.year = c.discharge.astype("datetime64[Y]").astype(np.int64) + 1970
    _patient_ids(w, c, rng, window)


def _codes_column(vocab: pa.Array, codes: np.ndarray) -> pa.Array:
    """``vocab[codes]`` as an Arrow column, null where a code is negative."""
    return vocab.take(pa.array(codes, mask=codes < 0)) if (codes < 0).any() else vocab.take(pa.array(codes))


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + each number zero-padded to ``width`` digits, built as one byte buffer."""
    n = len(numbers)
    if n and int(numbers.max()) >= 10**width:  # beyond a billion cases: every number one digit longer
        width = len(str(int(numbers.max())))
    digits = np.empty((n, len(prefix) + width), np.uint8)
    digits[:, :len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    rest = np.asarray(numbers, np.int64).copy()
    for k in range(width - 1, -1, -1):
        rest, d = np.divmod(rest, 10)
        digits[:, len(prefix) + k] = d + 48
    offsets = np.arange(0, (n + 1) * digits.shape[1], digits.shape[1], dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))


def _dx_lists(w: SimpleNamespace, tmpl: np.ndarray, error: np.ndarray, extra: np.ndarray) -> pa.ListArray:
    """Each case's diagnoses: its template's (the principal one the unknown code where ``error``), then the
    codes ``extra[row, k] >= 0`` (ids into ``w.dx_vocab``) in k order; one ``take`` of the code strings."""
    start, lens = w.t_dx_off[tmpl], np.diff(w.t_dx_off)[tmpl]
    have = extra >= 0
    n_extra = have.sum(axis=1)
    off = np.zeros(len(tmpl) + 1, np.int64)
    np.cumsum(lens + n_extra, out=off[1:])
    ids = np.empty(int(off[-1]), np.int64)
    row = np.repeat(np.arange(len(tmpl)), lens)
    within = np.arange(len(row)) - np.repeat(np.cumsum(lens) - lens, lens)
    ids[off[:-1][row] + within] = w.t_dx_ids[start[row] + within]
    ids[off[:-1][error]] = w.unknown_dx
    rows, _ = np.nonzero(have)  # row-major: a row's extras in k order
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(n_extra) - n_extra, n_extra)
    ids[off[:-1][rows] + lens[rows] + rank] = extra[have]
    return pa.ListArray.from_arrays(pa.array(off.astype(np.int32)), w.dx_vocab.take(pa.array(ids)))


def _tables(w: SimpleNamespace, c: SimpleNamespace, first_case: int = 0) -> tuple[pa.Table, pa.Table]:
    """(discharges, truth per case), in discharge-date order; case ids from ``first_case + 1``."""
    # by discharge date, then hospital (a stable sort: ties keep their order)
    day = c.discharge.astype(np.int64)
    day = day - day.min() if c.n else day
    by_hospital = _stable_order(c.hosp)
    order = by_hospital[_stable_order(day[by_hospital])]  # as np.lexsort((hosp, day))
    tmpl = c.tmpl[order]
    # planted comorbidities, then an upcoder's added MCC/CC code
    extra = np.take(c.comorbid_ids, order, axis=0)
    dx = _dx_lists(w, tmpl, c.error[order], extra)
    case_id = _numbered("S", np.arange(first_case + 1, first_case + c.n + 1), 9)
    take = pa.array(tmpl)
    position = np.empty(c.n, np.int64)
    position[order] = np.arange(c.n)
    src = c.split_src[order]
    split_of = case_id.take(pa.array(np.where(src >= 0, position[np.maximum(src, 0)], 0), mask=src < 0))
    t_dept = w.t_dept[tmpl]
    dept = np.where(t_dept >= 0, t_dept, w.dept_code[c.dept[order]])
    parts = np.take(c.parts, order, axis=0)
    table = pa.table({
        "case_id": case_id,
        "hospital_id": w.hospital_ids.take(pa.array(c.hosp[order])),
        "patient_id": _numbered("P", c.patient[order], 10),
        "year": pa.array(c.year[order].astype(np.int16)),
        "admit_date": pa.array(c.admit[order]),
        "discharge_date": pa.array(c.discharge[order]),
        "residence_county": w.county_vocab.take(pa.array(c.res[order])),
        "sex": w.t_cols["sex"].take(take),
        "age_years": w.t_cols["age_years"].take(take),
        "age_days": w.t_cols["age_days"].take(take),
        "weight_g": w.t_cols["weight_g"].take(take),
        "dept": w.dept_vocab.take(pa.array(dept)),
        "doctor_id": c.doctor_vocab.take(pa.array(c.doctor[order])),
        "los_days": pa.array(c.los[order].astype(np.int32)),
        "leaving_type": w.leave_vocab.take(pa.array(c.leaving[order])),
        "icu_hours": w.t_cols["icu_hours"].take(take),
        **{f: col.take(take) for f, col in w.t_new.items()},
        "receiving_institution": _codes_column(w.receiver_vocab, c.receiver_text[order]),
        "dx": dx,
        "px": w.t_px.take(take),
        "total_cost": pa.array(c.total[order]),
        "drug_cost": pa.array(parts[:, 0]),
        "consumables_cost": pa.array(parts[:, 1]),
        "service_cost": pa.array(parts[:, 2]),
        "exam_cost": pa.array(parts[:, 3]),
        "other_cost": pa.array(c.other[order]),
    })
    truth_cases = pa.table({
        "case_id": case_id,
        "intended_drg": w.drg_vocab.take(pa.array(c.drg[order])),
        "coding_error": pa.array(c.error[order]),
        "in_county": pa.array(c.in_county[order]),
        "transfer_to": _codes_column(w.hospital_ids, c.receiver[order]),
        "p_death": pa.array(c.p_death[order].astype(np.float64)),
        "comorbidities": pa.array((extra[:, :-1] >= 0).sum(axis=1).astype(np.int8)),
        "upcoded": pa.array(extra[:, -1] >= 0),
        "split_of": split_of,
        "low_value": pa.array(c.low_value[order]),
    })
    return table, truth_cases


def _planted_support(w: SimpleNamespace, tally: SimpleNamespace) -> tuple[dict, dict]:
    """Per recipient the planted CMI gain, and per program its effect and start years (from the cases'
    per-DRG tallies)."""
    prof, h = w.prof, w.h
    # in the generator's own weights (mean cost / overall mean) ...
    rw = prof["mean_cost"].to_numpy() / float(np.sum(prof["mean_cost"].to_numpy() * tally.drg_cases) / tally.n)
    # ... and in weights as `drg support` estimates them: realized mean cost per DRG over the overall
    # mean in the baseline years (before the first start), frozen for every year
    cases, cost, total, count = ((tally.base_cases, tally.base_cost, tally.base_total, tally.base_n) if tally.base_n
                                 else (tally.drg_cases, tally.drg_cost, tally.total, tally.n))
    rw_data = (cost / np.maximum(cases, 1)) / (total / count)
    surg = prof["surgical"].to_numpy()
    support = {}
    for hid in sorted(w.recipients):
        hi = int(np.flatnonzero(h["hospital_id"].to_numpy() == hid)[0])
        before, after = _case_mix(h, prof, hi, 0), _case_mix(h, prof, hi, 1)
        support[hid] = {"program": "tertiary_pairing", "start_year": int(h.at[hi, "support_start"]),
                        "expected_cmi_before": float(before @ rw), "expected_cmi_after": float(after @ rw),
                        "planted_cmi_gain": float(after @ rw - before @ rw),
                        "planted_cmi_gain_data_weights": float(after @ rw_data - before @ rw_data),
                        "planted_surgical_share_gain": float(after @ surg - before @ surg)}
    programs = {}
    for prog, grp in w.plan.groupby("program", sort=True):
        programs[str(prog)] = {"planted_effect": bool(grp["planted_effect"].iloc[0]),
                               "recipients": int(grp["recipient_id"].nunique()),
                               "start_years": {str(k): int(v) for k, v in grp.groupby("start_year")["recipient_id"].nunique().items()}}
    return support, programs


def _tally(w: SimpleNamespace, c: SimpleNamespace) -> SimpleNamespace:
    """What truth.json needs of a part's cases: counts and per-DRG sums (added up over the parts)."""
    n_drg = w.n_drg
    base = c.year < int(w.plan["start_year"].min()) if len(w.plan) else np.ones(c.n, bool)
    return SimpleNamespace(
        n=c.n, upcoded=int((c.comorbid_ids[:, -1] >= 0).sum()), split_pairs=int((c.split_src >= 0).sum()),
        low_value=int(c.low_value.sum()),
        drg_cases=np.bincount(c.drg, minlength=n_drg), drg_cost=np.bincount(c.drg, weights=c.total, minlength=n_drg),
        total=float(c.total.sum()),
        base_cases=np.bincount(c.drg[base], minlength=n_drg),
        base_cost=np.bincount(c.drg[base], weights=c.total[base], minlength=n_drg),
        base_total=float(c.total[base].sum()), base_n=int(base.sum()),
        doctors=c.doctor_keys[np.unique(c.doctor)])


def _add_tallies(a: SimpleNamespace | None, b: SimpleNamespace) -> SimpleNamespace:
    if a is None:
        return b
    return SimpleNamespace(**{k: (np.union1d(v, getattr(b, k)) if k == "doctors" else v if k == "planted" else v + getattr(b, k))
                              for k, v in vars(a).items()})


# -- parts: a synth larger than one part is made of parts of consecutive days, each written as it is made ---

PART_CASES = 250_000  # cases per part; a synth of at most this many cases is one part (the whole period)


def _windows(years: list, cases: int, part_cases: int) -> list:
    """The parts of a synth of ``cases``: [None] (one part, the whole period), or consecutive runs of days
    holding about ``part_cases`` cases each by the region's year weights and seasonal density, with their
    case counts (largest remainders: they add up to ``cases``)."""
    if cases <= part_cases:
        return [None]
    weights = np.linspace(1.0, 1.15, len(years))
    uniq = sorted(set(years))
    p_year = np.array([weights[[y == u for y in years]].sum() for u in uniq]) / weights.sum()
    p_day = np.bincount(_seasonal(np.arange(365)), minlength=365) / 365.0
    mass = (p_year[:, None] * p_day[None, :]).ravel()
    year = np.repeat(np.array(uniq, np.int64), 365)
    day = np.tile(np.arange(365, dtype=np.int64), len(uniq))
    k = min(-(-cases // part_cases), int((mass > 0).sum()))
    cdf = np.cumsum(mass)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(cdf, np.arange(1, k) / k, side="right"), [len(mass)]]))
    share = np.array([mass[a:b].sum() for a, b in zip(cuts[:-1], cuts[1:])])
    want = share / share.sum() * cases
    counts = np.floor(want).astype(np.int64)
    counts[np.argsort(-(want - counts), kind="stable")[:cases - counts.sum()]] += 1
    out, first = [], 0
    for (a, b), n in zip(zip(cuts[:-1], cuts[1:]), counts):
        dates = (year[[a, b - 1]] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day[[a, b - 1]]
        out.append(SimpleNamespace(index=len(out), cases=int(n), first_case=first, days=np.arange(b - a),
                                   p=mass[a:b] / mass[a:b].sum(), year=year[a:b], day=day[a:b], first=dates[0], last=dates[1]))
        first += int(n)
    return out


def _streams(seed: int, part: int, one_part: bool, rng):
    """Random streams of a part: (cases, doctors, games). One part keeps the streams of the unstreamed synth
    (so a small synth is what it always was); a part of many has its own three, from (seed, part)."""
    if one_part:
        return rng, np.random.default_rng([seed, 20]), np.random.default_rng([seed, 19])
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence([seed, 30, part]).spawn(3))


def _make_part(w: SimpleNamespace, window, streams, planted) -> tuple:
    """One part: its cases, their games and patients, and the two tables (written by the caller)."""
    main, doctors, games = streams
    n = window.cases if window is not None else w.cases
    c = _place_cases(w, n, main, window)
    planted = _doctors(w, c, doctors, planted)
    _outcomes(w, c, main)
    _gaming(w, c, games, window)
    ids, _, _ = _doctor_names(w, c.doctor_keys)
    c.doctor_vocab = pa.array(ids, pa.string())
    table, truth = _tables(w, c, window.first_case if window is not None else 0)
    tally = _tally(w, c)
    tally.planted = planted
    return table, truth, tally


def synthesize(scheme, out_dir: str, *, region: str = "dezhou", years=(2018, 2019, 2020, 2021), cases: int = 200_000,
               seed: int = 1, quiet: bool = False, part_cases: int = PART_CASES, workers: int | None = None,
               lang: str = "zh") -> dict:
    """Write discharges.parquet, truth.parquet, truth.json, support_pairs.csv and drg_profile.parquet to
    ``out_dir``; return the truth dict.

    Up to ``part_cases`` cases are made at once; a larger synth is made in parts of consecutive days (each
    part's cases and coding games; patients' risks centred per part; repeat admissions of patients placed
    anywhere in the period), ``workers`` parts at a time in forked processes, and written in date order as
    they come: memory follows ``part_cases``, not ``cases``. The same arguments give the same bytes, whatever
    ``workers``."""
    rng = np.random.default_rng(seed)
    years = list(years)
    os.makedirs(out_dir, exist_ok=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    lang = lang if lang in SYNTH_WORDS else "zh"
    w = _world(scheme, region, years, rng, say, SYNTH_WORDS[lang])
    w.h = plant_gaming(w.h, years, np.random.default_rng([seed, 19, 1]))
    _prepare(w, scheme)
    w.cases = int(cases)
    windows = _windows(years, int(cases), max(int(part_cases), 1))
    one = len(windows) == 1
    w.seed, w.windows = seed, windows
    planted = None
    if not one:  # the planted doctors, chosen on the first part's cases (every part then gets the same two)
        main, doctors, _ = _streams(seed, 0, False, rng)
        planted = _doctors(w, _place_cases(w, windows[0].cases, main, windows[0]), doctors)
    tally = None
    with atomic_writer(os.path.join(out_dir, "discharges.parquet"), dictionary=FEW_VALUES) as out, \
            atomic_writer(os.path.join(out_dir, "truth.parquet"), dictionary=FEW_VALUES) as out_truth:
        def part(k):
            return _make_part(w, windows[k], _streams(seed, k, one, rng), planted)

        for k, (table, truth_cases, t) in enumerate(_in_order(part, len(windows), workers)):
            out.write(table)
            out_truth.write(truth_cases)
            tally = _add_tallies(tally, t)
            if not one:
                say(SYNTH_WORDS[lang]["made"].format(done=windows[k].first_case + windows[k].cases, total=w.cases))
    support, programs = _planted_support(w, tally)
    write_table_atomic(pa.Table.from_pandas(w.plan.drop(columns=["planted_effect"]), preserve_index=False),
                       os.path.join(out_dir, "support_pairs.csv"))
    truth = _truth(w, tally, seed, years, scheme, region, support, programs)
    write_json_atomic(os.path.join(out_dir, "truth.json"), truth)
    prof_out = w.prof.reset_index().rename(columns={"index": "drg"})
    write_table_atomic(pa.Table.from_pandas(prof_out, preserve_index=False), os.path.join(out_dir, "drg_profile.parquet"))
    from .atomic import target_of

    path = target_of(os.path.join(out_dir, "discharges.parquet"), keep_rest=True)  # the user's folder, not ours
    say(SYNTH_WORDS[lang]["wrote"].format(n=int(tally.n), path=path))
    return truth


# columns with few distinct values: a Parquet dictionary pays for them; for ids and costs it costs a third of the write
FEW_VALUES = ["hospital_id", "year", "residence_county", "sex", "age_years", "age_days", "weight_g", "dept", "doctor_id",
              "los_days", "leaving_type", "icu_hours", *NEW_FIELDS, "receiving_institution", "dx", "px",
              "intended_drg", "transfer_to", "comorbidities"]


def _truth(w, tally, seed: int, years: list, scheme, region, support: dict, programs) -> dict:
    """truth.json: every planted effect of the world and what the parts tallied."""
    doctor_ids, doctor_hosp, doctor_dept = _doctor_names(w, tally.doctors)
    doctor_factor = tally.planted
    return {
        "seed": seed, "cases": int(tally.n), "years": years, "scheme": scheme.id, "region": str(region),
        "error_rate": ERROR_RATE, "unknown_pdx": UNKNOWN_PDX, "support_start": SUPPORT_START,
        "support_tilt": SUPPORT_TILT, "support_surgical_multiplier": SUPPORT_SURGICAL,
        "quality_overdispersion_sd": QUALITY_SD,
        "casemix_only": sorted(w.h.loc[w.h["casemix_only"], "hospital_id"].astype(str)),
        "patient_risk": {"age_log_or_per_year": AGE_LOG_OR, "casemix_prevalence_multiplier": CASEMIX_PREVALENCE,
                         "comorbidities": {cat: {"prevalence_at_60": p, "death_log_or": b, "los_cost_log_effect": e,
                                                 "codes": list(map(str, codes))}
                                           for cat, codes, p, b, e in w.comorbidities}},
        "gaming": {"upcode_share": UPCODE_SHARE, "split_share": SPLIT_SHARE, "low_value_extra": LOW_VALUE_EXTRA,
                   "readmit_share": READMIT_SHARE, "upcoded_cases": tally.upcoded,
                   "split_pairs": tally.split_pairs, "low_value_cases": tally.low_value},
        "programs": programs,
        "seasonality": {"amplitude": SEASON_AMPLITUDE, "peak_day": SEASON_PEAK_DAY},
        "doctors": {doctor_ids[i]: {"hospital_id": doctor_hosp[i], "dept": doctor_dept[i],
                                    "cost_factor": float(doctor_factor.get(int(key), (1.0, 1.0))[0]),
                                    "death_or": float(doctor_factor.get(int(key), (1.0, 1.0))[1])}
                    for i, key in enumerate(tally.doctors.tolist())},
        "counties": {name: {"planted_in_county_rate": float(w.in_county_rate[i]), "population_share": float(w.population[i])}
                     for i, name in enumerate(w.counties)},
        "hospitals": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in w.h[["hospital_id", "name", "level", "kind", "county", "cost_factor", "los_factor", "death_or",
                            "quality_outlier", "casemix_only", "efficiency_outlier", "supported", "upcoding_from",
                            "splits_admissions", "low_value_admissions"]].to_dict("records")
        ],
        "support": support,
        "drgs": int(w.n_drg),
    }


def _in_order(make, count: int, workers: int | None):
    """``make(0), make(1), ...`` in order; up to ``workers`` made at a time in forked processes (each inherits
    the world; a part comes back as Arrow buffers), at most ``workers`` in flight, so memory stays a few parts
    however many there are. One worker, or a system without ``fork``: made here, one after another."""
    import multiprocessing as mp

    workers = max(1, min(workers or os.cpu_count() or 1, 8, count))
    if workers == 1 or "fork" not in mp.get_all_start_methods():
        for k in range(count):
            yield make(k)
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    global _MAKE
    _MAKE = make  # inherited by the forked workers (a closure cannot be pickled)
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        pending = deque()
        nxt = 0
        while nxt < count and len(pending) < workers:
            pending.append(pool.submit(_make_inherited, nxt))
            nxt += 1
        while pending:
            result = pending.popleft().result()
            if nxt < count:
                pending.append(pool.submit(_make_inherited, nxt))
                nxt += 1
            yield result


_MAKE = None


def _die_with_parent(parent: int) -> None:
    """A worker ends when the command does, also when the command is killed outright (SIGKILL, the OOM killer):
    Linux's parent-death signal; otherwise a worker would wait on the task queue forever, holding its copy of the
    world. (Ctrl-C reaches the workers anyway: they are in the command's process group.)"""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the command died before the signal was set
            os._exit(1)


def _make_inherited(k: int):
    return _MAKE(k)
